package memdb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/db"
)

// InProcessDB runs an in-process Cluster as Faultline's DB: Setup starts a
// node (creating the cluster of env.Nodes on first use), Teardown stops and
// wipes it, and the Killer, Pauser and Primaries abilities act on the
// replicas, so nemeses work on the in-process DB too.
type InProcessDB struct {
	cfg Config

	mu     sync.Mutex
	cl     *Cluster
	cancel context.CancelFunc
	up     map[string]bool
}

var (
	_ db.DB        = (*InProcessDB)(nil)
	_ db.Killer    = (*InProcessDB)(nil)
	_ db.Pauser    = (*InProcessDB)(nil)
	_ db.Primaries = (*InProcessDB)(nil)
)

// NewInProcessDB returns a DB whose cluster uses cfg.
func NewInProcessDB(cfg Config) *InProcessDB { return &InProcessDB{cfg: cfg} }

// Cluster returns the running cluster, or an error before Setup.
func (d *InProcessDB) Cluster() (*Cluster, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cl == nil {
		return nil, errors.New("memdb: the in-process DB is not set up")
	}
	return d.cl, nil
}

// Setup starts node's replica.
func (d *InProcessDB) Setup(_ context.Context, env *control.Env, node string) error {
	d.mu.Lock()
	if d.cl == nil {
		if env == nil || len(env.Nodes) == 0 {
			d.mu.Unlock()
			return errors.New("memdb: in-process DB setup needs env.Nodes")
		}
		cl := NewCluster(env.Nodes, d.cfg)
		ctx, cancel := context.WithCancel(context.Background())
		if err := cl.open(ctx); err != nil {
			cancel()
			d.mu.Unlock()
			return err
		}
		d.cl, d.cancel, d.up = cl, cancel, map[string]bool{}
	} else if env != nil && len(env.Nodes) > 0 && !sameNodes(env.Nodes, d.cl.nodes) {
		d.mu.Unlock()
		return fmt.Errorf("memdb: nodes %v differ from the running cluster's %v", env.Nodes, d.cl.nodes)
	}
	cl := d.cl
	d.up[node] = true
	d.mu.Unlock()
	return cl.StartNode(node)
}

func sameNodes(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// Teardown stops node and erases its data; after the last node the
// cluster is gone.
func (d *InProcessDB) Teardown(_ context.Context, _ *control.Env, node string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cl == nil {
		return nil
	}
	if err := d.cl.Wipe(node); err != nil {
		return err
	}
	delete(d.up, node)
	if len(d.up) == 0 {
		d.cancel()
		d.cl = nil
	}
	return nil
}

func (d *InProcessDB) with(f func(*Cluster) error) error {
	cl, err := d.Cluster()
	if err != nil {
		return err
	}
	return f(cl)
}

// Kill crashes node: it loses what it had not synced.
func (d *InProcessDB) Kill(_ context.Context, _ *control.Env, node string) error {
	return d.with(func(cl *Cluster) error { return cl.Kill(node) })
}

// Start restarts a killed node from its persisted log.
func (d *InProcessDB) Start(_ context.Context, _ *control.Env, node string) error {
	return d.with(func(cl *Cluster) error { return cl.StartNode(node) })
}

// Pause freezes node.
func (d *InProcessDB) Pause(_ context.Context, _ *control.Env, node string) error {
	return d.with(func(cl *Cluster) error { return cl.Pause(node) })
}

// Resume unfreezes node.
func (d *InProcessDB) Resume(_ context.Context, _ *control.Env, node string) error {
	return d.with(func(cl *Cluster) error { return cl.Resume(node) })
}

// Primaries returns the nodes that consider themselves leader.
func (d *InProcessDB) Primaries(ctx context.Context, _ *control.Env) ([]string, error) {
	cl, err := d.Cluster()
	if err != nil {
		return nil, err
	}
	return cl.Leaders(ctx), nil
}

// Partition cuts the in-process network as a Jepsen grudge says
// (grudge[n]: nodes n does not hear from), replacing any earlier cut.
func (d *InProcessDB) Partition(_ context.Context, _ *control.Env, grudge map[string][]string) error {
	return d.with(func(cl *Cluster) error { return cl.Partition(grudge) })
}

// Heal removes every partition.
func (d *InProcessDB) Heal(_ context.Context, _ *control.Env) error {
	return d.with(func(cl *Cluster) error { cl.Heal(); return nil })
}
