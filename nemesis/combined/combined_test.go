package combined

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/generator"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/netfault"
)

var five = []string{"n1", "n2", "n3", "n4", "n5"}

// fakeDB records what the nemeses do to it.
type fakeDB struct {
	mu                       sync.Mutex
	killed, paused, removed  map[string]bool
	offsets                  map[string]time.Duration
	kills, pauses, conflicts int
}

func newFakeDB() *fakeDB {
	return &fakeDB{killed: map[string]bool{}, paused: map[string]bool{}, removed: map[string]bool{}, offsets: map[string]time.Duration{}}
}

func (d *fakeDB) Setup(context.Context, *control.Env, string) error    { return nil }
func (d *fakeDB) Teardown(context.Context, *control.Env, string) error { return nil }
func (d *fakeDB) set(m map[string]bool, n string, v bool, count *int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if v && (d.killed[n] || d.paused[n]) {
		d.conflicts++
	}
	m[n] = v
	*count++
	return nil
}
func (d *fakeDB) isKilled(n string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.killed[n]
}
func (d *fakeDB) Kill(_ context.Context, _ *control.Env, n string) error {
	return d.set(d.killed, n, true, &d.kills)
}
func (d *fakeDB) Start(_ context.Context, _ *control.Env, n string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.killed[n] = false
	return nil
}
func (d *fakeDB) Pause(_ context.Context, _ *control.Env, n string) error {
	return d.set(d.paused, n, true, &d.pauses)
}
func (d *fakeDB) Resume(_ context.Context, _ *control.Env, n string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.paused[n] = false
	return nil
}
func (d *fakeDB) Primaries(context.Context, *control.Env) ([]string, error) {
	return []string{"n2"}, nil
}
func (d *fakeDB) SetOffset(_ context.Context, _ *control.Env, n string, off time.Duration) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.offsets[n] = off
	return nil
}
func (d *fakeDB) RemoveNode(_ context.Context, _ *control.Env, n string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.removed[n] = true
	return nil
}
func (d *fakeDB) AddNode(_ context.Context, _ *control.Env, n string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.removed[n] = false
	return nil
}

// dirty lists what the fake still suffers from.
func (d *fakeDB) dirty() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, m := range []struct {
		name string
		m    map[string]bool
	}{{"killed", d.killed}, {"paused", d.paused}, {"removed", d.removed}} {
		for n, v := range m.m {
			if v {
				out = append(out, m.name+" "+n)
			}
		}
	}
	for n, o := range d.offsets {
		if o != 0 {
			out = append(out, fmt.Sprintf("clock of %s off by %v", n, o))
		}
	}
	slices.Sort(out)
	return out
}

type fakeNet struct {
	mu     sync.Mutex
	grudge netfault.Grudge
	shaped netfault.Links
	drops  int
}

func (f *fakeNet) Drop(_ context.Context, g netfault.Grudge) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.grudge, f.drops = g, f.drops+1
	return nil
}
func (f *fakeNet) Heal(context.Context) error { f.mu.Lock(); f.grudge = nil; f.mu.Unlock(); return nil }
func (f *fakeNet) Shape(_ context.Context, l netfault.Links, _ netfault.Behaviour) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shaped = l
	return nil
}
func (f *fakeNet) Unshape(context.Context) error {
	f.mu.Lock()
	f.shaped = nil
	f.mu.Unlock()
	return nil
}

func allOpts(d *fakeDB, n *fakeNet) Options {
	return Options{
		Faults:    []string{Partition, Kill, Pause, Clock, Packet, File, Membership},
		Interval:  10 * time.Second,
		Nodes:     five,
		DB:        d,
		Net:       n,
		Shaper:    n,
		FileGlobs: []string{"data/*"},
	}
}

// nemesisInfo completes nemesis ops as the interpreter does: info, same
// value, after a millisecond.
func nemesisInfo(_ *generator.Context, op history.Op) history.Op {
	op.Type = history.Info
	op.Time += int64(time.Millisecond)
	return op
}

