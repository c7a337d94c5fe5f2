package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/db"
)

// needDocker skips the test unless the docker driver can run here: the
// engine answers and this is root. The node image is built on first use
// (about a minute, with debootstrap) and cached; FAULTLINE_DOCKER=0 skips
// the docker tests instead.
func needDocker(tb testing.TB) {
	tb.Helper()
	if err := DockerAvailable(context.Background()); err != nil {
		tb.Skipf("skipping docker driver tests: %v", err)
	}
	if os.Geteuid() != 0 {
		tb.Skip("skipping docker driver tests: they need root (hosts file, image build)")
	}
	if _, err := lookPath("ip"); err != nil {
		tb.Skip("skipping docker driver tests: no ip command (iproute2)")
	}
	tag := DefaultImageSpec("").Tag()
	d, _ := lookPath("docker")
	if os.Getenv("FAULTLINE_DOCKER") == "0" {
		tb.Skip("skipping docker driver tests: FAULTLINE_DOCKER=0")
	}
	if _, err := lookPath("debootstrap"); err != nil && !imageExists(context.Background(), d, tag) {
		tb.Skip("skipping docker driver tests: no image and no debootstrap to build it")
	}
}

// dockerObjects lists the test clusters' containers and networks.
func dockerObjects(tb testing.TB) string {
	tb.Helper()
	d, _ := lookPath("docker")
	c, _ := exec.Command(d, "ps", "--all", "--format", "{{.Names}}").Output()
	n, _ := exec.Command(d, "network", "ls", "--format", "{{.Name}}").Output()
	var out []string
	for _, l := range strings.Fields(string(c) + " " + string(n)) {
		if strings.HasPrefix(l, "fl-flt") {
			out = append(out, l)
		}
	}
	return strings.Join(out, " ")
}

