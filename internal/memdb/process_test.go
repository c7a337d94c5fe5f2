package memdb

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/faultline/faultline/history"
)

// TestHelperServe is not a test: it is the server process that
// TestRealProcesses starts (this test binary, run again), since the
// faultline binary is built elsewhere.
func TestHelperServe(t *testing.T) {
	args := os.Getenv("MEMDB_HELPER_SERVE")
	if args == "" {
		t.Skip("runs only as a helper process")
	}
	var argv []string
	if err := json.Unmarshal([]byte(args), &argv); err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseServerFlags(argv)
	if err != nil {
		t.Fatal(err)
	}
	if err := Serve(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
}

// procCluster runs each node as its own OS process.
type procCluster struct {
	t     *testing.T
	cfgs  map[string]ServerConfig
	procs map[string]*exec.Cmd
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startProcs(t *testing.T, nodes []string, cfg Config) *procCluster {
	t.Helper()
	peers := map[string]string{}
	for _, n := range nodes {
		peers[n] = freeAddr(t)
	}
	dir := t.TempDir()
	c := &procCluster{t: t, cfgs: map[string]ServerConfig{}, procs: map[string]*exec.Cmd{}}
	for _, n := range nodes {
		c.cfgs[n] = ServerConfig{Config: cfg, Node: n, Listen: peers[n], Peers: peers, DataDir: filepath.Join(dir, n)}
		c.start(n)
	}
	t.Cleanup(func() {
		for n := range c.procs {
			c.signal(n, syscall.SIGKILL)
		}
	})
	return c
}

func (c *procCluster) start(node string) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServe$")
	argv, _ := json.Marshal(c.cfgs[node].Args())
	cmd.Env = append(os.Environ(), "MEMDB_HELPER_SERVE="+string(argv))
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.procs[node] = cmd
}

func (c *procCluster) signal(node string, sig syscall.Signal) {
	cmd := c.procs[node]
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	if sig == syscall.SIGKILL {
		cmd.Wait()
		delete(c.procs, node)
	}
}

func (c *procCluster) client(workload string) *NetClient {
	addrs := map[string]string{}
	for n, cfg := range c.cfgs {
		addrs[n] = cfg.Listen
	}
	return NewNetClient(ClientConfig{Workload: workload, Addrs: addrs})
}

func (c *procCluster) leader(t *testing.T, via string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		lead, err := AwaitLeader(ctx, c.cfgs[via].Listen)
		if err != nil {
			t.Fatal(err)
		}
		if c.procs[lead] != nil {
			return lead
		}
		time.Sleep(20 * time.Millisecond) // a killed leader is still believed in
	}
}

func TestRealProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	nodes := []string{"n1", "n2", "n3"}
	pc := startProcs(t, nodes, Config{ElectionTimeout: 150 * time.Millisecond, HeartbeatInterval: 30 * time.Millisecond})
	lead := pc.leader(t, "n1")
	cs := openClients(t, pc.client(WorkloadSet), nodes, 3)
	var acked []any
	// add retries v through every node until it is acknowledged (adding
	// twice to a set is harmless).
	add := func(v int64) {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			for _, c := range cs {
				ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
				out, err := c.Invoke(ctx, nil, history.Op{Type: history.Invoke, F: "add", Value: v})
				cancel()
				if err == nil && out.Type == history.OK {
					acked = append(acked, v)
					return
				}
			}
		}
		t.Fatalf("add %d not acknowledged within 10s", v)
	}
	for i := range int64(20) {
		add(i)
	}
	// kill -9 the leader: the others elect a new one and keep every
	// acknowledged add.
	pc.signal(lead, syscall.SIGKILL)
	var other string
	for _, n := range nodes {
		if n != lead {
			other = n
		}
	}
	next := pc.leader(t, other)
	for i := int64(20); i < 40; i++ {
		add(i)
	}
	// SIGSTOP a follower: it is only slow; the majority goes on.
	pc.start(lead)
	for _, n := range nodes {
		if n != next && n != lead {
			pc.signal(n, syscall.SIGSTOP)
			for i := int64(40); i < 60; i++ {
				add(i)
			}
			pc.signal(n, syscall.SIGCONT)
		}
	}
	// kill -9 every node, restart them all from their data dirs.
	for _, n := range nodes {
		pc.signal(n, syscall.SIGKILL)
	}
	for _, n := range nodes {
		pc.start(n)
	}
	pc.leader(t, "n1")
	var out history.Op
	waitFor(t, "a read after restarting every process", 10*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		var err error
		out, err = cs[0].Invoke(ctx, nil, history.Op{Type: history.Invoke, F: "read"})
		return err == nil && out.Type == history.OK
	})
	have := map[int64]bool{}
	for _, v := range out.Value.([]any) {
		have[v.(int64)] = true
	}
	for _, v := range acked {
		if !have[v.(int64)] {
			t.Fatalf("acknowledged add %d lost after kill -9 of every process (read %s)", v, history.Format(out.Value))
		}
	}
}
