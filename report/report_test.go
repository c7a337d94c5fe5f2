package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
)

func decoded(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := decodeJSON([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCheckerSummary(t *testing.T) {
	cases := []struct {
		name, json, want string
	}{
		{"explicit summary", `{"valid": false, "summary": "2 stale reads"}`, "2 stale reads"},
		{"error", `{"valid": "unknown", "error": "boom"}`, "checker failed: boom"},
		{"partial", `{"valid": "unknown", "reason": "ops were dropped", "result": {"valid": true}}`, "ops were dropped"},
		{"linear failure", `{"valid": false, "key": 3, "op": {"f": "read", "value": 4, "process": 7, "index": 12}, "reason": "can't read 4 from register 0"}`,
			"key 3: read 4 by process 7 (op 12) cannot be linearized: can't read 4 from register 0"},
		{"linear several keys", `{"valid": false, "op": {"f": "read", "value": null, "process": 1, "index": 2}, "reason": "r", "failures": [{}, {}]}`,
			"2 keys not linearizable; first: read nil by process 1 (op 2) cannot be linearized: r"},
		{"linear valid", `{"valid": true, "model": "cas-register", "ops": 10, "keys": 2}`, "linearizable as a cas-register: 10 ops over 2 part(s)"},
		{"linear unknown", `{"valid": "unknown", "model": "cas-register", "ops": 10, "cause": "timeout", "explored": 99}`, "linearizability unknown (timeout) after exploring 99 configurations"},
		{"independent", `{"valid": false, "failures": ["2"], "results": {"1": {"valid": true}, "2": {"valid": false, "lost-count": 2}}}`, "1 of 2 keys invalid: 2; key 2: lost 2"},
		{"independent valid", `{"valid": true, "failures": [], "results": {"1": {"valid": true}}}`, "1 keys, all valid"},
		{"independent unknown", `{"valid": "unknown", "failures": [], "results": {"1": {"valid": "unknown"}}}`, "1 of 1 keys unknown"},
		{"anomalies", `{"valid": false, "anomaly-types": ["G1c", "G2"]}`, "anomalies: G1c, G2"},
		{"perf", `{"valid": true, "rate": 633.06, "duration": 4.99, "latencies": {}, "nemesis-intervals": [{}, {}]}`, "633.1 ops/s over 5.0 s, 2 nemesis intervals"},
		{"set invalid", `{"valid": false, "attempt-count": 10, "ok-count": 8, "lost-count": 2, "unexpected-count": 0}`, "lost 2"},
		{"set valid", `{"valid": true, "attempt-count": 10, "ok-count": 10, "lost-count": 0}`, "attempt 10, ok 10"},
		{"longfork error list", `{"valid": false, "error": [1, 2]}`, "error: [1 2]"},
		{"not an object", `[1, 2]`, ""},
		{"empty", `{"valid": true}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := CheckerSummary(decoded(t, tc.json)); got != tc.want {
				t.Errorf("CheckerSummary(%s)\n got %q\nwant %q", tc.json, got, tc.want)
			}
		})
	}
}

func TestIndexLinksEvidence(t *testing.T) {
	h := mustHistory(t, basicOps())
	res := decoded(t, basicResults).(map[string]any)
	in := Input{Name: "x<script>", Results: &Results{Valid: checker.Invalid, Checkers: res["checkers"].(map[string]any)}}

	// Without linear.html there is no link to it; with an empty one
	// neither; with a real one, there is.
	for _, tc := range []struct {
		content string
		linked  bool
	}{{"", false}, {"<html></html>", true}} {
		dir := goldenRun(t, "x", h, in, func(dir string) {
			if tc.content != "" {
				writeFile(t, filepath.Join(dir, "linear.html"), tc.content)
			} else {
				writeFile(t, filepath.Join(dir, "linear.html"), "")
			}
		})
		page, err := os.ReadFile(filepath.Join(dir, IndexFile))
		if err != nil {
			t.Fatal(err)
		}
		s := string(page)
		if got := strings.Contains(s, `href="./linear.html">linearizability failure view`); got != tc.linked {
			t.Errorf("linear.html %q: linked %v, want %v", tc.content, got, tc.linked)
		}
		if !strings.Contains(s, `href="./timeline.html#op=21&amp;key=7"`) {
			t.Error("no link to the failing op in the timeline")
		}
		if strings.Contains(s, "<script>") || strings.Contains(s, "</script><b>") {
			t.Error("unescaped text from the history or the results in index.html")
		}
		for _, want := range []string{">invalid</div>", "G1c", "1 of 2 keys invalid", "checker failed: no dequeues"} {
			if !strings.Contains(s, want) {
				t.Errorf("index.html lacks %q", want)
			}
		}
	}
}

func TestIndexNotAnalysed(t *testing.T) {
	dir := goldenRun(t, "x", mustHistory(t, basicOps()), Input{Name: "x"}, nil)
	page, _ := os.ReadFile(filepath.Join(dir, IndexFile))
	if !strings.Contains(string(page), "not analysed") || !strings.Contains(string(page), "has not been analysed") {
		t.Error("a run without results is not shown as not analysed")
	}
}

func TestWriteFromDir(t *testing.T) {
	t.Run("jsonl", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "memory-register", "20260102T030405.006+0000")
		prepBasic(t)(dir)
		if err := WriteFromDir(dir); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{IndexFile, TimelineFile, LatencyRawFile, LatencyQuantilesFile, RateFile} {
			st, err := os.Stat(filepath.Join(dir, f))
			if err != nil || st.Size() == 0 {
				t.Errorf("%s: %v", f, err)
			}
		}
		in, err := ReadRun(dir)
		if err != nil {
			t.Fatal(err)
		}
		if in.Name != "memory-register" || in.Concurrency != 3 || in.Seed != 42 || in.Results.Valid != checker.Invalid ||
			in.Started.UTC().Format(time.RFC3339Nano) != "2026-01-02T03:04:05.006Z" || in.Options["bug"] != "stale-reads" {
			t.Errorf("ReadRun: %+v", in)
		}
	})
	t.Run("edn only, with malformed ops, no test.json", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "jepsen", "20260102T030405.006+0000")
		writeFile(t, filepath.Join(dir, "history.edn"),
			"{:type :invoke, :f :read, :process 0, :time 1, :index 0}\n{:type :ok, :f :read, :process 0, :time 5, :value 3, :index 1}\n{:type :ok, :f :read, :process 9, :index 2}\n")
		if err := WriteFromDir(dir); err != nil {
			t.Fatal(err)
		}
		page, _ := os.ReadFile(filepath.Join(dir, IndexFile))
		if !strings.Contains(string(page), "Malformed ops were left out") || !strings.Contains(string(page), "<h1>jepsen</h1>") {
			t.Error("index.html does not report the malformed op or the name from the folder")
		}
	})
	t.Run("errors", func(t *testing.T) {
		dir := t.TempDir()
		if err := WriteFromDir(dir); err == nil || !strings.Contains(err.Error(), "history.edn") {
			t.Errorf("no history: %v", err)
		}
		writeFile(t, filepath.Join(dir, "history.jsonl"), "")
		writeFile(t, filepath.Join(dir, "results.json"), `{"valid": tru`)
		if err := WriteFromDir(dir); err == nil || !strings.Contains(err.Error(), "results.json") {
			t.Errorf("bad results.json: %v", err)
		}
		writeFile(t, filepath.Join(dir, "results.json"), `{"valid": true}`)
		writeFile(t, filepath.Join(dir, "test.json"), `[`)
		if err := WriteFromDir(dir); err == nil || !strings.Contains(err.Error(), "test.json") {
			t.Errorf("bad test.json: %v", err)
		}
		if err := Write(dir, nil, Input{}); err == nil {
			t.Error("Write accepted a nil history")
		}
	})
}

func TestLatencyPointsBoundedByPixels(t *testing.T) {
	h := genHistory(t, 40000, 10, 3)
	d := newRunData("", h, nil)
	svg := latencyRawSVG(d)
	marks := bytes.Count(svg, []byte("M"))
	if marks >= len(d.lat) {
		t.Errorf("%d points drawn for %d ops: no deduplication", marks, len(d.lat))
	}
	// The area of the plot bounds the points per series (9 series here).
	if limit := 9 * (plotRight - plotLeft) * plotHeight; marks > limit {
		t.Errorf("%d points, more than the %d pixels of 9 series", marks, limit)
	}
}

func TestNemesisSpecs(t *testing.T) {
	fs := func(names ...string) map[string]bool {
		m := map[string]bool{}
		for _, n := range names {
			m[n] = true
		}
		return m
	}
	cases := []struct {
		fs   map[string]bool
		want []string
	}{
		{fs("start", "stop"), []string{"nemesis"}},
		{fs("kill", "start", "pause", "resume"), []string{"kill", "pause"}},
		{fs("start-partition", "stop-partition", "start-packet", "bump-clock", "reset-clock"), []string{"clock", "packet", "partition"}},
		{fs("strobe-clock"), nil},
	}
	for _, tc := range cases {
		var got []string
		for _, s := range defaultSpecs(tc.fs) {
			got = append(got, s.Name)
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("specs of %v: %v, want %v", tc.fs, got, tc.want)
		}
	}
}

func TestExplicitNemesisSpecs(t *testing.T) {
	h := mustHistory(t, basicOps())
	d := newRunData("", h, []checker.NemesisSpec{{Name: "crash", Start: []string{"kill"}, Stop: []string{"restart"}}})
	if len(d.intervals) != 1 || d.intervals[0].Name != "crash" {
		t.Fatalf("intervals %+v", d.intervals)
	}
	// The partition fs are then marks, not intervals.
	if len(d.marks) != 3 {
		t.Errorf("%d marks, want 3 (start-partition, stop-partition, strobe-clock)", len(d.marks))
	}
}

func TestJUnit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "memory-register", "20260102T030405.006+0000")
	prepBasic(t)(dir)
	run, err := JUnitRunFromDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if run.Duration != 95*time.Millisecond {
		t.Errorf("duration %v, want 95ms (the last op's time)", run.Duration)
	}
	okDir := filepath.Join(t.TempDir(), "memory-register", "20260102T030405.007+0000")
	writeFile(t, filepath.Join(okDir, "results.json"), `{"valid": true, "checkers": {"stats": {"valid": true, "count": 3, "ok-count": 3}}}`)
	okRun, err := JUnitRunFromDir(okDir)
	if err != nil {
		t.Fatal(err)
	}
	crashed := JUnitRun{Name: "etcd-append", Error: "DB setup failed 3 times\nstack"}
	var b bytes.Buffer
	if err := WriteJUnit(&b, []JUnitRun{run, okRun, crashed}); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b.String())
	}
	// run: verdict + 5 checkers (elle, linear, per-key invalid; queue
	// unknown; stats valid); ok run: verdict + stats; crashed: verdict.
	if doc.Tests != 9 || doc.Failures != 4 || doc.Errors != 2 || len(doc.Suites) != 3 {
		t.Errorf("tests %d failures %d errors %d suites %d, want 9, 4, 2, 3", doc.Tests, doc.Failures, doc.Errors, len(doc.Suites))
	}
	first := doc.Suites[0]
	if first.Name != "memory-register 20260102T030405.006+0000" || first.Cases[0].Failure == nil {
		t.Fatalf("first suite %+v", first)
	}
	var linear *junitCase
	for i := range first.Cases {
		if first.Cases[i].Name == "linear" {
			linear = &first.Cases[i]
		}
	}
	if linear == nil || linear.Failure == nil || !strings.Contains(linear.Failure.Text, "key 7: read 1 by process 1 (op 22) cannot be linearized") {
		t.Errorf("linear case %+v", linear)
	}
	if !strings.Contains(first.Cases[0].Failure.Text, "nemesis operation(s) failed") {
		t.Error("the run's failure text lacks its notes")
	}
	if c := doc.Suites[2].Cases[0]; c.Error == nil || c.Error.Type != "crash" {
		t.Errorf("crashed run %+v", c)
	}
	if doc.Suites[1].Failures != 0 || doc.Suites[1].Errors != 0 {
		t.Errorf("valid run %+v", doc.Suites[1])
	}
	// A run never analysed is an error.
	bare := t.TempDir()
	r, err := JUnitRunFromDir(bare)
	if err != nil || r.Error == "" {
		t.Errorf("run without results: %+v %v", r, err)
	}
}

func TestJSONStringEscaping(t *testing.T) {
	for _, s := range []string{"", "plain", "</script>", "a\"b\\c", "\x00\x1f\n\t", "\u2028\u2029", "é世界", "bad \xff utf8", "&<>"} {
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q: %s is not JSON: %v", s, b, err)
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if got != want {
			t.Errorf("%q round-trips to %q", s, got)
		}
		if bytes.ContainsAny(b, "<>&\u2028\u2029") {
			t.Errorf("%q: %s is not safe in a script element", s, b)
		}
	}
}

func TestReport100kSize(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	h := genHistory(t, 100000, 10, 7)
	dir := t.TempDir()
	if err := Write(dir, h, Input{Name: "big", Concurrency: 10}); err != nil {
		t.Fatal(err)
	}
	// Bounds: the timeline at most 60 bytes per event, each plot at most
	// 1.5 MB, the run page small.
	limits := map[string]int64{TimelineFile: 60 * int64(h.Len()), LatencyRawFile: 1500 << 10, LatencyQuantilesFile: 300 << 10, RateFile: 300 << 10, IndexFile: 200 << 10}
	for f, limit := range limits {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d bytes (%.1f bytes/event)", f, st.Size(), float64(st.Size())/float64(h.Len()))
		if st.Size() > limit {
			t.Errorf("%s is %d bytes for %d events, over %d", f, st.Size(), h.Len(), limit)
		}
	}
}

func BenchmarkReport100k(b *testing.B) {
	h := genHistory(b, 100000, 10, 7)
	dir := b.TempDir()
	b.ResetTimer()
	for b.Loop() {
		if err := Write(dir, h, Input{Name: "big", Concurrency: 10}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var total int64
	for _, f := range []string{IndexFile, TimelineFile, LatencyRawFile, LatencyQuantilesFile, RateFile} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			b.Fatal(err)
		}
		total += st.Size()
		if f == TimelineFile {
			b.ReportMetric(float64(st.Size())/float64(h.Len()), "timeline-bytes/event")
		}
	}
	b.ReportMetric(float64(total), "report-bytes")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(h.Len()), "ns/event")
}

func BenchmarkTimeline100k(b *testing.B) {
	h := genHistory(b, 100000, 10, 7)
	d := newRunData("big", h, nil)
	for b.Loop() {
		timelineHTML(d, 10, -1)
	}
}

// FuzzCheckerEvidence feeds arbitrary JSON as a checker's result to the
// code that renders it: it must not panic, and the summary stays one line
// of bounded length for bounded input.
func FuzzCheckerEvidence(f *testing.F) {
	f.Add([]byte(basicResults))
	f.Add([]byte(`{"valid": false, "op": 3, "reason": null, "final-paths": [[1, {"op": []}]], "configs": [null]}`))
	f.Add([]byte(`{"results": {"a": 1}, "failures": "x"}`))
	f.Add([]byte(`{"anomaly-types": [{"x": 1}], "anomalies": []}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if err := decodeJSON(data, &v); err != nil {
			return
		}
		_ = CheckerSummary(v)
		cv, _ := checkerEvidence("x", v, scan{files: map[string]int64{"linear.html": 3}})
		_ = cv
		if m, ok := v.(map[string]any); ok {
			_ = JUnitCheckers(m)
			in := Input{Name: "f", Results: &Results{Checkers: m}, Test: m}
			if _, err := indexHTML(filepath.Join(os.TempDir(), "faultline-fuzz-no-such-run"), newRunData("f", mustHistory(t, nil), nil), in); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestReadRunInfo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "memory-register", "20260102T030405.006+0000")
	prepBasic(t)(dir)
	info, err := ReadRunInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	// The stats result gives the ops (8 completions); without a perf
	// result the duration is the history's span (1 ms to 95 ms).
	if info.Name != "memory-register" || info.Verdict != "invalid" || info.Ops != 8 || info.Duration != 94*time.Millisecond || info.Report {
		t.Errorf("%+v", info)
	}
	if !strings.HasPrefix(info.Summary, "elle: anomalies: G1c") {
		t.Errorf("summary %q", info.Summary)
	}
	if err := WriteFromDir(dir); err != nil {
		t.Fatal(err)
	}
	// Without results: ops counted from the history (8 invocations), not
	// analysed.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Remove(filepath.Join(dir, "results.json")))
	info, err = ReadRunInfo(dir)
	must(err)
	if info.Verdict != "" || info.Ops != 8 || !info.Report || info.Summary != "" {
		t.Errorf("without results: %+v", info)
	}
	// perf's duration wins over the history's span.
	writeFile(t, filepath.Join(dir, "results.json"), `{"valid": true, "checkers": {"perf": {"valid": true, "duration": 2.5, "rate": 1, "latencies": {}}, "stats": {"valid": true, "count": 99}}}`)
	info, err = ReadRunInfo(dir)
	must(err)
	if info.Verdict != "valid" || info.Ops != 99 || info.Duration != 2500*time.Millisecond {
		t.Errorf("with perf: %+v", info)
	}
}

func BenchmarkWriteFromDir100k(b *testing.B) {
	h := genHistory(b, 100000, 10, 7)
	dir := b.TempDir()
	var buf bytes.Buffer
	if err := history.WriteJSONL(&buf, h.Ops); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "history.jsonl"), buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := WriteFromDir(dir); err != nil {
			b.Fatal(err)
		}
	}
}
