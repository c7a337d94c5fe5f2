package memdb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/faultline/faultline/client"
	"github.com/faultline/faultline/history"
)

func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func oneLeader(t testing.TB, cl *Cluster) string {
	t.Helper()
	var l []string
	waitFor(t, "a single leader", 5*time.Second, func() bool {
		l = cl.Leaders(context.Background())
		return len(l) == 1
	})
	return l[0]
}

// do runs one op through c and fails the test on an error.
func do(t testing.TB, c client.Client, f string, key, value any) history.Op {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	out, err := c.Invoke(ctx, nil, history.Op{Type: history.Invoke, F: f, Key: key, Value: value})
	if err != nil {
		t.Fatalf("%s %v: %v", f, value, err)
	}
	return out
}

// readOK reads until the read succeeds (a leader change can refuse it
// with not-leader or no-leader), as a final read does, for up to 5 s.
func readOK(t testing.TB, c client.Client) history.Op {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		out := do(t, c, "read", nil, nil)
		if out.Type == history.OK {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("final read never succeeded; last: %s %v", out.Type, out.Error)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func openOn(t testing.TB, src ClusterSource, node string, workload string) client.Client {
	t.Helper()
	c, err := NewInProcessClient(src, ClientConfig{Workload: workload}).Open(context.Background(), nil, node)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestElectionAndReplication(t *testing.T) {
	cl, _ := startCluster(t, fiveNodes(), Config{})
	lead := oneLeader(t, cl)
	c := openOn(t, cl, "n3", WorkloadRegister)
	for i := range int64(50) {
		if out := do(t, c, "write", int64(1), i); out.Type != history.OK {
			t.Fatalf("write: %v", out)
		}
	}
	// Every replica applies the whole log (after the replication lag).
	ctx := context.Background()
	waitFor(t, "replicas to converge", 5*time.Second, func() bool {
		var applied []uint64
		for _, n := range cl.Nodes() {
			st, err := cl.Status(ctx, n)
			if err != nil || st.Leader != lead {
				return false
			}
			applied = append(applied, st.Applied)
		}
		return applied[0] >= 51 && slices.Min(applied) == slices.Max(applied)
	})
}

func TestLeaderFailover(t *testing.T) {
	cl, _ := startCluster(t, fiveNodes(), Config{})
	lead := oneLeader(t, cl)
	other := fiveNodes()[0]
	if other == lead {
		other = fiveNodes()[1]
	}
	c := openOn(t, cl, other, WorkloadRegister)
	do(t, c, "write", int64(1), int64(42))
	if err := cl.Kill(lead); err != nil {
		t.Fatal(err)
	}
	next := oneLeader(t, cl)
	if next == lead {
		t.Fatalf("killed leader %s still leads", lead)
	}
	if out := do(t, c, "read", int64(1), nil); out.Type != history.OK || out.Value != int64(42) {
		t.Fatalf("after failover read %v, want 42", out)
	}
	// The old leader comes back as a follower with its log intact.
	if err := cl.StartNode(lead); err != nil {
		t.Fatal(err)
	}
	old := openOn(t, cl, lead, WorkloadRegister)
	waitFor(t, "the restarted node to follow", 5*time.Second, func() bool {
		st, err := cl.Status(context.Background(), lead)
		return err == nil && st.Leader != "" && st.Role == "follower"
	})
	if out := do(t, old, "read", int64(1), nil); out.Value != int64(42) {
		t.Fatalf("read through the restarted node %v, want 42", out)
	}
}

func TestMinorityCannotServe(t *testing.T) {
	cl, _ := startCluster(t, fiveNodes(), Config{ElectionTimeout: 100 * time.Millisecond, HeartbeatInterval: 20 * time.Millisecond, RequestTimeout: 300 * time.Millisecond})
	lead := oneLeader(t, cl)
	minority, majority := []string{lead}, []string{}
	for _, n := range cl.Nodes() {
		switch {
		case n == lead:
		case len(minority) < 2:
			minority = append(minority, n)
		default:
			majority = append(majority, n)
		}
	}
	c := openOn(t, cl, lead, WorkloadRegister)
	do(t, c, "write", int64(1), int64(1))
	grudge := map[string][]string{}
	for _, a := range minority {
		grudge[a] = majority
	}
	for _, b := range majority {
		grudge[b] = minority
	}
	if err := cl.Partition(grudge); err != nil {
		t.Fatal(err)
	}
	// The isolated leader must neither acknowledge writes nor serve reads.
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		w, werr := c.Invoke(ctx, nil, history.Op{Type: history.Invoke, F: "write", Key: int64(1), Value: int64(2)})
		r, rerr := c.Invoke(ctx, nil, history.Op{Type: history.Invoke, F: "read", Key: int64(1)})
		cancel()
		if werr == nil && w.Type == history.OK {
			t.Fatalf("minority acknowledged a write: %v", w)
		}
		if rerr == nil && r.Type == history.OK {
			t.Fatalf("minority served a read: %v", r)
		}
	}
	// The majority elects its own leader and serves.
	m := openOn(t, cl, majority[0], WorkloadRegister)
	waitFor(t, "the majority to serve writes", 5*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		w, err := m.Invoke(ctx, nil, history.Op{Type: history.Invoke, F: "write", Key: int64(1), Value: int64(3)})
		return err == nil && w.Type == history.OK
	})
	cl.Heal()
	waitFor(t, "the old leader to follow", 5*time.Second, func() bool {
		st, err := cl.Status(context.Background(), lead)
		return err == nil && st.Role == "follower" && st.Leader != ""
	})
	if out := do(t, c, "read", int64(1), nil); out.Type != history.OK || out.Value != int64(3) {
		t.Fatalf("after heal read %v, want 3", out)
	}
}

func TestKillAllKeepsAcknowledgedWrites(t *testing.T) {
	cl, _ := startCluster(t, []string{"n1", "n2", "n3"}, Config{})
	c := openOn(t, cl, "n1", WorkloadSet)
	var acked []any
	for i := range int64(100) {
		if out := do(t, c, "add", nil, i); out.Type == history.OK {
			acked = append(acked, i)
		}
	}
	for _, n := range cl.Nodes() {
		if err := cl.Kill(n); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range cl.Nodes() {
		if err := cl.StartNode(n); err != nil {
			t.Fatal(err)
		}
	}
	oneLeader(t, cl)
	out := do(t, c, "read", nil, nil)
	if !history.Equal(out.Value, acked) {
		t.Fatalf("after restarting every node read %v, want the %d acknowledged adds", out.Value, len(acked))
	}
}

func TestPauseLooksSlow(t *testing.T) {
	cl, _ := startCluster(t, []string{"n1", "n2", "n3"}, Config{ElectionTimeout: 100 * time.Millisecond, HeartbeatInterval: 20 * time.Millisecond})
	lead := oneLeader(t, cl)
	c := openOn(t, cl, lead, WorkloadRegister)
	if err := cl.Pause(lead); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	_, err := c.Invoke(ctx, nil, history.Op{Type: history.Invoke, F: "write", Key: int64(1), Value: int64(1)})
	cancel()
	if err == nil {
		t.Fatal("a paused node answered a write")
	}
	var next string
	waitFor(t, "a new leader", 5*time.Second, func() bool {
		l := cl.Leaders(context.Background())
		if len(l) == 1 && l[0] != lead {
			next = l[0]
			return true
		}
		return false
	})
	if err := cl.Resume(lead); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the resumed leader to step down", 5*time.Second, func() bool {
		st, err := cl.Status(context.Background(), lead)
		return err == nil && st.Role != "leader"
	})
	// The write made while paused may or may not have happened: it was
	// indeterminate. Whatever it did, the cluster is linearizable again.
	if out := do(t, c, "write", int64(1), int64(2)); out.Type != history.OK {
		t.Fatalf("write after resume: %v (leader %s)", out, next)
	}
	if out := do(t, c, "read", int64(1), nil); out.Value != int64(2) {
		t.Fatalf("read %v, want 2", out)
	}
}

