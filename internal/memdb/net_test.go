package memdb

import (
	"context"
	"math/rand/v2"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/history"
)

// netCluster runs one Serve per node on 127.0.0.1 in this process.
type netCluster struct {
	t     testing.TB
	cfg   Config
	peers map[string]string
	dir   string
	hook  *netHook

	mu      sync.Mutex
	cancels map[string]context.CancelFunc
	dones   map[string]chan error
}

func startNet(t testing.TB, nodes []string, cfg Config) *netCluster {
	t.Helper()
	c := &netCluster{t: t, cfg: cfg, peers: map[string]string{}, dir: t.TempDir(), hook: &netHook{},
		cancels: map[string]context.CancelFunc{}, dones: map[string]chan error{}}
	lns := map[string]net.Listener{}
	for _, n := range nodes {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[n], c.peers[n] = ln, ln.Addr().String()
	}
	for _, n := range nodes {
		c.start(n, lns[n])
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			c.kill(n)
		}
	})
	return c
}

func (c *netCluster) start(node string, ln net.Listener) {
	c.t.Helper()
	if ln == nil {
		var err error
		for range 100 { // the port was just released
			if ln, err = net.Listen("tcp", c.peers[node]); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err != nil {
			c.t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cfg := ServerConfig{Config: c.cfg, Node: node, Peers: c.peers, DataDir: filepath.Join(c.dir, node), ln: ln, hook: c.hook}
	go func() { done <- Serve(ctx, cfg) }()
	c.mu.Lock()
	c.cancels[node], c.dones[node] = cancel, done
	c.mu.Unlock()
}

// kill stops node's server as a crash would (unsynced data is lost).
func (c *netCluster) kill(node string) {
	c.mu.Lock()
	cancel, done := c.cancels[node], c.dones[node]
	delete(c.cancels, node)
	c.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	if err := <-done; err != nil {
		c.t.Errorf("serve %s: %v", node, err)
	}
}

func (c *netCluster) client(workload string) *NetClient {
	return NewNetClient(ClientConfig{Workload: workload, Addrs: c.peers})
}

func (c *netCluster) leader(t testing.TB) string {
	t.Helper()
	var lead string
	waitFor(t, "a leader", 10*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		var err error
		lead, err = AwaitLeader(ctx, c.peers["n1"])
		return err == nil
	})
	return lead
}

func netNodes() []string { return []string{"n1", "n2", "n3"} }

func TestNetReplicationAndStatus(t *testing.T) {
	nc := startNet(t, netNodes(), Config{})
	lead := nc.leader(t)
	cs := openClients(t, nc.client(WorkloadCounter), netNodes(), 3)
	for i := range 30 {
		if out := do(t, cs[i%3], "add", nil, int64(1)); out.Type != history.OK {
			t.Fatalf("add: %v", out)
		}
	}
	if out := do(t, cs[1], "read", nil, nil); out.Value != int64(30) {
		t.Fatalf("read %v, want 30", out)
	}
	st, err := QueryStatus(context.Background(), nc.peers[lead])
	if err != nil || st.Role != "leader" || st.Node != lead || st.Commit < 31 {
		t.Fatalf("status of the leader: %+v %v", st, err)
	}
}

func TestNetKillEveryNodeKeepsAcknowledgedWrites(t *testing.T) {
	nc := startNet(t, netNodes(), Config{})
	nc.leader(t)
	c := openClients(t, nc.client(WorkloadSet), netNodes(), 1)[0]
	var acked []any
	for i := range int64(40) {
		if out := do(t, c, "add", nil, i); out.Type == history.OK {
			acked = append(acked, i)
		}
	}
	for _, n := range netNodes() {
		nc.kill(n)
	}
	for _, n := range netNodes() {
		nc.start(n, nil)
	}
	nc.leader(t)
	var out history.Op
	waitFor(t, "a read after the restart", 10*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		var err error
		out, err = c.Invoke(ctx, nil, history.Op{Type: history.Invoke, F: "read"})
		return err == nil && out.Type == history.OK
	})
	if !history.Equal(out.Value, acked) {
		t.Fatalf("after killing every node read %s, want the %d acknowledged adds", history.Format(out.Value), len(acked))
	}
}

func TestNetLinearizableUnderFaults(t *testing.T) {
	cfg := Config{ElectionTimeout: 150 * time.Millisecond, HeartbeatInterval: 30 * time.Millisecond, RequestTimeout: 500 * time.Millisecond}
	nodes := []string{"n1", "n2", "n3", "n4", "n5"}
	nc := startNet(t, nodes, cfg)
	nc.leader(t)
	cs := openClients(t, nc.client(WorkloadRegister), nodes, 10)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		rng := rand.New(rand.NewPCG(9, 9))
		for ctx.Err() == nil {
			n := nodes[rng.IntN(len(nodes))]
			if rng.IntN(2) == 0 {
				nc.kill(n)
				time.Sleep(300 * time.Millisecond)
				nc.start(n, nil)
			} else { // cut n off from everyone, closing its connections
				grudge := map[string][]string{}
				for _, m := range nodes {
					if m != n {
						grudge[n] = append(grudge[n], m)
						grudge[m] = []string{n}
					}
				}
				nc.hook.partition(grudge)
				time.Sleep(300 * time.Millisecond)
				nc.hook.partition(nil)
			}
			time.Sleep(300 * time.Millisecond)
		}
	})
	recs := runOps(context.Background(), cs, 3*time.Second, time.Millisecond, registerGen(10, 150, 0), 3)
	cancel()
	wg.Wait()
	bad, undecided := linearizable(recs)
	t.Logf("%s; %d keys undecided", counts(recs), undecided)
	if len(bad) > 0 {
		t.Fatalf("networked bug none is not linearizable on keys %v", bad)
	}
}

