package memdb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faultline/faultline/client"
	"github.com/faultline/faultline/history"
)

// rec is one op as a test client saw it.
type rec struct {
	thread    int
	in, out   history.Op
	err       error
	call, ret int64 // ns since the start of the run
}

// gen makes the n-th invocation of a run, for thread.
type gen func(rng *rand.Rand, thread int, n int64) history.Op

// registerGen is shaped like Jepsen's linearizable-register workload: half
// the threads read, the others write or cas (1:2) small values, and all
// work on one key at a time, opsPerKey ops per key.
func registerGen(threads int, opsPerKey, keyBase int64) gen {
	return func(rng *rand.Rand, thread int, n int64) history.Op {
		op := history.Op{Type: history.Invoke, Key: keyBase + n/opsPerKey}
		switch {
		case thread < threads/2:
			op.F = "read"
		case rng.IntN(3) == 0:
			op.F, op.Value = "write", rng.Int64N(5)
		default:
			op.F, op.Value = "cas", []any{rng.Int64N(5), rng.Int64N(5)}
		}
		return op
	}
}

// mixGen is the register workload of Faultline's workload package: every
// thread picks read, write or cas (1:1:1), opsPerKey ops per key.
func mixGen(opsPerKey, keyBase int64) gen {
	return func(rng *rand.Rand, _ int, n int64) history.Op {
		op := history.Op{Type: history.Invoke, Key: keyBase + n/opsPerKey}
		switch rng.IntN(3) {
		case 0:
			op.F = "read"
		case 1:
			op.F, op.Value = "write", rng.Int64N(5)
		default:
			op.F, op.Value = "cas", []any{rng.Int64N(5), rng.Int64N(5)}
		}
		return op
	}
}

// runOps drives the clients (one per thread) for dur and returns what they
// saw. With gap > 0 each thread pauses a random time up to 2*gap after each
// op; with gap < 0 ops of all threads start a random time up to 2*|gap|
// apart (Jepsen's stagger on the total rate).
func runOps(ctx context.Context, clients []client.Client, dur, gap time.Duration, g gen, seed uint64) []rec {
	ctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	start := time.Now()
	var pmu sync.Mutex
	next := start
	prng := rand.New(rand.NewPCG(seed, 99))
	pace := func() {
		pmu.Lock()
		slot := next
		if now := time.Now(); now.After(slot) {
			slot = now
		}
		next = slot.Add(time.Duration(prng.Int64N(int64(-2 * gap))))
		pmu.Unlock()
		select {
		case <-time.After(time.Until(slot)):
		case <-ctx.Done():
		}
	}
	var n atomic.Int64
	var mu sync.Mutex
	var out []rec
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			var mine []rec
			for ctx.Err() == nil {
				if gap < 0 {
					if pace(); ctx.Err() != nil {
						break
					}
				}
				op := g(rng, i, n.Add(1)-1)
				op.Process = i
				r := rec{thread: i, in: op, call: int64(time.Since(start))}
				octx, ocancel := context.WithTimeout(context.Background(), 2*time.Second)
				r.out, r.err = c.Invoke(octx, nil, op)
				ocancel()
				r.ret = int64(time.Since(start))
				if r.err != nil {
					r.out = op
					r.out.Type, r.out.Error = history.Info, r.err.Error()
				}
				mine = append(mine, r)
				if gap > 0 {
					time.Sleep(time.Duration(rng.Int64N(int64(2 * gap))))
				}
			}
			mu.Lock()
			out = append(out, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// openClients opens n clients spread over the nodes round-robin, as the
// interpreter binds processes to nodes.
func openClients(t testing.TB, proto client.Client, nodes []string, n int) []client.Client {
	t.Helper()
	out := make([]client.Client, n)
	for i := range out {
		c, err := proto.Open(context.Background(), nil, nodes[i%len(nodes)])
		if err != nil {
			t.Fatal(err)
		}
		out[i] = c
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := out[0].Setup(ctx, nil); err != nil {
		t.Fatal(err)
	}
	return out
}

// counts tallies completions by type.
func counts(recs []rec) string {
	var ok, fail, info int
	for _, r := range recs {
		switch r.out.Type {
		case history.OK:
			ok++
		case history.Fail:
			fail++
		default:
			info++
		}
	}
	return fmt.Sprintf("%d ops: %d ok, %d fail, %d info", len(recs), ok, fail, info)
}

func startCluster(t testing.TB, nodes []string, cfg Config) (*Cluster, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cl := NewCluster(nodes, cfg)
	if err := cl.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(cancel)
	return cl, cancel
}

func fiveNodes() []string { return []string{"n1", "n2", "n3", "n4", "n5"} }
