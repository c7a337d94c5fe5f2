package nemesis

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/db"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/netfault"
)

// Clock fs, as jepsen.nemesis.combined names them.
const (
	FResetClock   = "reset-clock"
	FBumpClock    = "bump-clock"
	FStrobeClock  = "strobe-clock"
	FCheckOffsets = "check-clock-offsets"
)

// Clock sets how far a node's clock is from true time (the control
// host's clock).
type Clock interface {
	SetOffset(ctx context.Context, env *control.Env, node string, offset time.Duration) error
}

// Strober is a Clock that strobes on the node itself, with better timing
// than a SetOffset per flip from the control host.
type Strober interface {
	Strobe(ctx context.Context, env *control.Env, node string, base, delta, period, duration time.Duration) error
}

// ClockChecker is a Clock that can tell beforehand whether it works on
// the nodes (so a run can refuse a clock fault before it starts).
type ClockChecker interface {
	CheckClock(ctx context.Context, env *control.Env, nodes []string) error
}

// FaketimeClock moves the clocks of DBs started under libfaketime: the DB
// runs with FaketimeEnv (LD_PRELOAD of libfaketime reading its offset from
// a file on every clock read), and SetOffset rewrites that file. This is
// the only clock fault possible on nodes that share a kernel (netns,
// Docker). It works for programs that read the clock through libc (C, C++,
// Java, Python); Go programs read it through the vDSO and ignore it.
type FaketimeClock struct {
	// File is the offset file on the node (relative: the node's folder on
	// a netns cluster); "" is "faketime-offset".
	File string
	// Lib is libfaketime's path on the nodes; "" finds it with
	// netfault.Probe's search.
	Lib  string
	Sudo bool
}

func (f FaketimeClock) file() string {
	if f.File == "" {
		return "faketime-offset"
	}
	return f.File
}

// FaketimeEnv is the environment a DB process must start with for
// FaketimeClock to move its clock. lib is libfaketime's path
// (Capabilities.Faketime). Monotonic clocks are left alone, so timeouts
// keep working.
func (f FaketimeClock) FaketimeEnv(lib string) map[string]string {
	return map[string]string{
		"LD_PRELOAD":                   lib,
		"FAKETIME_TIMESTAMP_FILE":      f.file(),
		"FAKETIME_NO_CACHE":            "1",
		"FAKETIME_DONT_FAKE_MONOTONIC": "1",
	}
}

// FaketimeOffset renders an offset the way libfaketime reads it.
func FaketimeOffset(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	return sign + strconv.FormatFloat(d.Seconds(), 'f', 3, 64) + "s"
}

// SetOffset writes the offset file on node (atomically).
func (f FaketimeClock) SetOffset(ctx context.Context, env *control.Env, node string, offset time.Duration) error {
	if env == nil || env.Remote == nil {
		return errors.New("faketime clock needs a remote")
	}
	_, err := env.Remote.Exec(ctx, node, control.Cmd{
		Args: []string{"sh", "-c", `printf '%s\n' "$2" > "$1.tmp" && mv -f "$1.tmp" "$1"`, "faultline-faketime", f.file(), FaketimeOffset(offset)},
		Sudo: f.Sudo,
	})
	return err
}

// CheckClock checks that libfaketime is installed on every node.
func (f FaketimeClock) CheckClock(ctx context.Context, env *control.Env, nodes []string) error {
	if env == nil || env.Remote == nil {
		return errors.New("faketime clock needs a remote")
	}
	for _, n := range nodes {
		lib := f.Lib
		if lib == "" {
			c, err := netfault.Probe(ctx, env.Remote, n, "", f.Sudo)
			if err != nil {
				return err
			}
			lib = c.Faketime
		} else if _, err := env.Remote.Exec(ctx, n, control.Cmd{Args: []string{"test", "-f", lib}}); err != nil {
			lib = ""
		}
		if lib == "" {
			return &netfault.UnsupportedError{Node: n, Fault: "clock", Reason: "libfaketime is not installed",
				Hint: "install the Debian package faketime, and start the DB with FaketimeClock.FaketimeEnv"}
		}
	}
	return nil
}

// SystemClock sets the node's real-time clock through the clock agent
// (the faultline binary, uploaded to AgentPath on first use and run as
// `nemesis-agent clock ...`; see ClockAgentMain): only for nodes with a
// kernel of their own (machines over SSH, VMs). CheckClock refuses nodes
// that share the control host's kernel, where it would move every node's
// clock and the host's. Use a pointer: it remembers which nodes hold the
// agent.
type SystemClock struct {
	Sudo bool
	// Now is the true time (default time.Now).
	Now func() time.Time
	// Agent is the local file uploaded as the agent (default: this
	// executable).
	Agent string

	uploads agentUploads
}

