package memory

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/checker/elle"
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
			{Name: "bug", Default: "none", Usage: "bug built into the store: " + memdb.BugNames() +
				" (read-committed, snapshot-isolation, lost-update and non-atomic change how transactions run: see the append and wr workloads)"},
			{Name: "consistency-models", Default: elle.DefaultModel, Usage: "for the append and wr workloads: the consistency models the transactional checker checks, comma-separated, by Elle's names (e.g. serializable,snapshot-isolation)"},
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
	models, err := elle.ParseModels(o.Option("consistency-models", elle.DefaultModel))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: --consistency-models: %v", faultline.ErrConfig, err)
	}
	w, err := buildWorkload(o.Workload, workload.Options{Concurrency: o.Concurrency, Rate: rate}, models)
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
	if isTxn(o.Workload) {
		t.Options["consistency-models"] = strings.Join(models, ",")
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

// isTxn reports whether the workload is transactional (checked by Elle).
func isTxn(wl string) bool { return wl == memdb.WorkloadAppend || wl == memdb.WorkloadWR }

// buildWorkload returns the named workload; the transactional ones check
// the given consistency models (none: the workload's default,
// strict-serializable).
func buildWorkload(name string, o workload.Options, models []string) (workload.Workload, error) {
	t := workload.TxnOptions{Checker: elle.Options{ConsistencyModels: models}}
	switch name {
	case memdb.WorkloadAppend:
		return workload.AppendWith(o, t)
	case memdb.WorkloadWR:
		return workload.WRWith(o, t)
	}
	return workload.ByName(name, o)
}

// rebuildChecker gives `analyze` the checker of a stored memory run, with
// the consistency models the run recorded.
func rebuildChecker(wl string, rec faultline.TestRecord) (checker.Checker, error) {
	o := workload.Options{Concurrency: rec.Concurrency}
	if !isTxn(wl) {
		c, err := workload.CheckerByName(wl, o)
		if err != nil {
			return nil, err
		}
		return workload.Standard(c), nil
	}
	models, err := elle.ParseModels(rec.Options["consistency-models"])
	if err != nil {
		return nil, fmt.Errorf("the run's consistency-models option: %w", err)
	}
	w, err := buildWorkload(wl, o, models)
	if err != nil {
		return nil, err
	}
	return workload.Standard(w.Checker), nil
}