// faults injects a random fault every interval until ctx ends: kill and
// restart, pause and resume, or a partition, each undone before the next.
func faults(ctx context.Context, t testing.TB, cl *Cluster, seed uint64, every time.Duration) {
	rng := rand.New(rand.NewPCG(seed, 7))
	nodes := cl.Nodes()
	var undo func()
	defer func() {
		if undo != nil {
			undo()
		}
	}()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if undo != nil {
			undo()
			undo = nil
			continue // a quiet interval between faults
		}
		n := nodes[rng.IntN(len(nodes))]
		switch rng.IntN(4) {
		case 0:
			cl.Kill(n)
			undo = func() { cl.StartNode(n) }
		case 1:
			cl.Pause(n)
			undo = func() { cl.Resume(n) }
		case 2: // isolate the leader, or any node
			if l := cl.Leaders(ctx); len(l) == 1 {
				n = l[0]
			}
			fallthrough
		default:
			perm := rng.Perm(len(nodes))
			side := map[string]bool{n: true}
			for _, i := range perm[:len(nodes)/2] {
				side[nodes[i]] = true
			}
			grudge := map[string][]string{}
			for _, a := range nodes {
				for _, b := range nodes {
					if side[a] != side[b] {
						grudge[a] = append(grudge[a], b)
					}
				}
			}
			if err := cl.Partition(grudge); err != nil {
				t.Error(err)
			}
			undo = cl.Heal
		}
	}
}

