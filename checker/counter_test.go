package checker

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/faultline/faultline/history"
)

func TestCounter(t *testing.T) {
	tests := []struct {
		name   string
		ops    []history.Op
		reads  string // JSON of reads
		errors string // JSON of errors
	}{
		{"empty", nil, `[]`, `[]`},
		{"initial read", []history.Op{invoke(0, "read", nil), ok(0, "read", 0)}, `[[0,0,0]]`, `[]`},
		{"ignore failed ops", []history.Op{
			invoke(0, "add", 1), fail(0, "add", 1),
			invoke(0, "read", nil), ok(0, "read", 0),
		}, `[[0,0,0]]`, `[]`},
		{"incomplete history", []history.Op{
			invoke(0, "add", 1),
			invoke(1, "read", nil), ok(1, "read", 0),
			invoke(1, "read", nil), ok(1, "read", 1),
		}, `[[0,0,1],[0,1,1]]`, `[]`},
		{"initial invalid read", []history.Op{invoke(0, "read", nil), ok(0, "read", 1)}, `[[0,1,0]]`, `[[0,1,0]]`},
		{"interleaved concurrent reads and writes", []history.Op{
			invoke(0, "read", nil), invoke(1, "add", 1), invoke(2, "read", nil),
			invoke(3, "add", 2), invoke(4, "read", nil), invoke(5, "add", 4),
			invoke(6, "read", nil), invoke(7, "add", 8), invoke(8, "read", nil),
			ok(0, "read", 6), ok(1, "add", 1), ok(2, "read", 0), ok(3, "add", 2),
			ok(4, "read", 3), ok(5, "add", 4), ok(6, "read", 100), ok(7, "add", 8),
			ok(8, "read", 15),
		}, `[[0,6,15],[0,0,15],[0,3,15],[0,100,15],[0,15,15]]`, `[[0,100,15]]`},
		{"rolling reads and writes", []history.Op{
			invoke(0, "read", nil), invoke(1, "add", 1), ok(0, "read", 0),
			invoke(0, "read", nil), ok(1, "add", 1), invoke(1, "add", 2),
			ok(0, "read", 3), invoke(0, "read", nil), ok(1, "add", 2),
			ok(0, "read", 5),
		}, `[[0,0,1],[0,3,3],[1,5,3]]`, `[[1,5,3]]`},
		{"crashed add counts forever, crashed read is ignored", []history.Op{
			invoke(0, "add", 5), info(0, "add", 5),
			invoke(1, "read", nil), info(1, "read", nil),
			invoke(2, "read", nil), ok(2, "read", 5),
			invoke(2, "read", nil), ok(2, "read", 0),
		}, `[[0,5,5],[0,0,5]]`, `[]`},
		{"nemesis ops interleaved", []history.Op{
			nemesis("start", nil), invoke(0, "add", 2), nemesis("start", "x"),
			ok(0, "add", 2), invoke(0, "read", nil), nemesis("stop", nil),
			ok(0, "read", 1), nemesis("stop", nil),
		}, `[[2,1,2]]`, `[[2,1,2]]`},
		{"negative increments", []history.Op{
			invoke(0, "add", 10), ok(0, "add", 10),
			invoke(1, "add", -3), // may happen any time
			invoke(0, "read", nil), ok(0, "read", 7),
			invoke(0, "read", nil), ok(0, "read", 10),
			ok(1, "add", -3),
			invoke(0, "read", nil), ok(0, "read", 10),
		}, `[[7,7,10],[7,10,10],[7,10,7]]`, `[[7,10,7]]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, Counter(), hist(t, tt.ops...)).(*CounterResult)
			jsonEq(t, r.Reads, tt.reads)
			jsonEq(t, r.Errors, tt.errors)
			want := Valid
			if tt.errors != `[]` {
				want = Invalid
			}
			wantVerdict(t, r, want)
		})
	}
}

func TestCounterSummaryAndErrors(t *testing.T) {
	r := run(t, Counter(), hist(t, invoke(0, "read", nil), ok(0, "read", 1))).(*CounterResult)
	if s := r.Summary(); s != "1 of 1 counter reads out of bounds: op 1 read 1 outside [0, 0]" {
		t.Errorf("summary %q", s)
	}
	bad := Check(t.Context(), Counter(), hist(t, invoke(0, "read", nil), ok(0, "read", nil)), Options{})
	wantVerdict(t, bad, Unknown)
	if e := bad.(*ErrorResult).Error; !strings.Contains(e, "op 1") {
		t.Errorf("error %q does not name the op", e)
	}
}

// TestCounterOracle compares Counter with a brute-force oracle on random
// histories of positive adds: a read is valid iff its value lies between the
// sum of adds that certainly happened before it began and the sum of adds
// that could have happened before it ended.
func TestCounterOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	seen := 0
	for trial := 0; trial < 200; trial++ {
		ops := randomCounterHistory(rng, 4, 30)
		h := hist(t, ops...)
		r := run(t, Counter(), h).(*CounterResult)
		wantErrs := 0
		for i := range h.Ops {
			c := h.Ops[i]
			if c.F != "read" || c.Type != history.OK {
				continue
			}
			inv := h.Pair(i)
			var lo, hi int64
			for j := range h.Ops {
				a := h.Ops[j]
				if a.F != "add" || a.Type != history.Invoke {
					continue
				}
				v := a.Value.(int64)
				comp, done := h.Completion(j)
				if done && comp.Type == history.OK && h.Pair(j) < inv {
					lo += v
				}
				if j < i && (!done || comp.Type != history.Fail) {
					hi += v
				}
			}
			got := c.Value.(int64)
			if got < lo || got > hi {
				wantErrs++
			}
		}
		if len(r.Errors) != wantErrs {
			t.Fatalf("trial %d: %d errors, oracle says %d\n%s", trial, len(r.Errors), wantErrs, toJSON(t, r))
		}
		seen += wantErrs
	}
	if seen == 0 {
		t.Fatal("the random histories never had a bad read: the oracle test tests nothing")
	}
}

func randomCounterHistory(rng *rand.Rand, procs, n int) []history.Op {
	var ops []history.Op
	type st struct {
		busy bool
		f    string
		v    int64
		p    int
	}
	ps := make([]st, procs)
	for i := range ps {
		ps[i].p = i
	}
	next := procs
	var total int64
	for len(ops) < n*2 {
		i := rng.IntN(procs)
		s := &ps[i]
		if !s.busy {
			if rng.IntN(2) == 0 {
				s.f, s.v = "add", int64(rng.IntN(5))
				ops = append(ops, invoke(s.p, "add", s.v))
			} else {
				s.f = "read"
				ops = append(ops, invoke(s.p, "read", nil))
			}
			s.busy = true
			continue
		}
		s.busy = false
		switch x := rng.IntN(10); {
		case s.f == "add" && x < 6:
			total += s.v
			ops = append(ops, ok(s.p, "add", s.v))
		case s.f == "add" && x < 8:
			ops = append(ops, fail(s.p, "add", s.v))
		case s.f == "add":
			if rng.IntN(2) == 0 {
				total += s.v
			}
			ops = append(ops, info(s.p, "add", s.v))
			s.p, next = next, next+1
		default:
			// Reads mostly see the truth, sometimes something off.
			v := total + int64(rng.IntN(3)) - 1
			ops = append(ops, ok(s.p, "read", v))
		}
	}
	return ops
}