func simulate(t *testing.T, pkg Package, limit time.Duration, seed int64) []history.Op {
	t.Helper()
	g := generator.Phases(
		generator.TimeLimit(limit, generator.Nemesis(pkg.Generator)),
		generator.Nemesis(pkg.FinalGenerator),
	)
	ops, err := generator.Simulate(g, generator.SimOptions{Concurrency: 2, Nemesis: true, Seed: seed, Complete: nemesisInfo})
	if err != nil {
		t.Fatal(err)
	}
	return ops
}

// fault maps each f to its package name via the Perf specs.
func faultOf(perf []checker.NemesisSpec) map[string]string {
	m := map[string]string{}
	for _, s := range perf {
		for _, f := range append(slices.Clone(s.Start), s.Stop...) {
			m[f] = s.Name
		}
	}
	return m
}

func TestPackagesSimulation(t *testing.T) {
	const interval = 10 * time.Second
	const limit = 2000 * time.Second
	pkg, err := Packages(allOpts(newFakeDB(), &fakeNet{}))
	if err != nil {
		t.Fatal(err)
	}
	ops := simulate(t, pkg, limit, 42)
	invs := generator.Invocations(ops)
	fault := faultOf(pkg.Perf)
	perFault := map[string][]history.Op{}
	const finals = 6
	mainEnd := len(invs) - finals
	for i, op := range invs {
		if op.Process != history.NemesisProcess || op.Type != history.Info {
			t.Fatalf("not a nemesis info op: %s", op)
		}
		name, ok := fault[op.F]
		if !ok {
			t.Fatalf("op %s has an f no Perf spec names", op)
		}
		if i < mainEnd {
			perFault[name] = append(perFault[name], op)
			// TimeLimit counts from the first op, one interval in.
			if op.Time >= int64(limit+interval) {
				t.Fatalf("%s after the time limit", op)
			}
		}
	}
	for _, name := range []string{Partition, Kill, Pause, Clock, Packet, File, Membership} {
		fops := perFault[name]
		if len(fops) < 50 {
			t.Fatalf("%s: only %d ops in %v", name, len(fops), limit)
		}
		// The first fault comes one interval into the test.
		if fops[0].Time < int64(interval) {
			t.Errorf("%s: first op at %v, before one interval", name, time.Duration(fops[0].Time))
		}
		// Gaps are uniform in [0, 2*interval), plus at most a few ops'
		// latency on the shared nemesis thread: mean about the interval.
		var sum, worst time.Duration
		for i := 1; i < len(fops); i++ {
			gap := time.Duration(fops[i].Time - fops[i-1].Time)
			sum += gap
			worst = max(worst, gap)
		}
		mean := sum / time.Duration(len(fops)-1)
		if mean < 8*time.Second || mean > 12*time.Second || worst > 2*interval+50*time.Millisecond {
			t.Errorf("%s: mean gap %v, longest %v; want about %v and under %v", name, mean, worst, interval, 2*interval)
		}
		// Start and stop alternate (file corruption only starts).
		var spec checker.NemesisSpec
		for _, s := range pkg.Perf {
			if s.Name == name {
				spec = s
			}
		}
		if len(spec.Stop) > 0 {
			for i, op := range fops {
				isStart := slices.Contains(spec.Start, op.F)
				if isStart != (i%2 == 0) {
					t.Fatalf("%s: op %d is %s: starts and stops do not alternate", name, i, op.F)
				}
			}
		}
	}
	// Fault ops name nodes: kills and pauses carry the nodes chosen.
	for _, op := range invs[:mainEnd] {
		if op.F == nemesis.FKill || op.F == nemesis.FPause {
			l, ok := op.Value.([]any)
			if !ok {
				if op.Value == nemesis.SpecPrimaries {
					continue
				}
				if m, isMap := op.Value.(history.Map); isMap {
					if v, _ := m.Get("targets"); v == nemesis.SpecPrimaries {
						continue
					}
				}
				t.Fatalf("%s value %s: want nodes", op.F, history.Format(op.Value))
			}
			for _, n := range l {
				if !slices.Contains(five, n.(string)) {
					t.Fatalf("%s names %v", op.F, n)
				}
			}
		}
	}
	// The final generator heals everything, in order, after the main phase.
	var tail []string
	for _, op := range invs[mainEnd:] {
		tail = append(tail, op.F+" "+history.Format(op.Value))
	}
	want := []string{"stop-partition nil", "stop-packet nil", `resume "all"`, `start "all"`, `reset-clock "all"`, "add-node nil"}
	if !slices.Equal(tail, want) {
		t.Errorf("final ops:\n%s\nwant:\n%s", strings.Join(tail, "\n"), strings.Join(want, "\n"))
	}
	// Same seed, same schedule; another seed, another.
	again := simulate(t, pkg, limit, 42)
	other := simulate(t, pkg, limit, 43)
	sig := func(ops []history.Op) string {
		var b strings.Builder
		for _, op := range ops {
			fmt.Fprintf(&b, "%d %s %s\n", op.Time, op.F, history.Format(op.Value))
		}
		return b.String()
	}
	if sig(again) != sig(ops) {
		t.Error("the same seed gave another schedule")
	}
	if sig(other) == sig(ops) {
		t.Error("another seed gave the same schedule")
	}
}

