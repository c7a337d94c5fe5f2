package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/history"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const ms = int64(time.Millisecond)

// basicOps is a small history with every kind of op: ok, fail, info (the
// process continues as p+3), an op that never completes, nemesis intervals
// (partition, kill), an instantaneous nemesis op, keys, and a value that
// tries to close the script element.
func basicOps() []history.Op {
	N := history.NemesisProcess
	ops := []history.Op{
		{Time: 1 * ms, Type: history.Invoke, Process: 0, F: "write", Value: int64(1), Key: int64(7)},
		{Time: 2 * ms, Type: history.Invoke, Process: 1, F: "read", Key: int64(7)},
		{Time: 4 * ms, Type: history.OK, Process: 0, F: "write", Value: int64(1), Key: int64(7)},
		{Time: 5 * ms, Type: history.OK, Process: 1, F: "read", Value: int64(1), Key: int64(7)},
		{Time: 6 * ms, Type: history.Info, Process: N, F: "start-partition"},
		{Time: 7 * ms, Type: history.Info, Process: N, F: "start-partition", Value: "majorities-ring"},
		{Time: 8 * ms, Type: history.Invoke, Process: 2, F: "cas", Value: []any{int64(1), int64(2)}, Key: int64(7)},
		{Time: 12 * ms, Type: history.Fail, Process: 2, F: "cas", Value: []any{int64(1), int64(2)}, Key: int64(7)},
		{Time: 13 * ms, Type: history.Invoke, Process: 0, F: "read", Key: int64(8)},
		{Time: 40 * ms, Type: history.Info, Process: 0, F: "read", Key: int64(8), Error: "timeout"},
		{Time: 50 * ms, Type: history.Info, Process: N, F: "stop-partition"},
		{Time: 51 * ms, Type: history.Info, Process: N, F: "stop-partition", Value: "healed"},
		{Time: 52 * ms, Type: history.Invoke, Process: 1, F: "write", Value: int64(3), Key: int64(8)},
		{Time: 53 * ms, Type: history.Invoke, Process: 3, F: "read", Key: int64(8)},
		{Time: 60 * ms, Type: history.OK, Process: 1, F: "write", Value: int64(3), Key: int64(8)},
		{Time: 61 * ms, Type: history.Info, Process: N, F: "kill"},
		{Time: 62 * ms, Type: history.Info, Process: N, F: "kill", Value: []any{"n1"}},
		{Time: 63 * ms, Type: history.OK, Process: 3, F: "read", Value: int64(3), Key: int64(8)},
		{Time: 65 * ms, Type: history.Info, Process: N, F: "strobe-clock"},
		{Time: 66 * ms, Type: history.Info, Process: N, F: "strobe-clock", Value: int64(100)},
		{Time: 70 * ms, Type: history.Invoke, Process: 2, F: "write", Value: "</script><b>x</b>", Key: int64(7)},
		{Time: 80 * ms, Type: history.Invoke, Process: 1, F: "read", Key: int64(7)},
		{Time: 95 * ms, Type: history.OK, Process: 1, F: "read", Value: int64(1), Key: int64(7)},
	}
	for i := range ops {
		ops[i].Index = i
	}
	return ops
}