func TestLinearizableUnderFaults(t *testing.T) {
	// Bug none must stay linearizable through kills, pauses, partitions and
	// its own leader changes.
	cfg := Config{ElectionTimeout: 80 * time.Millisecond, HeartbeatInterval: 15 * time.Millisecond,
		RequestTimeout: 400 * time.Millisecond, LeaderChangeEvery: 300 * time.Millisecond}
	cl, _ := startCluster(t, fiveNodes(), cfg)
	cs := openClients(t, NewInProcessClient(cl, ClientConfig{Workload: WorkloadRegister}), fiveNodes(), 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); faults(ctx, t, cl, 1, 150*time.Millisecond) }()
	recs := runOps(context.Background(), cs, 3*time.Second, time.Millisecond, registerGen(10, 150, 0), 2)
	cancel()
	<-done
	bad, undecided := linearizable(recs)
	t.Logf("%s; %d keys undecided", counts(recs), undecided)
	if len(bad) > 0 {
		t.Fatalf("bug none is not linearizable on keys %v", bad)
	}
	var ok int
	for _, r := range recs {
		if r.out.Type == history.OK {
			ok++
		}
	}
	if ok < len(recs)/4 {
		t.Fatalf("only %d of %d ops succeeded under faults", ok, len(recs))
	}
}

// findAnomaly runs Jepsen-shaped register load in one-second rounds until
// the brute-force checker finds a non-linearizable key or max passes. It
// returns the time to the first anomaly, or 0.
func findAnomaly(t testing.TB, cfg Config, max, gap time.Duration, seed uint64) (time.Duration, string) {
	cl, cancel := startCluster(t, fiveNodes(), cfg)
	defer cancel()
	cs := openClients(t, NewInProcessClient(cl, ClientConfig{Workload: WorkloadRegister}), fiveNodes(), 10)
	start := time.Now()
	var total int
	for round := int64(0); time.Since(start) < max; round++ {
		recs := runOps(context.Background(), cs, time.Second, gap, registerGen(10, 100, round*1_000_000), seed+uint64(round))
		total += len(recs)
		if bad, _ := linearizable(recs); len(bad) > 0 {
			return time.Since(start), fmt.Sprintf("%d ops, %d bad keys in the last round", total, len(bad))
		}
	}
	return 0, fmt.Sprintf("%d ops", total)
}

