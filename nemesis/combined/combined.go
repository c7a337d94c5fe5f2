package combined

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/db"
	"github.com/faultline/faultline/generator"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/netfault"
)

// Fault names, as --nemesis takes them.
const (
	Partition  = "partition"
	Kill       = "kill"
	Pause      = "pause"
	Clock      = "clock"
	Packet     = "packet"
	File       = "file"
	Membership = "membership"
)

// Faults lists the fault names Packages knows.
var Faults = []string{Partition, Kill, Pause, Clock, Packet, File, Membership}

// DefaultInterval is the mean time between nemesis ops (Jepsen's
// default-interval).
const DefaultInterval = 10 * time.Second

// DefaultRole is the role packages act on unless told otherwise.
const DefaultRole = "db"

// Package is a nemesis with its schedule (jepsen.nemesis.combined's
// package map): Generator emits the faults (run it on the nemesis thread,
// e.g. generator.ClientsNemesis(clients, pkg.Generator)), FinalGenerator
// heals everything at the end of the run, Perf names the start and stop fs
// of each fault for plots (checker.NemesisIntervals).
type Package struct {
	Nemesis        nemesis.Nemesis
	Generator      generator.Generator
	FinalGenerator generator.Generator
	Perf           []checker.NemesisSpec
}

// Options chooses and configures the faults.
type Options struct {
	// Faults to inject (Faults' names); see ParseFaults.
	Faults []string
	// Interval is the mean time between one package's ops: each package
	// alternates start and stop ops with random waits of mean Interval
	// (uniform in [0, 2*Interval)), the first after Interval. 0 is
	// DefaultInterval.
	Interval time.Duration
	// Nodes are the test's nodes.
	Nodes []string
	// Roles maps a role to its nodes (e.g. "db" and "kafka"); nil means
	// every node has role DefaultRole.
	Roles map[string][]string
	// Role maps a fault name to the role it acts on (default DefaultRole);
	// nodes of other roles are left alone.
	Role map[string]string
	// DB supplies abilities, found by type assertion: db.Killer (kill),
	// db.Pauser (pause), db.Primaries (the primaries spec and shape),
	// nemesis.Clock (clock), nemesis.DataFiles (file), nemesis.Membership
	// (membership).
	DB db.DB
	// Net cuts links (partition); Shaper shapes packets (packet). A
	// netfault.NodeNet is both.
	Net    netfault.Net
	Shaper netfault.Shaper
	// Pauser pauses when the DB cannot (e.g. nemesis.PidfilePauser).
	Pauser db.Pauser
	// Clock moves clocks when the DB is no nemesis.Clock; nil falls back
	// to nemesis.SystemClock, which Check refuses on shared-kernel nodes.
	Clock nemesis.Clock
	// FileGlobs choose the files to corrupt when the DB is no
	// nemesis.DataFiles.
	FileGlobs []string
	// Targets maps a fault name to the node specs its starts draw from
	// (default: some, one, minority-third, minority, majority, all, plus
	// primaries when the DB has db.Primaries, as Jepsen's node-specs).
	Targets map[string][]any
	// PartitionShapes are the shapes start-partition draws from (default:
	// one, minority-third, majority, majorities-ring, plus primaries when
	// the DB has db.Primaries, as Jepsen's partition-specs).
	PartitionShapes []string
	// Behaviours are the packet behaviours start-packet draws from
	// (default DefaultBehaviours(nil)).
	Behaviours []netfault.Behaviour
	// AllowConflicts lets a node be killed and paused at once.
	AllowConflicts bool
	// OpTimeout bounds each nemesis op inside the nemesis (0: only the
	// interpreter's bound).
	OpTimeout time.Duration
	// Env reaches the nodes for Check's probes of clocks (optional).
	Env *control.Env
}