// basicResults is a results.json with the shapes the report knows: a
// linearizability failure, a per-key result, an anomaly list and counts.
const basicResults = `{
  "valid": false,
  "checkers": {
    "linear": {"valid": false, "analyzer": "faultline-linear", "model": "cas-register", "ops": 9, "failed-ops": 1,
      "crashed-ops": 2, "keys": 2, "explored": 12, "key": 7,
      "op": {"process": 1, "type": "ok", "f": "read", "value": 1, "index": 22, "invoke-index": 21, "time": 95000000},
      "previous-ok": {"process": 3, "type": "ok", "f": "read", "value": 3, "index": 17, "invoke-index": 13},
      "reason": "can't read 1 from register \"</script>\"",
      "configs": [{"model": "\"</script>\"", "linearized": 2, "pending": [{"process": 1, "type": "ok", "f": "read", "value": 1, "index": 22, "invoke-index": 21}]}],
      "final-paths": [[
        {"op": {"process": 0, "type": "ok", "f": "write", "value": 1, "index": 2, "invoke-index": 0}, "model": "1"},
        {"op": {"process": 2, "type": "info", "f": "write", "value": "</script><b>x</b>", "index": 20, "invoke-index": 20}, "model": "\"</script>\""},
        {"op": {"process": 1, "type": "ok", "f": "read", "value": 1, "index": 22, "invoke-index": 21}, "error": "can't read 1 from register \"</script>\""}
      ]],
      "failures": [{"key": 7, "op": {"process": 1, "type": "ok", "f": "read", "value": 1, "index": 22, "invoke-index": 21},
        "reason": "can't read 1 from register \"</script>\""}]},
    "per-key": {"valid": false, "failures": ["7"], "results": {
      "7": {"valid": false, "lost-count": 1, "lost": "#{1}", "ok-count": 3},
      "8": {"valid": true, "lost-count": 0, "ok-count": 2}}},
    "elle": {"valid": false, "anomaly-types": ["G1c", "G-single"],
      "anomalies": {"G1c": [{"cycle": [1, 2]}], "G-single": [{"cycle": [3]}, {"cycle": [4]}]}},
    "stats": {"valid": true, "count": 8, "ok-count": 5, "fail-count": 1, "info-count": 1},
    "queue": {"valid": "unknown", "error": "no dequeues"}
  },
  "notes": ["1 nemesis operation(s) failed, so faults may not have been injected as scheduled"]
}`

const basicTest = `{"name": "memory-register", "nodes": ["n1", "n2", "n3"], "concurrency": 3, "seed": 42,
  "time-limit-seconds": 10, "options": {"rate": "100", "bug": "stale-reads"}, "meta": {"command": ["faultline", "test"]},
  "started": "2026-01-02T03:04:05.006Z"}`

// jepsenOps have indexes that are not their positions and no times.
func jepsenOps() []history.Op {
	ops := []history.Op{
		{Index: 10, Time: -1, Type: history.Invoke, Process: 0, F: "enqueue", Value: int64(1)},
		{Index: 11, Time: -1, Type: history.Invoke, Process: 1, F: "dequeue"},
		{Index: 14, Time: -1, Type: history.OK, Process: 0, F: "enqueue", Value: int64(1)},
		{Index: 15, Time: -1, Type: history.OK, Process: 1, F: "dequeue", Value: int64(1)},
		{Index: 20, Time: -1, Type: history.Info, Process: history.NemesisProcess, F: "start"},
		{Index: 21, Time: -1, Type: history.Info, Process: history.NemesisProcess, F: "start", Value: "partitioned"},
	}
	return ops
}

// goldenRun writes the report of h into a run folder
// <tmp>/<name>/20260102T030405.006+0000 prepared by prep, and returns it.
func goldenRun(t *testing.T, name string, h *history.History, in Input, prep func(dir string)) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name, "20260102T030405.006+0000")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if prep != nil {
		prep(dir)
	}
	if err := Write(dir, h, in); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustHistory(t *testing.T, ops []history.Op) *history.History {
	t.Helper()
	h, err := history.New(ops)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// prepBasic lays out a run folder like faultline test leaves it.
func prepBasic(t *testing.T) func(dir string) {
	return func(dir string) {
		writeFile(t, filepath.Join(dir, "test.json"), basicTest)
		writeFile(t, filepath.Join(dir, "results.json"), basicResults)
		var b bytes.Buffer
		if err := history.WriteJSONL(&b, basicOps()); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "history.jsonl"), b.String())
		writeFile(t, filepath.Join(dir, "linear.html"), "<html>failure view</html>")
		writeFile(t, filepath.Join(dir, "n1", "db.log"), "log line\n")
		writeFile(t, filepath.Join(dir, "n2", "db.log"), "log line\n")
		writeFile(t, filepath.Join(dir, "elle", "G1c.txt"), "cycle\n")
		writeFile(t, filepath.Join(dir, "elle", "G1c-0.svg"), "<svg/>")
		writeFile(t, filepath.Join(dir, "elle", "G1c-process.txt"), "another type\n")
		writeFile(t, filepath.Join(dir, "elle", "index.html"), "<html></html>")
		writeFile(t, filepath.Join(dir, "independent", "7", "per-key.txt"), "evidence\n")
	}
}

