package report

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/faultline/faultline/history"
)

// genHistory makes a deterministic history of about n ops (events): threads
// client threads doing reads, writes and cas on a few keys with log-normal
// latencies, 80% ok, 15% fail, 5% info (the thread then continues as
// process p+threads), and a nemesis that partitions and kills in turns.
// The last ops of some threads never complete.
func genHistory(tb testing.TB, n, threads int, seed uint64) *history.History {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	type thread struct {
		proc    int
		busy    bool
		next    int64 // time of its next event
		f       string
		v       any
		key     int64
		outcome history.Type
	}
	ts := make([]thread, threads)
	for i := range ts {
		ts[i] = thread{proc: i, next: int64(rng.IntN(1000)) * 1000}
	}
	var ops []history.Op
	add := func(op history.Op) {
		op.Index = len(ops)
		ops = append(ops, op)
	}
	nemNext := int64(200e6)
	nemStep := 0
	nemFs := []string{"start-partition", "stop-partition", "kill", "start"}
	for len(ops) < n {
		// the earliest event: a thread or the nemesis
		best := -1
		for i := range ts {
			if best < 0 || ts[i].next < ts[best].next {
				best = i
			}
		}
		if nemNext < ts[best].next {
			f := nemFs[nemStep%len(nemFs)]
			nemStep++
			var val any
			if f == "start-partition" {
				val = "majorities-ring"
			}
			add(history.Op{Time: nemNext, Type: history.Info, Process: history.NemesisProcess, F: f})
			add(history.Op{Time: nemNext + 3e6, Type: history.Info, Process: history.NemesisProcess, F: f, Value: val})
			nemNext += 300e6
			continue
		}
		t := &ts[best]
		if !t.busy {
			t.key = int64(rng.IntN(4))
			switch rng.IntN(3) {
			case 0:
				t.f, t.v = "read", nil
			case 1:
				t.f, t.v = "write", int64(rng.IntN(5))
			default:
				t.f, t.v = "cas", []any{int64(rng.IntN(5)), int64(rng.IntN(5))}
			}
			add(history.Op{Time: t.next, Type: history.Invoke, Process: t.proc, F: t.f, Value: t.v, Key: t.key})
			t.busy = true
			lat := math.Exp(rng.NormFloat64()*0.8 + math.Log(2e6)) // ~2 ms median
			t.next += int64(lat) + 1000
			switch r := rng.IntN(100); {
			case r < 80:
				t.outcome = history.OK
			case r < 95:
				t.outcome = history.Fail
			default:
				t.outcome = history.Info
			}
			continue
		}
		v := t.v
		if t.f == "read" && t.outcome == history.OK {
			v = int64(rng.IntN(5))
		}
		op := history.Op{Time: t.next, Type: t.outcome, Process: t.proc, F: t.f, Value: v, Key: t.key}
		if t.outcome == history.Info {
			op.Error = "timeout"
		}
		add(op)
		t.busy = false
		if t.outcome == history.Info {
			t.proc += threads
		}
		t.next += int64(rng.IntN(500)) * 1000
	}
	h, err := history.New(ops)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}
