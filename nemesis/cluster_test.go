package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/cluster"
	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/control/netns"
	"github.com/faultline/faultline/db"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/netfault"
)

// sleepDB is a DB whose process on each node is `sleep 600`, started with
// a pidfile.
type sleepDB struct{}

const sleepPid = "sleep.pid"

func (sleepDB) Start(ctx context.Context, env *control.Env, node string) error {
	_, err := db.StartDaemon(ctx, env.Remote, node, db.DaemonOpts{Bin: "sleep", Args: []string{"600"}, Logfile: "sleep.log", Pidfile: sleepPid})
	return err
}

func (sleepDB) Kill(ctx context.Context, env *control.Env, node string) error {
	return db.StopDaemon(ctx, env.Remote, node, sleepPid, 0)
}

// procState is the state letter of the process in node's pidfile ("gone"
// without one).
func procState(t *testing.T, c *cluster.Cluster, node string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.NodeDir(node), sleepPid))
	if err != nil {
		return "gone"
	}
	stat, err := os.ReadFile("/proc/" + strings.TrimSpace(string(b)) + "/stat")
	if err != nil {
		return "gone"
	}
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if f[0] == "Z" {
		return "gone"
	}
	return f[0]
}

// waitStates waits until each node's process is in the state wanted.
func waitStates(t *testing.T, c *cluster.Cluster, want map[string]string) {
	t.Helper()
	var got map[string]string
	for range 100 {
		got = map[string]string{}
		ok := true
		for n, w := range want {
			got[n] = procState(t, c, n)
			ok = ok && got[n] == w
		}
		if ok {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("process states %v, want %v", got, want)
}

func TestNemesesOnCluster(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: netns cluster tests need root")
	}
	for _, tool := range []string{"ip", "tc", "nft", "iptables"} {
		if _, err := netns.LookPath(tool); err != nil {
			t.Skipf("skipping: %s not found", tool)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := cluster.Up(ctx, cluster.Config{Name: fmt.Sprintf("nm%04x", rand.IntN(0x10000)), StateRoot: t.TempDir(), NodeCount: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := c.Down(context.Background()); err != nil {
			t.Errorf("down: %v", err)
		}
	}()
	nodes := c.Nodes()
	env := &control.Env{Nodes: nodes, Remote: c.Remote(), Seed: 11}
	for _, n := range nodes {
		if err := (sleepDB{}).Start(ctx, env, n); err != nil {
			t.Fatal(err)
		}
	}
	all := func(s string) map[string]string {
		m := map[string]string{}
		for _, n := range nodes {
			m[n] = s
		}
		return m
	}
	waitStates(t, c, all("S"))

	self, _ := os.Executable()
	nn, err := netfault.New(netfault.Config{Remote: c.Remote(), Nodes: nodes, AgentCommand: []string{self, "unused"}})
	if err != nil {
		t.Fatal(err)
	}
	nem, err := ComposeAll(
		&Kill{DB: sleepDB{}},
		&Pause{DB: PidfilePauser{Pidfile: sleepPid}},
		&Partition{Net: nn},
		&Packet{Shaper: nn},
	)
	if err != nil {
		t.Fatal(err)
	}
	n, err := nem.Setup(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	invoke := func(f string, v any) history.Op {
		t.Helper()
		res, err := n.Invoke(ctx, env, history.Op{Type: history.Info, Process: history.NemesisProcess, F: f, Value: v})
		if err != nil {
			t.Fatalf("%s %v: %v", f, v, err)
		}
		return res
	}
	res := invoke(FKill, "n1")
	if history.Format(res.Value) != `{"n1" "killed"}` {
		t.Errorf("kill value %s", history.Format(res.Value))
	}
	res = invoke(FPause, []any{"n2"})
	if history.Format(res.Value) != `{"n2" "paused"}` {
		t.Errorf("pause value %s", history.Format(res.Value))
	}
	waitStates(t, c, map[string]string{"n1": "gone", "n2": "T", "n3": "S"})
	invoke(FResume, nil)
	invoke(FStart, nil)
	waitStates(t, c, all("S"))

	// Faults left in place, as when a run is interrupted: a partition, a
	// pause, a kill and a loss; Teardown must undo them all.
	invoke(FStartPartition, netfault.ShapeOne)
	invoke(FStartPacket, []any{"n3", "loss=10%"})
	invoke(FPause, "n3")
	invoke(FKill, "n2")
	waitStates(t, c, map[string]string{"n2": "gone", "n3": "T"})
	if err := n.Teardown(ctx, env); err != nil {
		t.Fatal(err)
	}
	waitStates(t, c, all("S"))
	for _, node := range nodes {
		out, err := c.Remote().Exec(ctx, node, control.Cmd{Shell: `PATH=$PATH:/usr/sbin:/sbin; nft list ruleset; iptables-save; tc qdisc show`})
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"faultline", " drop", "fa17:"} {
			if strings.Contains(out.Stdout, bad) {
				t.Errorf("%s still holds %q after teardown:\n%s", node, bad, out.Stdout)
			}
		}
	}
	rep, err := c.Heal(ctx)
	if err != nil || !rep.Empty() {
		t.Errorf("cluster heal after teardown found %+v, %v", rep, err)
	}
	if err := n.Teardown(ctx, env); err != nil {
		t.Errorf("second teardown: %v", err)
	}
	for _, node := range nodes {
		db.StopDaemon(ctx, c.Remote(), node, sleepPid, 0)
	}
}
