package generator

import (
	"fmt"
	"maps"
	"slices"

	"github.com/faultline/faultline/history"
)

// Map returns a generator that emits f(op) for every op of g (Jepsen's map).
// Pending and exhaustion pass through without calling f; updates go to g.
func Map(f func(op history.Op) history.Op, g Generator) Generator {
	if g == nil {
		return nil
	}
	return &mapGen{f: func(_ *Context, op history.Op) history.Op { return f(op) }, g: g}
}

// MapCtx is Map with a function that also sees the context (Jepsen's
// (f op test ctx) form).
func MapCtx(f func(ctx *Context, op history.Op) history.Op, g Generator) Generator {
	if g == nil {
		return nil
	}
	return &mapGen{f: f, g: g}
}

type mapGen struct {
	f func(ctx *Context, op history.Op) history.Op
	g Generator
}

func (m *mapGen) Op(ctx *Context) (history.Op, Generator, Status) {
	op, next, st := m.g.Op(ctx)
	if st != Ready {
		return op, nil, st
	}
	op = m.f(ctx, op)
	if next == nil {
		return op, nil, Ready
	}
	return op, &mapGen{f: m.f, g: next}, Ready
}

func (m *mapGen) Update(ctx *Context, event history.Op) Generator {
	g := m.g.Update(ctx, event)
	switch {
	case same(g, m.g):
		return m
	case g == nil:
		return nil
	}
	return &mapGen{f: m.f, g: g}
}

// FMap returns a generator like g whose ops' F is renamed through fs; an F
// not in fs is kept (Jepsen's f-map would set it to nil). It is how
// generators are composed for a composed nemesis, e.g. {"start":
// "start-partition"}.
func FMap(fs map[string]string, g Generator) Generator {
	fs = maps.Clone(fs)
	return FMapFunc(func(f string) string {
		if to, ok := fs[f]; ok {
			return to
		}
		return f
	}, g)
}

// FMapFunc is FMap with a renaming function.
func FMapFunc(rename func(f string) string, g Generator) Generator {
	return Map(func(op history.Op) history.Op {
		op.F = rename(op.F)
		return op
	}, g)
}

// maxRejected bounds how many ops in a row Filter drops in one call before
// it reports an error rather than loop forever.
const maxRejected = 1_000_000

// Filter returns a generator that emits only the ops of g for which keep is
// true. Pending and exhaustion pass through.
func Filter(keep func(op history.Op) bool, g Generator) Generator {
	if g == nil {
		return nil
	}
	return &filterGen{keep: keep, g: g}
}

type filterGen struct {
	keep func(op history.Op) bool
	g    Generator
}

func (f *filterGen) Op(ctx *Context) (history.Op, Generator, Status) {
	g := f.g
	for range maxRejected {
		op, next, st := opOf(g, ctx)
		if st != Ready {
			return op, nil, st
		}
		if f.keep(op) {
			if next == nil {
				return op, nil, Ready
			}
			return op, &filterGen{keep: f.keep, g: next}, Ready
		}
		g = next
	}
	return failed(fmt.Errorf("Filter: %d ops in a row rejected", maxRejected))
}

func (f *filterGen) Update(ctx *Context, event history.Op) Generator {
	g := f.g.Update(ctx, event)
	switch {
	case same(g, f.g):
		return f
	case g == nil:
		return nil
	}
	return &filterGen{keep: f.keep, g: g}
}

// UpdateFunc handles an update for OnUpdate. this is the OnUpdate generator
// itself, inner the generator it wraps; whatever it returns replaces this.
// Returning this ignores the event (inner does not see it); to pass it on
// and keep watching, return OnUpdate(f, inner.Update(ctx, event)).
type UpdateFunc func(ctx *Context, event history.Op, this, inner Generator) Generator

// OnUpdate wraps g with an update handler (Jepsen's on-update): ops come
// from g, and every update calls f, which decides what generator comes
// next. It can also be used for side effects on updates.
func OnUpdate(f UpdateFunc, g Generator) Generator { return &onUpdate{f: f, g: g} }

type onUpdate struct {
	f UpdateFunc
	g Generator
}

