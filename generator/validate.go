package generator

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/faultline/faultline/history"
)

// InvalidOpError reports an op a generator should not have emitted.
type InvalidOpError struct {
	Op       history.Op // the op as emitted
	Problems []string   // what is wrong with it
	Context  string     // the context it was emitted in (Context.String)
}

func (e *InvalidOpError) Error() string {
	return fmt.Sprintf("generator emitted an invalid op (process %s, type %q, f %q, time %d): %s; context: %s",
		history.ProcessString(e.Op.Process), e.Op.Type.String(), e.Op.F, e.Op.Time,
		strings.Join(e.Problems, "; "), e.Context)
}

// PanicError reports a panic in a generator (often in a user function given
// to Fn, Map, Filter, OnUpdate, ...), recovered by Recover.
type PanicError struct {
	In    string      // "Op" or "Update"
	Value any         // the value passed to panic
	Event *history.Op // the event being processed, for Update
	Stack string
}

func (e *PanicError) Error() string {
	s := fmt.Sprintf("generator panicked in %s: %v", e.In, e.Value)
	if e.Event != nil {
		s += fmt.Sprintf(" (event: %s)", e.Event.String())
	}
	return s
}

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// Validate returns a generator that checks every op g emits: its type is
// invoke, info, sleep or log; its time is set (not negative); its process
// runs on a thread of the context and that thread is free. A bad op makes
// Op return Failed with an *InvalidOpError instead of the op (Jepsen's
// validate, which throws). Interpreters and Simulate wrap the test's
// generator in it.
func Validate(g Generator) Generator {
	if g == nil {
		return nil
	}
	return &validate{g}
}

type validate struct{ g Generator }

// Problems returns what is wrong with op as an emission in ctx, or nil.
func Problems(ctx *Context, op history.Op) []string {
	var probs []string
	switch op.Type {
	case history.Invoke, history.Info, history.Sleep, history.Log:
	default:
		probs = append(probs, fmt.Sprintf("type %q should be invoke, info, sleep or log", op.Type.String()))
	}
	if op.Time < 0 {
		probs = append(probs, fmt.Sprintf("time %d is not set", op.Time))
	}
	if t, ok := ctx.Thread(op.Process); !ok {
		probs = append(probs, fmt.Sprintf("process %s runs on no thread", history.ProcessString(op.Process)))
	} else if !ctx.IsFree(t) {
		probs = append(probs, fmt.Sprintf("process %s (thread %s) is not free", history.ProcessString(op.Process), history.ProcessString(t)))
	}
	return probs
}

func (v *validate) Op(ctx *Context) (history.Op, Generator, Status) {
	op, next, st := v.g.Op(ctx)
	if st != Ready {
		return op, nil, st
	}
	if probs := Problems(ctx, op); len(probs) > 0 {
		return failed(&InvalidOpError{Op: op, Problems: probs, Context: ctx.String()})
	}
	return op, Validate(next), Ready
}

func (v *validate) Update(ctx *Context, event history.Op) Generator {
	g := v.g.Update(ctx, event)
	if same(g, v.g) {
		return v
	}
	return Validate(g)
}

// Recover returns a generator that turns a panic inside g into an error:
// Op returns Failed with a *PanicError, and Update returns a generator that
// fails so (Jepsen's friendly-exceptions). Generators are immutable, so the
// state before the panic is intact.
func Recover(g Generator) Generator {
	if g == nil {
		return nil
	}
	return &recoverGen{g}
}

type recoverGen struct{ g Generator }

func (r *recoverGen) Op(ctx *Context) (op history.Op, next Generator, st Status) {
	defer func() {
		if p := recover(); p != nil {
			op, next, st = failed(&PanicError{In: "Op", Value: p, Stack: string(debug.Stack())})
		}
	}()
	op, next, st = r.g.Op(ctx)
	if st == Ready {
		next = Recover(next)
	}
	return op, next, st
}

func (r *recoverGen) Update(ctx *Context, event history.Op) (next Generator) {
	defer func() {
		if p := recover(); p != nil {
			ev := event
			next = Fail(&PanicError{In: "Update", Value: p, Event: &ev, Stack: string(debug.Stack())})
		}
	}()
	g := r.g.Update(ctx, event)
	if same(g, r.g) {
		return r
	}
	return Recover(g)
}

// Trace returns a generator that logs every Op and Update of g through
// slog.Default at level Info, tagged with name (Jepsen's trace).
func Trace(name string, g Generator) Generator { return TraceTo(nil, name, g) }

// TraceTo is Trace with a logger; nil means slog.Default().
func TraceTo(logger *slog.Logger, name string, g Generator) Generator {
	if g == nil {
		return nil
	}
	return &traceGen{logger: logger, name: name, g: g}
}

type traceGen struct {
	logger *slog.Logger
	name   string
	g      Generator
}

func (t *traceGen) log() *slog.Logger {
	if t.logger != nil {
		return t.logger
	}
	return slog.Default()
}

func (t *traceGen) Op(ctx *Context) (history.Op, Generator, Status) {
	op, next, st := t.g.Op(ctx)
	attrs := []any{"trace", t.name, "status", st.String(), "context", ctx.String(), "generator", fmt.Sprintf("%T", t.g)}
	switch st {
	case Ready:
		attrs = append(attrs, "op", op.String(), "time", op.Time)
	case Failed:
		attrs = append(attrs, "error", ErrorOf(op).Error())
	}
	t.log().Info("generator op", attrs...)
	if st != Ready || next == nil {
		return op, nil, st
	}
	return op, &traceGen{logger: t.logger, name: t.name, g: next}, Ready
}

func (t *traceGen) Update(ctx *Context, event history.Op) Generator {
	g := t.g.Update(ctx, event)
	t.log().Info("generator update", "trace", t.name, "event", event.String(), "time", event.Time,
		"context", ctx.String(), "exhausted", g == nil)
	switch {
	case same(g, t.g):
		return t
	case g == nil:
		return nil
	}
	return &traceGen{logger: t.logger, name: t.name, g: g}
}
