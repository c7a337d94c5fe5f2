package checker

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/faultline/faultline/history"
)

// benchHistory builds n ops from 10 processes taking turns: each process
// invokes, and completes at its next turn, so ops overlap. next gives the
// f and value of an invocation and the value of its completion.
func benchHistory(b *testing.B, n int, next func(i int) (f string, inv, comp any, t history.Type)) *history.History {
	b.Helper()
	const procs = 10
	ops := make([]history.Op, 0, n)
	type pend struct {
		f    string
		comp any
		t    history.Type
	}
	open := make([]*pend, procs)
	for i := 0; len(ops) < n; i++ {
		p := i % procs
		tm := int64(len(ops)) * 50_000 // 20,000 ops/s
		if open[p] == nil {
			f, inv, comp, typ := next(len(ops))
			ops = append(ops, history.Op{Index: len(ops), Time: tm, Type: history.Invoke, Process: p, F: f, Value: inv})
			open[p] = &pend{f, comp, typ}
			continue
		}
		ops = append(ops, history.Op{Index: len(ops), Time: tm, Type: open[p].t, Process: p, F: open[p].f, Value: open[p].comp})
		open[p] = nil
	}
	h, err := history.New(ops)
	if err != nil {
		b.Fatal(err)
	}
	return h
}

func benchCheck(b *testing.B, c Checker, h *history.History) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		r := Check(context.Background(), c, h, Options{})
		if e, isErr := r.(*ErrorResult); isErr {
			b.Fatal(e.Error)
		}
	}
	b.ReportMetric(float64(h.Len())*float64(b.N)/time.Since(start).Seconds(), "hist-ops/s")
}

// BenchmarkCounter: 1M ops, half adds, half reads.
func BenchmarkCounter(b *testing.B) {
	var total int64
	h := benchHistory(b, 1_000_000, func(i int) (string, any, any, history.Type) {
		if i%4 == 0 {
			total++
			return "add", int64(1), int64(1), history.OK
		}
		return "read", nil, total, history.OK
	})
	benchCheck(b, Counter(), h)
}

// BenchmarkPerf: 1M ops of three fs and all outcomes.
func BenchmarkPerf(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	fs := []string{"read", "write", "cas"}
	types := []history.Type{history.OK, history.OK, history.OK, history.Fail, history.Info}
	h := benchHistory(b, 1_000_000, func(i int) (string, any, any, history.Type) {
		t := types[rng.IntN(len(types))]
		if t == history.Info {
			t = history.Fail // keep processes stable; info is covered by the unit tests
		}
		return fs[rng.IntN(3)], int64(i), int64(i), t
	})
	benchCheck(b, Perf(PerfOptions{}), h)
}

// BenchmarkSetFull: adds of distinct elements interleaved with reads of
// every element added so far. The work is proportional to reads x elements
// (the size of the read values), as in Jepsen.
func BenchmarkSetFull(b *testing.B) {
	for _, tc := range []struct{ ops, elements int }{{1_000_000, 1000}, {100_000, 10_000}} {
		b.Run(fmt.Sprintf("ops=%d/elements=%d", tc.ops, tc.elements), func(b *testing.B) {
			all := make([]any, tc.elements)
			for i := range all {
				all[i] = int64(i)
			}
			every := tc.ops / 2 / tc.elements
			added := 0
			h := benchHistory(b, tc.ops, func(i int) (string, any, any, history.Type) {
				if (i/2)%every == 0 && added < tc.elements {
					added++
					return "add", all[added-1], all[added-1], history.OK
				}
				// Reads see everything acknowledged at invocation time;
				// prefixes share one backing array.
				return "read", nil, all[:max(0, added-5)], history.OK
			})
			benchCheck(b, SetFull(SetFullOptions{}), h)
		})
	}
}

// BenchmarkIndependentSet: 1M ops over 100 keys, the usual shape of a set test.
func BenchmarkIndependentSet(b *testing.B) {
	n := 0
	h := benchHistory(b, 1_000_000, func(i int) (string, any, any, history.Type) {
		n++
		return "add", int64(n), int64(n), history.OK
	})
	// An op's invocation and completion share its key; setting keys after
	// construction keeps the pairing valid.
	for i := range h.Ops {
		first := i
		if j := h.Pair(i); j >= 0 && j < i {
			first = j
		}
		h.Ops[i].Key = int64(first % 100)
	}
	benchCheck(b, Independent(Set()), h)
}