// TestGolden compares the report's files for small histories with
// testdata/<case>/<file>.golden (go test -update rewrites them).
func TestGolden(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T) string
	}{
		{"basic", func(t *testing.T) string {
			dir := filepath.Join(t.TempDir(), "memory-register", "20260102T030405.006+0000")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			prepBasic(t)(dir)
			if err := WriteFromDir(dir); err != nil {
				t.Fatal(err)
			}
			return dir
		}},
		{"empty", func(t *testing.T) string {
			return goldenRun(t, "empty", mustHistory(t, nil), Input{Name: "empty"}, nil)
		}},
		{"jepsen-indexes", func(t *testing.T) string {
			in := Input{Name: "jepsen-queue", Results: &Results{Checkers: map[string]any{}}}
			return goldenRun(t, "jepsen-queue", mustHistory(t, jepsenOps()), in, nil)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.run(t)
			for _, f := range []string{IndexFile, TimelineFile, LatencyRawFile, LatencyQuantilesFile, RateFile} {
				got, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", tc.name, f+".golden")
				if *update {
					writeFile(t, golden, string(got))
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from %s (run go test -update and review the diff)\n%s", f, golden, firstDiff(got, want))
				}
			}
		})
	}
}

// firstDiff shows where two outputs first differ.
func firstDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(0, i-80)
	return "got:  …" + string(got[lo:min(len(got), i+80)]) + "\nwant: …" + string(want[lo:min(len(want), i+80)])
}

// wellFormedXML fails the test when b is not well-formed XML.
func wellFormedXML(t *testing.T, name string, b []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v", name, err)
		}
	}
}

func TestSVGsAreWellFormed(t *testing.T) {
	for _, h := range []*history.History{mustHistory(t, basicOps()), mustHistory(t, nil), mustHistory(t, jepsenOps()), genHistory(t, 3000, 5, 1)} {
		d := newRunData("a<b>&\"c\"", h, nil)
		wellFormedXML(t, "latency-raw", latencyRawSVG(d))
		wellFormedXML(t, "latency-quantiles", latencyQuantilesSVG(d))
		wellFormedXML(t, "rate", rateSVG(d))
	}
}

// timelineData extracts and decodes the JSON embedded in timeline.html.
func timelineData(t *testing.T, page []byte) map[string]any {
	t.Helper()
	s := string(page)
	const open = `<script type="application/json" id="data">`
	i := strings.Index(s, open)
	if i < 0 {
		t.Fatal("timeline has no data element")
	}
	s = s[i+len(open):]
	j := strings.Index(s, "</script>")
	if j < 0 {
		t.Fatal("timeline data element is not closed")
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(s[:j]), &d); err != nil {
		t.Fatalf("timeline data is not JSON: %v", err)
	}
	return d
}

func TestTimelineData(t *testing.T) {
	h := mustHistory(t, basicOps())
	page := timelineHTML(newRunData("basic", h, nil), 3, -1)
	d := timelineData(t, page)
	ops := d["ops"].([]any)
	// 8 client invocations and 4 nemesis pairs.
	if len(ops) != 12 {
		t.Fatalf("timeline has %d ops, want 12", len(ops))
	}
	byType := map[float64]int{}
	for _, o := range ops {
		byType[o.([]any)[3].(float64)]++
	}
	want := map[float64]int{tlOK: 5, tlFail: 1, tlInfo: 1, tlPending: 1, tlNemesis: 4}
	for k, v := range want {
		if byType[k] != v {
			t.Errorf("ops of type %v: %d, want %d (all: %v)", k, byType[k], v, byType)
		}
	}
	// The pending write runs to the end; its value is intact after decoding.
	var pending []any
	for _, o := range ops {
		if o.([]any)[3].(float64) == tlPending {
			pending = o.([]any)
		}
	}
	if pending[2].(float64) != -1 || pending[6] != `"</script><b>x</b>"` {
		t.Errorf("pending op %v", pending)
	}
	// Processes 3 ran on thread 0: thread columns are offered.
	if d["tcols"] == nil || d["tmap"] == nil {
		t.Error("no thread columns for a history with a crashed process")
	}
	// With a wrong concurrency, threads would overlap: not offered.
	if d2 := timelineData(t, timelineHTML(newRunData("basic", h, nil), 2, -1)); d2["tcols"] != nil {
		t.Error("thread columns offered for a concurrency that makes ops overlap")
	}
	if n := len(d["faults"].([]any)); n != 2 {
		t.Errorf("%d fault intervals, want 2 (partition, kill)", n)
	}
	if bytes.Contains(page, []byte("</script><b>")) {
		t.Error("a value closed the script element")
	}
}

