package nemesis

import (
	"context"
	"errors"
	"fmt"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/db"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/netfault"
)

// Packet fs.
const (
	FStartPacket = "start-packet"
	FStopPacket  = "stop-packet"
)

// Packet changes how packets travel (jepsen.nemesis.combined's
// packet-nemesis). Ops:
//
//   - start-packet, value [spec, behaviour] as in Jepsen (or a Map with
//     "targets" and "behaviour"): the behaviour (a netfault behaviour as a
//     Map or in netfault.ParseBehaviour's syntax; nil is Default) applies
//     to all traffic leaving the chosen nodes, replacing what was there.
//     Completion value: node → behaviour.
//   - stop-packet: removes every behaviour; value "packets-healed".
//
// Setup and Teardown remove every behaviour.
type Packet struct {
	Shaper netfault.Shaper
	// Nodes the specs choose among (nil: env.Nodes).
	Nodes     []string
	Primaries db.Primaries
	// Default is the behaviour of a start-packet without one (zero: delay
	// 50ms±10ms, normal, as Jepsen's default).
	Default netfault.Behaviour

	t *targets
}

func (p *Packet) Fs() []string { return []string{FStartPacket, FStopPacket} }

func (p *Packet) Setup(ctx context.Context, env *control.Env) (Nemesis, error) {
	if p.Shaper == nil {
		return nil, errors.New("packet nemesis: no Shaper")
	}
	s := *p
	s.t = newTargets(env, p.Nodes, p.Primaries, 4)
	if err := s.Shaper.Unshape(ctx); err != nil {
		return nil, fmt.Errorf("packet nemesis: clearing behaviours at setup: %w", err)
	}
	return &s, nil
}

// PacketValue is the value of a start-packet op, as Jepsen writes it.
func PacketValue(spec any, b netfault.Behaviour) []any { return []any{spec, b.Value()} }

func (p *Packet) Invoke(ctx context.Context, env *control.Env, op history.Op) (history.Op, error) {
	switch op.F {
	case FStartPacket:
		var spec, bv any
		switch v := op.Value.(type) {
		case []any:
			if len(v) != 2 {
				return op, fmt.Errorf("start-packet value %s: want [targets, behaviour]", history.Format(op.Value))
			}
			spec, bv = v[0], v[1]
		case history.Map:
			spec, _ = v.Get("targets")
			bv, _ = v.Get("behaviour")
		case nil:
		default:
			spec = v
		}
		b := p.Default
		if bv != nil {
			var err error
			if b, err = netfault.BehaviourFromValue(bv); err != nil {
				return op, err
			}
		}
		if b.IsZero() {
			b = netfault.Behaviour{Delay: &netfault.Delay{Time: 50e6, Jitter: 10e6, Distribution: "normal"}}
		}
		nodes, err := p.t.resolve(ctx, env, spec, SpecAll)
		if err != nil {
			return op, err
		}
		if len(nodes) == 0 {
			return info(op, "no-target"), nil
		}
		if err := p.Shaper.Shape(ctx, netfault.AllFrom(nodes...), b); err != nil {
			return op, err
		}
		res := map[string]any{}
		for _, n := range nodes {
			res[n] = b.String()
		}
		return info(op, NodeValue(res)), nil
	case FStopPacket:
		if err := p.Shaper.Unshape(ctx); err != nil {
			return op, err
		}
		return info(op, "packets-healed"), nil
	}
	return op, fmt.Errorf("packet nemesis cannot handle f %q", op.F)
}

func (p *Packet) Teardown(ctx context.Context, env *control.Env) error {
	if p.Shaper == nil {
		return nil
	}
	return p.Shaper.Unshape(ctx)
}