var _ Strober = (*SystemClock)(nil)

func (s *SystemClock) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// agent runs the clock agent on node with args.
func (s *SystemClock) agent(ctx context.Context, env *control.Env, node string, args []string) error {
	if env == nil || env.Remote == nil {
		return errors.New("system clock needs a remote")
	}
	local := s.Agent
	if local == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("finding the faultline executable to upload as the clock agent: %w", err)
		}
		local = exe
	}
	if err := s.uploads.ensure(ctx, env.Remote, node, local); err != nil {
		return err
	}
	_, err := env.Remote.Exec(ctx, node, control.Cmd{Args: args, Sudo: s.Sudo})
	return err
}

// SetOffset sets node's clock to true time plus offset.
func (s *SystemClock) SetOffset(ctx context.Context, env *control.Env, node string, offset time.Duration) error {
	return s.agent(ctx, env, node, agentArgs("set", "to", nsString(s.now().Add(offset))))
}

// Strobe flips node's clock by delta every period for duration, on the
// node itself, and leaves it at base.
func (s *SystemClock) Strobe(ctx context.Context, env *control.Env, node string, base, delta, period, duration time.Duration) error {
	if err := s.SetOffset(ctx, env, node, base); err != nil {
		return err
	}
	err := s.agent(ctx, env, node, agentArgs("strobe", "delta", durString(delta), "period", durString(period), "duration", durString(duration)))
	if rerr := s.SetOffset(context.WithoutCancel(ctx), env, node, base); err == nil {
		err = rerr
	}
	return err
}

// CheckClock refuses nodes that share this machine's kernel (same boot id).
func (s *SystemClock) CheckClock(ctx context.Context, env *control.Env, nodes []string) error {
	if env == nil || env.Remote == nil {
		return errors.New("system clock needs a remote")
	}
	local, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	for _, n := range nodes {
		res, err := env.Remote.Exec(ctx, n, control.Cmd{Args: []string{"cat", "/proc/sys/kernel/random/boot_id"}})
		if err != nil {
			return fmt.Errorf("%s: reading the boot id: %w", n, err)
		}
		if id := strings.TrimSpace(res.Stdout); id != "" && id == strings.TrimSpace(string(local)) {
			return &netfault.UnsupportedError{Node: n, Fault: "clock", Reason: "the node shares this machine's kernel and clock, so setting its clock would set every node's",
				Hint: "start the DB under libfaketime (nemesis.FaketimeClock) if its runtime honours it, or use nodes with their own kernel"}
		}
	}
	return nil
}

// ClockNemesis skews clocks (jepsen.nemesis.time through combined's fs).
// Ops:
//
//   - bump-clock, value: a Map node → milliseconds to add to its offset
//     (or [spec, ms]);
//   - strobe-clock, value: a Map node → {"delta": ms, "period": ms,
//     "duration": s}: the offset flips between +delta and its value every
//     period, for duration (the op lasts that long);
//   - reset-clock, value: a node spec (default all): offset 0;
//   - check-clock-offsets: the offsets set, node → ms.
//
// Completion values map nodes to their offset in ms. Teardown resets every
// node it touched.
type ClockNemesis struct {
	Clock Clock
	// Nodes the specs choose among (nil: env.Nodes).
	Nodes     []string
	Primaries db.Primaries

	t       *targets
	mu      sync.Mutex
	offsets map[string]time.Duration
}

func (c *ClockNemesis) Fs() []string {
	return []string{FBumpClock, FCheckOffsets, FResetClock, FStrobeClock}
}

func (c *ClockNemesis) Setup(ctx context.Context, env *control.Env) (Nemesis, error) {
	if c.Clock == nil {
		return nil, errors.New("clock nemesis: no Clock")
	}
	return &ClockNemesis{Clock: c.Clock, Nodes: c.Nodes, Primaries: c.Primaries, t: newTargets(env, c.Nodes, c.Primaries, 5), offsets: map[string]time.Duration{}}, nil
}

func (c *ClockNemesis) offset(n string) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offsets[n]
}

func (c *ClockNemesis) set(ctx context.Context, env *control.Env, n string, d time.Duration) error {
	if err := c.Clock.SetOffset(ctx, env, n, d); err != nil {
		return err
	}
	c.mu.Lock()
	c.offsets[n] = d
	c.mu.Unlock()
	return nil
}

func (c *ClockNemesis) offsetsValue(nodes []string) history.Map {
	m := map[string]any{}
	for _, n := range nodes {
		m[n] = c.offset(n).Milliseconds()
	}
	return NodeValue(m)
}

