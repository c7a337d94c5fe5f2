package nemesis

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/control"
)

// fakeClock is a node clock the agent moves.
type fakeClock struct {
	mu     sync.Mutex
	offset time.Duration
	sets   int
}

func (f *fakeClock) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return time.Now().Add(f.offset)
}

func (f *fakeClock) set(t time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.offset = time.Until(t)
	f.sets++
	return nil
}

func (f *fakeClock) off() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.offset
}

func near(a, b time.Duration) bool {
	d := a - b
	return d > -50*time.Millisecond && d < 50*time.Millisecond
}

func TestClockAgent(t *testing.T) {
	ctx := context.Background()
	c := &fakeClock{}
	if err := runClockAgent(ctx, []string{"bump", "--delta", "-3s"}, io.Discard, c.set, c.now); err != nil || !near(c.off(), -3*time.Second) {
		t.Fatalf("bump: %v, offset %v", err, c.off())
	}
	target := time.Now().Add(time.Hour)
	if err := runClockAgent(ctx, []string{"set", "--to", nsString(target)}, io.Discard, c.set, c.now); err != nil || !near(c.off(), time.Hour) {
		t.Fatalf("set: %v, offset %v", err, c.off())
	}
	before, sets := c.off(), c.sets
	var out strings.Builder
	if err := runClockAgent(ctx, []string{"strobe", "--delta", "10s", "--period", "10ms", "--duration", "105ms"}, &out, c.set, c.now); err != nil {
		t.Fatal(err)
	}
	if !near(c.off(), before) {
		t.Fatalf("strobe left the clock at %v, want %v", c.off(), before)
	}
	if c.sets-sets < 6 {
		t.Fatalf("strobe set the clock %d times in 105 ms at a 10 ms period", c.sets-sets)
	}
	for _, bad := range [][]string{nil, {"spin"}, {"bump"}, {"set"}, {"strobe", "--delta", "1s"}, {"bump", "--delta", "soon"}} {
		if err := runClockAgent(ctx, bad, io.Discard, c.set, c.now); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// agentRemote records what a SystemClock does to nodes.
type agentRemote struct {
	control.Remote
	mu      sync.Mutex
	uploads []string
	execs   []string
}

func (r *agentRemote) Upload(_ context.Context, node, _, remote string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.uploads = append(r.uploads, node+":"+remote)
	return nil
}

func (r *agentRemote) Exec(_ context.Context, node string, cmd control.Cmd) (control.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.execs = append(r.execs, node+": "+strings.Join(cmd.Args, " "))
	return control.Result{}, nil
}

func TestSystemClockUsesUploadedAgent(t *testing.T) {
	r := &agentRemote{}
	env := &control.Env{Nodes: []string{"a", "b"}, Remote: r}
	fixed := time.Unix(1000, 0)
	s := &SystemClock{Agent: "/bin/true", Now: func() time.Time { return fixed }}
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if err := s.SetOffset(ctx, env, "a", 2*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Strobe(ctx, env, "b", 0, time.Second, 20*time.Millisecond, time.Second); err != nil {
		t.Fatal(err)
	}
	if strings.Join(r.uploads, " ") != "a:"+AgentPath+" b:"+AgentPath {
		t.Fatalf("uploads: %v (want one per node)", r.uploads)
	}
	all := strings.Join(r.execs, "\n")
	for _, want := range []string{
		"a: " + AgentPath + " nemesis-agent clock set --to 1002000000000",
		"b: " + AgentPath + " nemesis-agent clock strobe --delta 1s --period 20ms --duration 1s",
		"b: " + AgentPath + " nemesis-agent clock set --to 1000000000000",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in:\n%s", want, all)
		}
	}
}
