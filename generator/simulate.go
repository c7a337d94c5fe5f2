package generator

import (
	"errors"
	"fmt"

	"github.com/faultline/faultline/history"
)

// CompleteFunc decides how a simulated system completes an invocation: it
// returns the completion (same process; type ok, fail or info; time at or
// after the invocation's). ctx is the context just after the invocation.
type CompleteFunc func(ctx *Context, invoke history.Op) history.Op

// PerfectLatency is how long ops take under the simulator's default
// completion, Perfect(PerfectLatency), as in Jepsen's generator tests.
const PerfectLatency = 10

// Perfect completes every op ok, latency nanoseconds after it starts
// (Jepsen's perfect; Perfect(0) is its quick).
func Perfect(latency int64) CompleteFunc {
	return func(_ *Context, op history.Op) history.Op {
		op.Type = history.OK
		op.Time += latency
		return op
	}
}

// PerfectInfo completes every op info (crashed), latency nanoseconds after
// it starts (Jepsen's perfect-info): each client thread gets a new process
// after every op.
func PerfectInfo(latency int64) CompleteFunc {
	return func(_ *Context, op history.Op) history.Op {
		op.Type = history.Info
		op.Time += latency
		return op
	}
}

// Imperfect completes the ops of each thread fail, info, ok, fail, info,
// ok, ... latency nanoseconds after they start (Jepsen's imperfect). It
// keeps per-thread state: make a new one for every simulation.
func Imperfect(latency int64) CompleteFunc {
	state := map[int]history.Type{}
	return func(ctx *Context, op history.Op) history.Op {
		t, _ := ctx.Thread(op.Process)
		switch state[t] {
		case history.Fail:
			state[t] = history.Info
		case history.Info:
			state[t] = history.OK
		default:
			state[t] = history.Fail
		}
		op.Type = state[t]
		op.Time += latency
		return op
	}
}

// SimOptions configures Simulate.
type SimOptions struct {
	// Concurrency is the number of client threads; 0 means 2, the size of
	// Jepsen's default test context.
	Concurrency int
	// Nemesis adds the nemesis thread.
	Nemesis bool
	// Seed seeds the context's random source.
	Seed int64
	// Complete completes invocations; nil means Perfect(PerfectLatency).
	// Sleep and log pseudo-ops never reach it: a sleep completes after its
	// duration, a log at once, as the interpreter does.
	Complete CompleteFunc
	// MaxEvents bounds the run (invocations plus completions, pseudo-ops
	// included); 0 means 1,000,000. Exceeding it is an error.
	MaxEvents int
	// KeepPseudo keeps sleep and log ops (invocations and completions) in
	// the returned history.
	KeepPseudo bool
	// NoValidate skips wrapping the generator in Validate and Recover.
	NoValidate bool
}

// ErrStuck is returned (wrapped) by Simulate when the generator is pending
// while nothing is in flight: nothing can ever change, so it would wait
// forever.
var ErrStuck = errors.New("generator is pending with no operation in flight")

// Simulate runs g against a simulated system, without goroutines or
// sleeping, on a simulated clock that jumps from event to event (Jepsen's
// jepsen.generator.test/simulate). It returns the history of invocations and
// completions, with Index set to the position, in the order the
// interpreter would record them. Like the interpreter it wraps g in Validate
// and Recover, updates g with every invocation and completion, and gives a
// client thread a new process after an info completion.
//
// An op is invoked as soon as its time is no later than the earliest
// completion in flight; otherwise that completion happens first. Completions
// at the same time come out newest invocation first, as in Jepsen's
// simulator, so expected histories from Jepsen's tests carry over. When g is
// exhausted, the ops still in flight complete without updating it.
//
// It stops with an error (and the history so far) when g fails, when a
// completion is malformed, when g is pending with nothing in flight
// (ErrStuck), or after MaxEvents events.
func Simulate(g Generator, opts SimOptions) ([]history.Op, error) {
	conc := opts.Concurrency
	if conc == 0 {
		conc = 2
	}
	return SimulateFrom(NewContext(conc, opts.Nemesis, opts.Seed), g, opts)
}

