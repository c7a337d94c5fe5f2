package memdb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// memNet is the in-process transport: messages go straight into the
// receiver's inbox, unless the receiver is down or the link is cut.
type memNet struct {
	view atomic.Pointer[netView]
}

type link struct{ from, to string }

// netView is an immutable picture of the network; changes swap in a copy.
type netView struct {
	nodes map[string]*replica // running replicas
	cut   map[link]bool
}

func (n *memNet) send(m *message) {
	v := n.view.Load()
	if v.cut[link{m.From, m.To}] {
		return
	}
	if r := v.nodes[m.To]; r != nil {
		r.deliver(m)
	}
}

// Cluster is an in-process memdb cluster: one replica per node, the same
// replica logic as the networked server, connected by in-memory channels.
// Its methods are safe for concurrent use.
type Cluster struct {
	nodes []string
	cfg   Config
	err   error // from the configuration
	net   memNet

	mu    sync.Mutex // guards ctx, slots and changes of net.view
	ctx   context.Context
	slots map[string]*slot
}

type slot struct {
	st          *memStorage
	gate        *gate
	rep         *replica
	cancel      context.CancelFunc
	incarnation uint64
}

// NewCluster returns a cluster of the given nodes; nothing runs before
// Start. A bad configuration is reported by Start.
func NewCluster(nodes []string, cfg Config) *Cluster {
	c := &Cluster{nodes: slices.Clone(nodes), slots: map[string]*slot{}}
	c.cfg, c.err = cfg.withDefaults()
	if c.err == nil {
		c.err = checkNodes(nodes)
	}
	for _, n := range nodes {
		c.slots[n] = &slot{st: newMemStorage(), gate: &gate{}}
	}
	c.net.view.Store(&netView{nodes: map[string]*replica{}, cut: map[link]bool{}})
	return c
}

// Nodes returns the cluster's node names.
func (c *Cluster) Nodes() []string { return slices.Clone(c.nodes) }

// Start starts every node; they run until ctx ends (or Kill).
func (c *Cluster) Start(ctx context.Context) error {
	if err := c.open(ctx); err != nil {
		return err
	}
	for _, n := range c.nodes {
		if err := c.StartNode(n); err != nil {
			return err
		}
	}
	return nil
}

// open sets the context the nodes run under without starting any.
func (c *Cluster) open(ctx context.Context) error {
	if c.err != nil {
		return c.err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx != nil && c.ctx.Err() == nil {
		return errors.New("memdb: cluster already started")
	}
	c.ctx = ctx
	return nil
}

func (c *Cluster) slot(node string) (*slot, error) {
	s, ok := c.slots[node]
	if !ok {
		return nil, fmt.Errorf("memdb: no node %q in the cluster %v", node, c.nodes)
	}
	return s, nil
}

// StartNode starts node from its persisted state (a restart after Kill);
// starting a running node does nothing.
func (c *Cluster) StartNode(node string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, err := c.slot(node)
	if err != nil {
		return err
	}
	if c.ctx == nil || c.ctx.Err() != nil {
		return errors.New("memdb: cluster is not started")
	}
	if s.rep != nil {
		return nil
	}
	s.incarnation++
	rep, err := newReplica(node, c.nodes, c.cfg, &c.net, s.st, s.gate, s.incarnation, false)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(c.ctx)
	s.rep, s.cancel = rep, cancel
	go func() {
		if err := rep.run(ctx); err != nil {
			c.cfg.Logger.Error("memdb: replica stopped", "node", node, "err", err)
		}
	}()
	c.setView(func(v *netView) { v.nodes[node] = rep })
	return nil
}

// Kill stops node as a crash would: it loses what it had not synced. Killing
// a stopped node does nothing.
func (c *Cluster) Kill(node string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, err := c.slot(node)
	if err != nil {
		return err
	}
	if s.rep == nil {
		return nil
	}
	c.setView(func(v *netView) { delete(v.nodes, node) })
	s.cancel()
	<-s.rep.done
	s.st.crash()
	s.rep = nil
	s.gate.resume() // a restarted process is not paused
	return nil
}

// Wipe kills node and erases its persisted state.
func (c *Cluster) Wipe(node string) error {
	if err := c.Kill(node); err != nil {
		return err
	}
	c.mu.Lock()
	c.slots[node].st = newMemStorage()
	c.mu.Unlock()
	return nil
}

// Pause freezes node's replica (like SIGSTOP): it neither handles messages
// nor answers clients until Resume.
func (c *Cluster) Pause(node string) error {
	s, err := c.slot(node)
	if err == nil {
		s.gate.pause()
	}
	return err
}

// Resume lets a paused node run again.
func (c *Cluster) Resume(node string) error {
	s, err := c.slot(node)
	if err == nil {
		s.gate.resume()
	}
	return err
}

// Partition drops messages as a Jepsen grudge says: grudge[n] lists the
// nodes whose messages n does not receive. It replaces any earlier
// partition.
func (c *Cluster) Partition(grudge map[string][]string) error {
	cut := map[link]bool{}
	for to, froms := range grudge {
		if _, err := c.slot(to); err != nil {
			return err
		}
		for _, from := range froms {
			if _, err := c.slot(from); err != nil {
				return err
			}
			cut[link{from, to}] = true
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setView(func(v *netView) { v.cut = cut })
	return nil
}

// Heal removes every partition.
func (c *Cluster) Heal() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setView(func(v *netView) { v.cut = map[link]bool{} })
}

// setView swaps in a changed copy of the network view; c.mu must be held.
func (c *Cluster) setView(change func(*netView)) {
	old := c.net.view.Load()
	v := &netView{nodes: make(map[string]*replica, len(old.nodes)), cut: old.cut}
	for k, r := range old.nodes {
		v.nodes[k] = r
	}
	change(v)
	c.net.view.Store(v)
}

// submit runs cmd on node. A node that is down refuses: the command did not
// happen.
func (c *Cluster) submit(ctx context.Context, node string, cmd command) result {
	r := c.net.view.Load().nodes[node]
	if r == nil {
		if _, err := c.slot(node); err != nil {
			return result{Err: errUnknownNode}
		}
		return result{Err: errNodeDown}
	}
	return r.submit(ctx, cmd)
}

// Status asks node for its status.
func (c *Cluster) Status(ctx context.Context, node string) (Status, error) {
	res := c.submit(ctx, node, command{Op: opStatus})
	if res.Status == nil {
		return Status{}, fmt.Errorf("memdb: status of %s: %s%s", node, res.Err, res.Indef)
	}
	return *res.Status, nil
}

// Leaders returns the running nodes that consider themselves leader (more
// than one during a partition); paused nodes are skipped after ctx ends.
func (c *Cluster) Leaders(ctx context.Context) []string {
	var out []string
	for _, n := range c.nodes {
		ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		st, err := c.Status(ctx, n)
		cancel()
		if err == nil && st.Role == leader.String() {
			out = append(out, n)
		}
	}
	return out
}

// WaitLeader waits until node knows a leader (itself or another) and
// returns its name.
func (c *Cluster) WaitLeader(ctx context.Context, node string) (string, error) {
	return waitLeader(ctx, func(ctx context.Context) (Status, error) { return c.Status(ctx, node) })
}

func waitLeader(ctx context.Context, status func(context.Context) (Status, error)) (string, error) {
	for {
		st, err := status(ctx)
		if err == nil && st.Leader != "" {
			return st.Leader, nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = errors.New("no leader known")
			}
			return "", fmt.Errorf("memdb: waiting for a leader: %w (%w)", ctx.Err(), err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
