package generator

import (
	"time"

	"github.com/faultline/faultline/history"
)

// TimeLimit returns a generator that emits ops of g whose time is less than
// d after the time of the first op it emits; at the first op at or past that
// cutoff it is exhausted. Ops g schedules in the future (Stagger, Delay)
// count by their scheduled time, so nothing is emitted past the cutoff.
// Pending passes through. A d <= 0 gives an empty generator.
func TimeLimit(d time.Duration, g Generator) Generator {
	if g == nil || d <= 0 {
		return nil
	}
	return &timeLimit{limit: int64(d), g: g}
}

type timeLimit struct {
	limit  int64
	cutoff int64
	set    bool // cutoff is known
	g      Generator
}

func (t *timeLimit) Op(ctx *Context) (history.Op, Generator, Status) {
	op, next, st := t.g.Op(ctx)
	if st != Ready {
		return op, nil, st
	}
	cutoff := t.cutoff
	if !t.set {
		cutoff = op.Time + t.limit
	}
	if op.Time >= cutoff {
		return history.Op{}, nil, Exhausted
	}
	if next == nil {
		return op, nil, Ready
	}
	return op, &timeLimit{limit: t.limit, cutoff: cutoff, set: true, g: next}, Ready
}

func (t *timeLimit) Update(ctx *Context, event history.Op) Generator {
	g := t.g.Update(ctx, event)
	switch {
	case same(g, t.g):
		return t
	case g == nil:
		return nil
	}
	return &timeLimit{limit: t.limit, cutoff: t.cutoff, set: t.set, g: g}
}

// Stagger returns a generator that schedules the ops of g at random
// intervals, uniform in [0, 2*dt), so that on average one op starts every dt
// across all threads together: a total rate, not a per-thread one (as in
// Jepsen since its pure generators). The first op is not delayed. An op that
// g itself schedules later than the staggered time keeps its own time, and
// the next interval counts from it.
func Stagger(dt time.Duration, g Generator) Generator {
	if g == nil {
		return nil
	}
	if dt <= 0 {
		return g
	}
	return &stagger{dt: 2 * int64(dt), g: g}
}

type stagger struct {
	dt       int64 // 2 * the mean interval
	nextTime int64
	set      bool
	g        Generator
}

func (s *stagger) Op(ctx *Context) (history.Op, Generator, Status) {
	op, next, st := s.g.Op(ctx)
	if st != Ready {
		return op, nil, st
	}
	nt := s.nextTime
	if !s.set {
		nt = ctx.time
	}
	if op.Time < nt {
		op.Time = nt
	}
	if next == nil {
		return op, nil, Ready
	}
	return op, &stagger{dt: s.dt, nextTime: op.Time + ctx.Rand().Int64N(s.dt), set: true, g: next}, Ready
}

func (s *stagger) Update(ctx *Context, event history.Op) Generator {
	g := s.g.Update(ctx, event)
	switch {
	case same(g, s.g):
		return s
	case g == nil:
		return nil
	}
	return &stagger{dt: s.dt, nextTime: s.nextTime, set: s.set, g: g}
}

// Delay returns a generator that schedules the ops of g exactly dt apart
// (the first at its own time); when it falls behind (every thread was busy)
// ops go out as soon as they can, and the next is dt after that. Like
// Stagger this is a total rate across all threads. Delay(dt, nil) is not
// nil, as in Jepsen: it emits nothing, but still counts as a phase.
func Delay(dt time.Duration, g Generator) Generator {
	return &delayGen{dt: int64(dt), g: g}
}

type delayGen struct {
	dt       int64
	nextTime int64
	set      bool
	g        Generator
}

func (d *delayGen) Op(ctx *Context) (history.Op, Generator, Status) {
	op, next, st := opOf(d.g, ctx)
	if st != Ready {
		return op, nil, st
	}
	if d.set && op.Time < d.nextTime {
		op.Time = d.nextTime
	}
	if next == nil {
		return op, nil, Ready
	}
	return op, &delayGen{dt: d.dt, nextTime: op.Time + d.dt, set: true, g: next}, Ready
}

func (d *delayGen) Update(ctx *Context, event history.Op) Generator {
	g := update(d.g, ctx, event)
	switch {
	case same(g, d.g):
		return d
	case g == nil:
		return nil
	}
	return &delayGen{dt: d.dt, nextTime: d.nextTime, set: d.set, g: g}
}

// Period is one window of CycleTimes: Gen runs for D.
type Period struct {
	D   time.Duration
	Gen Generator
}

// maxWindows bounds how many windows CycleTimes looks ahead for an op
// before it answers Pending.
const maxWindows = 1000

// CycleTimes returns a generator that rotates between generators on a
// schedule: the first runs for its period, then the second, and so on,
// starting again after the last (Jepsen's cycle-times). The schedule starts
// at the first time the generator is asked. Each generator keeps its state
// from one round to the next; an op a generator schedules past the end of
// its window is not emitted then, and the next window's generator is asked,
// as though it were already its time. It is exhausted as soon as any
// generator is. Updates go to every generator. Periods with D <= 0 are
// dropped.
func CycleTimes(periods ...Period) Generator {
	c := &cycleTimes{}
	for _, p := range periods {
		if p.D <= 0 {
			continue
		}
		c.period += int64(p.D)
		c.intervals = append(c.intervals, int64(p.D))
		c.cutoffs = append(c.cutoffs, c.period)
		c.gens = append(c.gens, p.Gen)
	}
	if len(c.gens) == 0 {
		return nil
	}
	return c
}

type cycleTimes struct {
	period    int64
	t0        int64
	started   bool
	intervals []int64 // shared, never written
	cutoffs   []int64 // shared, never written
	gens      []Generator
}

func (c *cycleTimes) Op(ctx *Context) (history.Op, Generator, Status) {
	now := ctx.time
	t0 := c.t0
	if !c.started {
		t0 = now
	}
	in := (now - t0) % c.period
	if in < 0 {
		in += c.period
	}
	i := 0
	for i < len(c.cutoffs)-1 && in >= c.cutoffs[i] {
		i++
	}
	t := now - in
	if i > 0 {
		t += c.cutoffs[i-1]
	}
	for range maxWindows * len(c.gens) {
		end := t + c.intervals[i]
		op, next, st := opOf(c.gens[i], ctx.WithTime(max(now, t)))
		switch st {
		case Ready:
			if op.Time < end {
				gens := make([]Generator, len(c.gens))
				copy(gens, c.gens)
				gens[i] = next
				return op, &cycleTimes{period: c.period, t0: t0, started: true,
					intervals: c.intervals, cutoffs: c.cutoffs, gens: gens}, Ready
			}
		default:
			return op, nil, st
		}
		i = (i + 1) % len(c.gens)
		t = end
	}
	return history.Op{}, nil, Pending
}

func (c *cycleTimes) Update(ctx *Context, event history.Op) Generator {
	var gens []Generator
	for i, g := range c.gens {
		g2 := update(g, ctx, event)
		if !same(g2, g) && gens == nil {
			gens = make([]Generator, len(c.gens))
			copy(gens, c.gens)
		}
		if gens != nil {
			gens[i] = g2
		}
	}
	if gens == nil {
		return c
	}
	return &cycleTimes{period: c.period, t0: c.t0, started: c.started,
		intervals: c.intervals, cutoffs: c.cutoffs, gens: gens}
}
