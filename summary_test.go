package faultline

import (
	"strings"
	"testing"

	"github.com/faultline/faultline/history"
)

// TestSummaryErrors: the summary counts the errors of fail and info
// completions, most common first, by name.
func TestSummaryErrors(t *testing.T) {
	var ops []history.Op
	add := func(typ history.Type, err any) {
		p := len(ops) / 2
		ops = append(ops,
			history.Op{Index: len(ops), Time: int64(len(ops)), Type: history.Invoke, Process: p, F: "write", Value: int64(1)},
			history.Op{Index: len(ops) + 1, Time: int64(len(ops) + 1), Type: typ, Process: p, F: "write", Value: int64(1), Error: err})
	}
	for range 5 {
		add(history.Fail, "no-leader")
	}
	for range 3 {
		add(history.Info, []any{"timeout", "after 1s"})
	}
	add(history.Fail, "compare-failed")
	add(history.Fail, map[string]any{"code": int64(14)})
	add(history.Fail, strings.Repeat("é", 40))
	add(history.OK, nil)
	h, err := history.New(ops)
	if err != nil {
		t.Fatal(err)
	}
	c := countOps(h)
	if c.Fail != 8 || c.Info != 3 || c.OK != 1 || len(c.Errors) != 5 {
		t.Fatalf("counts %+v", c)
	}
	r := &Result{Name: "t", Counts: c}
	want := "t: 12 client ops completed (1 ok, 8 fail, 3 info; errors: no-leader 5, timeout 3, compare-failed 1, 2 more kinds)."
	if s := r.Summary(); !strings.HasPrefix(s, want) {
		t.Errorf("summary:\n%s\nwant prefix:\n%s", s, want)
	}
	if n := ErrorName(strings.Repeat("é", 40)); len(n) > 64 || !strings.HasSuffix(n, "…") {
		t.Errorf("long name %q", n)
	}
	if n := ErrorName(history.Map{{Key: "code", Val: int64(14)}}); n != `{"code" 14}` {
		t.Errorf("map name %q", n)
	}
	// Without errors the summary is as before.
	r = &Result{Name: "t", Counts: Counts{OK: 2, Invoked: 2}}
	if s := r.Summary(); !strings.HasPrefix(s, "t: 2 client ops completed (2 ok, 0 fail, 0 info).") {
		t.Errorf("summary %q", s)
	}
}
