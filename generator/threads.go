package generator

import (
	"sync/atomic"

	"github.com/faultline/faultline/history"
)

// OnThreads returns a generator that runs g on the threads for which pred is
// true: g sees a context restricted to them, and only their events (Jepsen's
// on-threads).
func OnThreads(pred func(thread int) bool, g Generator) Generator {
	if g == nil {
		return nil
	}
	return &onThreads{f: NewThreadFilter(pred), g: g}
}

type onThreads struct {
	f *ThreadFilter
	g Generator
}

func (o *onThreads) Op(ctx *Context) (history.Op, Generator, Status) {
	op, next, st := o.g.Op(o.f.Apply(ctx))
	if st != Ready || next == nil {
		return op, nil, st
	}
	return op, &onThreads{f: o.f, g: next}, Ready
}

func (o *onThreads) Update(ctx *Context, event history.Op) Generator {
	t, ok := ctx.Thread(event.Process)
	if !ok || !o.f.Matches(ctx, t) {
		return o
	}
	g := o.g.Update(o.f.Apply(ctx), event)
	switch {
	case same(g, o.g):
		return o
	case g == nil:
		return nil
	}
	return &onThreads{f: o.f, g: g}
}

// Clients returns a generator that runs g on the client threads only.
func Clients(g Generator) Generator {
	return OnThreads(func(t int) bool { return t != NemesisThread }, g)
}

// Nemesis returns a generator that runs g on the nemesis thread only.
func Nemesis(g Generator) Generator {
	return OnThreads(func(t int) bool { return t == NemesisThread }, g)
}

// ClientsNemesis runs clients on the client threads and nemesis on the
// nemesis thread, together (Jepsen's two-argument clients and nemesis).
func ClientsNemesis(clients, nemesis Generator) Generator {
	return Any(Clients(clients), Nemesis(nemesis))
}

// perThread is one thread's generator in EachThread and EachProcess.
type perThread struct {
	g       Generator
	process int
	started bool
}

// EachThread returns a generator that gives every thread its own copy of g
// (each sees a context holding just that thread), and emits the soonest op
// of any free thread. Updates go to the copy of the thread that caused them.
// A thread keeps its copy when its process changes after a crash. It is
// exhausted when every thread's copy is exhausted and every thread is free.
func EachThread(g Generator) Generator {
	if g == nil {
		return nil
	}
	return &eachThread{fresh: g}
}

// EachProcess is EachThread with a fresh copy of g for every process: a
// thread whose process crashed starts g again under its new process.
func EachProcess(g Generator) Generator {
	if g == nil {
		return nil
	}
	return &eachThread{fresh: g, byProcess: true}
}

type eachThread struct {
	fresh     Generator
	byProcess bool
	gens      []perThread // by thread index; nil until the first op
}

func (e *eachThread) genFor(ctx *Context, i int) Generator {
	if i < len(e.gens) {
		pt := e.gens[i]
		if pt.started && (!e.byProcess || pt.process == ctx.procs[i]) {
			return pt.g
		}
	}
	return e.fresh
}

func (e *eachThread) with(ctx *Context, i int, g Generator) *eachThread {
	gens := make([]perThread, ctx.tab.count)
	copy(gens, e.gens)
	gens[i] = perThread{g: g, process: ctx.procs[i], started: true}
	return &eachThread{fresh: e.fresh, byProcess: e.byProcess, gens: gens}
}

func (e *eachThread) Op(ctx *Context) (history.Op, Generator, Status) {
	var best candidate
	for i := range ctx.free.all {
		c := candidate{weight: 1, i: i, ok: true}
		c.op, c.next, c.st = opOf(e.genFor(ctx, i), ctx.only(i))
		switch c.st {
		case Failed:
			return c.op, nil, Failed
		case Exhausted:
			continue
		}
		best.consider(ctx, &c)
	}
	switch {
	case best.ok && best.st == Ready:
		return best.op, e.with(ctx, best.i, best.next), Ready
	case best.ok, ctx.free.count() != ctx.all.count():
		return history.Op{}, nil, Pending
	}
	return history.Op{}, nil, Exhausted
}

