package elle

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
)

// la builds a list-append transaction from Elle's test notation
// (list_append_test.clj `op`): "ax1" appends 1 to x, "ry12" reads y =
// [1 2], "rx" reads x with no value; keys are x y z t u.
func la(s string) []any {
	var txn []any
	var cur []any
	flush := func() {
		if cur != nil {
			txn = append(txn, cur)
		}
	}
	for _, c := range s {
		switch {
		case c == 'a':
			flush()
			cur = []any{"append"}
		case c == 'r':
			flush()
			cur = []any{"r"}
		case strings.ContainsRune("xyztu", c):
			cur = append(cur, string(c))
		default:
			e := int64(c - '0')
			if cur[0] == "append" {
				cur = append(cur, e)
			} else if len(cur) == 2 {
				cur = append(cur, []any{e})
			} else {
				cur[2] = append(cur[2].([]any), e)
			}
		}
	}
	flush()
	return txn
}

// rw builds an rw-register transaction from Elle's notation
// (rw_register_test.clj `op`): "wx1" writes 1 to x, "rx2" reads x = 2,
// "rx_" reads x = nil.
func rw(s string) []any {
	var txn []any
	var cur []any
	flush := func() {
		if cur != nil {
			txn = append(txn, cur)
		}
	}
	for _, c := range s {
		switch {
		case c == 'w':
			flush()
			cur = []any{"w"}
		case c == 'r':
			flush()
			cur = []any{"r"}
		case strings.ContainsRune("xyz", c):
			cur = append(cur, string(c))
		case c == '_':
			cur = append(cur, nil)
		default:
			cur = append(cur, int64(c-'0'))
		}
	}
	flush()
	return txn
}

// ok, info, fail make a bare completion (Elle's `op`); p is the process.
func ok(p int, v []any) history.Op {
	return history.Op{Type: history.OK, Process: p, F: "txn", Value: v}
}

func info(p int, v []any) history.Op   { o := ok(p, v); o.Type = history.Info; return o }
func failed(p int, v []any) history.Op { o := ok(p, v); o.Type = history.Fail; return o }

// inv is the invocation of a completion: reads lose their values.
func inv(c history.Op) history.Op {
	o := c
	o.Type = history.Invoke
	var mops []any
	for _, m := range c.Value.([]any) {
		m := m.([]any)
		if m[0] == "r" {
			mops = append(mops, []any{"r", m[1], nil})
		} else {
			mops = append(mops, m)
		}
	}
	o.Value = mops
	return o
}

// pair returns the invocation and completion of c (Elle's `pair`).
func pair(c history.Op) []history.Op { return []history.Op{inv(c), c} }

// hist numbers ops by position (when they have no index of their own).
func hist(ops ...history.Op) []history.Op {
	out := slices.Clone(ops)
	for i := range out {
		if out[i].Index == 0 && i > 0 {
			out[i].Index = i
		}
		if out[i].Time == 0 {
			out[i].Time = -1
		}
	}
	return out
}

func cat(parts ...[]history.Op) []history.Op {
	var out []history.Op
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// runCheck checks ops with the given workload and options.
func runCheck(t *testing.T, w workload, o Options, ops []history.Op) *Result {
	t.Helper()
	r, err := check(context.Background(), testLattice(), w, o, ops, checker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Results must always marshal.
	if _, err := json.Marshal(r); err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return r
}

// want is an expected verdict, as Elle's tests assert: valid, the anomaly
// types and the not set (nil: not asserted; use []string{} for empty).
type want struct {
	valid checker.Validity
	types []string
	not   []string
}

func expect(t *testing.T, name string, r *Result, w want) {
	t.Helper()
	bad := r.Valid != w.valid
	if w.types != nil && !slices.Equal(r.AnomalyTypes, w.types) {
		bad = true
	}
	if w.valid == checker.Valid && len(r.AnomalyTypes) != 0 {
		bad = true
	}
	if w.not != nil {
		n := slices.Clone(w.not)
		sort.Strings(n)
		if !slices.Equal(r.Not, n) {
			bad = true
		}
	}
	if bad {
		b, _ := json.MarshalIndent(r, "", "  ")
		t.Errorf("%s: want valid=%v types=%v not=%v; got valid=%v types=%v not=%v\n%s",
			name, w.valid, w.types, w.not, r.Valid, r.AnomalyTypes, r.Not, b)
	}
}

// testLattice is built once for all tests (it is read only).
var testLattice = sync.OnceValue(newLattice)

var (
	valid   = checker.Valid
	invalid = checker.Invalid
	unknown = checker.Unknown
)

func models(ms ...string) Options { return Options{ConsistencyModels: ms} }
func anoms(as ...string) Options  { return Options{Anomalies: as} }

func TestNotation(t *testing.T) {
	got := la("ax1ry12rx")
	wantV := []any{[]any{"append", "x", int64(1)}, []any{"r", "y", []any{int64(1), int64(2)}}, []any{"r", "x"}}
	if !history.Equal(got, wantV) {
		t.Fatalf("la: %v", history.Format(got))
	}
	got = rw("wx1rx_ry2")
	wantV = []any{[]any{"w", "x", int64(1)}, []any{"r", "x", nil}, []any{"r", "y", int64(2)}}
	if !history.Equal(got, wantV) {
		t.Fatalf("rw: %v", history.Format(got))
	}
}