func TestBugs(t *testing.T) {
	// Default settings, except that leadership changes every 200ms instead
	// of every second, so that lost writes show within seconds reliably
	// (TestSoakDetectionRate measures the defaults).
	tests := []struct {
		cfg  Config
		max  time.Duration
		want bool
	}{
		{Config{Bug: BugNone, LeaderChangeEvery: 200 * time.Millisecond}, 2 * time.Second, false},
		{Config{Bug: BugStaleReads}, 3 * time.Second, true},
		{Config{Bug: BugLostWrites, LeaderChangeEvery: 200 * time.Millisecond}, 6 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.cfg.Bug), func(t *testing.T) {
			after, what := findAnomaly(t, tt.cfg, tt.max, time.Millisecond, 1)
			if after > 0 {
				t.Logf("anomaly after %v (%s)", after, what)
			} else {
				t.Logf("no anomaly in %v (%s)", tt.max, what)
			}
			if got := after > 0; got != tt.want {
				t.Fatalf("anomaly found: %v, want %v (%s)", got, tt.want, what)
			}
		})
	}
}

func TestSetAndCounterLoseWritesOnlyWithTheBug(t *testing.T) {
	for _, bug := range []Bug{BugNone, BugLostWrites} {
		t.Run(string(bug), func(t *testing.T) {
			cl, _ := startCluster(t, fiveNodes(), Config{Bug: bug, LeaderChangeEvery: 300 * time.Millisecond})
			sets := openClients(t, NewInProcessClient(cl, ClientConfig{Workload: WorkloadSet}), fiveNodes(), 5)
			ctrs := openClients(t, NewInProcessClient(cl, ClientConfig{Workload: WorkloadCounter}), fiveNodes(), 5)
			addN := func(_ *rand.Rand, _ int, n int64) history.Op {
				return history.Op{Type: history.Invoke, F: "add", Value: n}
			}
			add1 := func(*rand.Rand, int, int64) history.Op {
				return history.Op{Type: history.Invoke, F: "add", Value: int64(1)}
			}
			done := make(chan []rec)
			go func() { done <- runOps(context.Background(), ctrs, 2*time.Second, 0, add1, 3) }()
			setRecs := runOps(context.Background(), sets, 2*time.Second, 0, addN, 4)
			ctrRecs := <-done
			time.Sleep(50 * time.Millisecond)

			final := readOK(t, sets[0]).Value.([]any)
			have := map[int64]bool{}
			for _, v := range final {
				have[v.(int64)] = true
			}
			var lostAdds int
			for _, r := range setRecs {
				if r.out.Type == history.OK && !have[r.in.Value.(int64)] {
					lostAdds++
				}
			}
			var okSum, infoSum int64
			for _, r := range ctrRecs {
				switch r.out.Type {
				case history.OK:
					okSum++
				case history.Info:
					infoSum++
				}
			}
			ctr := readOK(t, ctrs[0]).Value.(int64)
			t.Logf("set: %s, %d acknowledged adds lost; counter: %s, read %d, acknowledged %d",
				counts(setRecs), lostAdds, counts(ctrRecs), ctr, okSum)
			if bug == BugNone {
				if lostAdds > 0 || ctr < okSum || ctr > okSum+infoSum {
					t.Fatalf("bug none lost data: %d adds; counter %d not in [%d, %d]", lostAdds, ctr, okSum, okSum+infoSum)
				}
				return
			}
			if lostAdds == 0 || ctr >= okSum {
				t.Fatalf("lost-writes lost nothing: %d adds, counter %d of %d", lostAdds, ctr, okSum)
			}
		})
	}
}
