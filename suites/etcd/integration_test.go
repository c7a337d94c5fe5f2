package etcd

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/cli"
	"github.com/faultline/faultline/cluster"
	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/nemesis/combined"
	"github.com/faultline/faultline/workload"
)

// These tests run a real etcd (Debian's etcd-server, installed with apt-get
// when missing) on a real netns cluster. They need root and the ip, tc and
// nft commands, and skip with the reason otherwise.

func needCluster(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: the netns cluster needs root")
	}
	for _, tool := range []string{"ip", "tc", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipping: no %s command (install iproute2 and nftables)", tool)
		}
	}
	if _, err := os.Stat(DebianBinary); err != nil {
		if _, err := exec.LookPath("apt-get"); err != nil {
			t.Skipf("skipping: no %s and no apt-get to install %s", DebianBinary, DebianPackage)
		}
	}
}

// uniqueName makes a cluster name unique to this test process, so that
// runs of these tests side by side do not share nodes.
func uniqueName(name string) string { return fmt.Sprintf("%s-%d", name, os.Getpid()%100000) }

// testCluster makes a netns cluster of n nodes for the test, under a state
// root of its own, and removes it afterwards.
func testCluster(t *testing.T, name string, n int) *cluster.Cluster {
	t.Helper()
	needCluster(t)
	name = uniqueName(name)
	root := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	began := time.Now()
	c, err := cluster.Up(ctx, cluster.Config{Name: name, NodeCount: n, StateRoot: root})
	if err != nil {
		t.Fatalf("cluster up: %v", err)
	}
	t.Logf("cluster %s: %d nodes up in %v", name, n, time.Since(began).Round(time.Millisecond))
	t.Cleanup(func() {
		dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.Down(dctx); err != nil {
			t.Errorf("cluster down: %v", err)
		}
	})
	return c
}

// testEnv is the control.Env of a DB used outside faultline.Run.
func testEnv(t *testing.T, c *cluster.Cluster) *control.Env {
	return &control.Env{Name: "etcd-" + strings.ToLower(t.Name()), Nodes: c.Nodes(), Remote: c.Remote(),
		Seed: time.Now().UnixNano(), Log: slog.New(slog.DiscardHandler)}
}

// setupDB sets etcd up on every node and tears it down after the test.
func setupDB(t *testing.T, ctx context.Context, c *cluster.Cluster) (*DB, *control.Env) {
	t.Helper()
	d := NewDB(Config{Addr: c.Addr})
	env := testEnv(t, c)
	began := time.Now()
	if err := control.OnNodes(ctx, env.Nodes, func(ctx context.Context, node string) error {
		return d.Setup(ctx, env, node)
	}); err != nil {
		t.Fatalf("DB setup: %v", err)
	}
	t.Logf("etcd up and healthy on %d members in %v", len(env.Nodes), time.Since(began).Round(time.Millisecond))
	t.Cleanup(func() {
		tctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := control.OnNodes(tctx, env.Nodes, func(ctx context.Context, node string) error {
			return d.Teardown(ctx, env, node)
		}); err != nil {
			t.Errorf("DB teardown: %v", err)
		}
		assertNoEtcd(t, c, d)
	})
	return d, env
}

// assertNoEtcd checks that no node has an etcd pidfile or data left.
func assertNoEtcd(t *testing.T, c *cluster.Cluster, d *DB) {
	t.Helper()
	for _, n := range c.Nodes() {
		for _, p := range []string{d.pidFile(), d.dataDir()} {
			if _, err := os.Stat(filepath.Join(c.NodeDir(n), p)); err == nil {
				t.Errorf("%s: %s left after teardown", n, p)
			}
		}
	}
}

// runTest runs t with the test's store and logs what it did.
func runTest(t *testing.T, ft *faultline.Test) *faultline.Result {
	t.Helper()
	ft.Store = t.TempDir()
	if testing.Verbose() {
		ft.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), ft.TimeLimit+3*time.Minute)
	defer cancel()
	res, err := faultline.Run(ctx, ft)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	secs := res.Duration.Seconds()
	t.Logf("%s: %s; %d ops (%d ok, %d fail, %d info, %d nemesis) in %.1f s: %.0f ok ops/s",
		ft.Name, res.Valid, res.Counts.Completed(), res.Counts.OK, res.Counts.Fail, res.Counts.Info, res.Counts.Nemesis,
		secs, float64(res.Counts.OK)/secs)
	return res
}