func TestNetStaleReadsDetected(t *testing.T) {
	nc := startNet(t, []string{"n1", "n2", "n3", "n4", "n5"}, Config{Bug: BugStaleReads})
	nc.leader(t)
	cs := openClients(t, nc.client(WorkloadRegister), []string{"n1", "n2", "n3", "n4", "n5"}, 10)
	recs := runOps(context.Background(), cs, time.Second, time.Millisecond, registerGen(10, 100, 0), 4)
	bad, _ := linearizable(recs)
	t.Logf("%s; %d bad keys", counts(recs), len(bad))
	if len(bad) == 0 {
		t.Fatal("stale reads over the network were not detected")
	}
}

func TestNetClientErrors(t *testing.T) {
	// Nothing listens: the op certainly did not happen.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	c, _ := NewNetClient(ClientConfig{Workload: WorkloadRegister, Addrs: map[string]string{"n1": addr}}).Open(context.Background(), nil, "n1")
	if out := do(t, c, "write", int64(1), int64(1)); out.Type != history.Fail {
		t.Fatalf("write to a closed port: %v, want fail", out)
	}
	// A server that accepts and never answers (a paused process): writes
	// are indeterminate, reads fail.
	ln, _ = net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	c, _ = NewNetClient(ClientConfig{Workload: WorkloadRegister, Addrs: map[string]string{"n1": ln.Addr().String()}}).Open(context.Background(), nil, "n1")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_, err := c.Invoke(ctx, nil, history.Op{Type: history.Invoke, F: "write", Key: int64(1), Value: int64(1)})
	cancel()
	if err == nil {
		t.Fatal("write to a silent server did not report an unknown outcome")
	}
	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	out, err := c.Invoke(ctx, nil, history.Op{Type: history.Invoke, F: "read", Key: int64(1)})
	cancel()
	if err != nil || out.Type != history.Fail {
		t.Fatalf("read from a silent server: %v %v, want fail", out, err)
	}
}
