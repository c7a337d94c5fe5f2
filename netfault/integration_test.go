package netfault

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/cluster"
	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/control/netns"
	"github.com/faultline/faultline/db"
)

// needRoot skips a test that needs a netns cluster, saying why.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: netns cluster tests need root")
	}
	for _, tool := range []string{"ip", "tc", "nft", "iptables"} {
		if _, err := netns.LookPath(tool); err != nil {
			t.Skipf("skipping: %s not found (install iproute2, nftables and iptables)", tool)
		}
	}
}

type tWriter struct {
	mu sync.Mutex
	t  *testing.T
}

func (w *tWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// upCluster brings up a netns cluster with a test-unique name and takes it
// down at the end, with an echo server on port 7100 of every node.
func upCluster(t *testing.T, n int) (*cluster.Cluster, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := cluster.Up(ctx, cluster.Config{Name: fmt.Sprintf("nf%04x", rand.IntN(0x10000)), StateRoot: t.TempDir(), NodeCount: n})
	if err != nil {
		t.Fatalf("cluster up: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Down(context.Background()); err != nil {
			t.Errorf("cluster down: %v", err)
		}
	})
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, node := range c.Nodes() {
		if _, err := db.StartDaemon(ctx, c.Remote(), node, db.DaemonOpts{Bin: self, Env: roleEnv("server", ":7100"), Logfile: "server.log", Pidfile: "server.pid"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, node := range c.Nodes() {
		if err := db.AwaitTCP(ctx, c.Remote(), node, node, 7100); err != nil {
			t.Fatal(err)
		}
	}
	return c, self
}

// reachability measures, with real TCP echoes, which node reaches which:
// the result holds "a>b" for every a that got an echo from b.
func reachability(t *testing.T, ctx context.Context, r control.Remote, self string, nodes []string) (map[string]bool, map[string]string) {
	t.Helper()
	var mu sync.Mutex
	ok, detail := map[string]bool{}, map[string]string{}
	err := control.OnNodes(ctx, nodes, func(ctx context.Context, a string) error {
		var list []string
		for _, b := range nodes {
			if b != a {
				list = append(list, b+"="+b+":7100")
			}
		}
		res, err := r.Exec(ctx, a, control.Cmd{Args: []string{self}, Env: roleEnv("probe", strings.Join(list, ","))})
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, l := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				ok[a+">"+f[0]] = f[1] == "ok"
				detail[a+">"+f[0]] = l
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ok, detail
}

// expected is the reachability a grudge allows: a TCP echo from a to b
// needs b to hear a and a to hear b.
func expected(g Grudge, nodes []string) map[string]bool {
	m := map[string]bool{}
	for _, a := range nodes {
		for _, b := range nodes {
			if a != b {
				m[a+">"+b] = !g.Cut(a, b) && !g.Cut(b, a)
			}
		}
	}
	return m
}

func diffMatrix(got, want map[string]bool, detail map[string]string) string {
	var d []string
	for k, w := range want {
		if got[k] != w {
			d = append(d, fmt.Sprintf("%s: want reachable=%v, measured %q", k, w, detail[k]))
		}
	}
	return strings.Join(d, "\n")
}

func runRole(t *testing.T, ctx context.Context, r control.Remote, node, self, role, arg string) string {
	t.Helper()
	res, err := r.Exec(ctx, node, control.Cmd{Args: []string{self}, Env: roleEnv(role, arg)})
	if err != nil {
		t.Fatalf("%s %s %s: %v", node, role, arg, err)
	}
	return strings.TrimSpace(res.Stdout)
}

// udp returns (sent, got, median rtt) of count datagrams from node to peer.
func udp(t *testing.T, ctx context.Context, r control.Remote, node, self, peer string, count int) (int, int, time.Duration) {
	out := runRole(t, ctx, r, node, self, "udp", fmt.Sprintf("%s:7100,%d", peer, count))
	var sent, got, us int
	if _, err := fmt.Sscanf(out, "sent %d got %d median-rtt-us %d", &sent, &got, &us); err != nil {
		t.Fatalf("udp output %q: %v", out, err)
	}
	return sent, got, time.Duration(us) * time.Microsecond
}

func TestNodeNetOnCluster(t *testing.T) {
	needRoot(t)
	start := time.Now()
	c, self := upCluster(t, 5)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := c.Remote()
	nodes := c.Nodes()
	log := slog.New(slog.NewTextHandler(&tWriter{t: t}, nil))
	nn, err := New(Config{Remote: r, Nodes: nodes, AgentCommand: []string{self}, AgentEnv: roleEnv("agent", ""), Log: log, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	caps, err := nn.ProbeAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if err := caps[n].CheckPartition(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("n1: %s", caps["n1"].Summary())
	// Make sure a clean start is fully connected.
	got, detail := reachability(t, ctx, r, self, nodes)
	if d := diffMatrix(got, expected(nil, nodes), detail); d != "" {
		t.Fatalf("before any fault:\n%s", d)
	}

	t.Run("partitions", func(t *testing.T) {
		rnd := rand.New(rand.NewPCG(1, 2))
		explicit, _ := ParseGrudge("n1:n2,n3;n4:n5")
		type tc struct {
			name string
			g    Grudge
		}
		var cases []tc
		for _, shape := range Shapes {
			g, err := MakeGrudge(shape, nodes, []string{"n2"}, rnd)
			if err != nil {
				t.Fatal(err)
			}
			cases = append(cases, tc{shape, g})
		}
		cases = append(cases, tc{"explicit", explicit})
		for _, c := range cases {
			if err := nn.Drop(ctx, c.g); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			got, detail := reachability(t, ctx, r, self, nodes)
			if d := diffMatrix(got, expected(c.g, nodes), detail); d != "" {
				t.Errorf("%s (%s):\n%s", c.name, c.g, d)
			}
		}
		// Dropping twice is idempotent, and healing twice too.
		if err := nn.Drop(ctx, cases[0].g); err != nil {
			t.Fatal(err)
		}
		if err := nn.Drop(ctx, cases[0].g); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := nn.Heal(ctx); err != nil {
				t.Fatal(err)
			}
		}
		got, detail := reachability(t, ctx, r, self, nodes)
		if d := diffMatrix(got, expected(nil, nodes), detail); d != "" {
			t.Errorf("after heal:\n%s", d)
		}
	})

	t.Run("reject", func(t *testing.T) {
		rej, err := New(Config{Remote: r, Nodes: nodes, Reject: true})
		if err != nil {
			t.Fatal(err)
		}
		g := Complete(SplitOne("n1", nodes)...)
		if err := rej.Drop(ctx, g); err != nil {
			t.Fatal(err)
		}
		defer rej.Heal(ctx)
		_, detail := reachability(t, ctx, r, self, nodes)
		// n2's SYN reaches n1, which answers with a reset: at once.
		if d := detail["n2>n1"]; !strings.Contains(d, "fail refused") {
			t.Errorf("n2 -> n1 with reject: %q, want a quick refusal", d)
		}
		if d := detail["n2>n3"]; !strings.Contains(d, " ok ") {
			t.Errorf("n2 -> n3: %q", d)
		}
	})

	t.Run("loss", func(t *testing.T) {
		b, _ := ParseBehaviour("loss=50%")
		if err := nn.Shape(ctx, Links{"n1": {"n2"}}, b); err != nil {
			t.Fatal(err)
		}
		sent, got, _ := udp(t, ctx, r, "n1", self, "n2", 600)
		_, other, _ := udp(t, ctx, r, "n1", self, "n3", 200)
		t.Logf("loss 50%% asked: %d of %d echoes came back (%.0f%% lost); n1 -> n3: %d of 200", got, sent, 100-100*float64(got)/float64(sent), other)
		if f := float64(got) / float64(sent); f < 0.38 || f > 0.62 {
			t.Errorf("with 50%% loss %d of %d came back", got, sent)
		}
		if other < 195 {
			t.Errorf("the n1 -> n3 link lost packets too: %d of 200", other)
		}
	})

	t.Run("duplicate", func(t *testing.T) {
		b, _ := ParseBehaviour("duplicate=50%")
		if err := nn.Shape(ctx, AllFrom("n1"), b); err != nil {
			t.Fatal(err)
		}
		sent, got, _ := udp(t, ctx, r, "n1", self, "n2", 400)
		t.Logf("duplicate 50%% asked: %d echoes for %d datagrams", got, sent)
		if f := float64(got) / float64(sent); f < 1.35 || f > 1.65 {
			t.Errorf("with 50%% duplication %d echoes for %d", got, sent)
		}
	})

	t.Run("rate", func(t *testing.T) {
		b, _ := ParseBehaviour("rate=4mbit")
		if err := nn.Shape(ctx, Links{"n1": {"n2"}}, b); err != nil {
			t.Fatal(err)
		}
		const size = 500_000 // 4 Mbit: one second at 4 mbit/s
		ms := func(peer string) int {
			out := runRole(t, ctx, r, "n1", self, "bulk", fmt.Sprintf("%s:7100,%d", peer, size))
			v, err := strconv.Atoi(strings.TrimPrefix(out, "ms "))
			if err != nil {
				t.Fatalf("bulk: %q", out)
			}
			return v
		}
		slow, fast := ms("n2"), ms("n3")
		t.Logf("500 kB at 4mbit: %d ms (%.1f Mbit/s); to an unshaped node: %d ms", slow, float64(size*8)/float64(slow)/1000, fast)
		if slow < 700 || slow > 3000 {
			t.Errorf("500 kB at 4 mbit/s took %d ms, want about 1000", slow)
		}
		if fast > 400 {
			t.Errorf("the unshaped link took %d ms", fast)
		}
	})

	t.Run("delay", func(t *testing.T) {
		b, _ := ParseBehaviour("delay=100ms/10ms/normal")
		if err := nn.Shape(ctx, Links{"n1": {"n2"}}, b); err != nil {
			t.Fatal(err)
		}
		sent, got, slow := udp(t, ctx, r, "n1", self, "n2", 100)
		_, _, fast := udp(t, ctx, r, "n1", self, "n3", 100)
		_, _, back := udp(t, ctx, r, "n2", self, "n1", 100)
		t.Logf("delay 100ms±10ms asked on n1 -> n2: median rtt %v (%d of %d); n1 -> n3 %v; n2 -> n1 %v", slow, got, sent, fast, back)
		if slow < 80*time.Millisecond || slow > 200*time.Millisecond || got < sent*9/10 {
			t.Errorf("n1 -> n2 median rtt %v with %d of %d back, want 80-200 ms", slow, got, sent)
		}
		if fast > 20*time.Millisecond {
			t.Errorf("n1 -> n3 median rtt %v: another link was delayed", fast)
		}
		// Replies from n2 to n1 leave n1... no: they leave n2, unshaped;
		// n2's own requests to n1 get n1's replies, which are shaped.
		if back < 80*time.Millisecond {
			t.Errorf("n2 -> n1 rtt %v: the replies n1 sends n2 should be delayed", back)
		}
	})

	t.Run("reorder", func(t *testing.T) {
		b, _ := ParseBehaviour("delay=50ms,reorder=50%")
		if err := nn.Shape(ctx, Links{"n1": {"n3"}}, b); err != nil {
			t.Fatal(err)
		}
		sent, got, med := udp(t, ctx, r, "n1", self, "n3", 200)
		t.Logf("delay 50ms with reorder 50%%: %d of %d, median rtt %v", got, sent, med)
		if got < sent*9/10 {
			t.Errorf("reorder lost packets: %d of %d", got, sent)
		}
	})

	t.Run("unsupported", func(t *testing.T) {
		if caps["n1"].Netem {
			t.Skip("this kernel has netem: corruption is supported")
		}
		b, _ := ParseBehaviour("corrupt=5%")
		err := nn.Shape(ctx, AllFrom("n1", "n2"), b)
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "netem") {
			t.Errorf("corrupt without netem: %v", err)
		}
		t.Logf("refused: %v", err)
	})

	// Everything healed: nothing left in any node, full reachability.
	if err := nn.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	if err := nn.Unshape(ctx); err != nil {
		t.Fatal(err)
	}
	if err := nn.Unshape(ctx); err != nil {
		t.Fatalf("second unshape: %v", err)
	}
	assertClean(t, ctx, r, nodes)
	got, detail = reachability(t, ctx, r, self, nodes)
	if d := diffMatrix(got, expected(nil, nodes), detail); d != "" {
		t.Errorf("after heal and unshape:\n%s", d)
	}
	_, g, med := udp(t, ctx, r, "n1", self, "n2", 100)
	if g < 100 || med > 20*time.Millisecond {
		t.Errorf("n1 -> n2 after unshape: %d of 100, median %v", g, med)
	}
	t.Logf("netfault integration took %v", time.Since(start))
}

// assertClean checks that no node holds a rule, chain, qdisc or agent of
// netfault's.
func assertClean(t *testing.T, ctx context.Context, r control.Remote, nodes []string) {
	t.Helper()
	for _, n := range nodes {
		res, err := r.Exec(ctx, n, control.Cmd{Shell: pathPrefix + "nft list ruleset; echo @ipt; iptables-save; echo @tc; tc qdisc show; echo @agent; cat " + DefaultStateDir + "/delay-agent.pid 2>/dev/null; true"})
		if err != nil {
			t.Fatal(err)
		}
		out := res.Stdout
		for _, bad := range []string{"faultline", " drop", "queue num", "NFQUEUE", "fa17:", "tbf", "htb", "netem"} {
			if strings.Contains(out, bad) {
				t.Errorf("%s still holds %q:\n%s", n, bad, out)
			}
		}
		if _, after, _ := strings.Cut(out, "@agent"); strings.TrimSpace(after) != "" {
			t.Errorf("%s: agent pidfile still there: %q", n, after)
		}
	}
	// No agent process is left anywhere on the machine for this binary.
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(b), "\x00delay\x00--queue\x00"+strconv.Itoa(DefaultQueue)) {
			env, _ := os.ReadFile("/proc/" + e.Name() + "/environ")
			if strings.Contains(string(env), envRole+"=agent") {
				t.Errorf("delay agent still running: pid %s", e.Name())
			}
		}
	}
}