// etcdTest assembles a faultline.Test on c for workload wl.
func etcdTest(t *testing.T, c *cluster.Cluster, wl string, mode ReadMode, conc int, limit time.Duration) (*faultline.Test, workload.Workload) {
	t.Helper()
	d := NewDB(Config{Addr: c.Addr})
	cl, err := NewClient(ClientConfig{Workload: wl, ReadMode: mode, URL: d.ClientURL})
	if err != nil {
		t.Fatal(err)
	}
	w, err := Workload(wl, workload.Options{Concurrency: conc})
	if err != nil {
		t.Fatal(err)
	}
	main, final := cli.Schedule(w, combined.Package{}, 0)
	return &faultline.Test{
		Name:           "etcd-" + wl,
		Nodes:          c.Nodes(),
		Concurrency:    conc,
		TimeLimit:      limit,
		Remote:         c.Remote(),
		DB:             d,
		Client:         cl,
		Generator:      main,
		FinalGenerator: final,
		Checker:        workload.Standard(w.Checker),
		Options:        map[string]string{OptReadMode: string(mode)},
	}, w
}

func TestRegisterValid(t *testing.T) {
	c := testCluster(t, "etcdreg", 5)
	ft, _ := etcdTest(t, c, WorkloadRegister, Linearizable, 10, 10*time.Second)
	res := runTest(t, ft)
	if res.Valid != checker.Valid {
		t.Fatalf("verdict %s, want valid:\n%s", res.Valid, res.Summary())
	}
	if res.Counts.OK < 500 {
		t.Errorf("only %d ok ops in 10 s", res.Counts.OK)
	}
	// Logs were downloaded, one per node.
	for _, n := range c.Nodes() {
		if _, err := os.Stat(filepath.Join(res.Dir, n, "etcd.log")); err != nil {
			t.Errorf("no etcd log for %s in the run folder: %v", n, err)
		}
	}
	assertNoEtcd(t, c, ft.DB.(*DB))
}

func TestKillRestartPauseRejoin(t *testing.T) {
	c := testCluster(t, "etcdkill", 3)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, env := setupDB(t, ctx, c)

	leader := onePrimary(t, ctx, d, env, "")
	// Kill the leader: the others elect a new one and go on.
	if err := d.Kill(ctx, env, leader); err != nil {
		t.Fatal(err)
	}
	if err := d.probe(ctx, leader); err == nil {
		t.Fatalf("killed %s still answers", leader)
	}
	// Resuming a killed member has nothing to do; killing it again neither.
	if err := d.Resume(ctx, env, leader); err != nil {
		t.Errorf("resume of a killed member: %v", err)
	}
	if err := d.Kill(ctx, env, leader); err != nil {
		t.Errorf("second kill: %v", err)
	}
	newLeader := onePrimary(t, ctx, d, env, leader)
	t.Logf("killed leader %s; new leader %s", leader, newLeader)
	put(t, ctx, d, newLeader, "faultline/rejoin", "after-kill")
	// Start it again: it rejoins and catches up.
	began := time.Now()
	if err := d.Start(ctx, env, leader); err != nil {
		t.Fatal(err)
	}
	hctx, hcancel := context.WithTimeout(ctx, 30*time.Second)
	defer hcancel()
	if err := d.AwaitHealthy(hctx, leader); err != nil {
		t.Fatalf("restarted %s: %v", leader, err)
	}
	t.Logf("%s rejoined in %v", leader, time.Since(began).Round(time.Millisecond))
	if got := localGet(t, ctx, d, leader, "faultline/rejoin"); got != "after-kill" {
		t.Fatalf("restarted %s reads %q locally, want the write made while it was down", leader, got)
	}
	// Starting a running member does nothing.
	if err := d.Start(ctx, env, leader); err != nil {
		t.Fatalf("second start: %v", err)
	}

	// Pause a member: it stops answering; resume: it answers again.
	follower := c.Nodes()[0]
	if follower == newLeader {
		follower = c.Nodes()[1]
	}
	if err := d.Pause(ctx, env, follower); err != nil {
		t.Fatal(err)
	}
	if err := d.probe(ctx, follower); err == nil {
		t.Errorf("paused %s still answers", follower)
	}
	if err := d.Resume(ctx, env, follower); err != nil {
		t.Fatal(err)
	}
	if err := d.AwaitHealthy(hctx, follower); err != nil {
		t.Fatalf("resumed %s: %v", follower, err)
	}

	// Logs are where LogFiles says.
	for _, n := range c.Nodes() {
		files, _ := d.LogFiles(ctx, env, n)
		b, err := os.ReadFile(filepath.Join(c.NodeDir(n), files[0]))
		if err != nil || !strings.Contains(string(b), "faultline: starting") {
			t.Errorf("%s: log %s: %v", n, files[0], err)
		}
	}
}