// held replays a history and reports the first time a node is killed and
// paused at once.
func conflictIn(ops []history.Op) string {
	killed, paused := map[string]bool{}, map[string]bool{}
	for _, op := range generator.Invocations(ops) {
		var nodes []string
		if l, ok := op.Value.([]any); ok {
			for _, n := range l {
				nodes = append(nodes, n.(string))
			}
		}
		switch op.F {
		case nemesis.FKill:
			for _, n := range nodes {
				if paused[n] {
					return fmt.Sprintf("%s at %v kills paused %s", op.F, time.Duration(op.Time), n)
				}
				killed[n] = true
			}
		case nemesis.FPause:
			for _, n := range nodes {
				if killed[n] {
					return fmt.Sprintf("%s at %v pauses killed %s", op.F, time.Duration(op.Time), n)
				}
				paused[n] = true
			}
		case nemesis.FStart:
			clear(killed)
		case nemesis.FResume:
			clear(paused)
		}
	}
	return ""
}

func TestNoConflicts(t *testing.T) {
	opts := allOpts(newFakeDB(), &fakeNet{})
	opts.Faults = []string{Kill, Pause}
	opts.Interval = time.Second
	pkg, err := Packages(opts)
	if err != nil {
		t.Fatal(err)
	}
	for seed := range int64(20) {
		if c := conflictIn(simulate(t, pkg, 500*time.Second, seed)); c != "" {
			t.Fatalf("seed %d: %s", seed, c)
		}
	}
	// Without the guard, conflicts do happen: the test can tell.
	opts.AllowConflicts = true
	free, err := Packages(opts)
	if err != nil {
		t.Fatal(err)
	}
	// The specs are then left to the nemesis; resolve them here the way it
	// would, to see the overlap.
	found := false
	for seed := range int64(20) {
		ops := simulate(t, free, 500*time.Second, seed)
		rnd := rand.New(rand.NewPCG(uint64(seed), 1))
		for i := range ops {
			if ops[i].F != nemesis.FKill && ops[i].F != nemesis.FPause {
				continue
			}
			if l, err := nemesis.ResolveSpec(ops[i].Value, five, []string{"n2"}, rnd); err == nil {
				ops[i].Value = toAny(l)
			}
		}
		if conflictIn(ops) != "" {
			found = true
			break
		}
	}
	if !found {
		t.Error("with AllowConflicts no overlap ever showed: the conflict check cannot fail")
	}
}

