package generator

import "github.com/faultline/faultline/history"

// Any returns a generator that emits the soonest op of any of gs (ties
// broken at random), and passes every update to all of them. It is
// exhausted when all of them are. Nil generators are dropped.
func Any(gs ...Generator) Generator {
	kept := compact(gs)
	switch len(kept) {
	case 0:
		return nil
	case 1:
		return kept[0]
	}
	return &anyGen{gens: kept}
}

func compact(gs []Generator) []Generator {
	kept := make([]Generator, 0, len(gs))
	for _, g := range gs {
		if g != nil {
			kept = append(kept, g)
		}
	}
	return kept
}

type anyGen struct {
	gens []Generator
}

func (a *anyGen) Op(ctx *Context) (history.Op, Generator, Status) {
	var best candidate
	for i, g := range a.gens {
		c := candidate{weight: 1, i: i, ok: true}
		c.op, c.next, c.st = g.Op(ctx)
		switch c.st {
		case Failed:
			return c.op, nil, Failed
		case Exhausted:
			continue
		}
		best.consider(ctx, &c)
	}
	switch {
	case !best.ok:
		return history.Op{}, nil, Exhausted
	case best.st != Ready:
		return history.Op{}, nil, Pending
	}
	gens := make([]Generator, len(a.gens))
	copy(gens, a.gens)
	gens[best.i] = best.next
	return best.op, Any(gens...), Ready
}

func (a *anyGen) Update(ctx *Context, event history.Op) Generator {
	gens, changed := updateAll(a.gens, ctx, event)
	if !changed {
		return a
	}
	return Any(gens...)
}

// updateAll updates every generator of gs; it reports whether any changed.
func updateAll(gs []Generator, ctx *Context, event history.Op) ([]Generator, bool) {
	var out []Generator
	for i, g := range gs {
		g2 := update(g, ctx, event)
		if !same(g2, g) && out == nil {
			out = make([]Generator, len(gs))
			copy(out, gs)
		}
		if out != nil {
			out[i] = g2
		}
	}
	if out == nil {
		return gs, false
	}
	return out, true
}

// ShortestAny is Any that ends as soon as any of gs is exhausted: handy to
// run a workload while a finite nemesis schedule runs, and stop with it.
func ShortestAny(gs ...Generator) Generator {
	for _, g := range gs {
		if g == nil {
			return nil
		}
	}
	switch len(gs) {
	case 0:
		return nil
	case 1:
		return gs[0]
	}
	return &shortestAny{gens: append([]Generator(nil), gs...)}
}

type shortestAny struct {
	gens []Generator
}

func (a *shortestAny) Op(ctx *Context) (history.Op, Generator, Status) {
	var best candidate
	for i, g := range a.gens {
		c := candidate{weight: 1, i: i, ok: true}
		c.op, c.next, c.st = opOf(g, ctx)
		switch c.st {
		case Failed:
			return c.op, nil, Failed
		case Exhausted:
			return history.Op{}, nil, Exhausted
		}
		best.consider(ctx, &c)
	}
	if best.st != Ready {
		return history.Op{}, nil, Pending
	}
	if best.next == nil {
		return best.op, nil, Ready
	}
	gens := make([]Generator, len(a.gens))
	copy(gens, a.gens)
	gens[best.i] = best.next
	return best.op, &shortestAny{gens: gens}, Ready
}

func (a *shortestAny) Update(ctx *Context, event history.Op) Generator {
	gens, changed := updateAll(a.gens, ctx, event)
	if !changed {
		return a
	}
	for _, g := range gens {
		if g == nil {
			return nil
		}
	}
	return &shortestAny{gens: gens}
}

// Mix returns a generator that emits each op from one of gs chosen
// uniformly at random (a fresh choice after every op), dropping those that
// are exhausted; it is exhausted when all are. It ignores updates, as
// Jepsen's mix does (mixes of hundreds of generators are common).
//
// When the chosen generator is pending, Mix asks the others in turn (the
// next ones after it, wrapping around) and emits the first op it gets; it
// is pending only when all are. Jepsen's mix instead waits on the chosen
// generator (its own docstring calls this a bug to fix): a pending child
// there stalls every other child, e.g. a client-only generator in a mix
// stalls while the nemesis asks.
func Mix(gs ...Generator) Generator {
	kept := compact(gs)
	if len(kept) == 0 {
		return nil
	}
	return &mixGen{i: -1, gens: kept}
}

type mixGen struct {
	i    int // the child to ask first; -1: not drawn yet
	gens []Generator
}

func (m *mixGen) Op(ctx *Context) (history.Op, Generator, Status) {
	n := len(m.gens)
	i := m.i
	if i < 0 {
		i = ctx.Rand().IntN(n)
	}
	var dead []int
	pending := false
	for k := range n {
		j := (i + k) % n
		op, next, st := m.gens[j].Op(ctx)
		switch st {
		case Ready:
			gens := m.gens
			if !same(next, gens[j]) || len(dead) > 0 {
				gens = make([]Generator, 0, n)
				for x, g := range m.gens {
					switch {
					case x == j:
						g = next
					case containsInt(dead, x):
						g = nil
					}
					if g != nil {
						gens = append(gens, g)
					}
				}
			}
			if len(gens) == 0 {
				return op, nil, Ready
			}
			return op, &mixGen{i: ctx.Rand().IntN(len(gens)), gens: gens}, Ready
		case Exhausted:
			dead = append(dead, j)
		case Pending:
			pending = true
		default:
			return op, nil, st
		}
	}
	if pending {
		return history.Op{}, nil, Pending
	}
	return history.Op{}, nil, Exhausted
}

func (m *mixGen) Update(*Context, history.Op) Generator { return m }

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