// onePrimary waits until exactly one node other than not says it leads.
func onePrimary(t *testing.T, ctx context.Context, d *DB, env *control.Env, not string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last []string
	for time.Now().Before(deadline) {
		ps, err := d.Primaries(ctx, env)
		if err == nil && len(ps) == 1 && ps[0] != not {
			return ps[0]
		}
		last = ps
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no single leader other than %q; last primaries %v", not, last)
	return ""
}

func put(t *testing.T, ctx context.Context, d *DB, node, k, v string) {
	t.Helper()
	cli, err := newEtcdClient(d.ClientURL(node))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cli.Put(pctx, k, v); err != nil {
		t.Fatalf("put on %s: %v", node, err)
	}
}

// localGet polls a serializable (local) read of k on node until it is
// non-empty or 10 s pass.
func localGet(t *testing.T, ctx context.Context, d *DB, node, k string) string {
	t.Helper()
	cli, err := newEtcdClient(d.ClientURL(node))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		gctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		resp, err := cli.Get(gctx, k, clientv3.WithSerializable())
		cancel()
		if err == nil && len(resp.Kvs) > 0 {
			return string(resp.Kvs[0].Value)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return ""
}

// suiteRun builds a test the way `faultline test --db etcd` does (on a
// netns cluster of its own, named cname, made for the run and removed after
// it) and runs it.
func suiteRun(t *testing.T, cname, wl, faults string, mode ReadMode, limit, interval time.Duration, extra ...string) *faultline.Result {
	t.Helper()
	needCluster(t)
	o := &cli.Options{Nodes: []string{"n1", "n2", "n3", "n4", "n5"}, Concurrency: 10, TimeLimit: limit, Workload: wl,
		Nemesis: faults, NemesisInterval: interval, Cluster: cluster.DriverNetns,
		Set: map[string]string{OptReadMode: string(mode), OptClusterName: uniqueName(cname)}}
	for i := 0; i+1 < len(extra); i += 2 {
		o.Set[extra[i]] = extra[i+1]
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ft, cleanup, err := NewTest(ctx, o)
	if cleanup != nil {
		t.Cleanup(cleanup)
	}
	if err != nil {
		t.Fatal(err)
	}
	return runTest(t, ft)
}

// nemesisFs counts the nemesis completions by f.
func nemesisFs(h *history.History) map[string]int {
	out := map[string]int{}
	for i, op := range h.Ops {
		if op.IsNemesis() && h.Pair(i) < i && h.Pair(i) >= 0 {
			out[op.F]++
		}
	}
	return out
}

func TestPartitionKillValid(t *testing.T) {
	res := suiteRun(t, "etcdpk", WorkloadRegister, "partition,kill", Linearizable, 15*time.Second, 3*time.Second)
	fs := nemesisFs(res.History)
	t.Logf("nemesis ops: %v", fs)
	if fs["start-partition"] == 0 && fs["kill"] == 0 {
		t.Errorf("no partition or kill happened: %v", fs)
	}
	if res.Valid != checker.Valid {
		t.Fatalf("verdict %s, want valid with linearizable reads:\n%s", res.Valid, res.Summary())
	}
}

// TestOverSSH runs the suite through SSH to an sshd in every node (as on
// real machines) instead of ip netns exec: same DB code, same nemesis code.
func TestOverSSH(t *testing.T) {
	if _, err := exec.LookPath("sshd"); err != nil {
		if _, err := os.Stat("/usr/sbin/sshd"); err != nil {
			t.Skip("skipping: no sshd (install openssh-server)")
		}
	}
	res := suiteRun(t, "etcdssh", WorkloadRegister, "partition,kill", Linearizable, 12*time.Second, 3*time.Second, OptRemote, RemoteSSH)
	t.Logf("nemesis ops: %v", nemesisFs(res.History))
	if res.Valid != checker.Valid {
		t.Fatalf("verdict %s, want valid:\n%s", res.Valid, res.Summary())
	}
	for _, n := range []string{"n1", "n5"} {
		if _, err := os.Stat(filepath.Join(res.Dir, n, "etcd.log")); err != nil {
			t.Errorf("no etcd log for %s downloaded over SSH: %v", n, err)
		}
	}
}

// TestSerializableReadsAreStale runs the register workload with
// serializable reads under partitions until the checker finds a stale read,
// at most three times: a stale read is likely in each run, not certain.
func TestSerializableReadsAreStale(t *testing.T) {
	for run := 1; run <= 3; run++ {
		res := suiteRun(t, "etcdstale", WorkloadRegister, "partition", Serializable, 20*time.Second, 3*time.Second)
		switch res.Valid {
		case checker.Invalid:
			t.Logf("run %d found: %s", run, linearSummary(res))
			return
		case checker.Valid:
			t.Logf("run %d found no stale read (nemesis ops %v)", run, nemesisFs(res.History))
		default:
			t.Fatalf("run %d: verdict %s:\n%s", run, res.Valid, res.Summary())
		}
	}
	t.Fatal("three runs with serializable reads under partitions found no stale read")
}

func linearSummary(res *faultline.Result) string {
	if s, ok := res.Results.Checkers["linear"].(checker.Summarizer); ok {
		return s.Summary()
	}
	return res.Summary()
}

// TestSerializableStaleRate measures how often a 30-second run with
// serializable reads under partitions is found invalid.
func TestSerializableStaleRate(t *testing.T) {
	soak(t)
	runs, invalid := 10, 0
	for run := 1; run <= runs; run++ {
		res := suiteRun(t, "etcdrate", WorkloadRegister, "partition", Serializable, 30*time.Second, 5*time.Second)
		if res.Valid == checker.Invalid {
			invalid++
		}
		t.Logf("run %d: %s (nemesis %v)", run, res.Valid, nemesisFs(res.History))
	}
	t.Logf("stale reads found in %d of %d runs", invalid, runs)
	if invalid == 0 {
		t.Fatal("no run found a stale read")
	}
}

// TestPartitionKillSoak is the acceptance run: 60 s of the
// register workload with partitions and kills, linearizable reads, valid.
func TestPartitionKillSoak(t *testing.T) {
	soak(t)
	for _, wl := range []string{WorkloadRegister, WorkloadSet, WorkloadWatch, WorkloadAppend} {
		t.Run(wl, func(t *testing.T) {
			res := suiteRun(t, "etcdsoak", wl, "partition,kill,pause", Linearizable, 60*time.Second, 10*time.Second)
			t.Logf("nemesis %v; %s", nemesisFs(res.History), res.Summary())
			if res.Valid != checker.Valid {
				t.Fatalf("verdict %s, want valid", res.Valid)
			}
		})
	}
}

// soak skips unless FAULTLINE_SOAK=1.
func soak(t *testing.T) {
	t.Helper()
	if os.Getenv("FAULTLINE_SOAK") != "1" {
		t.Skip("skipping: a soak test; set FAULTLINE_SOAK=1")
	}
}

// TestNewerEtcd builds etcd 3.7.3 from the Go module proxy (once; about a
// minute or two, cached afterwards) and runs the register workload on it.
func TestNewerEtcd(t *testing.T) {
	soak(t)
	needCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	began := time.Now()
	bin, err := BuildEtcd(ctx, "3.7.3", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("etcd 3.7.3 at %s after %v", bin, time.Since(began).Round(time.Second))
	c := testCluster(t, "etcdnew", 5)
	ft, _ := etcdTest(t, c, WorkloadRegister, Linearizable, 10, 10*time.Second)
	ft.DB = NewDB(Config{Binary: bin, Addr: c.Addr})
	ft.Client, _ = NewClient(ClientConfig{Workload: WorkloadRegister, URL: ft.DB.(*DB).ClientURL})
	res := runTest(t, ft)
	if res.Valid != checker.Valid {
		t.Fatalf("verdict %s, want valid:\n%s", res.Valid, res.Summary())
	}
	b, err := os.ReadFile(filepath.Join(res.Dir, "n1", "etcd.log"))
	if err != nil || !strings.Contains(string(b), "3.7.3") {
		t.Errorf("n1's log does not show etcd 3.7.3 running: %v", err)
	}
}

// TestWorkloads runs set, append and watch briefly without faults.
func TestWorkloads(t *testing.T) {
	c := testCluster(t, "etcdwl", 3)
	for _, tc := range []struct {
		wl   string
		want checker.Validity
	}{
		{WorkloadSet, checker.Valid},
		{WorkloadAppend, checker.Valid},
		{WorkloadWatch, checker.Valid},
	} {
		t.Run(tc.wl, func(t *testing.T) {
			ft, _ := etcdTest(t, c, tc.wl, Linearizable, 6, 5*time.Second)
			res := runTest(t, ft)
			if res.Valid != tc.want {
				t.Fatalf("verdict %s, want %s:\n%s", res.Valid, tc.want, res.Summary())
			}
			for name, r := range res.Results.Checkers {
				if sm, ok := r.(checker.Summarizer); ok && name != "perf" && name != "stats" {
					t.Logf("%s: %s", name, sm.Summary())
				}
			}
		})
	}
}