func TestDocker(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	before := snapshot(t)
	beforeDocker := dockerObjects(t)
	start := time.Now()
	c := upTest(t, Config{Driver: DriverDocker, NodeCount: 3})
	t.Logf("docker up 3 nodes in %v (image %s)", time.Since(start), c.State().Docker.Image)

	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	st.WriteText(&text)
	t.Logf("status:\n%s", text.String())
	if !st.Healthy {
		t.Fatalf("not healthy:\n%s", text.String())
	}
	for _, n := range c.Nodes() {
		if !strings.Contains(text.String(), c.Container(n)) {
			t.Errorf("status lacks container %s", c.Container(n))
		}
	}
	stateBefore, _ := os.ReadFile(stateFile(c.Dir()))
	start = time.Now()
	if _, err := Up(ctx, Config{Name: c.Name(), Driver: DriverDocker, StateRoot: filepath.Dir(c.Dir())}); err != nil {
		t.Fatal(err)
	}
	t.Logf("second up in %v", time.Since(start))
	if stateAfter, _ := os.ReadFile(stateFile(c.Dir())); string(stateBefore) != string(stateAfter) {
		t.Errorf("second up changed the state")
	}

	// The nodes run this test binary as the echo server and client.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r := c.Remote()
	err = control.OnNodes(ctx, c.Nodes(), func(ctx context.Context, n string) error {
		return r.Upload(ctx, n, self, "helper")
	})
	if err != nil {
		t.Fatal(err)
	}
	fx := func(r control.Remote) fixture {
		return fixture{r: r, nodes: c.Nodes(), dir: c.NodeDir, helper: func(n string) string { return c.NodeDir(n) + "/helper" }, port: 7000}
	}
	t.Run("docker", func(t *testing.T) { runRemoteSuite(t, fx(r)) })
	sr, err := c.SSHRemote()
	if err != nil {
		t.Fatal(err)
	}
	defer sr.Close()
	t.Run("ssh", func(t *testing.T) { runRemoteSuite(t, fx(sr)) })

	t.Run("names", func(t *testing.T) {
		res, err := r.Exec(ctx, "n1", control.Cmd{Shell: "hostname; getent hosts n3 n3." + c.Name()})
		if err != nil || !strings.HasPrefix(res.Stdout, "n1\n") || strings.Count(res.Stdout, c.Addr("n3")) != 2 {
			t.Errorf("n1: %q, %v", res.Stdout, err)
		}
		out, err := exec.Command("getent", "hosts", "n2."+c.Name()).Output()
		if err != nil || !strings.HasPrefix(string(out), c.Addr("n2")+" ") {
			t.Errorf("host: getent hosts n2.%s = %q, %v", c.Name(), out, err)
		}
	})

	t.Run("compose", func(t *testing.T) {
		p := c.State().Docker.Compose
		b, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(b), "container_name: \""+c.Container("n2")+"\"") {
			t.Fatalf("compose file %s: %v\n%s", p, err, b)
		}
		d, _ := lookPath("docker")
		var compose []string
		if err := exec.Command(d, "compose", "version").Run(); err == nil {
			compose = []string{d, "compose"}
		} else if p, err := exec.LookPath("docker-compose"); err == nil {
			compose = []string{p}
		} else {
			t.Log("neither docker compose nor docker-compose is installed: not validating the file")
			return
		}
		argv := append(compose, "-f", p, "config", "--quiet")
		if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
			t.Errorf("%v: %s %v", argv, out, err)
		}
	})

	t.Run("heal", func(t *testing.T) {
		for _, step := range []struct{ node, shell string }{
			{"n1", "nft add table inet faultline && nft add table ip keepme"},
			{"n2", "tc qdisc add dev eth0 root tbf rate 8mbit burst 32kbit latency 400ms"},
			{"n3", "iptables -w -A INPUT -s " + c.Addr("n1") + " -m comment --comment 'faultline partition' -j DROP"},
		} {
			if _, err := r.Exec(ctx, step.node, control.Cmd{Shell: step.shell}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.StartDaemon(ctx, r, "n3", db.DaemonOpts{Bin: "sleep", Args: []string{"600"}, Logfile: "sleep.log", Pidfile: "sleep.pid"}); err != nil {
			t.Fatal(err)
		}
		if err := db.Signal(ctx, r, "n3", "sleep.pid", syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		rep, err := c.Heal(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var text strings.Builder
		rep.WriteText(&text)
		t.Logf("heal:\n%s", text.String())
		got := strings.Join(rep.Removed, "\n")
		for _, want := range []string{"n1: nft table inet faultline", "n2: tc qdisc root (tbf) on eth0", "n3: iptables rule"} {
			if !strings.Contains(got, want) {
				t.Errorf("heal report lacks %q", want)
			}
		}
		if strings.Contains(got, "keepme") {
			t.Errorf("heal removed a table that is not Faultline's")
		}
		if len(rep.Resumed) != 1 || !strings.Contains(rep.Resumed[0], "(sleep)") {
			t.Errorf("resumed %v", rep.Resumed)
		}
		if rep, err := c.Heal(ctx); err != nil || !rep.Empty() {
			t.Errorf("second heal = %+v, %v", rep, err)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		_, err := c.Exec(ctx, "n7", control.Cmd{Args: []string{"true"}}, Stdio{})
		if !errors.Is(err, control.ErrUnknownNode) {
			t.Errorf("unknown node: %v", err)
		}
		d, _ := lookPath("docker")
		exec.Command(d, "stop", "--time", "0", c.Container("n3")).Run()
		_, err = r.Exec(ctx, "n3", control.Cmd{Args: []string{"true"}})
		var ee *control.ExitError
		if !errors.As(err, &ee) || ee.ExitCode != -1 || !strings.Contains(err.Error(), "is not running") || strings.Contains(err.Error(), "\n") {
			t.Errorf("stopped container: %v", err)
		}
		st, _ := c.Status(ctx)
		if st.Healthy || st.Nodes[2].Problem != "container exited" {
			t.Errorf("status with n3 stopped: %+v", st.Nodes[2])
		}
		// Up repairs it.
		if _, err := Up(ctx, Config{Name: c.Name(), Driver: DriverDocker, StateRoot: filepath.Dir(c.Dir())}); err != nil {
			t.Fatal(err)
		}
		if st, _ := c.Status(ctx); !st.Healthy {
			t.Errorf("not repaired: %+v", st)
		}
	})

	image := c.State().Docker.Image
	start = time.Now()
	if err := c.Down(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("docker down in %v", time.Since(start))
	if d := before.diff(snapshot(t)); d != "" {
		t.Errorf("down left the machine changed:\n%s", d)
	}
	if got := dockerObjects(t); got != beforeDocker {
		t.Errorf("docker objects before %q, after %q", beforeDocker, got)
	}
	d, _ := lookPath("docker")
	if !imageExists(ctx, d, image) {
		t.Errorf("down removed the image %s", image)
	}
}

func TestDockerBadInput(t *testing.T) {
	if err := DockerAvailable(context.Background()); err != nil {
		t.Skipf("skipping: %v", err)
	}
	root := t.TempDir()
	_, err := Up(context.Background(), Config{Name: testName(), Driver: DriverDocker, StateRoot: root, Image: "faultline-node:does-not-exist"})
	if err == nil || !strings.Contains(err.Error(), "docker image faultline-node:does-not-exist not found") || strings.Contains(err.Error(), "\n") {
		t.Errorf("missing image: %v", err)
	}
	look := func(name string) (string, error) {
		if name == "docker" {
			return "", errors.New("not found")
		}
		return lookPath(name)
	}
	_, err = Up(context.Background(), Config{Name: testName(), Driver: DriverDocker, StateRoot: root, lookPath: look})
	if err == nil || err.Error() != "cluster: command docker not found: install Docker (Debian package docker.io)" {
		t.Errorf("no docker: %v", err)
	}
	if ents, _ := os.ReadDir(root); len(ents) > 1 {
		t.Errorf("failed ups left %v", ents)
	}
}

func TestImageSpec(t *testing.T) {
	a := ImageSpec{Suite: "bookworm", Mirror: "http://a/debian", Packages: []string{"x"}}
	b := a
	b.Mirror = "http://b/debian"
	c := a
	c.Packages = []string{"x", "y"}
	if a.Tag() != b.Tag() || a.Tag() == c.Tag() || !strings.HasPrefix(a.Tag(), ImageRepository+":") || len(a.Tag()) != len(ImageRepository)+13 {
		t.Errorf("tags %s %s %s", a.Tag(), b.Tag(), c.Tag())
	}
	if s := DefaultImageSpec("http://m/debian"); s.Mirror != "http://m/debian" || s.Suite == "" {
		t.Errorf("default spec %+v", s)
	}
}

// BenchmarkDockerUpDown measures docker cluster up and down (image built).
func BenchmarkDockerUpDown(b *testing.B) {
	needDocker(b)
	for _, n := range []int{5} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			ctx := context.Background()
			root := b.TempDir()
			var up, down time.Duration
			for b.Loop() {
				t0 := time.Now()
				c, err := Up(ctx, Config{Name: testName(), Driver: DriverDocker, StateRoot: root, NodeCount: n})
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

// BenchmarkDockerExec measures one command through the docker remote.
func BenchmarkDockerExec(b *testing.B) {
	needDocker(b)
	ctx := context.Background()
	c, err := Up(ctx, Config{Name: testName(), Driver: DriverDocker, StateRoot: b.TempDir(), NodeCount: 1})
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
