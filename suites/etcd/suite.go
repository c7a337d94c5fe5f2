package etcd

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/cli"
	"github.com/faultline/faultline/cluster"
	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/nemesis/combined"
	"github.com/faultline/faultline/workload"
)

// Suite option names (flags --read-mode, --etcd-version, --etcd-binary,
// --rate; --option cluster-name=NAME picks the netns cluster, --option
// remote=ssh reaches its nodes over SSH).
const (
	OptReadMode    = "read-mode"
	OptVersion     = "etcd-version"
	OptBinary      = "etcd-binary"
	OptRate        = "rate"
	OptClusterName = "cluster-name"
	OptRemote      = "remote"
)

// Remotes the suite reaches netns nodes through (--option remote=...).
const (
	RemoteNetns = "netns" // ip netns exec on this machine (default)
	RemoteSSH   = "ssh"   // SSH to an sshd in every node, as to real machines
)

// Suite is the command-line suite for --db etcd.
func Suite() cli.Suite {
	return cli.Suite{
		Name:      "etcd",
		Help:      "etcd (Debian's etcd-server, a given binary, or a version built from the Go module proxy) on a local netns cluster",
		Workloads: Workloads(),
		Flags: []cli.Flag{
			{Name: OptReadMode, Default: string(Linearizable), Usage: "how reads are served: linearizable or serializable (may be stale)"},
			{Name: OptVersion, Default: "", Usage: "build this etcd version (e.g. 3.7.3) from the Go module proxy once, cached, instead of Debian's etcd-server"},
			{Name: OptBinary, Default: "", Usage: "use this etcd binary instead of Debian's etcd-server"},
			{Name: OptRate, Default: strconv.Itoa(workload.DefaultRate), Usage: "total client operations per second (negative: unlimited)"},
		},
		Test:    NewTest,
		Checker: RebuildChecker,
	}
}

// settings are the suite's parsed options.
type settings struct {
	readMode    ReadMode
	version     string
	binary      string
	rate        float64
	clusterName string
	remote      string
}

func parseSettings(o *cli.Options) (settings, error) {
	var s settings
	var err error
	if s.readMode, err = ParseReadMode(o.Option(OptReadMode, string(Linearizable))); err != nil {
		return s, fmt.Errorf("--%s: %w", OptReadMode, err)
	}
	if v := o.Option(OptVersion, ""); v != "" {
		if s.version, err = ParseVersion(v); err != nil {
			return s, fmt.Errorf("--%s: %w", OptVersion, err)
		}
	}
	s.binary = o.Option(OptBinary, "")
	if s.binary != "" && s.version != "" {
		return s, fmt.Errorf("--%s and --%s exclude each other", OptBinary, OptVersion)
	}
	if s.binary != "" && !usable(s.binary) {
		return s, fmt.Errorf("--%s %s: not an executable file", OptBinary, s.binary)
	}
	rate := o.Option(OptRate, strconv.Itoa(workload.DefaultRate))
	if s.rate, err = strconv.ParseFloat(rate, 64); err != nil {
		return s, fmt.Errorf("--%s %q is not a number", OptRate, rate)
	}
	switch s.remote = o.Option(OptRemote, RemoteNetns); s.remote {
	case RemoteNetns, RemoteSSH:
	default:
		return s, fmt.Errorf("--option %s=%s: want %s or %s", OptRemote, s.remote, RemoteNetns, RemoteSSH)
	}
	s.clusterName = o.Option(OptClusterName, cluster.DefaultName)
	if err := cluster.ValidName(s.clusterName); err != nil {
		return s, fmt.Errorf("--option %s: %w", OptClusterName, err)
	}
	return s, nil
}

// defaultNodes reports whether nodes are the n1..nN that the command line
// makes up when no --node, --nodes or --nodes-file is given.
func defaultNodes(nodes []string) bool {
	for i, n := range nodes {
		if n != "n"+strconv.Itoa(i+1) {
			return false
		}
	}
	return len(nodes) > 0
}