// TestPackagesAgainstFakes runs the simulated schedule through the
// composed nemesis against fake DB and network, then tears it down.
func TestPackagesAgainstFakes(t *testing.T) {
	d, n := newFakeDB(), &fakeNet{}
	opts := allOpts(d, n)
	opts.Faults = []string{Partition, Kill, Pause, Clock, Packet, Membership}
	pkg, err := Packages(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	env := &control.Env{Nodes: five, Seed: 9}
	nem, err := pkg.Nemesis.Setup(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	// Run the schedule with the nemesis in the loop, as the interpreter
	// does: its completions (what it did to which node) feed the
	// generator. Strobes are skipped: they block for their duration.
	seen := map[string]bool{}
	var invokeErr error
	complete := func(_ *generator.Context, op history.Op) history.Op {
		if op.F == nemesis.FStrobeClock {
			return nemesisInfo(nil, op)
		}
		res, err := nem.Invoke(ctx, env, op)
		if err != nil && invokeErr == nil {
			invokeErr = fmt.Errorf("%s: %w", op, err)
		}
		seen[op.F] = true
		if res.Type != history.Info || res.F != op.F {
			t.Fatalf("%s completed as %s", op, res)
		}
		if m, ok := res.Value.(history.Map); ok {
			for _, e := range m {
				if !slices.Contains(five, e.Key.(string)) {
					t.Fatalf("%s completion names %v", op, e.Key)
				}
			}
		} else if op.F != nemesis.FStopPartition && op.F != nemesis.FStopPacket && res.Value != "no-target" {
			t.Fatalf("%s completion value %s names no nodes", op, history.Format(res.Value))
		}
		res.Time = op.Time + int64(time.Millisecond)
		return res
	}
	g := generator.Phases(generator.TimeLimit(400*time.Second, generator.Nemesis(pkg.Generator)), generator.Nemesis(pkg.FinalGenerator))
	if _, err := generator.Simulate(g, generator.SimOptions{Concurrency: 2, Nemesis: true, Seed: 5, Complete: complete}); err != nil {
		t.Fatal(err)
	}
	if invokeErr != nil {
		t.Fatal(invokeErr)
	}
	// The final generator healed everything.
	if dirty := d.dirty(); len(dirty) > 0 || n.grudge != nil || n.shaped != nil {
		t.Errorf("after the final generator: %v, grudge %v, shaped %v", dirty, n.grudge, n.shaped)
	}
	for _, f := range []string{nemesis.FStartPartition, nemesis.FKill, nemesis.FPause, nemesis.FBumpClock, nemesis.FStartPacket, nemesis.FRemoveNode} {
		if !seen[f] {
			t.Errorf("the schedule never ran %s", f)
		}
	}
	if d.conflicts > 0 {
		t.Errorf("%d times a node was killed and paused at once", d.conflicts)
	}
	if n.drops == 0 || d.kills == 0 || d.pauses == 0 {
		t.Errorf("faults not injected: %d cuts, %d kills, %d pauses", n.drops, d.kills, d.pauses)
	}
	// Leave faults in place, then tear down: everything heals.
	for _, op := range []history.Op{
		info(nemesis.FStartPartition, netfault.ShapeMajority), info(nemesis.FKill, []any{"n1"}), info(nemesis.FPause, []any{"n2"}),
		info(nemesis.FBumpClock, history.Map{{Key: "n3", Val: int64(5000)}}), info(nemesis.FRemoveNode, "n4"),
		info(nemesis.FStartPacket, []any{"n5", "loss=10%"}),
	} {
		if _, err := nem.Invoke(ctx, env, op); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
	}
	if len(d.dirty()) != 4 || n.grudge == nil || n.shaped == nil {
		t.Fatalf("faults not in place: %v, %v, %v", d.dirty(), n.grudge, n.shaped)
	}
	if err := nem.Teardown(ctx, env); err != nil {
		t.Fatal(err)
	}
	if dirty := d.dirty(); len(dirty) > 0 || n.grudge != nil || n.shaped != nil {
		t.Errorf("after teardown: %v, grudge %v, shaped %v", dirty, n.grudge, n.shaped)
	}
	if err := nem.Teardown(ctx, env); err != nil {
		t.Errorf("second teardown: %v", err)
	}
}

func TestRoles(t *testing.T) {
	d, n := newFakeDB(), &fakeNet{}
	opts := allOpts(d, n)
	opts.Faults = []string{Partition, Kill}
	opts.Nodes = append(slices.Clone(five), "z1", "z2")
	opts.Roles = map[string][]string{"db": five, "zk": {"z1", "z2"}}
	pkg, err := Packages(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	env := &control.Env{Nodes: opts.Nodes, Seed: 3}
	nem, err := pkg.Nemesis.Setup(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range generator.Invocations(simulate(t, pkg, 300*time.Second, 1)) {
		if _, err := nem.Invoke(ctx, env, op); err != nil {
			t.Fatal(err)
		}
		for _, z := range []string{"z1", "z2"} {
			if len(n.grudge[z]) > 0 || n.grudge.Cut(z, "n1") || d.isKilled(z) {
				t.Fatalf("after %s the zk node %s was touched: %v", op, z, n.grudge)
			}
		}
	}
	nem.Teardown(ctx, env)
	opts.Role = map[string]string{Kill: "kafka"}
	if _, err := Packages(opts); err == nil || !strings.Contains(err.Error(), `"kafka"`) {
		t.Errorf("a role without nodes: %v", err)
	}
}

type plainDB struct{}

func (plainDB) Setup(context.Context, *control.Env, string) error    { return nil }
func (plainDB) Teardown(context.Context, *control.Env, string) error { return nil }

func TestCheckRefuses(t *testing.T) {
	ctx := context.Background()
	base := Options{Nodes: five, DB: plainDB{}, Interval: time.Second}
	for _, tc := range []struct {
		faults []string
		mod    func(*Options)
		caps   map[string]netfault.Capabilities
		want   string
	}{
		{[]string{Kill}, nil, nil, "db.Killer"},
		{[]string{Pause}, nil, nil, "db.Pauser"},
		{[]string{Partition}, nil, nil, "Options.Net"},
		{[]string{Packet}, nil, nil, "Options.Shaper"},
		{[]string{File}, nil, nil, "FileGlobs"},
		{[]string{Membership}, nil, nil, "nemesis.Membership"},
		{[]string{Clock}, nil, nil, "libfaketime"},
		{[]string{Partition}, func(o *Options) { o.Net = &fakeNet{} }, map[string]netfault.Capabilities{"n1": {Node: "n1"}}, "neither nft nor iptables"},
		{[]string{Packet}, func(o *Options) {
			o.Shaper = &fakeNet{}
			o.Behaviours = []netfault.Behaviour{{Corrupt: &netfault.Percent{Percent: 5}}}
		}, map[string]netfault.Capabilities{"n2": {Node: "n2", Nft: true}}, "packet corrupt is not supported on n2"},
	} {
		o := base
		o.Faults = tc.faults
		if tc.mod != nil {
			tc.mod(&o)
		}
		err := Check(ctx, o, tc.caps)
		if !errors.Is(err, netfault.ErrUnsupported) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v; want ErrUnsupported mentioning %q", tc.faults, err, tc.want)
		}
	}
	o := base
	o.Faults = []string{Partition}
	o.Net = &fakeNet{}
	if err := Check(ctx, o, map[string]netfault.Capabilities{"n1": {Node: "n1", Nft: true}}); err != nil {
		t.Errorf("a possible fault refused: %v", err)
	}
	if _, err := ParseFaults("partition,bogus"); err == nil || !strings.Contains(err.Error(), `"bogus"`) {
		t.Errorf("ParseFaults: %v", err)
	}
	if f, err := ParseFaults(" partition, kill ,partition,none"); err != nil || !slices.Equal(f, []string{Partition, Kill}) {
		t.Errorf("ParseFaults = %v, %v", f, err)
	}
	p, err := Packages(Options{Nodes: five})
	if err != nil || p.Generator != nil || p.FinalGenerator != nil {
		t.Errorf("no faults: %+v, %v", p, err)
	}
}

// BenchmarkSchedule simulates an hour of every fault at a one-second
// interval: the cost of the guard and the packages' generators.
func BenchmarkSchedule(b *testing.B) {
	opts := allOpts(newFakeDB(), &fakeNet{})
	opts.Interval = time.Second
	pkg, err := Packages(opts)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		g := generator.TimeLimit(time.Hour, generator.Nemesis(pkg.Generator))
		if _, err := generator.Simulate(g, generator.SimOptions{Concurrency: 2, Nemesis: true, Seed: 1, Complete: nemesisInfo}); err != nil {
			b.Fatal(err)
		}
	}
}
