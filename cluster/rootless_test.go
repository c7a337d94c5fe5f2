package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/control"
)

// needRootless skips the test unless user namespaces can be made and the
// netns tools are there.
func needRootless(tb testing.TB) {
	tb.Helper()
	if err := RootlessSupported(); err != nil {
		tb.Skipf("skipping rootless tests: %v", err)
	}
	for _, tool := range []string{"ip", "tc", "nft", "nsenter", "mount"} {
		if _, err := lookPath(tool); err != nil {
			tb.Skipf("skipping rootless tests: %s not found", tool)
		}
	}
}

// TestRootless makes a rootless cluster from this process (as whoever runs
// the tests: it needs no privilege) and runs the remote suite in it.
func TestRootless(t *testing.T) {
	needRootless(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var before machine
	if os.Geteuid() == 0 {
		before = snapshot(t)
	}
	hosts, _ := os.ReadFile(DefaultHostsFile)
	start := time.Now()
	c := upTest(t, Config{NodeCount: 3, Rootless: true})
	t.Logf("rootless up 3 nodes in %v", time.Since(start))
	if !c.Rootless() {
		t.Fatal("not rootless")
	}
	holder := c.State().Rootless.HolderPID
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	st.WriteText(&text)
	if !st.Healthy || !strings.Contains(text.String(), "(netns, rootless): healthy") {
		t.Errorf("status:\n%s", text.String())
	}
	if _, err := Up(ctx, Config{Name: c.Name(), StateRoot: filepath.Dir(c.Dir()), Rootless: true}); err != nil {
		t.Fatal(err)
	}
	if c2, _ := Load(c.Dir()); c2.State().Rootless.HolderPID != holder {
		t.Error("second up replaced the holder")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	runRemoteSuite(t, fixture{r: c.Remote(), nodes: c.Nodes(), dir: c.NodeDir, helper: func(string) string { return self }, port: 7000})

	t.Run("heal", func(t *testing.T) {
		r := c.Remote()
		if _, err := r.Exec(ctx, "n1", control.Cmd{Shell: "nft add table inet faultline && tc qdisc add dev eth0 root tbf rate 8mbit burst 32kbit latency 400ms"}); err != nil {
			t.Fatal(err)
		}
		rep, err := c.Heal(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(rep.Removed, "\n")
		if !strings.Contains(got, "n1: nft table inet faultline") || !strings.Contains(got, "n1: tc qdisc root (tbf) on eth0") {
			t.Errorf("heal: %v", rep.Removed)
		}
	})

	// Nothing of it shows on the host.
	if now, _ := os.ReadFile(DefaultHostsFile); !bytes.Equal(hosts, now) {
		t.Error("a rootless cluster changed the host's hosts file")
	}
	if os.Geteuid() == 0 {
		if d := before.diff(snapshot(t)); d != "" {
			t.Errorf("a rootless cluster shows on the host:\n%s", d)
		}
	}
	if err := c.Down(ctx); err != nil {
		t.Fatal(err)
	}
	if holderAlive(c.State().Rootless) {
		t.Errorf("holder %d survived down", holder)
	}
	if _, err := os.Stat(c.Dir()); !os.IsNotExist(err) {
		t.Errorf("state folder left: %v", err)
	}
	// Commands on a cluster whose holder is gone say so in one line.
	_, err = c.Remote().Exec(ctx, "n1", control.Cmd{Args: []string{"true"}})
	if err == nil || !strings.Contains(err.Error(), "holder is gone") || strings.Contains(err.Error(), "\n") {
		t.Errorf("after down: %v", err)
	}
}

// TestRootlessCLI runs `faultline cluster up --rootless` as an unprivileged
// user (nobody, through setpriv, when the tests run as root), checks TCP
// between two nodes by name with `faultline cluster exec`, and takes it
// down again.
func TestRootlessCLI(t *testing.T) {
	needRootless(t)
	if testing.Short() {
		t.Skip("skipping in -short mode: builds the faultline binary")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("skipping: no go command to build faultline")
	}
	var prefix []string
	tmp, err := os.MkdirTemp("", "faultline-rootless")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	os.Chmod(tmp, 0o755)
	if os.Geteuid() == 0 {
		setpriv, err := exec.LookPath("setpriv")
		if err != nil {
			t.Skip("skipping: no setpriv (util-linux) to drop root")
		}
		prefix = []string{setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"}
	}
	bin := filepath.Join(tmp, "faultline")
	build := exec.Command(gobin, "build", "-o", bin, "../cmd/faultline")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %s %v", out, err)
	}
	// The echo helper is this test binary, copied where nobody can run it.
	self, _ := os.Executable()
	helper := filepath.Join(tmp, "helper")
	if b, err := os.ReadFile(self); err != nil || os.WriteFile(helper, b, 0o755) != nil {
		t.Fatal("copying the test binary", err)
	}
	home := filepath.Join(tmp, "home")
	os.MkdirAll(home, 0o755)
	if os.Geteuid() == 0 {
		os.Chown(home, 65534, 65534)
	}
	env := append(os.Environ(), "HOME="+home, "XDG_STATE_HOME="+filepath.Join(home, "state"), "GORACE=atexit_sleep_ms=0")
	fl := func(args ...string) (string, error) {
		t.Helper()
		argv := append(append(append([]string{}, prefix...), bin, "cluster"), args...)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = env
		cmd.Dir = tmp
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		if err != nil {
			return out.String(), errors.New(strings.TrimSpace(errb.String()) + ": " + err.Error())
		}
		return out.String(), nil
	}
	name := testName()
	start := time.Now()
	out, err := fl("up", "--rootless", "--name", name, "--node-count", "2")
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	t.Logf("%s (%v wall)", strings.TrimSpace(out), time.Since(start))
	defer fl("down", "--name", name)
	stateDir := filepath.Join(home, "state", "faultline", "clusters", name)
	b, err := os.ReadFile(stateFile(stateDir))
	if err != nil {
		t.Fatalf("state not under XDG_STATE_HOME: %v", err)
	}
	var st State
	json.Unmarshal(b, &st)
	if st.Rootless == nil || st.HostsFile != "" {
		t.Fatalf("state: %s", b)
	}
	if out, err := fl("status", "--name", name); err != nil || !strings.Contains(out, "rootless): healthy") {
		t.Errorf("status: %s %v", out, err)
	}
	if out, err := fl("exec", "--name", name, "n2", "--", "getent", "hosts", "n1"); err != nil || !strings.HasPrefix(out, st.Nodes[0].Addr) {
		t.Errorf("getent hosts n1 on n2: %q %v", out, err)
	}
	if out, err := fl("exec", "--name", name, "n1", "--", "sh", "-c",
		"FAULTLINE_TEST_ROLE=echo FAULTLINE_TEST_ADDR=:7000 GORACE=atexit_sleep_ms=0 setsid "+helper+" > echo.log 2>&1 < /dev/null & echo started"); err != nil || out != "started\n" {
		t.Fatalf("starting the echo server: %q %v", out, err)
	}
	var got string
	for i := range 50 {
		out, err = fl("exec", "--name", name, "n2", "--", "env", "FAULTLINE_TEST_ROLE=client", "FAULTLINE_TEST_ADDR=n1:7000", helper)
		got = out + " " + errString(err)
		if err == nil {
			break
		}
		time.Sleep(time.Duration(10*(i+1)) * time.Millisecond)
	}
	if !strings.Contains(got, "ok n1:7000 hello from n2") {
		t.Errorf("TCP n2 -> n1 by name: %s", got)
	}
	if out, err := fl("down", "--name", name); err != nil || !strings.Contains(out, "down") {
		t.Errorf("down: %s %v", out, err)
	}
	if alive := holderAlive(st.Rootless); alive {
		t.Errorf("holder %d survived down", st.Rootless.HolderPID)
	}
	if _, err := os.Stat(stateDir); !os.IsNotExist(err) {
		t.Errorf("state folder left: %v", err)
	}
	if _, err := fl("status", "--name", name); err == nil || !strings.Contains(err.Error(), "no such cluster") {
		t.Errorf("status after down: %v", err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// BenchmarkRootlessExec measures one command through the rootless remote
// (nsenter into the holder's user and mount namespaces and a node's
// network namespace).
func BenchmarkRootlessExec(b *testing.B) {
	needRootless(b)
	ctx := context.Background()
	c, err := Up(ctx, Config{Name: testName(), StateRoot: b.TempDir(), NodeCount: 1, Rootless: true})
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

// BenchmarkRootlessUpDown measures rootless cluster up and down.
func BenchmarkRootlessUpDown(b *testing.B) {
	needRootless(b)
	for _, n := range []int{5, 25} {
		b.Run("nodes="+strconv.Itoa(n), func(b *testing.B) {
			ctx := context.Background()
			root := b.TempDir()
			var up, down time.Duration
			for b.Loop() {
				t0 := time.Now()
				c, err := Up(ctx, Config{Name: testName(), StateRoot: root, NodeCount: n, Rootless: true})
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
