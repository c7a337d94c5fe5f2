package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/control/netns"
	"github.com/faultline/faultline/db"
)

// testName is a cluster name no user cluster has.
func testName() string { return fmt.Sprintf("flt%04x", rand.IntN(0x10000)) }

// upTest brings up a cluster for one test and removes it at the end.
func upTest(t *testing.T, cfg Config) *Cluster {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = testName()
	}
	if cfg.StateRoot == "" {
		cfg.StateRoot = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Up(ctx, cfg)
	if err != nil {
		t.Fatalf("Up: %v", err)
	}
	t.Cleanup(func() {
		if _, err := os.Stat(stateFile(c.Dir())); err != nil {
			return // the test took it down
		}
		if err := c.Down(context.Background()); err != nil {
			t.Errorf("Down: %v", err)
		}
	})
	return c
}

func TestNetnsCluster(t *testing.T) {
	needRoot(t)
	before := snapshot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	c := upTest(t, Config{NodeCount: 5})
	t.Logf("up %d nodes in %v (subnet %s, bridge %s)", len(c.Nodes()), time.Since(start), c.Subnet(), c.Bridge())
	r := c.Remote()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("idempotent", func(t *testing.T) {
		stateBefore, _ := os.ReadFile(stateFile(c.Dir()))
		start := time.Now()
		c2, err := Up(ctx, Config{Name: c.Name(), StateRoot: filepath.Dir(c.Dir())})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("second up in %v", time.Since(start))
		stateAfter, _ := os.ReadFile(stateFile(c.Dir()))
		if !bytes.Equal(stateBefore, stateAfter) {
			t.Errorf("second up changed the state:\n%s\n%s", stateBefore, stateAfter)
		}
		st, err := c2.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		st.WriteText(&b)
		if !st.Healthy || !strings.Contains(b.String(), ": healthy\n") {
			t.Errorf("not healthy:\n%s", b.String())
		}
		for _, n := range c.Nodes() {
			if !strings.Contains(b.String(), "\n"+n+" ") || !strings.Contains(b.String(), " "+c.Addr(n)+" ") {
				t.Errorf("status lacks %s at %s:\n%s", n, c.Addr(n), b.String())
			}
		}
	})

	t.Run("names", func(t *testing.T) {
		for _, a := range c.Nodes() {
			res, err := r.Exec(ctx, a, control.Cmd{Args: append([]string{"getent", "hosts"}, c.Nodes()...)})
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range c.Nodes() {
				if !strings.Contains(res.Stdout, c.Addr(b)+" ") && !strings.Contains(res.Stdout, c.Addr(b)+"\t") {
					t.Errorf("%s: getent hosts %s: %q lacks %s", a, b, res.Stdout, c.Addr(b))
				}
			}
		}
		// The host resolves the qualified names (the short ones too, unless
		// another cluster claimed them).
		out, err := exec.Command("getent", "hosts", "n2."+c.Name()).Output()
		if err != nil || !strings.HasPrefix(string(out), c.Addr("n2")+" ") {
			t.Errorf("host: getent hosts n2.%s = %q, %v", c.Name(), out, err)
		}
	})

	t.Run("tcp", func(t *testing.T) {
		for _, n := range c.Nodes() {
			started, err := db.StartDaemon(ctx, r, n, db.DaemonOpts{
				Bin:     self,
				Env:     helperEnv("echo", ":7000"),
				Logfile: "echo.log",
				Pidfile: "echo.pid",
			})
			if err != nil || !started {
				t.Fatalf("%s: StartDaemon = %v, %v", n, started, err)
			}
		}
		for _, n := range c.Nodes() {
			if err := db.AwaitTCP(ctx, r, n, n, 7000); err != nil {
				t.Fatal(err)
			}
		}
		for _, a := range c.Nodes() {
			var peers []string
			for _, b := range c.Nodes() {
				if a != b {
					peers = append(peers, b+":7000")
				}
			}
			res, err := r.Exec(ctx, a, control.Cmd{Args: []string{self}, Env: helperEnv("client", strings.Join(peers, ","))})
			if err != nil || strings.Count(res.Stdout, "ok n") != len(peers) {
				t.Errorf("%s -> %v: %q, %v", a, peers, res.Stdout, err)
			}
		}
		// The host reaches the nodes through the bridge, by name.
		cmd := exec.Command(self)
		cmd.Env = append(os.Environ(), envRole+"=client", envAddr+"=n1."+c.Name()+":7000", "GORACE=atexit_sleep_ms=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("host -> n1: %s %v", out, err)
		}
		st, err := c.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range st.Nodes {
			if n.Procs != 1 {
				t.Errorf("%s: %d processes, want 1 (the echo server)", n.Name, n.Procs)
			}
		}
		for _, n := range c.Nodes() {
			if err := db.StopDaemon(ctx, r, n, "echo.pid", time.Second); err != nil {
				t.Error(err)
			}
		}
		logs, err := db.DownloadLogs(ctx, r, "n3", []string{"echo.log", "missing.log"}, t.TempDir())
		if err != nil || len(logs) != 1 {
			t.Fatalf("DownloadLogs = %v, %v", logs, err)
		}
		b, _ := os.ReadFile(logs[0])
		if !strings.Contains(string(b), "listening on") || !strings.Contains(string(b), `echo "hello from n1"`) {
			t.Errorf("n3 log:\n%s", b)
		}
	})

	t.Run("exec-upload-download", func(t *testing.T) {
		res, err := r.Exec(ctx, "n2", control.Cmd{
			Shell: `echo "$FAULTLINE_NODE $X $(pwd)"; cat; ip -4 -o addr show eth0 | wc -l; ip route | grep -c default || true`,
			Env:   map[string]string{"X": "it's"},
			Stdin: strings.NewReader("from stdin\n"),
		})
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("n2 it's %s\nfrom stdin\n1\n0\n", c.NodeDir("n2"))
		// IPv6 is off: IPv4-only fault rules leave no way around them.
		v6, err := r.Exec(ctx, "n2", control.Cmd{Shell: "cat /proc/sys/net/ipv6/conf/all/disable_ipv6 /proc/sys/net/ipv6/conf/eth0/disable_ipv6; ip -6 addr"})
		if err != nil || v6.Stdout != "1\n1\n" {
			t.Errorf("IPv6 in n2: %q, %v", v6.Stdout, err)
		}
		if res.Stdout != want {
			t.Errorf("stdout %q, want %q", res.Stdout, want)
		}
		_, err = r.Exec(ctx, "n2", control.Cmd{Shell: "echo oops >&2; exit 7"})
		var ee *control.ExitError
		if !errors.As(err, &ee) || ee.ExitCode != 7 || ee.Node != "n2" || strings.TrimSpace(ee.Stderr) != "oops" {
			t.Errorf("exit 7: %#v", err)
		}
		src := filepath.Join(t.TempDir(), "up.txt")
		os.WriteFile(src, []byte("payload\n"), 0o640)
		if err := r.Upload(ctx, "n4", src, "sub/up.txt"); err != nil {
			t.Fatal(err)
		}
		res, err = r.Exec(ctx, "n4", control.Cmd{Args: []string{"cat", "sub/up.txt"}})
		if err != nil || res.Stdout != "payload\n" {
			t.Errorf("cat uploaded = %q, %v", res.Stdout, err)
		}
		dst := filepath.Join(t.TempDir(), "down.txt")
		if err := r.Download(ctx, "n4", filepath.Join(c.NodeDir("n4"), "sub/up.txt"), dst); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(dst); string(b) != "payload\n" {
			t.Errorf("downloaded %q", b)
		}
		if st, _ := os.Stat(dst); st == nil || st.Mode().Perm() != 0o640 {
			t.Errorf("downloaded mode %v, want 0640", st.Mode())
		}
	})

	t.Run("host", func(t *testing.T) {
		// ExecHost runs outside the nodes: the host sees the bridge.
		res, err := c.remote.(*netns.Remote).ExecHost(ctx, control.Cmd{Args: []string{"cat", "/proc/net/dev"}})
		if err != nil || !strings.Contains(res.Stdout, c.Bridge()+":") {
			t.Errorf("ExecHost: %v, bridge %s not in\n%s", err, c.Bridge(), res.Stdout)
		}
		if _, err := os.Stat("/var/lib/dpkg/status"); err == nil {
			if err := db.InstallPackages(ctx, r, "n1", "coreutils"); err != nil {
				t.Errorf("InstallPackages of an installed package: %v", err)
			}
		}
	})

	t.Run("unknown-node", func(t *testing.T) {
		_, err := r.Exec(ctx, "n9", control.Cmd{Args: []string{"true"}})
		if !errors.Is(err, control.ErrUnknownNode) || !strings.Contains(err.Error(), `"n9"`) {
			t.Errorf("err = %v", err)
		}
		if _, err := c.Exec(ctx, "n9", control.Cmd{Args: []string{"true"}}, Stdio{}); !errors.Is(err, control.ErrUnknownNode) {
			t.Errorf("Exec err = %v", err)
		}
		code, err := c.Exec(ctx, "n1", control.Cmd{Shell: "exit 3"}, Stdio{})
		if code != 3 || err != nil {
			t.Errorf("Exec = %d, %v; want 3, nil", code, err)
		}
	})

	t.Run("heal", func(t *testing.T) {
		nft, _ := lookPath("nft")
		tc, _ := lookPath("tc")
		must := func(node string, argv ...string) {
			t.Helper()
			if node == "" {
				if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
					t.Fatalf("%v: %s %v", argv, out, err)
				}
				return
			}
			if _, err := r.Exec(ctx, node, control.Cmd{Args: argv}); err != nil {
				t.Fatal(err)
			}
		}
		must("n1", nft, "add", "table", "inet", "faultline")
		must("n1", nft, "add", "table", "ip", "keepme")
		must("n2", tc, "qdisc", "add", "dev", "eth0", "root", "tbf", "rate", "8mbit", "burst", "32kbit", "latency", "400ms")
		must("n2", tc, "qdisc", "add", "dev", "eth0", "ingress")
		must("", nft, "add", "table", "bridge", c.HostTable())
		must("", tc, "qdisc", "add", "dev", c.HostVeth("n3"), "root", "tbf", "rate", "8mbit", "burst", "32kbit", "latency", "400ms")
		iptables, _ := lookPath("iptables")
		if iptables != "" {
			must("n3", iptables, "-w", "-A", "INPUT", "-s", c.Addr("n1"), "-m", "comment", "--comment", "faultline partition", "-j", "DROP")
			must("n3", iptables, "-w", "-A", "INPUT", "-s", c.Addr("n2"), "-j", "ACCEPT")
		}
		if _, err := db.StartDaemon(ctx, r, "n4", db.DaemonOpts{Bin: "sleep", Args: []string{"600"}, Logfile: "sleep.log", Pidfile: "sleep.pid"}); err != nil {
			t.Fatal(err)
		}
		if err := db.Signal(ctx, r, "n4", "sleep.pid", syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		pidb, _ := os.ReadFile(filepath.Join(c.NodeDir("n4"), "sleep.pid"))
		pid := strings.TrimSpace(string(pidb))
		waitState(t, pid, 'T')

		rep, err := c.Heal(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var text strings.Builder
		rep.WriteText(&text)
		t.Logf("heal:\n%s", text.String())
		got := strings.Join(rep.Removed, "\n")
		for _, want := range []string{
			"n1: nft table inet faultline",
			"n2: tc qdisc root (tbf) on eth0",
			"n2: tc qdisc ingress on eth0",
			"host: nft table bridge " + c.HostTable(),
			"host: tc qdisc root (tbf) on " + c.HostVeth("n3"),
		} {
			if !strings.Contains(got, want) {
				t.Errorf("heal report lacks %q:\n%s", want, got)
			}
		}
		if iptables != "" {
			res, _ := r.Exec(ctx, "n3", control.Cmd{Args: []string{iptables, "-w", "-S", "INPUT"}})
			if strings.Contains(res.Stdout, "faultline") || !strings.Contains(res.Stdout, c.Addr("n2")) || !strings.Contains(got, "n3: iptables rule") {
				t.Errorf("n3 INPUT after heal (only the faultline rule must go):\n%s", res.Stdout)
			}
		}
		if strings.Contains(got, "keepme") {
			t.Errorf("heal removed a table that is not Faultline's:\n%s", got)
		}
		if len(rep.Resumed) != 1 || !strings.Contains(rep.Resumed[0], "pid "+pid) {
			t.Errorf("resumed %v, want pid %s", rep.Resumed, pid)
		}
		waitState(t, pid, 'S')
		res, _ := r.Exec(ctx, "n1", control.Cmd{Args: []string{nft, "list", "tables"}})
		if strings.Contains(res.Stdout, "faultline") || !strings.Contains(res.Stdout, "keepme") {
			t.Errorf("n1 tables after heal: %q", res.Stdout)
		}
		res, _ = r.Exec(ctx, "n2", control.Cmd{Args: []string{tc, "qdisc", "show", "dev", "eth0"}})
		if strings.Contains(res.Stdout, "tbf") || strings.Contains(res.Stdout, "ingress") {
			t.Errorf("n2 qdiscs after heal: %q", res.Stdout)
		}
		if out, _ := exec.Command(nft, "list", "tables").Output(); strings.Contains(string(out), c.HostTable()) {
			t.Errorf("host tables after heal: %s", out)
		}
		rep, err = c.Heal(ctx)
		if err != nil || !rep.Empty() {
			t.Errorf("second heal = %+v, %v; want nothing to do", rep, err)
		}
		// Leave the sleeper running: Down must kill it.
	})

	t.Run("coexist", func(t *testing.T) {
		c2 := upTest(t, Config{NodeCount: 2})
		if c2.Subnet() == c.Subnet() || c2.Bridge() == c.Bridge() {
			t.Fatalf("second cluster shares subnet %s or bridge %s", c2.Subnet(), c2.Bridge())
		}
		// Inside its nodes, n1 is its own n1; on the host, the short name
		// stays with the first cluster.
		res, err := c2.Remote().Exec(ctx, "n2", control.Cmd{Args: []string{"getent", "hosts", "n1"}})
		if err != nil || !strings.HasPrefix(res.Stdout, c2.Addr("n1")+" ") {
			t.Errorf("c2 n2: getent hosts n1 = %q, %v", res.Stdout, err)
		}
		out, _ := exec.Command("getent", "hosts", "n1").Output()
		if hostsBefore, _ := os.ReadFile(DefaultHostsFile); !strings.HasPrefix(string(out), c.Addr("n1")+" ") && !claimedElsewhere(string(hostsBefore), "n1", c.Name(), c2.Name()) {
			t.Errorf("host: getent hosts n1 = %q, want %s", out, c.Addr("n1"))
		}
		out, _ = exec.Command("getent", "hosts", "n1."+c2.Name()).Output()
		if !strings.HasPrefix(string(out), c2.Addr("n1")+" ") {
			t.Errorf("host: getent hosts n1.%s = %q", c2.Name(), out)
		}
		// The clusters cannot reach each other: no routes between subnets.
		res, err = c2.Remote().Exec(ctx, "n1", control.Cmd{Shell: "timeout 2 bash -c ': </dev/tcp/" + c.Addr("n1") + "/7000' 2>&1; echo rc=$?"})
		if err != nil || !strings.Contains(res.Stdout, "unreachable") {
			t.Errorf("c2 n1 -> c n1: %q, %v", res.Stdout, err)
		}
		if err := c2.Down(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("overlap", func(t *testing.T) {
		mid := snapshot(t)
		_, err := Up(ctx, Config{Name: testName(), StateRoot: t.TempDir(), Subnet: c.Subnet()})
		if err == nil || !strings.Contains(err.Error(), "overlaps") || strings.Contains(err.Error(), "\n") {
			t.Errorf("Up on a taken subnet: %v", err)
		}
		if d := mid.diff(snapshot(t)); d != "" {
			t.Errorf("failed Up left something behind:\n%s", d)
		}
	})

	sleeper, _ := os.ReadFile(filepath.Join(c.NodeDir("n4"), "sleep.pid"))
	start = time.Now()
	if err := c.Down(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("down in %v", time.Since(start))
	if d := before.diff(snapshot(t)); d != "" {
		t.Errorf("down left the machine changed:\n%s", d)
	}
	if pid := strings.TrimSpace(string(sleeper)); pid != "" {
		if b, err := os.ReadFile("/proc/" + pid + "/stat"); err == nil {
			if _, state := parseStat(string(b)); state != 'Z' && state != 'X' {
				t.Errorf("process %s in n4 survived down (state %c)", pid, state)
			}
		}
	}
	if _, err := os.Stat(c.Dir()); !os.IsNotExist(err) {
		t.Errorf("state folder %s still there: %v", c.Dir(), err)
	}
	if err := c.Down(ctx); !errors.Is(err, ErrNoCluster) {
		t.Errorf("second down = %v, want ErrNoCluster", err)
	}
}

// waitState waits until process pid is in state s.
func waitState(t *testing.T, pid string, s byte) {
	t.Helper()
	var got byte
	for range 100 {
		b, err := os.ReadFile("/proc/" + pid + "/stat")
		if err == nil {
			if _, got = parseStat(string(b)); got == s {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process %s in state %c, want %c", pid, got, s)
}

func TestUpRepairs(t *testing.T) {
	needRoot(t)
	ctx := context.Background()
	c := upTest(t, Config{NodeCount: 3})
	ip, _ := lookPath("ip")
	for _, argv := range [][]string{
		{ip, "link", "del", c.HostVeth("n2")},
		{ip, "netns", "del", c.Namespace("n3")},
		{ip, "link", "set", c.Bridge(), "down"},
	} {
		if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", argv, out)
		}
	}
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Healthy || st.Nodes[0].Problem != "" || st.Nodes[1].Problem == "" || st.Nodes[2].Problem != "namespace missing" {
		t.Errorf("status of a broken cluster: %+v", st)
	}
	if _, err := Up(ctx, Config{Name: c.Name(), StateRoot: filepath.Dir(c.Dir())}); err != nil {
		t.Fatal(err)
	}
	if st, err = c.Status(ctx); err != nil || !st.Healthy {
		t.Fatalf("after repair: %+v, %v", st, err)
	}
	res, err := c.Remote().Exec(ctx, "n3", control.Cmd{Args: []string{"getent", "hosts", "n2"}})
	if err != nil || !strings.HasPrefix(res.Stdout, c.Addr("n2")) {
		t.Errorf("n3: getent hosts n2 = %q, %v", res.Stdout, err)
	}
	if _, err := Up(ctx, Config{Name: c.Name(), StateRoot: filepath.Dir(c.Dir()), NodeCount: 4}); err == nil || !strings.Contains(err.Error(), "exists with 3 nodes") {
		t.Errorf("Up with another node count: %v", err)
	}
}

func TestUpRollsBack(t *testing.T) {
	needRoot(t)
	before := snapshot(t)
	// A hosts file that is a folder fails after the links and namespaces
	// are made: all of them must go again.
	_, err := Up(context.Background(), Config{Name: testName(), StateRoot: t.TempDir(), HostsFile: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "writing") {
		t.Fatalf("Up = %v, want a hosts file error", err)
	}
	if d := before.diff(snapshot(t)); d != "" {
		t.Errorf("failed Up left something behind:\n%s", d)
	}
}

func TestUpMissingTool(t *testing.T) {
	needRoot(t)
	look := func(name string) (string, error) {
		if name == "nft" {
			return "", errors.New("not found")
		}
		return lookPath(name)
	}
	before := snapshot(t)
	_, err := Up(context.Background(), Config{Name: testName(), StateRoot: t.TempDir(), lookPath: look})
	if err == nil || err.Error() != "cluster: command nft not found: install the Debian package nftables" {
		t.Errorf("Up = %v", err)
	}
	if d := before.diff(snapshot(t)); d != "" {
		t.Errorf("failed Up left something behind:\n%s", d)
	}
}

func TestDownWithoutState(t *testing.T) {
	needRoot(t)
	before := snapshot(t)
	c := upTest(t, Config{NodeCount: 2})
	if err := os.RemoveAll(c.Dir()); err != nil {
		t.Fatal(err)
	}
	if err := Down(context.Background(), Config{Name: c.Name(), StateRoot: filepath.Dir(c.Dir())}); err != nil {
		t.Fatal(err)
	}
	if d := before.diff(snapshot(t)); d != "" {
		t.Errorf("down without state left something behind:\n%s", d)
	}
}

func BenchmarkClusterUpDown(b *testing.B) {
	needRoot(b)
	for _, n := range []int{5, 25} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			ctx := context.Background()
			root := b.TempDir()
			var up, down time.Duration
			for b.Loop() {
				t0 := time.Now()
				c, err := Up(ctx, Config{Name: testName(), StateRoot: root, NodeCount: n})
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := c.Down(ctx); err != nil {
					b.Fatal(err)
				}
				up += t1.Sub(t0)
				down += time.Since(t1)
			}
			b.ReportMetric(up.Seconds()/float64(b.N), "up-s")
			b.ReportMetric(down.Seconds()/float64(b.N), "down-s")
		})
	}
}

// BenchmarkNetnsExec measures one command through the netns remote (ip
// netns exec), the cost every nemesis and DB step pays.
func BenchmarkNetnsExec(b *testing.B) {
	needRoot(b)
	ctx := context.Background()
	c, err := Up(ctx, Config{Name: testName(), StateRoot: b.TempDir(), NodeCount: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Down(ctx)
	r := c.Remote()
	for b.Loop() {
		if _, err := r.Exec(ctx, "n1", control.Cmd{Args: []string{"true"}}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestUpInterrupted(t *testing.T) {
	needRoot(t)
	before := snapshot(t)
	// Cancel at several points of Up: whatever it made must go again.
	for _, after := range []time.Duration{0, 5 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond} {
		ctx, cancel := context.WithTimeout(context.Background(), after)
		start := time.Now()
		c, err := Up(ctx, Config{Name: testName(), StateRoot: t.TempDir(), NodeCount: 5})
		cancel()
		t.Logf("interrupted after %v: returned after %v: %v", after, time.Since(start), err)
		if err == nil {
			if err := c.Down(context.Background()); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "deadline exceeded") && !strings.Contains(err.Error(), "killed") {
			t.Errorf("after %v: %v", after, err)
		}
		if d := before.diff(snapshot(t)); d != "" {
			t.Fatalf("Up interrupted after %v left something behind (%v):\n%s", after, err, d)
		}
	}
}

// The netns remote installs packages once, on the shared host.
var _ db.SharedHost = (*netns.Remote)(nil)

// claimedElsewhere reports whether a faultline block of another cluster
// than those named claims the short name node in hosts.
func claimedElsewhere(hosts, node string, clusters ...string) bool {
	cur := ""
	for _, l := range strings.Split(hosts, "\n") {
		t := strings.TrimSpace(l)
		if name, ok := strings.CutPrefix(t, "# BEGIN faultline cluster "); ok {
			cur = name
			continue
		}
		if strings.HasPrefix(t, "# END faultline cluster ") {
			cur = ""
			continue
		}
		if cur == "" || slices.Contains(clusters, cur) {
			continue
		}
		if f := strings.Fields(t); len(f) > 1 && slices.Contains(f[1:], node) {
			return true
		}
	}
	return false
}
