package generator

import (
	"fmt"
	"math"
	"time"

	"github.com/faultline/faultline/history"
)

// Invocation returns an op template for function f with value: what a
// Jepsen user writes as {:f :read, :value v}. value is converted to the
// types history values use by history.Normalize (Go integer types become
// int64, float32 float64, and so on); values of those types are kept as
// they are.
func Invocation(f string, value any) history.Op {
	return history.Op{Type: history.Invoke, F: f, Value: history.Normalize(value)}
}

// FillIn completes an op template the way Jepsen's fill-in-op does: Type
// TypeNone becomes Invoke, Time 0 becomes the context's time, and Process
// becomes the process of a free thread, chosen in turn
// (Context.SomeFreeProcess). With no free thread it returns Pending. The
// template's own Process is ignored: use Pinned for an op that must run on a
// given process.
func FillIn(ctx *Context, tmpl history.Op) (history.Op, Status) {
	p, ok := ctx.SomeFreeProcess()
	if !ok {
		return history.Op{}, Pending
	}
	return fill(ctx, tmpl, p), Ready
}

func fill(ctx *Context, op history.Op, process int) history.Op {
	if op.Type == history.TypeNone {
		op.Type = history.Invoke
	}
	if op.Time == 0 {
		op.Time = ctx.time
	}
	op.Process = process
	return op
}

// Lit returns a generator that emits op once (Jepsen's op maps, which are
// one-shot generators), filled in by FillIn. It ignores updates.
func Lit(op history.Op) Generator { return &lit{op} }

type lit struct{ op history.Op }

func (l *lit) Op(ctx *Context) (history.Op, Generator, Status) {
	op, st := FillIn(ctx, l.op)
	return op, nil, st
}

func (l *lit) Update(*Context, history.Op) Generator { return l }

// Ops returns a generator that emits each op once, in order (a Clojure
// vector of op maps).
func Ops(ops ...history.Op) Generator {
	gs := make([]Generator, len(ops))
	for i, op := range ops {
		gs[i] = Lit(op)
	}
	return Seq(gs...)
}

// Pinned returns a generator that emits op once on the given process: it is
// pending while that process's thread is busy, and fails if no thread of the
// context runs that process (it crashed, or the thread is outside the
// threads this generator was given). Time and Type are filled in as by
// FillIn.
func Pinned(process int, op history.Op) Generator { return &pinned{process, op} }

type pinned struct {
	process int
	op      history.Op
}

func (p *pinned) Op(ctx *Context) (history.Op, Generator, Status) {
	t, ok := ctx.Thread(p.process)
	if !ok {
		return failed(fmt.Errorf("op %s pinned to process %s, which no thread runs (it crashed or never existed)",
			p.op.F, history.ProcessString(p.process)))
	}
	if !ctx.HasThread(t) {
		return failed(fmt.Errorf("op %s pinned to process %s, whose thread is not among this generator's threads (%v)",
			p.op.F, history.ProcessString(p.process), ctx.AllThreads()))
	}
	if !ctx.IsFree(t) {
		return history.Op{}, nil, Pending
	}
	return fill(ctx, p.op, p.process), nil, Ready
}

func (p *pinned) Update(*Context, history.Op) Generator { return p }

// Log returns a generator that emits one history.Log pseudo-op: the worker
// that receives it logs msg. Log ops occupy a thread like any op but never
// enter the history. Use Repeat to log more than once.
func Log(msg string) Generator { return Lit(history.Op{Type: history.Log, Value: msg}) }

// Sleep returns a generator that emits one history.Sleep pseudo-op: the
// worker that receives it does nothing for d, then reports the op back as
// its completion. Value is d in seconds (float64), as in Jepsen; read it with
// SleepDuration.
func Sleep(d time.Duration) Generator {
	return Lit(history.Op{Type: history.Sleep, Value: d.Seconds()})
}

