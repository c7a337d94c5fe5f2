package generator

import (
	"fmt"
	"reflect"

	"github.com/faultline/faultline/history"
)

// Status says what Generator.Op produced.
type Status uint8

const (
	// Exhausted: no more ops, ever, whatever the context.
	Exhausted Status = iota
	// Pending: nothing now; ask again after the next event or a short while.
	Pending
	// Ready: op is an operation to dispatch, and next is the generator to
	// use once it has been dispatched.
	Ready
	// Failed: the generator cannot go on. op.Error holds the error (see
	// ErrorOf); interpreters stop the run and report it with the op and
	// context it names.
	Failed
)

// String returns "exhausted", "pending", "ready" or "failed".
func (s Status) String() string {
	switch s {
	case Exhausted:
		return "exhausted"
	case Pending:
		return "pending"
	case Ready:
		return "ready"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// Generator is a pure, immutable schedule of operations (Jepsen's
// jepsen.generator protocol). Neither method changes the receiver: each
// returns the generator to use from then on, so a generator value can be
// asked any number of times, kept, and shared.
//
// A nil Generator is exhausted: combinators accept nil children and treat
// them as empty.
type Generator interface {
	// Op asks for the next operation. Ready: op is an invocation (Type
	// Invoke or Info, or the pseudo types history.Sleep / history.Log) with
	// Process and Time set (ns since the test started; it may be in the
	// future: do not dispatch it before then, but ask again if an event
	// comes first), and next is the generator to use after this op is
	// dispatched (nil: exhausted). Pending: nothing now, ask again after the
	// next event or a short while. Exhausted: no more ops, ever. Failed:
	// op.Error holds the error. next is only meaningful with Ready; after
	// Pending the caller keeps the receiver.
	Op(ctx *Context) (op history.Op, next Generator, st Status)

	// Update informs the generator of an event (an invocation it emitted,
	// or a completion) and returns the generator to use from now on (nil:
	// exhausted). For an invocation, ctx shows its thread busy and the
	// time of the invocation; for a completion, ctx shows the thread free
	// at the completion's time and still running the process of the
	// completed op (renumbering after info comes after the update).
	Update(ctx *Context, event history.Op) Generator
}

// opOf asks g for an op, treating nil as exhausted.
func opOf(g Generator, ctx *Context) (history.Op, Generator, Status) {
	if g == nil {
		return history.Op{}, nil, Exhausted
	}
	return g.Op(ctx)
}

// update passes an event to g, treating nil as exhausted.
func update(g Generator, ctx *Context, event history.Op) Generator {
	if g == nil {
		return nil
	}
	return g.Update(ctx, event)
}

// failed builds the result of a failed Op.
func failed(err error) (history.Op, Generator, Status) {
	return history.Op{Error: err}, nil, Failed
}

// ErrorOf returns the error carried by the op of a Failed status.
func ErrorOf(op history.Op) error {
	if err, ok := op.Error.(error); ok {
		return err
	}
	if op.Error == nil {
		return fmt.Errorf("generator failed without an error")
	}
	return fmt.Errorf("generator failed: %s", history.Format(op.Error))
}

// Fail returns a generator whose every Op fails with err. Generators (and
// the functions given to Fn, FnGen, OnUpdate, ...) return it to report an
// error instead of panicking.
func Fail(err error) Generator { return failGen{err} }

type failGen struct{ err error }

func (f failGen) Op(*Context) (history.Op, Generator, Status) { return failed(f.err) }
func (f failGen) Update(*Context, history.Op) Generator       { return f }

// candidate is one generator's answer, collected by combinators that choose
// the soonest of several (Jepsen's soonest-op-map).
type candidate struct {
	op     history.Op
	next   Generator
	st     Status
	weight int
	i      int
	ok     bool
}

// consider folds c into best the way Jepsen's soonest-op-map does: no answer
// loses to any answer; pending loses to an op; the earlier op wins; ops at
// the same time are chosen at random in proportion to their weights, and the
// winner carries the sum of both weights, so that folding many candidates
// picks each with probability proportional to its weight.
func (best *candidate) consider(ctx *Context, c *candidate) {
	switch {
	case !best.ok, best.st == Pending:
		*best = *c
	case c.st == Pending:
	case c.op.Time < best.op.Time:
		*best = *c
	case c.op.Time == best.op.Time:
		w := best.weight + c.weight
		if ctx.Rand().IntN(w) >= best.weight {
			*best = *c
		}
		best.weight = w
	}
}

// same reports whether a and b are the same generator, so that combinators
// can skip rebuilding themselves when a child did not change. Only pointers
// are compared: comparing other values can panic (a struct holding a slice,
// or an interface holding one), so those are never the same, which costs an
// allocation and nothing else.
func same(a, b Generator) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ta := reflect.TypeOf(a)
	if ta.Kind() != reflect.Pointer || ta != reflect.TypeOf(b) {
		return false
	}
	return a == b
}