// ParseFaults reads a comma-separated list of fault names; "none" or ""
// is no fault.
func ParseFaults(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" || f == "none" {
			continue
		}
		if !slices.Contains(Faults, f) {
			return nil, fmt.Errorf("unknown nemesis fault %q (have %s)", f, strings.Join(Faults, ", "))
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// DefaultBehaviours are the packet behaviours drawn from by default: delay
// 50ms±10ms (normal), loss 20%, duplicate 20%, reorder 20% (with delay),
// rate 1mbit, and corrupt 20% when every node in caps has netem (nil caps:
// no corrupt).
func DefaultBehaviours(caps map[string]netfault.Capabilities) []netfault.Behaviour {
	delay := &netfault.Delay{Time: 50 * time.Millisecond, Jitter: 10 * time.Millisecond, Distribution: "normal"}
	out := []netfault.Behaviour{
		{Delay: delay},
		{Loss: &netfault.Percent{Percent: 20}},
		{Duplicate: &netfault.Percent{Percent: 20}},
		{Delay: delay, Reorder: &netfault.Percent{Percent: 20}},
		{Rate: &netfault.Rate{BitsPerSecond: 1e6}},
	}
	netem := len(caps) > 0
	for _, c := range caps {
		netem = netem && c.Netem
	}
	if netem {
		out = append(out, netfault.Behaviour{Corrupt: &netfault.Percent{Percent: 20}})
	}
	return out
}

func (o Options) roleNodes(fault string) []string {
	role := o.Role[fault]
	if role == "" {
		role = DefaultRole
	}
	if o.Roles == nil {
		if role == DefaultRole {
			return slices.Clone(o.Nodes)
		}
		return nil
	}
	return slices.Clone(o.Roles[role])
}

func (o Options) interval() time.Duration {
	if o.Interval > 0 {
		return o.Interval
	}
	return DefaultInterval
}

func (o Options) targets(fault string) []any {
	if t := o.Targets[fault]; len(t) > 0 {
		return t
	}
	t := []any{nemesis.SpecSome, nemesis.SpecOne, nemesis.SpecMinorityThird, nemesis.SpecMinority, nemesis.SpecMajority, nemesis.SpecAll}
	if _, ok := o.DB.(db.Primaries); ok {
		t = append(t, nemesis.SpecPrimaries)
	}
	return t
}

func (o Options) shapes() []string {
	if len(o.PartitionShapes) > 0 {
		return o.PartitionShapes
	}
	s := []string{netfault.ShapeOne, netfault.ShapeMinorityThird, netfault.ShapeMajority, netfault.ShapeMajoritiesRing}
	if _, ok := o.DB.(db.Primaries); ok {
		s = append(s, netfault.ShapePrimaries)
	}
	return s
}

func (o Options) primaries() db.Primaries {
	p, _ := o.DB.(db.Primaries)
	return p
}

func (o Options) pauser() db.Pauser {
	if o.Pauser != nil {
		return o.Pauser
	}
	p, _ := o.DB.(db.Pauser)
	return p
}

func (o Options) clock() nemesis.Clock {
	if o.Clock != nil {
		return o.Clock
	}
	if c, ok := o.DB.(nemesis.Clock); ok {
		return c
	}
	return &nemesis.SystemClock{}
}

// info is a nemesis op template.
func info(f string, v any) history.Op { return history.Op{Type: history.Info, F: f, Value: v} }

func pick[T any](ctx *generator.Context, xs []T) T { return xs[ctx.Rand().IntN(len(xs))] }

// schedule is Jepsen's (gen/stagger interval (gen/flip-flop start stop)),
// with the first op after one interval.
func (o Options) schedule(start, stop generator.Generator) generator.Generator {
	return generator.Stagger(o.interval(), &delayFirst{d: int64(o.interval()), g: generator.FlipFlop(start, stop)})
}

// PartitionPackage cuts the network with shapes drawn from
// opts.PartitionShapes.
func PartitionPackage(opts Options) (Package, error) {
	if opts.Net == nil {
		return Package{}, unsupported(Partition, "no network to cut (Options.Net)", "use a cluster whose nodes can be firewalled")
	}
	shapes := opts.shapes()
	for _, s := range shapes {
		if !slices.Contains(netfault.Shapes, s) {
			return Package{}, fmt.Errorf("unknown partition shape %q (have %s)", s, strings.Join(netfault.Shapes, ", "))
		}
	}
	stop := info(nemesis.FStopPartition, nil)
	return Package{
		Nemesis: &nemesis.Partition{Net: opts.Net, Nodes: opts.roleNodes(Partition), Primaries: opts.primaries()},
		Generator: opts.schedule(
			generator.Fn(func(ctx *generator.Context) (history.Op, bool) {
				return info(nemesis.FStartPartition, pick(ctx, shapes)), true
			}),
			generator.Repeat(generator.Lit(stop))),
		FinalGenerator: generator.Lit(stop),
		Perf:           []checker.NemesisSpec{{Name: Partition, Start: []string{nemesis.FStartPartition}, Stop: []string{nemesis.FStopPartition}}},
	}, nil
}

// KillPackage kills nodes chosen by opts.Targets[kill] and starts them all
// again.
func KillPackage(opts Options) (Package, error) {
	k, ok := opts.DB.(db.Killer)
	if !ok {
		return Package{}, unsupported(Kill, "the DB cannot kill and restart its processes (db.Killer)", "implement Kill and Start in the DB")
	}
	targets := opts.targets(Kill)
	start := info(nemesis.FStart, nemesis.SpecAll)
	return Package{
		Nemesis: &nemesis.Kill{DB: k, Nodes: opts.roleNodes(Kill), Primaries: opts.primaries()},
		Generator: opts.schedule(
			generator.Fn(func(ctx *generator.Context) (history.Op, bool) { return info(nemesis.FKill, pick(ctx, targets)), true }),
			generator.Repeat(generator.Lit(start))),
		FinalGenerator: generator.Lit(start),
		Perf:           []checker.NemesisSpec{{Name: Kill, Start: []string{nemesis.FKill}, Stop: []string{nemesis.FStart}}},
	}, nil
}

// PausePackage pauses nodes chosen by opts.Targets[pause] and resumes them
// all.
func PausePackage(opts Options) (Package, error) {
	p := opts.pauser()
	if p == nil {
		return Package{}, unsupported(Pause, "nothing can pause the DB (db.Pauser, or Options.Pauser such as nemesis.PidfilePauser)", "implement Pause and Resume in the DB, or name its pidfile")
	}
	targets := opts.targets(Pause)
	resume := info(nemesis.FResume, nemesis.SpecAll)
	return Package{
		Nemesis: &nemesis.Pause{DB: p, Nodes: opts.roleNodes(Pause), Primaries: opts.primaries()},
		Generator: opts.schedule(
			generator.Fn(func(ctx *generator.Context) (history.Op, bool) { return info(nemesis.FPause, pick(ctx, targets)), true }),
			generator.Repeat(generator.Lit(resume))),
		FinalGenerator: generator.Lit(resume),
		Perf:           []checker.NemesisSpec{{Name: Pause, Start: []string{nemesis.FPause}, Stop: []string{nemesis.FResume}}},
	}, nil
}

// ClockPackage bumps or strobes clocks and resets them, in turn. Bumps
// are ±2^k ms for k uniform in [2, 18) (up to about 4 minutes), as
// jepsen.nemesis.time; strobes flip by up to 2^18 ms every 2^k ms (k in
// [0, 10)) for up to 10 s.
func ClockPackage(opts Options) (Package, error) {
	targets := opts.targets(Clock)
	reset := info(nemesis.FResetClock, nemesis.SpecAll)
	bump := func(ctx *generator.Context) (history.Op, bool) {
		r := ctx.Rand()
		ms := int64(1 << (2 + r.IntN(16)))
		if r.IntN(2) == 0 {
			ms = -ms
		}
		if r.IntN(3) == 0 {
			return info(nemesis.FStrobeClock, []any{pick(ctx, targets), history.Map{
				{Key: "delta", Val: int64(1 << (2 + r.IntN(16)))},
				{Key: "period", Val: int64(1 << r.IntN(10))},
				{Key: "duration", Val: int64(1 + r.IntN(10))},
			}}), true
		}
		return info(nemesis.FBumpClock, []any{pick(ctx, targets), ms}), true
	}
	return Package{
		Nemesis:        &nemesis.ClockNemesis{Clock: opts.clock(), Nodes: opts.roleNodes(Clock), Primaries: opts.primaries()},
		Generator:      opts.schedule(generator.Fn(bump), generator.Repeat(generator.Lit(reset))),
		FinalGenerator: generator.Lit(reset),
		Perf:           []checker.NemesisSpec{{Name: Clock, Start: []string{nemesis.FBumpClock, nemesis.FStrobeClock}, Stop: []string{nemesis.FResetClock}}},
	}, nil
}

// PacketPackage applies behaviours drawn from opts.Behaviours to nodes
// drawn from opts.Targets[packet], and removes them, in turn.
func PacketPackage(opts Options) (Package, error) {
	if opts.Shaper == nil {
		return Package{}, unsupported(Packet, "nothing can shape packets (Options.Shaper)", "use a cluster whose nodes can run tc/nftables")
	}
	bs := opts.Behaviours
	if len(bs) == 0 {
		bs = DefaultBehaviours(nil)
	}
	for _, b := range bs {
		if err := b.Validate(); err != nil {
			return Package{}, err
		}
	}
	targets := opts.targets(Packet)
	stop := info(nemesis.FStopPacket, nil)
	return Package{
		Nemesis: &nemesis.Packet{Shaper: opts.Shaper, Nodes: opts.roleNodes(Packet), Primaries: opts.primaries()},
		Generator: opts.schedule(
			generator.Fn(func(ctx *generator.Context) (history.Op, bool) {
				return info(nemesis.FStartPacket, nemesis.PacketValue(pick(ctx, targets), pick(ctx, bs))), true
			}),
			generator.Repeat(generator.Lit(stop))),
		FinalGenerator: generator.Lit(stop),
		Perf:           []checker.NemesisSpec{{Name: Packet, Start: []string{nemesis.FStartPacket}, Stop: []string{nemesis.FStopPacket}}},
	}, nil
}

// FilePackage corrupts data files now and then: bit flips, truncations,
// and chunks snapshotted and later restored (rolled back). Corruption is
// not undone during the run (Teardown restores the files); it has no stop
// and no final generator.
func FilePackage(opts Options) (Package, error) {
	df, _ := opts.DB.(nemesis.DataFiles)
	if len(opts.FileGlobs) == 0 && df == nil {
		return Package{}, unsupported(File, "no data files named (Options.FileGlobs, or a DB with nemesis.DataFiles)", "say which files hold the DB's data")
	}
	targets := opts.targets(File)
	fs := []string{nemesis.FBitflip, nemesis.FTruncate, nemesis.FSnapshotChunks, nemesis.FRestoreChunks}
	gen := generator.Fn(func(ctx *generator.Context) (history.Op, bool) {
		return info(pick(ctx, fs), []any{pick(ctx, targets), history.Map{}}), true
	})
	return Package{
		Nemesis:   &nemesis.FileCorruption{Globs: opts.FileGlobs, DB: df, Nodes: opts.roleNodes(File), Primaries: opts.primaries()},
		Generator: generator.Stagger(opts.interval(), &delayFirst{d: int64(opts.interval()), g: gen}),
		Perf:      []checker.NemesisSpec{{Name: File, Start: fs}},
	}, nil
}

// MembershipPackage removes one node and adds it back, in turn.
func MembershipPackage(opts Options) (Package, error) {
	m, ok := opts.DB.(nemesis.Membership)
	if !ok {
		return Package{}, unsupported(Membership, "the DB has no membership hooks (nemesis.Membership)", "implement RemoveNode and AddNode in the DB")
	}
	add := info(nemesis.FAddNode, nil)
	return Package{
		Nemesis: &nemesis.MembershipNemesis{DB: m, Nodes: opts.roleNodes(Membership), Primaries: opts.primaries()},
		Generator: opts.schedule(generator.Repeat(generator.Lit(info(nemesis.FRemoveNode, nemesis.SpecOne))),
			generator.Repeat(generator.Lit(add))),
		FinalGenerator: generator.Lit(add),
		Perf:           []checker.NemesisSpec{{Name: Membership, Start: []string{nemesis.FRemoveNode}, Stop: []string{nemesis.FAddNode}}},
	}, nil
}

func unsupported(fault, reason, hint string) error {
	return &netfault.UnsupportedError{Fault: fault, Reason: reason, Hint: hint}
}

var builders = map[string]func(Options) (Package, error){
	Partition: PartitionPackage, Kill: KillPackage, Pause: PausePackage, Clock: ClockPackage,
	Packet: PacketPackage, File: FilePackage, Membership: MembershipPackage,
}

// finalOrder is the order final generators heal in: the network first,
// then processes (resume before start), then clocks and membership.
var finalOrder = []string{Partition, Packet, Pause, Kill, Clock, Membership, File}

// Packages builds one Package from the faults in opts: a nemesis composed
// by f, a generator running every fault's schedule at once (kill and pause
// never hold one node together unless AllowConflicts), a final generator
// healing everything, and the Perf specs of every fault. No fault gives an
// empty Package (a Noop nemesis, nil generators).
func Packages(opts Options) (Package, error) {
	var faults []string
	for _, f := range opts.Faults {
		if !slices.Contains(Faults, f) {
			return Package{}, fmt.Errorf("unknown nemesis fault %q (have %s)", f, strings.Join(Faults, ", "))
		}
		if !slices.Contains(faults, f) {
			faults = append(faults, f)
		}
	}
	if len(faults) == 0 {
		return Package{Nemesis: nemesis.Noop{}}, nil
	}
	if len(opts.Nodes) == 0 {
		return Package{}, errors.New("nemesis: no nodes")
	}
	for _, f := range faults {
		if len(opts.roleNodes(f)) == 0 {
			return Package{}, fmt.Errorf("nemesis %s acts on role %q, which has no nodes", f, opts.Role[f])
		}
	}
	pkgs := map[string]Package{}
	var errs []error
	for _, f := range faults {
		p, err := builders[f](opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		pkgs[f] = p
	}
	if err := errors.Join(errs...); err != nil {
		return Package{}, err
	}
	var out Package
	var nems []nemesis.Nemesis
	var gens, finals []generator.Generator
	guardNodes := map[string][]string{}
	for _, f := range faults {
		p := pkgs[f]
		nems = append(nems, p.Nemesis)
		gens = append(gens, p.Generator)
		out.Perf = append(out.Perf, p.Perf...)
	}
	for _, f := range finalOrder {
		if p, ok := pkgs[f]; ok && p.FinalGenerator != nil {
			finals = append(finals, p.FinalGenerator)
		}
	}
	guardNodes[nemesis.FKill] = opts.roleNodes(Kill)
	guardNodes[nemesis.FPause] = opts.roleNodes(Pause)
	nem, err := nemesis.ComposeAll(nems...)
	if err != nil {
		return Package{}, err
	}
	if opts.OpTimeout > 0 {
		nem = nemesis.Timeout(opts.OpTimeout, nem)
	}
	out.Nemesis = nem
	out.Generator = generator.Any(gens...)
	if !opts.AllowConflicts {
		out.Generator = newGuard(out.Generator, guardNodes)
	}
	out.FinalGenerator = generator.Seq(finals...)
	return out, nil
}

// Check refuses, before a run starts, faults that cannot be injected
// here: the errors wrap netfault.ErrUnsupported and say why and what would
// make the fault possible. caps are the nodes' probed capabilities (nil
// skips the network checks); opts.Env, when set, lets it check clocks on
// the nodes.
func Check(ctx context.Context, opts Options, caps map[string]netfault.Capabilities) error {
	if _, err := Packages(opts); err != nil {
		return err
	}
	var errs []error
	for _, f := range opts.Faults {
		nodes := opts.roleNodes(f)
		switch f {
		case Partition:
			for _, n := range nodes {
				if c, ok := caps[n]; ok {
					errs = append(errs, c.CheckPartition())
				}
			}
		case Packet:
			bs := opts.Behaviours
			if len(bs) == 0 {
				bs = DefaultBehaviours(caps)
			}
			for _, n := range nodes {
				c, ok := caps[n]
				if !ok {
					continue
				}
				for _, b := range bs {
					errs = append(errs, c.CheckBehaviour(b, false))
				}
			}
		case Clock:
			cl := opts.clock()
			chk, ok := cl.(nemesis.ClockChecker)
			if !ok {
				continue
			}
			if opts.Env == nil || opts.Env.Remote == nil {
				if _, sys := cl.(*nemesis.SystemClock); sys {
					errs = append(errs, unsupported(Clock, "no remote to check that the nodes have clocks of their own",
						"run against nodes with their own kernel, or start the DB under libfaketime (nemesis.FaketimeClock)"))
				}
				continue
			}
			errs = append(errs, chk.CheckClock(ctx, opts.Env, nodes))
		}
	}
	return errors.Join(errs...)
}

// delayFirst holds back g's first op until time d of the test (ns since
// the test began; package generators start with the test).
type delayFirst struct {
	d int64
	g generator.Generator
}

func (df *delayFirst) Op(ctx *generator.Context) (history.Op, generator.Generator, generator.Status) {
	op, next, st := df.g.Op(ctx)
	if st != generator.Ready {
		return op, nil, st
	}
	op.Time = max(op.Time, df.d)
	return op, next, st
}

func (df *delayFirst) Update(ctx *generator.Context, event history.Op) generator.Generator {
	g := df.g.Update(ctx, event)
	if g == nil {
		return nil
	}
	return &delayFirst{d: df.d, g: g}
}