func (o *onUpdate) Op(ctx *Context) (history.Op, Generator, Status) {
	op, next, st := opOf(o.g, ctx)
	if st != Ready {
		return op, nil, st
	}
	return op, &onUpdate{f: o.f, g: next}, Ready
}

func (o *onUpdate) Update(ctx *Context, event history.Op) Generator {
	return o.f(ctx, event, o, o.g)
}

// UntilOK returns a generator that emits ops of g until one of them
// completes ok; it is then exhausted (ops already in flight still
// complete). Updates go to g.
func UntilOK(g Generator) Generator {
	if g == nil {
		return nil
	}
	return &untilOK{g: g}
}

type untilOK struct {
	g      Generator
	active []int // sorted processes with an op of ours in flight; shared
}

func (u *untilOK) Op(ctx *Context) (history.Op, Generator, Status) {
	op, next, st := opOf(u.g, ctx)
	if st != Ready {
		return op, nil, st
	}
	active := u.active
	if k, found := slices.BinarySearch(active, op.Process); !found {
		active = slices.Insert(slices.Clip(active), k, op.Process)
	}
	return op, &untilOK{g: next, active: active}, Ready
}

func (u *untilOK) Update(ctx *Context, event history.Op) Generator {
	g := update(u.g, ctx, event)
	active := u.active
	if k, found := slices.BinarySearch(active, event.Process); found {
		switch event.Type {
		case history.OK:
			return nil
		case history.Info, history.Fail:
			active = slices.Delete(slices.Clone(active), k, k+1)
		}
	}
	if same(g, u.g) && len(active) == len(u.active) {
		return u
	}
	return &untilOK{g: g, active: active}
}

// ProcessLimit returns a generator that emits ops of g only while the
// processes its contexts have held number at most n: every process of every
// thread it is offered counts, not only those that ran its ops, so the test
// does not trickle on with a few threads at the end (Jepsen's process-limit).
// Since a crash gives a thread a new process, this bounds how many crashes
// the generator sees.
func ProcessLimit(n int, g Generator) Generator {
	if g == nil || n <= 0 {
		return nil
	}
	return &processLimit{n: n, g: g}
}

type processLimit struct {
	n     int
	procs []int // sorted; shared
	g     Generator
}

func (p *processLimit) Op(ctx *Context) (history.Op, Generator, Status) {
	op, next, st := p.g.Op(ctx)
	if st != Ready {
		return op, nil, st
	}
	procs := p.procs
	for i := range ctx.all.all {
		proc := ctx.procs[i]
		k, found := slices.BinarySearch(procs, proc)
		if found {
			continue
		}
		if len(procs) == len(p.procs) {
			procs = slices.Clone(procs)
		}
		procs = slices.Insert(procs, k, proc)
	}
	if len(procs) > p.n {
		return history.Op{}, nil, Exhausted
	}
	if next == nil {
		return op, nil, Ready
	}
	return op, &processLimit{n: p.n, procs: procs, g: next}, Ready
}

func (p *processLimit) Update(ctx *Context, event history.Op) Generator {
	g := p.g.Update(ctx, event)
	switch {
	case same(g, p.g):
		return p
	case g == nil:
		return nil
	}
	return &processLimit{n: p.n, procs: p.procs, g: g}
}

// ConcurrencyLimit returns a generator that is pending while n or more
// threads of its context are busy, and otherwise behaves as g.
func ConcurrencyLimit(n int, g Generator) Generator {
	if g == nil || n <= 0 {
		return nil
	}
	return &concurrencyLimit{n: n, g: g}
}

type concurrencyLimit struct {
	n int
	g Generator
}

func (c *concurrencyLimit) Op(ctx *Context) (history.Op, Generator, Status) {
	if ctx.all.count()-ctx.free.count() >= c.n {
		return history.Op{}, nil, Pending
	}
	op, next, st := c.g.Op(ctx)
	if st != Ready || next == nil {
		return op, nil, st
	}
	return op, &concurrencyLimit{n: c.n, g: next}, Ready
}

func (c *concurrencyLimit) Update(ctx *Context, event history.Op) Generator {
	g := c.g.Update(ctx, event)
	switch {
	case same(g, c.g):
		return c
	case g == nil:
		return nil
	}
	return &concurrencyLimit{n: c.n, g: g}
}
