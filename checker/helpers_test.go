package checker

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/faultline/faultline/history"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// norm turns Go ints (and slices of them) in test literals into the value
// types of a history.
func norm(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case []int:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = int64(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = norm(e)
		}
		return out
	case history.Set:
		out := make(history.Set, len(x))
		for i, e := range x {
			out[i] = norm(e)
		}
		return out
	case history.Map:
		out := make(history.Map, len(x))
		for i, e := range x {
			out[i] = history.Entry{Key: norm(e.Key), Val: norm(e.Val)}
		}
		return out
	}
	return v
}

func op(t history.Type, p int, f string, v any) history.Op {
	return history.Op{Type: t, Process: p, F: f, Value: norm(v)}
}

func invoke(p int, f string, v any) history.Op { return op(history.Invoke, p, f, v) }
func ok(p int, f string, v any) history.Op     { return op(history.OK, p, f, v) }
func fail(p int, f string, v any) history.Op   { return op(history.Fail, p, f, v) }
func info(p int, f string, v any) history.Op   { return op(history.Info, p, f, v) }
func nemesis(f string, v any) history.Op {
	return op(history.Info, history.NemesisProcess, f, v)
}

// set builds an EDN-style set value of ints.
func set(xs ...int) history.Set {
	out := make(history.Set, len(xs))
	for i, x := range xs {
		out[i] = int64(x)
	}
	return out
}

// hist numbers ops and gives them times 0, 1 ms, 2 ms, ... as Jepsen's
// checker tests do, then pairs them; it fails the test on a bad history.
func hist(t testing.TB, ops ...history.Op) *history.History {
	t.Helper()
	out := make([]history.Op, len(ops))
	for i, o := range ops {
		o.Index = i
		o.Time = int64(i) * 1_000_000
		out[i] = o
	}
	h, err := history.New(out)
	if err != nil {
		t.Fatalf("bad test history: %v", err)
	}
	return h
}

// run checks h with c through Check, failing on an ErrorResult.
func run(t testing.TB, c Checker, h *history.History) Result {
	t.Helper()
	r := Check(context.Background(), c, h, Options{})
	if e, isErr := r.(*ErrorResult); isErr {
		t.Fatalf("%s: checker failed: %s", c.Name(), e.Error)
	}
	return r
}

func toJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(b)
}

// jsonEq compares v's JSON with want (any JSON text), ignoring layout.
func jsonEq(t testing.TB, v any, want string) {
	t.Helper()
	got, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("result JSON does not parse: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("expected JSON does not parse: %v\n%s", err, want)
	}
	gs, _ := json.Marshal(g)
	ws, _ := json.Marshal(w)
	if !bytes.Equal(gs, ws) {
		t.Errorf("JSON differs\n got: %s\nwant: %s", gs, ws)
	}
}

// golden compares v's indented JSON with testdata/<name>.json.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got := toJSON(t, v) + "\n"
	path := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

func wantVerdict(t testing.TB, r Result, want Validity) {
	t.Helper()
	if r.Verdict() != want {
		s := ""
		if sm, ok := r.(Summarizer); ok {
			s = sm.Summary()
		}
		t.Errorf("verdict %v, want %v (%s)\n%s", r.Verdict(), want, s, toJSON(t, r))
	}
}
