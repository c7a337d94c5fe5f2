package memdb

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/faultline/faultline/history"
)

// underFaults runs the generator against a five-node bug-free cluster while
// nodes are killed, paused and partitioned and leadership moves around.
func underFaults(t *testing.T, workload string, g gen) ([]rec, *Cluster) {
	t.Helper()
	return underFaultsWith(t, BugNone, workload, g)
}

// underFaultsWith is underFaults with a bug built into the cluster.
func underFaultsWith(t *testing.T, bug Bug, workload string, g gen) ([]rec, *Cluster) {
	t.Helper()
	cfg := Config{Bug: bug, ElectionTimeout: 80 * time.Millisecond, HeartbeatInterval: 15 * time.Millisecond,
		RequestTimeout: 400 * time.Millisecond, LeaderChangeEvery: 300 * time.Millisecond}
	cl, _ := startCluster(t, fiveNodes(), cfg)
	cs := openClients(t, NewInProcessClient(cl, ClientConfig{Workload: workload}), fiveNodes(), 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); faults(ctx, t, cl, 3, 150*time.Millisecond) }()
	recs := runOps(context.Background(), cs, 2*time.Second, 200*time.Microsecond, g, 5)
	cancel()
	<-done
	t.Log(counts(recs))
	return recs, cl
}

func TestBankUnderFaults(t *testing.T) {
	recs, _ := underFaults(t, WorkloadBank, func(rng *rand.Rand, thread int, _ int64) history.Op {
		if thread < 5 {
			return history.Op{Type: history.Invoke, F: "read"}
		}
		return history.Op{Type: history.Invoke, F: "transfer", Value: history.Map{
			{Key: "from", Val: rng.Int64N(8)}, {Key: "to", Val: rng.Int64N(8)}, {Key: "amount", Val: 1 + rng.Int64N(5)}}}
	})
	var reads, transfers int
	for _, r := range recs {
		if r.out.Type != history.OK {
			continue
		}
		if r.in.F == "transfer" {
			transfers++
			continue
		}
		reads++
		m := r.out.Value.(history.Map)
		var sum int64
		for i, e := range m {
			bal := e.Val.(int64)
			if bal < 0 || e.Key != int64(i) {
				t.Fatalf("read %s: bad account or negative balance", history.Format(m))
			}
			sum += bal
		}
		if len(m) != 8 || sum != 100 {
			t.Fatalf("read %s: %d accounts totalling %d, want 8 totalling 100", history.Format(m), len(m), sum)
		}
	}
	if reads == 0 || transfers == 0 {
		t.Fatalf("%d reads and %d transfers succeeded", reads, transfers)
	}
}

func TestUniqueIDsUnderFaults(t *testing.T) {
	recs, _ := underFaults(t, WorkloadUniqueIDs, func(*rand.Rand, int, int64) history.Op {
		return history.Op{Type: history.Invoke, F: "generate"}
	})
	seen := map[int64]bool{}
	for _, r := range recs {
		if r.out.Type == history.OK {
			id := r.out.Value.(int64)
			if seen[id] {
				t.Fatalf("id %d generated twice", id)
			}
			seen[id] = true
		}
	}
	if len(seen) == 0 {
		t.Fatal("no id generated")
	}
}

func TestQueueUnderFaults(t *testing.T) {
	recs, cl := underFaults(t, WorkloadQueue, func(_ *rand.Rand, thread int, n int64) history.Op {
		if thread < 5 {
			return history.Op{Type: history.Invoke, F: "enqueue", Value: n}
		}
		return history.Op{Type: history.Invoke, F: "dequeue"}
	})
	c := openOn(t, cl, "n1", WorkloadQueue)
	oneLeader(t, cl)
	drain := do(t, c, "drain", nil, nil)
	if drain.Type != history.OK {
		t.Fatalf("drain: %v", drain)
	}
	attempted, acked, out := map[int64]bool{}, map[int64]bool{}, map[int64]int{}
	var infoDeq, empty int
	for _, r := range recs {
		switch {
		case r.in.F == "enqueue":
			attempted[r.in.Value.(int64)] = true
			if r.out.Type == history.OK {
				acked[r.in.Value.(int64)] = true
			}
		case r.out.Type == history.OK:
			out[r.out.Value.(int64)]++
		case r.out.Type == history.Info:
			infoDeq++
		case r.out.Error == errEmpty:
			empty++
		}
	}
	for _, v := range drain.Value.([]any) {
		out[v.(int64)]++
	}
	var lost int
	for v := range acked {
		if out[v] == 0 {
			lost++
		}
	}
	for v, n := range out {
		if n > 1 || !attempted[v] {
			t.Fatalf("value %d came out %d times (enqueued: %v)", v, n, attempted[v])
		}
	}
	t.Logf("%d enqueued, %d out, %d empty dequeues, %d unknown dequeues, %d missing", len(acked), len(out), empty, infoDeq, lost)
	if lost > infoDeq {
		t.Fatalf("%d acknowledged values never came out, more than the %d dequeues of unknown outcome", lost, infoDeq)
	}
}
