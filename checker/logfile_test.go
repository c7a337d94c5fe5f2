package checker

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func writeLogs(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, text := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLogFilePattern(t *testing.T) {
	evil := regexp.MustCompile(`evil\d+`)
	// Jepsen's log-file-pattern-test.
	dir := writeLogs(t, map[string]string{
		"n1/db.log": "foo\nevil1\nevil2 more text\nbar",
		"n2/db.log": "foo\nbar\nbaz evil\nfoo\n",
	})
	check := func(o Options) Result {
		return Check(t.Context(), LogFilePattern(evil, "db.log"), hist(t), o)
	}
	r := check(Options{RunDir: dir, Nodes: []string{"n1", "n2", "n3"}})
	wantVerdict(t, r, Invalid)
	jsonEq(t, r, `{"valid":false,"count":2,"matches":[
		{"node":"n1","line":"evil1","line-number":2},
		{"node":"n1","line":"evil2 more text","line-number":3}],
		"files":["n1/db.log","n2/db.log"]}`)
	if s := r.(Summarizer).Summary(); s != `2 log lines match: n1:2 "evil1", n1:3 "evil2 more text"` {
		t.Errorf("summary %q", s)
	}
	// Nodes unknown: every folder of the run folder.
	if r2 := check(Options{RunDir: dir}); r2.(*LogFilePatternResult).Count != 2 {
		t.Errorf("%s", toJSON(t, r2))
	}

	clean := writeLogs(t, map[string]string{"n1/db.log": "all good\r\nfine\n", "n2/other.log": "evil1"})
	wantVerdict(t, check(Options{RunDir: clean}), Valid)

	for name, o := range map[string]Options{
		"no run folder":  {},
		"no file at all": {RunDir: writeLogs(t, map[string]string{"n1/x.log": "evil1"})},
	} {
		r := check(o)
		wantVerdict(t, r, Unknown)
		if r.(Summarizer).Summary() == "" {
			t.Errorf("%s: no reason given", name)
		}
	}
	wantVerdict(t, check(Options{RunDir: filepath.Join(dir, "missing")}), Unknown)
	bad := Check(t.Context(), LogFilePattern(evil, "../etc/passwd"), hist(t), Options{RunDir: dir})
	if e, isErr := bad.(*ErrorResult); !isErr || !strings.Contains(e.Error, "inside a node folder") {
		t.Errorf("%#v", bad)
	}
}

func TestLogFilePatternLongLinesAndCap(t *testing.T) {
	long := strings.Repeat("x", 200_000) + "evil7" + strings.Repeat("y", 10)
	var many strings.Builder
	for range maxLogMatches + 5 {
		many.WriteString("evil9\n")
	}
	dir := writeLogs(t, map[string]string{"n1/db.log": "a\n" + long + "\nb\n", "n2/db.log": many.String()})
	r := Check(t.Context(), LogFilePattern(regexp.MustCompile(`evil\d+y`), "db.log"), hist(t), Options{RunDir: dir}).(*LogFilePatternResult)
	if r.Count != 1 || r.Matches[0].LineNumber != 2 || len(r.Matches[0].Line) != len(long) {
		t.Errorf("long line: count %d", r.Count)
	}
	r = Check(t.Context(), LogFilePattern(regexp.MustCompile(`evil9`), "db.log"), hist(t), Options{RunDir: dir}).(*LogFilePatternResult)
	if r.Count != maxLogMatches+5 || len(r.Matches) != maxLogMatches || !r.Truncated {
		t.Errorf("cap: count %d, listed %d, truncated %v", r.Count, len(r.Matches), r.Truncated)
	}
}