// NewTest builds an etcd test from the command line: it is the suite's
// Test function. It runs on a netns cluster (--cluster netns, the default
// when no nodes are given): a running, healthy cluster of that name is
// reused, otherwise one is made for the run and removed by the returned
// cleanup.
func NewTest(ctx context.Context, o *cli.Options) (*faultline.Test, func(), error) {
	s, err := parseSettings(o)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", faultline.ErrConfig, err)
	}
	if !slices.Contains(Workloads(), o.Workload) {
		return nil, nil, fmt.Errorf("%w: --db etcd has no workload %q; known: %s", faultline.ErrConfig, o.Workload, strings.Join(Workloads(), ", "))
	}
	realHosts := o.NodesGiven && o.Cluster == ""
	switch {
	case realHosts:
	case o.Cluster == cluster.DriverNetns || o.Cluster == "":
		if !defaultNodes(o.Nodes) {
			return nil, nil, fmt.Errorf("%w: a netns cluster has nodes n1..nN; use --node-count instead of --nodes %s", faultline.ErrConfig, strings.Join(o.Nodes, ","))
		}
	default:
		return nil, nil, fmt.Errorf("%w: --cluster %s: the etcd suite runs on netns clusters, or on real hosts over SSH (--nodes without --cluster)", faultline.ErrConfig, o.Cluster)
	}
	if _, err := combined.ParseFaults(o.Nemesis); err != nil {
		return nil, nil, fmt.Errorf("%w: --nemesis: %v", faultline.ErrConfig, err)
	}
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	binary := s.binary
	if s.version != "" {
		if binary, err = BuildEtcd(ctx, s.version, log); err != nil {
			return nil, nil, err
		}
	}
	if realHosts {
		// Real machines, as Jepsen runs on: SSH to each node by name.
		r, err := cli.SSHRemote(o)
		if err != nil {
			return nil, nil, err
		}
		addrs, err := cli.ResolveNodes(ctx, o.Nodes)
		if err == nil {
			var t *faultline.Test
			if t, err = build(ctx, o, s, binary, o.Nodes, addrs, "", r, log); err == nil {
				return t, func() { r.Close() }, nil
			}
		}
		r.Close()
		return nil, nil, err
	}
	c, cleanup, err := cli.LocalCluster(ctx, s.clusterName, len(o.Nodes), s.remote == RemoteSSH, log)
	if err != nil {
		return nil, nil, err
	}
	var remote control.Remote = c.Remote()
	if s.remote == RemoteSSH {
		r, err := c.SSHRemote()
		if err != nil {
			cleanup()
			return nil, nil, fmt.Errorf("%w: --option remote=ssh: %w", faultline.ErrConfig, err)
		}
		down := cleanup
		cleanup = func() { r.Close(); down() }
		remote = r
	}
	addrs := map[string]string{}
	for _, n := range c.Nodes() {
		addrs[n] = c.Addr(n)
	}
	t, err := build(ctx, o, s, binary, c.Nodes(), addrs, c.Name(), remote, log)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return t, cleanup, nil
}

// build assembles the test.
// nodes are reached through remote; addrs are their IP addresses as peers
// see them; clusterName names the local cluster ("" for real hosts).
func build(ctx context.Context, o *cli.Options, s settings, binary string, nodes []string, addrs map[string]string,
	clusterName string, remote control.Remote, log *slog.Logger) (*faultline.Test, error) {
	d := NewDB(Config{Binary: binary, Addr: func(n string) string { return addrs[n] }})
	cl, err := NewClient(ClientConfig{Workload: o.Workload, ReadMode: s.readMode, URL: d.ClientURL})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", faultline.ErrConfig, err)
	}
	w, err := Workload(o.Workload, workload.Options{Concurrency: o.Concurrency, Rate: s.rate})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", faultline.ErrConfig, err)
	}
	name := "etcd-" + o.Workload
	if s.readMode == Serializable {
		name += "-serializable"
	}
	opts := map[string]string{OptReadMode: string(s.readMode), OptRate: o.Option(OptRate, "")}
	if s.version != "" {
		opts[OptVersion] = s.version
	}
	if s.binary != "" {
		opts[OptBinary] = s.binary
	}
	pkg, err := cli.NodeFaults(ctx, o, nodes, addrs, remote, d, log)
	if err != nil {
		return nil, fmt.Errorf("--nemesis %s: %w", o.Nemesis, err)
	}
	recovery := RecoveryWait
	if w.Final == nil {
		recovery = 0 // nothing reads after the healing
	}
	gen, final := cli.Schedule(w, pkg, recovery)
	return &faultline.Test{
		Name:           name,
		Nodes:          nodes,
		Concurrency:    o.Concurrency,
		TimeLimit:      o.TimeLimit,
		Seed:           o.Seed,
		Remote:         remote,
		DB:             d,
		Client:         cl,
		Nemesis:        pkg.Nemesis,
		Generator:      gen,
		FinalGenerator: final,
		Checker:        workload.Standard(w.Checker, pkg.Perf...),
		Options:        opts,
		Meta:           map[string]any{"cluster": clusterName, "remote": s.remote, "nemesis": o.Nemesis},
	}, nil
}

// Workload returns the etcd suite's workload called name.
func Workload(name string, o workload.Options) (workload.Workload, error) {
	switch name {
	case WorkloadRegister:
		return workload.Register(o)
	case WorkloadSet:
		return workload.Set(o), nil
	case WorkloadAppend:
		return workload.Append(o), nil
	case WorkloadWatch:
		return WatchWorkload(o), nil
	}
	return workload.Workload{}, fmt.Errorf("unknown workload %q; known: %s", name, strings.Join(Workloads(), ", "))
}

// RebuildChecker gives `analyze` the checker of a stored etcd run.
func RebuildChecker(wl string, rec faultline.TestRecord) (checker.Checker, error) {
	conc := rec.Concurrency
	if conc == 0 {
		conc = 10
	}
	w, err := Workload(wl, workload.Options{Concurrency: conc})
	if err != nil {
		return nil, err
	}
	return workload.Standard(w.Checker), nil
}