func TestTimelineClipsLongValues(t *testing.T) {
	long := strings.Repeat("x", 10000)
	ops := []history.Op{
		{Index: 0, Time: 0, Type: history.Invoke, Process: 0, F: "write", Value: long},
		{Index: 1, Time: 5, Type: history.OK, Process: 0, F: "write", Value: long},
	}
	page := timelineHTML(newRunData("", mustHistory(t, ops), nil), 0, -1)
	if len(page) > 12000 {
		t.Errorf("timeline of 2 ops with 10 kB values is %d bytes: values are not clipped", len(page))
	}
	d := timelineData(t, page)
	v := d["ops"].([]any)[0].([]any)[6].(string)
	if !strings.HasSuffix(v, "…") || len(v) > timelineValueMax+10 {
		t.Errorf("value not clipped: %d bytes", len(v))
	}
}

func TestTimelineIndexesDifferFromPositions(t *testing.T) {
	d := timelineData(t, timelineHTML(newRunData("", mustHistory(t, jepsenOps()), nil), 0, -1))
	idx := d["index"].([]any)
	if len(idx) != 6 || idx[2].(float64) != 14 {
		t.Errorf("index map %v", idx)
	}
	// The nemesis interval is drawn from position 4, never stopped.
	f := d["faults"].([]any)[0].([]any)
	if f[1].(float64) != 4 || f[2].(float64) != -1 {
		t.Errorf("fault %v", f)
	}
}

// TestTimelineWindow: a history longer than timelineMaxRows gets a window
// around the op the results cite, with positions relative to it, faults
// clipped to it, and the whole length stated.
func TestTimelineWindow(t *testing.T) {
	defer func(n int) { timelineMaxRows = n }(timelineMaxRows)
	timelineMaxRows = 100
	var ops []history.Op
	add := func(typ history.Type, p int, f string) {
		ops = append(ops, history.Op{Index: len(ops), Time: int64(len(ops)) * 1000, Type: typ, Process: p, F: f, Value: int64(len(ops))})
	}
	add(history.Info, history.NemesisProcess, "start-partition")
	add(history.Info, history.NemesisProcess, "start-partition")
	for len(ops) < 1000 {
		add(history.Invoke, 0, "write")
		add(history.Invoke, 1, "read")
		add(history.OK, 0, "write")
		add(history.OK, 1, "read")
	}
	h := mustHistory(t, ops)
	res := &Results{Checkers: map[string]any{"linear": map[string]any{
		"op": map[string]any{"index": json.Number("600"), "type": "ok", "process": json.Number("1")},
	}}}
	if got := evidenceIndex(res); got != 600 {
		t.Fatalf("evidenceIndex = %d", got)
	}
	d := timelineData(t, timelineHTML(newRunData("w", h, nil), 0, evidenceIndex(res)))
	if d["rows"] != 100.0 || d["base"] != 575.0 || d["total"] != 1002.0 {
		t.Fatalf("window: rows %v base %v total %v", d["rows"], d["base"], d["total"])
	}
	for _, o := range d["ops"].([]any) {
		o := o.([]any)
		start, end := o[1].(float64), o[2].(float64)
		if start < 0 || start >= 100 || end >= 100 || end >= 0 && end < start {
			t.Fatalf("op outside the window: %v", o)
		}
	}
	faults := d["faults"].([]any)
	if len(faults) != 1 || faults[0].([]any)[1] != 0.0 || faults[0].([]any)[2] != -1.0 {
		t.Fatalf("the partition, in force all along, should span the window: %v", faults)
	}
	if n := len(d["times"].([]any)); n != 10 {
		t.Fatalf("%d times, want 10", n)
	}
	// A short history is embedded whole.
	timelineMaxRows = 2000
	d = timelineData(t, timelineHTML(newRunData("w", h, nil), 0, 600))
	if d["rows"] != 1002.0 || d["base"] != 0.0 {
		t.Fatalf("whole: rows %v base %v", d["rows"], d["base"])
	}
}
