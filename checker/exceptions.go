package checker

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/faultline/faultline/history"
)

// ExceptionGroup is one class of error seen on crashed ops.
type ExceptionGroup struct {
	Class   string `json:"class"`
	Count   int    `json:"count"`
	Example OpJSON `json:"example"`
}

// UnhandledExceptionsResult is the result of UnhandledExceptions. It is
// always valid: it informs, it does not judge.
type UnhandledExceptionsResult struct {
	Valid      Validity         `json:"valid"`
	Exceptions []ExceptionGroup `json:"exceptions,omitempty"`
}

// Verdict implements Result.
func (r *UnhandledExceptionsResult) Verdict() Validity { return r.Valid }

// Summary lists the most frequent error classes.
func (r *UnhandledExceptionsResult) Summary() string {
	if len(r.Exceptions) == 0 {
		return "no unhandled errors"
	}
	total := 0
	for _, g := range r.Exceptions {
		total += g.Count
	}
	var parts []string
	for i, g := range r.Exceptions {
		if i == 3 {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, fmt.Sprintf("%dx %s", g.Count, g.Class))
	}
	return fmt.Sprintf("%d ops crashed with %d classes of error: %s", total, len(r.Exceptions), strings.Join(parts, ", "))
}

type unhandledExceptions struct{}

// UnhandledExceptions groups the client ops that crashed (info completions)
// with an error by the class of that error, most frequent first, with a
// count and the first op of each class, like Jepsen's
// checker/unhandled-exceptions. It is always valid.
//
// The class is the type of the first cause of a Jepsen exception (the op's
// "exception" field, {:via [{:type ...}]}); for ops without one, the op's
// Error: a string as it is, the first element of a vector ([:timeout "..."]
// gives "timeout"), the "type" of a map, or the rendered value otherwise.
// Unlike Jepsen, which counts only ops carrying an exception, an info op
// with just an error counts too, because Faultline's interpreter records a
// client's error or panic as the Error of an info completion. Fail
// completions are not counted: a client that reports fail handled its error.
func UnhandledExceptions() Checker { return unhandledExceptions{} }

func (unhandledExceptions) Name() string { return "unhandled-exceptions" }

func (unhandledExceptions) Check(_ context.Context, h *history.History, _ Options) (Result, error) {
	groups := map[string]*ExceptionGroup{}
	var order []string
	for i := range h.Ops {
		op := &h.Ops[i]
		if !op.IsClient() || op.Type != history.Info {
			continue
		}
		class, ok := errorClass(op)
		if !ok {
			continue
		}
		g := groups[class]
		if g == nil {
			g = &ExceptionGroup{Class: class, Example: OpJSON(*op)}
			groups[class] = g
			order = append(order, class)
		}
		g.Count++
	}
	r := &UnhandledExceptionsResult{Valid: Valid}
	for _, c := range order {
		r.Exceptions = append(r.Exceptions, *groups[c])
	}
	// Most frequent first; ties keep the order of first appearance.
	sort.SliceStable(r.Exceptions, func(i, j int) bool { return r.Exceptions[i].Count > r.Exceptions[j].Count })
	return r, nil
}

// errorClass finds the class of the error an op carries, if any.
func errorClass(op *history.Op) (string, bool) {
	if ex, ok := op.Extra.Get("exception"); ok && ex != nil {
		if m, ok := ex.(history.Map); ok {
			if via, ok := m.Get("via"); ok {
				if vs, ok := elems(via); ok && len(vs) > 0 {
					if first, ok := vs[0].(history.Map); ok {
						if t, ok := first.Get("type"); ok && t != nil {
							return keyString(t), true
						}
					}
				}
			}
			if t, ok := m.Get("type"); ok && t != nil {
				return keyString(t), true
			}
		}
		return keyString(ex), true
	}
	switch e := op.Error.(type) {
	case nil:
		return "", false
	case []any:
		if len(e) > 0 {
			return keyString(e[0]), true
		}
	case history.Map:
		if t, ok := e.Get("type"); ok && t != nil {
			return keyString(t), true
		}
	}
	return keyString(op.Error), true
}
