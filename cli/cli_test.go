package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/internal/refdata"
)

func TestParseConcurrency(t *testing.T) {
	for _, c := range []struct {
		in    string
		nodes int
		want  int
		bad   bool
	}{{"10", 5, 10, false}, {"3n", 5, 15, false}, {"1n", 1, 1, false}, {"0", 5, 0, true}, {"n", 5, 0, true}, {"-2", 5, 0, true}, {"x", 5, 0, true}} {
		got, err := ParseConcurrency(c.in, c.nodes)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("%q with %d nodes: %d, %v", c.in, c.nodes, got, err)
		}
	}
}

func TestNodesAndOptions(t *testing.T) {
	dir := t.TempDir()
	nf := filepath.Join(dir, "nodes")
	os.WriteFile(nf, []byte("# comment\nh3\n\nh4\n"), 0o644)
	o := &Options{rawConcurrency: "2n", nodeList: stringList{"h1"}, nodesCSV: "h2", nodesFile: nf, TestCount: 1, set: stringList{"read-mode=serializable"}}
	if err := o.finish(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.Nodes, ",") != "h1,h2,h3,h4" || o.Concurrency != 8 || o.Option("read-mode", "") != "serializable" {
		t.Fatalf("got nodes %v concurrency %d set %v", o.Nodes, o.Concurrency, o.Set)
	}
	o = &Options{rawConcurrency: "1n", NodeCount: 3, TestCount: 1}
	if err := o.finish(); err != nil || strings.Join(o.Nodes, ",") != "n1,n2,n3" {
		t.Fatalf("node-count: %v %v", o.Nodes, err)
	}
	for _, bad := range []*Options{
		{rawConcurrency: "1", nodeList: stringList{"a", "a"}, TestCount: 1},
		{rawConcurrency: "1", NodeCount: 0, TestCount: 1},
		{rawConcurrency: "1", NodeCount: 3, TestCount: 0},
		{rawConcurrency: "1", NodeCount: 3, TestCount: 1, set: stringList{"novalue"}},
		{rawConcurrency: "1", nodesFile: filepath.Join(dir, "missing"), TestCount: 1},
	} {
		if err := bad.finish(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestSeconds(t *testing.T) {
	var d time.Duration
	v := secondsValue{&d}
	for in, want := range map[string]time.Duration{"10": 10 * time.Second, "0.5": 500 * time.Millisecond, "2m": 2 * time.Minute} {
		if err := v.Set(in); err != nil || d != want {
			t.Errorf("%s: %v %v", in, d, err)
		}
	}
	for _, bad := range []string{"-1", "soon", "-3s"} {
		if v.Set(bad) == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestWorstCode(t *testing.T) {
	for _, c := range []struct {
		in   []int
		want int
	}{{nil, 0}, {[]int{0, 1}, 1}, {[]int{1, 2}, 2}, {[]int{2, 255, 1}, 255}, {[]int{0, 254, 2}, 254}} {
		if got := worstCode(c.in...); got != c.want {
			t.Errorf("%v: %d, want %d", c.in, got, c.want)
		}
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"4GB": 4 << 30, "512mb": 512 << 20, "1024": 1024, "1.5K": 1536} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("%s: %d %v", in, got, err)
		}
	}
	if _, err := parseBytes("lots"); err == nil {
		t.Error("lots accepted")
	}
}

// analyze --json prints one object per file with the asserted verdicts of
// the reference histories, and the exit code merges them.
func TestAnalyzeJSONReferenceHistories(t *testing.T) {
	data := refdata.SharedData(t)
	files := []string{
		filepath.Join(data, "knossos/data/cas-register/good/cas-register-bug.edn"),
		filepath.Join(data, "knossos/data/cas-register/bad/bad-analysis.edn"),
	}
	var out, errb bytes.Buffer
	code := Main(append([]string{"analyze", "--no-store", "--model", "cas-register", "--initial", "0", "--json"}, files...),
		Config{Stdout: &out, Stderr: &errb})
	if code != ExitInvalid {
		t.Fatalf("exit %d, want 1\n%s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 JSON lines, got:\n%s", out.String())
	}
	want := []any{true, false}
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v", i, err)
		}
		if m["valid"] != want[i] || m["file"] != files[i] {
			t.Errorf("line %d: %s", i, l)
		}
		if _, ok := m["seconds"].(float64); !ok {
			t.Errorf("line %d lacks seconds", i)
		}
		if !strings.HasPrefix(l, `{"file":`) {
			t.Errorf("line %d does not start with file: %s", i, l)
		}
	}
}

func TestAnalyzeNeedsChecker(t *testing.T) {
	data := refdata.SharedData(t)
	var out, errb bytes.Buffer
	code := Main([]string{"analyze", "--no-store", filepath.Join(data, "knossos/data/cas-register/good/cas-register-bug.edn")},
		Config{Stdout: &out, Stderr: &errb})
	if code != ExitUsage || !strings.Contains(errb.String(), "--checker") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}

func TestUnknownCommandAndVersion(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"frobnicate"}, Config{Stdout: &out, Stderr: &errb}); code != ExitUsage {
		t.Fatalf("unknown command: exit %d", code)
	}
	out.Reset()
	if code := Main([]string{"version"}, Config{Stdout: &out, Stderr: &errb}); code != 0 || !strings.Contains(out.String(), faultline.Version) {
		t.Fatalf("version: %d %q", code, out.String())
	}
}

func TestPickStored(t *testing.T) {
	if _, err := pickStored(t.TempDir(), "-1"); err == nil {
		t.Fatal("an empty store gave a run")
	}
	if p, err := pickStored("store", "some/path"); err != nil || p != "some/path" {
		t.Fatalf("path: %s %v", p, err)
	}
}
