package generator

import "github.com/faultline/faultline/history"

// Seq returns a generator that emits all ops of the first generator, then
// all ops of the second, and so on (a Clojure sequence of generators). Nil
// generators are skipped. Updates go to the current generator only.
func Seq(gs ...Generator) Generator {
	kept := make([]Generator, 0, len(gs))
	for _, g := range gs {
		if g != nil {
			kept = append(kept, g)
		}
	}
	switch len(kept) {
	case 0:
		return nil
	case 1:
		return kept[0]
	}
	return &seqGen{head: kept[0], rest: kept[1:]}
}

// Concat is Seq: Jepsen's concat.
func Concat(gs ...Generator) Generator { return Seq(gs...) }

type seqGen struct {
	head Generator
	rest []Generator // shared between states, never written
}

func (s *seqGen) Op(ctx *Context) (history.Op, Generator, Status) {
	head, rest := s.head, s.rest
	for {
		op, next, st := opOf(head, ctx)
		switch st {
		case Ready:
			switch {
			case len(rest) == 0:
				return op, next, Ready
			case next == nil && len(rest) == 1:
				return op, rest[0], Ready
			case next == nil:
				return op, &seqGen{head: rest[0], rest: rest[1:]}, Ready
			}
			return op, &seqGen{head: next, rest: rest}, Ready
		case Exhausted:
			if len(rest) == 0 {
				return op, nil, Exhausted
			}
			head, rest = rest[0], rest[1:]
		default:
			return op, nil, st
		}
	}
}

func (s *seqGen) Update(ctx *Context, event history.Op) Generator {
	head := update(s.head, ctx, event)
	if same(head, s.head) {
		return s
	}
	return &seqGen{head: head, rest: s.rest}
}

// Synchronize returns a generator that waits until every thread of its
// context is free, then behaves as g. It waits only once. Synchronize(nil)
// waits and is then exhausted.
func Synchronize(g Generator) Generator { return &syncGen{g} }

type syncGen struct{ g Generator }

func (s *syncGen) Op(ctx *Context) (history.Op, Generator, Status) {
	if ctx.free.count() != ctx.all.count() {
		return history.Op{}, nil, Pending
	}
	return opOf(s.g, ctx)
}

func (s *syncGen) Update(ctx *Context, event history.Op) Generator {
	g := update(s.g, ctx, event)
	if same(g, s.g) {
		return s
	}
	return &syncGen{g}
}

// Phases returns a generator that runs each generator to exhaustion, waiting
// for every thread to be free before starting the next (each is wrapped in
// Synchronize, the first one too).
func Phases(gs ...Generator) Generator {
	ps := make([]Generator, 0, len(gs))
	for _, g := range gs {
		if g != nil {
			ps = append(ps, Synchronize(g))
		}
	}
	return Seq(ps...)
}

// Then returns a generator that runs first, waits for every thread to be
// free, then runs second. Note the argument order: Jepsen's (then a b) runs
// b first, because it reads well in ->> pipelines; Go has no pipelines, so
// Then takes its arguments in the order they run.
func Then(first, second Generator) Generator {
	switch {
	case first == nil:
		return second
	case second == nil:
		return first
	}
	return Seq(first, Synchronize(second))
}

// Repeat returns a generator that emits the ops of g forever, asking g (not
// its successor) every time: Repeat(Lit(op)) emits op over and over, and
// Repeat(Fn(...)) calls the function each time. Updates go to g. It is
// exhausted when g is.
func Repeat(g Generator) Generator {
	if g == nil {
		return nil
	}
	return &repeatGen{remaining: -1, g: g}
}

// RepeatN is Repeat limited to n ops.
func RepeatN(n int, g Generator) Generator {
	if g == nil || n <= 0 {
		return nil
	}
	return &repeatGen{remaining: n, g: g}
}

type repeatGen struct {
	remaining int // -1: forever
	g         Generator
}