func msValue(v any) (time.Duration, error) {
	switch x := v.(type) {
	case int64:
		return time.Duration(x) * time.Millisecond, nil
	case float64:
		return time.Duration(x * float64(time.Millisecond)), nil
	}
	return 0, fmt.Errorf("want milliseconds, got %s", history.Format(v))
}

func (c *ClockNemesis) Invoke(ctx context.Context, env *control.Env, op history.Op) (history.Op, error) {
	switch op.F {
	case FResetClock:
		nodes, err := c.t.resolve(ctx, env, op.Value, SpecAll)
		if err != nil {
			return op, err
		}
		_, err = onNodes(ctx, nodes, nil, func(ctx context.Context, n string) error { return c.set(ctx, env, n, 0) })
		return info(op, c.offsetsValue(nodes)), err
	case FCheckOffsets:
		return info(op, c.offsetsValue(c.t.nodes)), nil
	case FBumpClock:
		deltas, err := c.perNode(ctx, env, op.Value)
		if err != nil {
			return op, err
		}
		nodes := sortedKeys(deltas)
		_, err = onNodes(ctx, nodes, nil, func(ctx context.Context, n string) error {
			d, err := msValue(deltas[n])
			if err != nil {
				return err
			}
			return c.set(ctx, env, n, c.offset(n)+d)
		})
		return info(op, c.offsetsValue(nodes)), err
	case FStrobeClock:
		specs, err := c.perNode(ctx, env, op.Value)
		if err != nil {
			return op, err
		}
		nodes := sortedKeys(specs)
		_, err = onNodes(ctx, nodes, nil, func(ctx context.Context, n string) error { return c.strobe(ctx, env, n, specs[n]) })
		return info(op, c.offsetsValue(nodes)), err
	}
	return op, fmt.Errorf("clock nemesis cannot handle f %q", op.F)
}

// perNode reads a Map node → x, or [spec, x] giving x to every chosen node.
func (c *ClockNemesis) perNode(ctx context.Context, env *control.Env, v any) (map[string]any, error) {
	out := map[string]any{}
	switch x := v.(type) {
	case history.Map:
		for _, e := range x {
			n, ok := e.Key.(string)
			if !ok || !slices.Contains(c.t.nodes, n) {
				return nil, fmt.Errorf("%s is not a node of this nemesis (%s)", history.Format(e.Key), strings.Join(c.t.nodes, ", "))
			}
			out[n] = e.Val
		}
		return out, nil
	case []any:
		if len(x) == 2 {
			nodes, err := c.t.resolve(ctx, env, x[0], nil)
			if err != nil {
				return nil, err
			}
			for _, n := range nodes {
				out[n] = x[1]
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("want a map from node to value, or [spec, value]; got %s", history.Format(v))
}

func (c *ClockNemesis) strobe(ctx context.Context, env *control.Env, n string, v any) error {
	m, ok := v.(history.Map)
	if !ok {
		return fmt.Errorf("strobe of %s: want {delta, period, duration}, got %s", n, history.Format(v))
	}
	get := func(k string, unit time.Duration) (time.Duration, error) {
		x, ok := m.Get(k)
		if !ok {
			return 0, fmt.Errorf("strobe of %s lacks %q", n, k)
		}
		d, err := msValue(x)
		return d / time.Millisecond * unit, err
	}
	delta, err := get("delta", time.Millisecond)
	if err != nil {
		return err
	}
	period, err := get("period", time.Millisecond)
	if err != nil {
		return err
	}
	dur, err := get("duration", time.Second)
	if err != nil {
		return err
	}
	if period <= 0 || dur <= 0 {
		return fmt.Errorf("strobe of %s: period and duration must be above 0", n)
	}
	base := c.offset(n)
	c.mu.Lock()
	c.offsets[n] = base // so that Teardown resets it, whatever happens
	c.mu.Unlock()
	if st, ok := c.Clock.(Strober); ok {
		return st.Strobe(ctx, env, n, base, delta, period, dur)
	}
	end := time.Now().Add(dur)
	on := false
	for time.Now().Before(end) && ctx.Err() == nil {
		on = !on
		d := base
		if on {
			d += delta
		}
		if err := c.Clock.SetOffset(ctx, env, n, d); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
		case <-time.After(period):
		}
	}
	// Back to where it was, whatever ctx says: the strobe must not stay.
	return c.Clock.SetOffset(context.WithoutCancel(ctx), env, n, base)
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (c *ClockNemesis) Teardown(ctx context.Context, env *control.Env) error {
	if c.Clock == nil {
		return nil
	}
	c.mu.Lock()
	var nodes []string
	for n := range c.offsets {
		nodes = append(nodes, n)
	}
	c.mu.Unlock()
	slices.Sort(nodes)
	_, err := onNodes(ctx, nodes, nil, func(ctx context.Context, n string) error { return c.set(ctx, env, n, 0) })
	return err
}