// SleepDuration returns how long a history.Sleep op sleeps: its Value in
// seconds (float64 or int64), or a time.Duration.
func SleepDuration(op history.Op) (time.Duration, error) {
	switch v := op.Value.(type) {
	case float64:
		if v < 0 || math.IsNaN(v) || v*1e9 > math.MaxInt64 {
			return 0, fmt.Errorf("sleep op: %v seconds is not a valid duration", v)
		}
		return time.Duration(math.Round(v * 1e9)), nil
	case int64:
		if v < 0 || v > math.MaxInt64/int64(time.Second) {
			return 0, fmt.Errorf("sleep op: %d seconds is not a valid duration", v)
		}
		return time.Duration(v) * time.Second, nil
	case time.Duration:
		if v < 0 {
			return 0, fmt.Errorf("sleep op: negative duration %v", v)
		}
		return v, nil
	}
	return 0, fmt.Errorf("sleep op: value %s is not a number of seconds", history.Format(op.Value))
}

// Fn returns a generator that calls f each time it is asked for an op: f
// returns an op template (filled in by FillIn), or false when there are no
// more ops. This is Jepsen's function generator returning a map, e.g.
// (fn [] {:f :write, :value (rand-int 5)}): random values should be drawn
// from ctx.Rand(). f is not called while no thread is free. Fn ignores
// updates.
func Fn(f func(ctx *Context) (history.Op, bool)) Generator { return &fnGen{f} }

type fnGen struct {
	f func(ctx *Context) (history.Op, bool)
}

func (g *fnGen) Op(ctx *Context) (history.Op, Generator, Status) {
	p, ok := ctx.SomeFreeProcess()
	if !ok {
		return history.Op{}, nil, Pending
	}
	op, ok := g.f(ctx)
	if !ok {
		return history.Op{}, nil, Exhausted
	}
	return fill(ctx, op, p), g, Ready
}

func (g *fnGen) Update(*Context, history.Op) Generator { return g }

// maxEmpty bounds how many exhausted generators in a row a generator that
// builds generators (FnGen, the independent generators) accepts in one call
// before it reports an error rather than loop forever.
const maxEmpty = 10000

// FnGen returns a generator that calls f for a generator, emits that
// generator's ops until it is exhausted, then calls f again; f returning nil
// ends it. This is Jepsen's function generator returning a generator, e.g.
// (fn [] (gen/once {:f :write ...})). Updates go to the current generator.
func FnGen(f func(ctx *Context) Generator) Generator { return &fnGenGen{f: f} }

type fnGenGen struct {
	f   func(ctx *Context) Generator
	cur Generator // nil: call f
}

func (g *fnGenGen) Op(ctx *Context) (history.Op, Generator, Status) {
	cur := g.cur
	for fresh := 0; ; {
		if cur == nil {
			if fresh >= maxEmpty {
				return failed(fmt.Errorf("FnGen: the function returned %d exhausted generators in a row", fresh))
			}
			fresh++
			if cur = g.f(ctx); cur == nil {
				return history.Op{}, nil, Exhausted
			}
		}
		op, next, st := cur.Op(ctx)
		switch st {
		case Ready:
			return op, &fnGenGen{f: g.f, cur: next}, Ready
		case Exhausted:
			cur = nil
		default:
			return op, nil, st
		}
	}
}

func (g *fnGenGen) Update(ctx *Context, event history.Op) Generator {
	if g.cur == nil {
		return g
	}
	cur := g.cur.Update(ctx, event)
	if same(cur, g.cur) {
		return g
	}
	return &fnGenGen{f: g.f, cur: cur}
}

// Indexed returns a generator whose i-th op (from 0) is the template f(i);
// f returning false ends it. It is the pure equivalent of Jepsen's
// (map (fn [i] {:f :write, :value i}) (range)). It ignores updates.
func Indexed(f func(i int64) (history.Op, bool)) Generator { return &indexed{f: f} }

type indexed struct {
	f func(i int64) (history.Op, bool)
	i int64
}

func (g *indexed) Op(ctx *Context) (history.Op, Generator, Status) {
	p, ok := ctx.SomeFreeProcess()
	if !ok {
		return history.Op{}, nil, Pending
	}
	op, ok := g.f(g.i)
	if !ok {
		return history.Op{}, nil, Exhausted
	}
	return fill(ctx, op, p), &indexed{f: g.f, i: g.i + 1}, Ready
}

func (g *indexed) Update(*Context, history.Op) Generator { return g }
