package nemesis

import (
	"context"
	"fmt"
	"strings"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/db"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/netfault"
)

// Partition fs.
const (
	FStartPartition = "start-partition"
	FStopPartition  = "stop-partition"
)

// Partition cuts the network (jepsen.nemesis.combined's partition-nemesis
// over Jepsen's partitioner). Ops:
//
//   - start-partition, value: a shape name (netfault.Shapes: "one",
//     "majority", "majorities-ring", "minority-third", "bridge", "halves",
//     "random-halves", "primaries"), or an explicit grudge (a Map from node
//     to the nodes it drops, or a string netfault.ParseGrudge reads). It
//     replaces any cut in force. Completion value: the grudge applied, node
//     → nodes it drops.
//   - stop-partition: heals; completion value "network-healed".
//
// Setup and Teardown heal.
type Partition struct {
	// Net applies the cuts; required.
	Net netfault.Net
	// Nodes are the nodes shapes are drawn over (nil: env.Nodes); other
	// nodes are never cut.
	Nodes []string
	// Primaries, when set, lets the "primaries" shape ask the DB.
	Primaries db.Primaries

	t *targets
}

// Fs reports the fs Partition handles.
func (p *Partition) Fs() []string { return []string{FStartPartition, FStopPartition} }

func (p *Partition) Setup(ctx context.Context, env *control.Env) (Nemesis, error) {
	if p.Net == nil {
		return nil, fmt.Errorf("partition nemesis: no Net")
	}
	s := &Partition{Net: p.Net, Nodes: p.Nodes, Primaries: p.Primaries, t: newTargets(env, p.Nodes, p.Primaries, 1)}
	if err := s.Net.Heal(ctx); err != nil {
		return nil, fmt.Errorf("partition nemesis: healing at setup: %w", err)
	}
	return s, nil
}

// Grudge computes the grudge a start-partition value asks for.
func (p *Partition) Grudge(ctx context.Context, env *control.Env, v any) (netfault.Grudge, error) {
	t := p.t
	if t == nil {
		t = newTargets(env, p.Nodes, p.Primaries, 1)
	}
	switch x := v.(type) {
	case string:
		if strings.ContainsAny(x, "|:") {
			return GrudgeFromValue(x)
		}
		var prim []string
		if x == netfault.ShapePrimaries {
			if p.Primaries == nil {
				return nil, fmt.Errorf("partition primaries: the DB cannot tell its primaries (db.Primaries)")
			}
			var err error
			if prim, err = p.Primaries.Primaries(ctx, env); err != nil {
				return nil, fmt.Errorf("asking the DB for primaries: %w", err)
			}
			if len(prim) == 0 {
				// No primary right now (an election is under way): cut nothing.
				return netfault.Grudge{}, nil
			}
			// Jepsen isolates a random nonempty subset of them.
			t.mu.Lock()
			prim = someOf(prim, t.rng)
			t.mu.Unlock()
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		return netfault.MakeGrudge(x, t.nodes, prim, t.rng)
	case history.Map:
		g, err := GrudgeFromValue(x)
		if err != nil {
			return nil, err
		}
		return g, g.Validate(env.Nodes)
	case nil:
		return nil, fmt.Errorf("start-partition needs a value: a shape (%s) or a grudge", strings.Join(netfault.Shapes, ", "))
	}
	return nil, fmt.Errorf("start-partition value %s: want a shape (%s) or a grudge", history.Format(v), strings.Join(netfault.Shapes, ", "))
}

func (p *Partition) Invoke(ctx context.Context, env *control.Env, op history.Op) (history.Op, error) {
	switch op.F {
	case FStartPartition:
		g, err := p.Grudge(ctx, env, op.Value)
		if err != nil {
			return op, err
		}
		if err := p.Net.Drop(ctx, g); err != nil {
			return op, err
		}
		return info(op, GrudgeValue(g)), nil
	case FStopPartition:
		if err := p.Net.Heal(ctx); err != nil {
			return op, err
		}
		return info(op, "network-healed"), nil
	}
	return op, fmt.Errorf("partition nemesis cannot handle f %q", op.F)
}

func (p *Partition) Teardown(ctx context.Context, env *control.Env) error {
	if p.Net == nil {
		return nil
	}
	return p.Net.Heal(ctx)
}
