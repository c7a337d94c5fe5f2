package nemesis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/db"
	"github.com/faultline/faultline/history"
)

// Membership fs.
const (
	FRemoveNode = "remove-node"
	FAddNode    = "add-node"
)

// Membership is a DB whose cluster membership can change: RemoveNode takes
// node out of the cluster (the DB decides how: a reconfiguration through
// another member, stopping and wiping the node...), AddNode brings it back.
type Membership interface {
	RemoveNode(ctx context.Context, env *control.Env, node string) error
	AddNode(ctx context.Context, env *control.Env, node string) error
}

// MembershipNemesis calls a DB's Membership hooks. Ops: remove-node
// (value: a node spec, default one) and add-node (value: a node spec,
// default every removed node); completion values map each node to
// "removed" or "added". Teardown adds back every node it removed.
type MembershipNemesis struct {
	DB Membership
	// Nodes the specs choose among (nil: env.Nodes).
	Nodes     []string
	Primaries db.Primaries

	t       *targets
	mu      sync.Mutex
	removed []string
}

func (m *MembershipNemesis) Fs() []string { return []string{FRemoveNode, FAddNode} }

func (m *MembershipNemesis) Setup(ctx context.Context, env *control.Env) (Nemesis, error) {
	if m.DB == nil {
		return nil, errors.New("membership nemesis: the DB has no membership hooks (nemesis.Membership)")
	}
	return &MembershipNemesis{DB: m.DB, Nodes: m.Nodes, Primaries: m.Primaries, t: newTargets(env, m.Nodes, m.Primaries, 7)}, nil
}

func (m *MembershipNemesis) Invoke(ctx context.Context, env *control.Env, op history.Op) (history.Op, error) {
	switch op.F {
	case FRemoveNode:
		nodes, err := m.t.resolve(ctx, env, op.Value, SpecOne)
		if err != nil {
			return op, err
		}
		m.mu.Lock()
		for _, n := range nodes {
			if !slices.Contains(m.removed, n) {
				m.removed = append(m.removed, n)
			}
		}
		m.mu.Unlock()
		// One at a time: membership changes usually must be serial.
		res := map[string]any{}
		var errs []error
		for _, n := range nodes {
			if err := m.DB.RemoveNode(ctx, env, n); err != nil {
				res[n] = "error: " + err.Error()
				errs = append(errs, fmt.Errorf("%s: %w", n, err))
			} else {
				res[n] = "removed"
			}
		}
		return info(op, NodeValue(res)), errors.Join(errs...)
	case FAddNode:
		var nodes []string
		if op.Value == nil {
			m.mu.Lock()
			nodes = slices.Clone(m.removed)
			m.mu.Unlock()
		} else {
			var err error
			if nodes, err = m.t.resolve(ctx, env, op.Value, nil); err != nil {
				return op, err
			}
		}
		return m.add(ctx, env, op, nodes)
	}
	return op, fmt.Errorf("membership nemesis cannot handle f %q", op.F)
}

func (m *MembershipNemesis) add(ctx context.Context, env *control.Env, op history.Op, nodes []string) (history.Op, error) {
	res := map[string]any{}
	var errs []error
	for _, n := range nodes {
		if err := m.DB.AddNode(ctx, env, n); err != nil {
			res[n] = "error: " + err.Error()
			errs = append(errs, fmt.Errorf("%s: %w", n, err))
			continue
		}
		res[n] = "added"
		m.mu.Lock()
		m.removed = slices.DeleteFunc(m.removed, func(x string) bool { return x == n })
		m.mu.Unlock()
	}
	return info(op, NodeValue(res)), errors.Join(errs...)
}

func (m *MembershipNemesis) Teardown(ctx context.Context, env *control.Env) error {
	m.mu.Lock()
	nodes := slices.Clone(m.removed)
	m.mu.Unlock()
	if len(nodes) == 0 || m.DB == nil {
		return nil
	}
	_, err := m.add(ctx, env, history.Op{F: FAddNode}, nodes)
	return err
}