func (e *eachThread) Update(ctx *Context, event history.Op) Generator {
	t, ok := ctx.Thread(event.Process)
	if !ok {
		return e
	}
	i, _ := ctx.index(t)
	if !ctx.all.has(i) {
		return e
	}
	if e.byProcess && i < len(e.gens) && e.gens[i].started && e.gens[i].process != ctx.procs[i] {
		// The thread runs a process whose copy has not started yet; the
		// old copy is finished with, so nothing is left to update.
		return e
	}
	g := e.genFor(ctx, i)
	g2 := update(g, ctx.only(i), event)
	if same(g2, g) && i < len(e.gens) && e.gens[i].started {
		return e
	}
	return e.with(ctx, i, g2)
}

// Share is one group of threads given to a generator by Reserve.
type Share struct {
	Threads int
	Gen     Generator
}

// Reserve gives the first shares[0].Threads threads of its context to
// shares[0].Gen, the next shares[1].Threads to shares[1].Gen, and so on, and
// the remaining threads (including the nemesis, if the context has it) to
// dflt. Each generator sees a context holding only its threads and gets
// only their updates; the soonest op of any of them is emitted, ties broken
// at random in proportion to the number of threads. It is exhausted when
// all of them are.
//
// Threads are counted in the order of the context's threads (clients
// ascending, then the nemesis), so Reserve nested inside a restricted
// context splits that context's threads, not threads 0, 1, ...
func Reserve(shares []Share, dflt Generator) Generator {
	r := &reserve{counts: make([]int, len(shares)), gens: make([]Generator, len(shares)+1), memo: &reserveMemo{}}
	for i, s := range shares {
		r.counts[i] = max(s.Threads, 0)
		r.gens[i] = s.Gen
	}
	r.gens[len(shares)] = dflt
	return r
}

type reserve struct {
	counts []int       // shared, never written
	gens   []Generator // one per share, then the default
	memo   *reserveMemo
}

type reserveMemo struct{ p atomic.Pointer[reserveMasks] }

type reserveMasks struct {
	tab   *threadTable
	all   threadBits
	masks []threadBits
}

func (r *reserve) masks(ctx *Context) []threadBits {
	if m := r.memo.p.Load(); m != nil && m.tab == ctx.tab && m.all.equal(ctx.all) {
		return m.masks
	}
	masks := make([]threadBits, len(r.gens))
	lo := 0
	var used threadBits
	for i, n := range r.counts {
		masks[i] = ctx.all.positions(lo, lo+n)
		for j := masks[i].next(0); j >= 0; j = masks[i].next(j + 1) {
			used = used.with(j)
		}
		lo += n
	}
	masks[len(r.counts)] = ctx.all.minus(used)
	r.memo.p.Store(&reserveMasks{tab: ctx.tab, all: ctx.all, masks: masks})
	return masks
}

func (r *reserve) Op(ctx *Context) (history.Op, Generator, Status) {
	masks := r.masks(ctx)
	var best candidate
	// The default generator first, then the shares, as Jepsen folds them.
	n := len(r.gens)
	for k := range n {
		i := (k + n - 1) % n
		sub := ctx.restrict(masks[i])
		c := candidate{weight: max(sub.all.count(), 1), i: i, ok: true}
		c.op, c.next, c.st = opOf(r.gens[i], sub)
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
	gens := make([]Generator, n)
	copy(gens, r.gens)
	gens[best.i] = best.next
	return best.op, &reserve{counts: r.counts, gens: gens, memo: r.memo}, Ready
}

func (r *reserve) Update(ctx *Context, event history.Op) Generator {
	t, ok := ctx.Thread(event.Process)
	if !ok {
		return r
	}
	idx, _ := ctx.index(t)
	masks := r.masks(ctx)
	for i, m := range masks {
		if !m.has(idx) {
			continue
		}
		g := update(r.gens[i], ctx.restrict(m), event)
		if same(g, r.gens[i]) {
			return r
		}
		gens := make([]Generator, len(r.gens))
		copy(gens, r.gens)
		gens[i] = g
		return &reserve{counts: r.counts, gens: gens, memo: r.memo}
	}
	return r
}