// SimulateFrom is Simulate starting from ctx (its concurrency, nemesis and
// random source; opts.Concurrency, Nemesis and Seed are ignored).
func SimulateFrom(ctx *Context, g Generator, opts SimOptions) ([]history.Op, error) {
	complete := opts.Complete
	if complete == nil {
		complete = Perfect(PerfectLatency)
	}
	maxEvents := opts.MaxEvents
	if maxEvents <= 0 {
		maxEvents = 1_000_000
	}
	if !opts.NoValidate {
		g = Validate(Recover(g))
	}
	var out []history.Op
	record := func(op history.Op) {
		if opts.KeepPseudo || (op.Type != history.Sleep && op.Type != history.Log) {
			op.Index = len(out)
			out = append(out, op)
		}
	}
	var flight inFlight
	for events := 0; ; events++ {
		if events >= maxEvents {
			return out, fmt.Errorf("simulation stopped after %d events; bound the generator (Limit, TimeLimit) or raise MaxEvents", maxEvents)
		}
		op, next, st := opOf(g, ctx)
		switch {
		case st == Failed:
			return out, fmt.Errorf("simulation at %s: %w", ctx, ErrorOf(op))
		case st == Exhausted:
			for flight.len() > 0 {
				record(flight.pop())
			}
			return out, nil
		case st == Ready && (flight.len() == 0 || op.Time <= flight.peek().Time):
			t, ok := ctx.Thread(op.Process)
			if !ok {
				return out, fmt.Errorf("simulation: op %s has a process no thread runs", op.String())
			}
			ctx = ctx.BusyAt(max(ctx.time, op.Time), t)
			g = update(next, ctx, op)
			c, err := completion(ctx, op, complete)
			if err != nil {
				return out, err
			}
			record(op)
			flight.push(c)
		default:
			if flight.len() == 0 {
				return out, fmt.Errorf("simulation at %s: %w", ctx, ErrStuck)
			}
			c := flight.pop()
			t, _ := ctx.Thread(c.Process)
			ctx = ctx.FreeAt(max(ctx.time, c.Time), t)
			g = update(g, ctx, c)
			if c.Type == history.Info && t != NemesisThread {
				ctx = ctx.WithNextProcess(t)
			}
			record(c)
		}
	}
}

// completion returns the completion of op, checked.
func completion(ctx *Context, op history.Op, complete CompleteFunc) (history.Op, error) {
	switch op.Type {
	case history.Sleep:
		d, err := SleepDuration(op)
		if err != nil {
			return op, fmt.Errorf("simulation: %w", err)
		}
		c := op
		c.Time += int64(d)
		return c, nil
	case history.Log:
		return op, nil
	}
	c := complete(ctx, op)
	switch {
	case c.Process != op.Process:
		return c, fmt.Errorf("simulation: completion %s of invocation %s has another process", c.String(), op.String())
	case !c.Type.IsCompletion():
		return c, fmt.Errorf("simulation: completion %s of invocation %s has type %q, not ok, fail or info", c.String(), op.String(), c.Type.String())
	case c.Time < op.Time:
		return c, fmt.Errorf("simulation: completion %s at %d is before its invocation at %d", c.String(), c.Time, op.Time)
	}
	return c, nil
}

// Invocations returns the ops of a history that start an operation: those
// of type invoke, and info ops of a process with no operation open (nemesis
// ops are info on both ends).
func Invocations(ops []history.Op) []history.Op {
	var out []history.Op
	open := map[int]bool{}
	for _, op := range ops {
		switch {
		case op.Type == history.Invoke, op.Type == history.Info && !open[op.Process]:
			open[op.Process] = true
			out = append(out, op)
		case op.Type.IsCompletion():
			delete(open, op.Process)
		}
	}
	return out
}

// inFlight is a heap of completions ordered by time, and at equal times by
// newest invocation first.
type inFlight struct {
	items []flightItem
	seq   int
}

type flightItem struct {
	op  history.Op
	seq int
}

func (h *inFlight) len() int { return len(h.items) }

func (h *inFlight) peek() *history.Op { return &h.items[0].op }

func (h *inFlight) less(i, j int) bool {
	a, b := &h.items[i], &h.items[j]
	if a.op.Time != b.op.Time {
		return a.op.Time < b.op.Time
	}
	return a.seq > b.seq
}

func (h *inFlight) push(op history.Op) {
	h.seq++
	h.items = append(h.items, flightItem{op: op, seq: h.seq})
	for i := len(h.items) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h.items[i], h.items[p] = h.items[p], h.items[i]
		i = p
	}
}

func (h *inFlight) pop() history.Op {
	top := h.items[0].op
	last := len(h.items) - 1
	h.items[0] = h.items[last]
	h.items = h.items[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < last && h.less(l, m) {
			m = l
		}
		if r < last && h.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
	return top
}
