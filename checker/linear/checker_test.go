package linear

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/model"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestChecker(t *testing.T) {
	c := New(model.CASRegister(int64(0)), Options{})
	if c.Name() != "linear" {
		t.Errorf("name %q", c.Name())
	}
	dir := t.TempDir()
	h := (&hb{}).inv(0, "write", i64(1)).ok(0, "write", i64(1)).inv(1, "read", nil).ok(1, "read", i64(0)).history(t)
	res := checker.Check(context.Background(), c, h, checker.Options{Dir: dir})
	if res.Verdict() != checker.Invalid {
		t.Fatalf("verdict %v", res.Verdict())
	}
	if _, ok := res.(checker.Summarizer); !ok {
		t.Error("result is not a Summarizer")
	}
	b, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "could not be linearized") || !strings.Contains(string(b), "<svg") {
		t.Error("linear.html lacks the timeline")
	}
	// A valid history writes nothing.
	dir2 := t.TempDir()
	h2 := (&hb{}).inv(0, "write", i64(1)).ok(0, "write", i64(1)).history(t)
	if res := checker.Check(context.Background(), c, h2, checker.Options{Dir: dir2}); res.Verdict() != checker.Valid {
		t.Fatalf("verdict %v", res.Verdict())
	}
	if _, err := os.Stat(filepath.Join(dir2, HTMLFile)); err == nil {
		t.Error("linear.html written for a valid history")
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name string
		h    *hb
		m    model.Model
		opts Options
		want string
	}{
		{"bad tuple", (&hb{}).inv(0, "read", i64(1)).ok(0, "read", i64(1)), model.CASRegister(nil), Options{Independent: true}, "independent [key value] tuple"},
		{"key mismatch", (&hb{}).inv(0, "read", pair("a", nil)).ok(0, "read", pair("b", i64(1))), model.CASRegister(nil), Options{Independent: true}, "differs"},
		{"unknown f", (&hb{}).inv(0, "frob", nil).ok(0, "frob", nil), model.CASRegister(nil), Options{}, "unknown f"},
		{"nosplit register", (&hb{}).inv(0, "read", nil).ok(0, "read", i64(1)).key("a").inv(1, "read", nil).ok(1, "read", nil).key("b"), model.Register(nil), Options{NoSplit: true}, "does not read keys"},
	}
	for _, c := range cases {
		r := Check(context.Background(), c.h.history(t), c.m, c.opts)
		if r.Valid != checker.Unknown || r.Cause != "error" || !strings.Contains(r.Error, c.want) {
			t.Errorf("%s: got %v %q %q, want an error about %q", c.name, r.Valid, r.Cause, r.Error, c.want)
		}
	}
	if r := Check(context.Background(), nil, model.CASRegister(nil), Options{}); r.Valid != checker.Unknown {
		t.Error("nil history")
	}
}

func TestIndependent(t *testing.T) {
	// Two keys in [k v] tuples; key "b" reads a value never written.
	h := (&hb{}).inv(0, "write", pair("a", i64(1))).ok(0, "write", pair("a", i64(1))).
		inv(1, "read", pair("a", nil)).ok(1, "read", pair("a", i64(1))).
		inv(2, "read", pair("b", nil)).ok(2, "read", pair("b", i64(1))).history(t)
	r := Check(context.Background(), h, model.CASRegister(nil), Options{Independent: true, AllKeys: true})
	if r.Valid != checker.Invalid || r.Key != "b" || r.Keys != 2 || len(r.Failures) != 1 {
		t.Fatalf("got %v key %v keys %d: %s", r.Valid, r.Key, r.Keys, r.Summary())
	}
	if !strings.HasPrefix(r.Summary(), "key b: ") {
		t.Errorf("summary %q", r.Summary())
	}
	// Without Independent the tuples are values, never guessed as keys.
	r = Check(context.Background(), h, model.CASRegister(nil), Options{})
	if r.Keys != 1 {
		t.Errorf("keys guessed from values: %d parts", r.Keys)
	}
}

// TestGolden pins the JSON of an invalid result (kebab-case keys, Jepsen's
// names, the evidence).
func TestGolden(t *testing.T) {
	h := (&hb{}).
		inv(0, "write", i64(1)).ok(0, "write", i64(1)).
		inv(1, "cas", pair(i64(1), i64(2))).
		inv(2, "write", i64(3)).fail(2, "write", i64(3)).
		inv(3, "read", nil).ok(1, "cas", pair(i64(1), i64(2))).ok(3, "read", i64(1)).
		inv(4, "write", i64(5)).info(4, "write", i64(5)).
		inv(3, "read", nil).ok(3, "read", i64(3)). // the write of 3 failed
		history(t)
	h.Ops[len(h.Ops)-1].Time = 1234
	r := Check(context.Background(), h, model.CASRegister(int64(0)), Options{})
	got, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "invalid.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("result differs from %s:\n%s", path, got)
	}
	var back map[string]any
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"valid", "analyzer", "op", "previous-ok", "configs", "final-paths", "failures", "explored"} {
		if _, ok := back[k]; !ok {
			t.Errorf("no %q in results", k)
		}
	}
	_ = history.Format
}
