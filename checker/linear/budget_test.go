package linear

import (
	"context"
	"testing"
	"time"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/model"
)

// hardHistory is a history whose check takes far longer than the budgets
// below: a CAS register per key, 50 threads on 2 keys, crashed ops and
// stale reads.
func hardHistory(t testing.TB) *history.History {
	t.Helper()
	h, err := history.New(simulate(simConfig{Ops: 20_000, Keys: 2, Threads: 50, Crash: 0.02, Stale: 0.01, Values: 5, Seed: 99}))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestTimeBudget(t *testing.T) {
	h := hardHistory(t)
	start := time.Now()
	r := Check(context.Background(), h, model.CASRegister(nil), Options{TimeBudget: 30 * time.Millisecond, AllKeys: true})
	el := time.Since(start)
	if r.Valid != checker.Unknown || r.Cause != "timeout" {
		t.Skipf("the history was decided within 30ms (%v, %s): not hard enough on this machine", r.Valid, r.Summary())
	}
	if el > 3*time.Second {
		t.Errorf("a 30ms budget took %v", el)
	}
	if len(r.Unfinished) == 0 || r.Explored == 0 {
		t.Errorf("unknown without progress report: %+v", r)
	}
	t.Log(r.Summary())
}

func TestMemoryBudget(t *testing.T) {
	h := hardHistory(t)
	r := Check(context.Background(), h, model.CASRegister(nil), Options{MemoryBudget: 256 << 10, AllKeys: true})
	if r.Valid != checker.Unknown || r.Cause != "memory" {
		t.Fatalf("got %v (%s), want unknown because of memory", r.Valid, r.Summary())
	}
	t.Log(r.Summary())
}

func TestCancel(t *testing.T) {
	h := hardHistory(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	r := Check(ctx, h, model.CASRegister(nil), Options{AllKeys: true})
	if r.Valid == checker.Unknown && r.Cause != "canceled" {
		t.Fatalf("cause %q, want canceled", r.Cause)
	}
	if r.Valid == checker.Valid {
		t.Skip("decided before the cancel")
	}
}

// TestFirstFailureStopsOthers: once a key is invalid the others stop, and
// the verdict is invalid.
func TestFirstFailureStopsOthers(t *testing.T) {
	b := &hb{}
	// key "bad": a read of a value never written
	b.inv(0, "read", nil).ok(0, "read", i64(7)).key("bad")
	ops := b.ops
	hard := hardHistory(t).Ops
	for _, op := range hard {
		op.Index = len(ops)
		op.Key = "hard"
		if op.Process >= 0 {
			op.Process += 10
		}
		ops = append(ops, op)
	}
	h, err := history.New(ops)
	if err != nil {
		t.Fatal(err)
	}
	r := Check(context.Background(), h, model.CASRegister(nil), Options{TimeBudget: 5 * time.Second})
	if r.Valid != checker.Invalid || r.Key != "bad" {
		t.Fatalf("got %v key %v: %s", r.Valid, r.Key, r.Summary())
	}
}