func (r *repeatGen) Op(ctx *Context) (history.Op, Generator, Status) {
	op, _, st := r.g.Op(ctx)
	if st != Ready {
		return op, nil, st
	}
	switch r.remaining {
	case -1:
		return op, r, Ready
	case 1:
		return op, nil, Ready
	}
	return op, &repeatGen{remaining: r.remaining - 1, g: r.g}, Ready
}

func (r *repeatGen) Update(ctx *Context, event history.Op) Generator {
	g := r.g.Update(ctx, event)
	switch {
	case same(g, r.g):
		return r
	case g == nil:
		return nil
	}
	return &repeatGen{remaining: r.remaining, g: g}
}

// Cycle returns a generator that runs g to exhaustion, then starts again
// from g as it was at first, forever. Updates go to the current round and
// do not affect later rounds. A g that is exhausted at the start of a round
// ends the cycle.
func Cycle(g Generator) Generator {
	if g == nil {
		return nil
	}
	return &cycleGen{remaining: -1, orig: g, cur: g}
}

// CycleN is Cycle limited to n rounds.
func CycleN(n int, g Generator) Generator {
	if g == nil || n <= 0 {
		return nil
	}
	return &cycleGen{remaining: n, orig: g, cur: g}
}

type cycleGen struct {
	remaining int // rounds left including this one; -1: forever
	orig, cur Generator
}

func (c *cycleGen) Op(ctx *Context) (history.Op, Generator, Status) {
	rem, cur := c.remaining, c.cur
	for fresh := false; ; fresh = true {
		op, next, st := opOf(cur, ctx)
		switch st {
		case Ready:
			return op, &cycleGen{remaining: rem, orig: c.orig, cur: next}, Ready
		case Exhausted:
			if rem > 0 {
				rem--
			}
			if fresh || rem == 0 {
				return op, nil, Exhausted
			}
			cur = c.orig
		default:
			return op, nil, st
		}
	}
}

func (c *cycleGen) Update(ctx *Context, event history.Op) Generator {
	cur := update(c.cur, ctx, event)
	if same(cur, c.cur) {
		return c
	}
	return &cycleGen{remaining: c.remaining, orig: c.orig, cur: cur}
}

// Limit returns a generator that emits at most n ops of g. Updates go to g.
func Limit(n int, g Generator) Generator {
	if g == nil || n <= 0 {
		return nil
	}
	return &limitGen{remaining: n, g: g}
}

// Once returns a generator that emits only the first op of g.
func Once(g Generator) Generator { return Limit(1, g) }

type limitGen struct {
	remaining int
	g         Generator
}

func (l *limitGen) Op(ctx *Context) (history.Op, Generator, Status) {
	op, next, st := l.g.Op(ctx)
	if st != Ready {
		return op, nil, st
	}
	if l.remaining == 1 || next == nil {
		return op, nil, Ready
	}
	return op, &limitGen{remaining: l.remaining - 1, g: next}, Ready
}

func (l *limitGen) Update(ctx *Context, event history.Op) Generator {
	g := l.g.Update(ctx, event)
	switch {
	case same(g, l.g):
		return l
	case g == nil:
		return nil
	}
	return &limitGen{remaining: l.remaining, g: g}
}

// FlipFlop returns a generator that emits an op from a, then from b, then
// from a again, and so on; it ends as soon as the one whose turn it is is
// exhausted. It ignores updates.
func FlipFlop(a, b Generator) Generator { return &flipFlop{gens: [2]Generator{a, b}} }

type flipFlop struct {
	gens [2]Generator
	i    int
}

func (f *flipFlop) Op(ctx *Context) (history.Op, Generator, Status) {
	op, next, st := opOf(f.gens[f.i], ctx)
	if st != Ready {
		return op, nil, st
	}
	gens := f.gens
	gens[f.i] = next
	return op, &flipFlop{gens: gens, i: 1 - f.i}, Ready
}

func (f *flipFlop) Update(*Context, history.Op) Generator { return f }
