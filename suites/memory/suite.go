package memory

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/cli"
	"github.com/faultline/faultline/client"
	"github.com/faultline/faultline/cluster"
	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/db"
	"github.com/faultline/faultline/internal/memdb"
	"github.com/faultline/faultline/nemesis/combined"
	"github.com/faultline/faultline/netfault"
	"github.com/faultline/faultline/workload"
)

// Suite is the command-line suite for --db memory.
func Suite() cli.Suite {
	return cli.Suite{
		Name:      "memory",
		Help:      "Faultline's own replicated key-value store: in-process (faults: partition, kill, pause), or one process per node with --cluster netns (all network faults)",
		Workloads: memdb.Workloads(),
		Flags: []cli.Flag{
			{Name: "bug", Default: "none", Usage: "bug built into the store: none, stale-reads or lost-writes"},
			{Name: "rate", Default: strconv.Itoa(workload.DefaultRate), Usage: "total client operations per second (negative: unlimited)"},
		},
		Test:    newTest,
		Checker: rebuildChecker,
	}
}

func newTest(ctx context.Context, o *cli.Options) (*faultline.Test, func(), error) {
	bug, err := memdb.ParseBug(o.Option("bug", "none"))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: --bug: %v", faultline.ErrConfig, err)
	}
	rate, err := strconv.ParseFloat(o.Option("rate", strconv.Itoa(workload.DefaultRate)), 64)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: --rate %q is not a number", faultline.ErrConfig, o.Option("rate", ""))
	}
	w, err := workload.ByName(o.Workload, workload.Options{Concurrency: o.Concurrency, Rate: rate})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", faultline.ErrConfig, err)
	}
	cfg := memdb.Config{Bug: bug, Seed: o.Seed}
	var (
		d       db.DB
		cl      client.Client
		pkg     combined.Package
		remote  control.Remote
		cleanup func()
	)
	switch o.Cluster {
	case "":
		// In-process: faults act on the replicas themselves; partitions cut
		// the in-memory links between them, kills and pauses stop them.
		ipd := memdb.NewInProcessDB(cfg)
		d, cl = ipd, memdb.NewInProcessClient(ipd, memdb.ClientConfig{Workload: o.Workload})
		if pkg, err = cli.Faults(ctx, o, combined.Options{DB: ipd, Net: memNet{ipd}}, nil); err != nil {
			return nil, nil, err
		}
	case cluster.DriverNetns:
		// One `faultline memdb serve` process per node of a local cluster:
		// faults act on real processes and real network links.
		log := o.Log
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		name := o.Option("cluster-name", cluster.DefaultName)
		if err := cluster.ValidName(name); err != nil {
			return nil, nil, fmt.Errorf("%w: --option cluster-name: %v", faultline.ErrConfig, err)
		}
		c, down, err := cli.LocalCluster(ctx, name, len(o.Nodes), false, log)
		if err != nil {
			return nil, nil, err
		}
		addrs := map[string]string{}
		for _, n := range c.Nodes() {
			addrs[n] = net.JoinHostPort(c.Addr(n), memdb.DefaultPort)
		}
		nd, err := newNetDB(cfg, addrs)
		if err == nil {
			pkg, err = cli.ClusterFaults(ctx, o, c, c.Remote(), nd, log)
		}
		if err != nil {
			down()
			return nil, nil, err
		}
		d, cl, remote, cleanup = nd, memdb.NewNetClient(memdb.ClientConfig{Workload: o.Workload, Addrs: addrs}), c.Remote(), down
	default:
		return nil, nil, fmt.Errorf("%w: --cluster %s: the memory store runs in-process or on a netns cluster", faultline.ErrConfig, o.Cluster)
	}
	gen, final := cli.Schedule(w, pkg, recoveryTime)
	name := "memory-" + o.Workload
	if bug != memdb.BugNone {
		name += "-" + string(bug)
	}
	t := &faultline.Test{
		Remote:         remote,
		Name:           name,
		Nodes:          o.Nodes,
		Concurrency:    o.Concurrency,
		TimeLimit:      o.TimeLimit,
		Seed:           o.Seed,
		DB:             d,
		Client:         cl,
		Nemesis:        pkg.Nemesis,
		Generator:      gen,
		FinalGenerator: final,
		Checker:        workload.Standard(w.Checker, pkg.Perf...),
		Options:        map[string]string{"bug": string(bug), "rate": o.Option("rate", "")},
	}
	return t, cleanup, nil
}

// recoveryTime is how long the replicas get to elect a leader and catch up
// after the faults are healed, before the final reads.
const recoveryTime = 2 * time.Second

// memNet cuts the in-memory links between replicas for partitions.
type memNet struct{ d *memdb.InProcessDB }

func (m memNet) Drop(ctx context.Context, g netfault.Grudge) error {
	return m.d.Partition(ctx, nil, g)
}

func (m memNet) Heal(ctx context.Context) error { return m.d.Heal(ctx, nil) }

// rebuildChecker gives `analyze` the checker of a stored memory run.
func rebuildChecker(wl string, rec faultline.TestRecord) (checker.Checker, error) {
	c, err := workload.CheckerByName(wl, workload.Options{Concurrency: rec.Concurrency})
	if err != nil {
		return nil, err
	}
	return workload.Standard(c), nil
}
