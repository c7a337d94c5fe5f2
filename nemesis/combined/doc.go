// Package combined builds nemesis packages from fault names, the way
// jepsen.nemesis.combined does: each Package holds a nemesis, its
// generator (the fault schedule), a final generator that heals, and the
// Perf specs (checker.NemesisSpec) naming the fs that start and stop each
// fault for plots.
//
// Packages(Options) reads the names --nemesis takes (partition, kill,
// pause, clock, packet, file, membership; ParseFaults reads the flag) and
// the mean interval of --nemesis-interval. Each fault alternates start and
// stop ops (file corruption only starts) with random waits of mean
// Interval (Jepsen's stagger over flip-flop), the first one an Interval
// into the test. Starts draw their targets from Jepsen's node specs
// (nemesis.Specs) and their shapes and behaviours from the options. The
// faults run side by side on the nemesis thread; kill and pause never hold
// the same node at once (the generator resolves their node specs itself,
// among nodes no conflicting fault holds) unless AllowConflicts is set.
// The final generator heals in a fixed order: stop-partition, stop-packet,
// resume all, start all, reset-clock, add-node.
//
// Roles: Options.Roles maps roles to nodes (for example "db" and
// "zookeeper"); each fault acts only on the nodes of its role
// (Options.Role, default "db"), so side services are left alone.
//
// Check refuses, before the run, faults this cluster cannot inject: a DB
// without the ability a fault needs, a kernel without what a packet
// behaviour needs (from netfault.Capabilities), a clock fault on nodes
// that share the control host's kernel for a DB not run under libfaketime.
// Its errors wrap netfault.ErrUnsupported and say what would make the
// fault possible (exit code 254).
//
// A suite builds a test from CLI options roughly so:
//
//	faults, err := combined.ParseFaults(flagNemesis)
//	nn, err := netfault.New(netfault.Config{Remote: env.Remote, Nodes: env.Nodes, Log: env.Log, Seed: env.Seed})
//	caps, err := nn.ProbeAll(ctx)
//	opts := combined.Options{Faults: faults, Interval: interval, Nodes: env.Nodes,
//		DB: theDB, Net: nn, Shaper: nn, Env: env}
//	if err := combined.Check(ctx, opts, caps); err != nil { ... exit 254 ... }
//	pkg, err := combined.Packages(opts)
//	test.Nemesis = pkg.Nemesis
//	test.Generator = generator.ClientsNemesis(clientGen, pkg.Generator)
//	test.FinalGenerator = generator.Phases(generator.Nemesis(pkg.FinalGenerator), finalReads)
//
// It corresponds to Jepsen's jepsen.nemesis.combined.
package combined
