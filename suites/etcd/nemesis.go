package etcd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"time"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/cli"
	"github.com/faultline/faultline/cluster"
	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/nemesis/combined"
	"github.com/faultline/faultline/netfault"
)

// RecoveryWait is how long the final phase waits after healing before the
// final reads, for killed members to rejoin and a leader to be elected (as
// Jepsen's etcd test sleeps 10 s).
const RecoveryWait = 10 * time.Second

var _ nemesis.DataFiles = (*DB)(nil)

// DataFiles names etcd's data files on node, for the file-corruption
// nemesis: the bbolt database and the write-ahead log segments.
func (d *DB) DataFiles(context.Context, *control.Env, string) ([]string, error) {
	return []string{
		path.Join(d.dataDir(), "member", "snap", "db"),
		path.Join(d.dataDir(), "member", "wal", "*.wal"),
	}, nil
}

// NemesisPackage builds the nemesis package that --nemesis and
// --nemesis-interval ask for, on the netns cluster c (reached through
// remote) running d: network
// faults through netfault.NodeNet on the nodes, process faults through d
// (kill/start, pause/resume), file corruption of d's data files. Faults
// this cluster cannot inject are refused before anything runs, with an
// error wrapping netfault.ErrUnsupported (and faultline.ErrConfig: exit
// 254). No faults give an empty package.
func NemesisPackage(ctx context.Context, o *cli.Options, c *cluster.Cluster, remote control.Remote, d *DB, log *slog.Logger) (combined.Package, error) {
	faults, err := combined.ParseFaults(o.Nemesis)
	if err != nil {
		return combined.Package{}, fmt.Errorf("%w: --nemesis: %v", faultline.ErrConfig, err)
	}
	if len(faults) == 0 {
		return combined.Package{}, nil
	}
	nodes := c.Nodes()
	addrs := map[string][]string{}
	for _, n := range nodes {
		addrs[n] = []string{c.Addr(n)}
	}
	nn, err := netfault.New(netfault.Config{Remote: remote, Nodes: nodes, Addrs: addrs, Seed: o.Seed, Log: log})
	if err != nil {
		return combined.Package{}, err
	}
	var caps map[string]netfault.Capabilities
	if slices.Contains(faults, combined.Partition) || slices.Contains(faults, combined.Packet) {
		if caps, err = nn.ProbeAll(ctx); err != nil {
			return combined.Package{}, fmt.Errorf("probing the nodes' fault capabilities: %w", err)
		}
	}
	env := &control.Env{Name: "etcd", Nodes: nodes, Remote: remote, Seed: o.Seed, Log: log}
	pkg, err := cli.Faults(ctx, o, combined.Options{Nodes: nodes, DB: d, Net: nn, Shaper: nn, Env: env}, caps)
	if errors.Is(err, netfault.ErrUnsupported) {
		return pkg, fmt.Errorf("%w: %w", faultline.ErrConfig, err)
	}
	return pkg, err
}
