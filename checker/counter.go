package checker

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/faultline/faultline/history"
)

// CounterRead is one ok read of a counter with the bounds it had to lie in.
// It marshals as Jepsen's [lower value upper] triple.
type CounterRead struct {
	Lower, Value, Upper int64
	// Index is the index of the read's completion (not in the JSON triple).
	Index int
}

// MarshalJSON writes [lower, value, upper].
func (r CounterRead) MarshalJSON() ([]byte, error) {
	return json.Marshal([3]int64{r.Lower, r.Value, r.Upper})
}

// CounterResult is the result of Counter.
type CounterResult struct {
	Valid Validity `json:"valid"`
	// Reads are all ok reads, in completion order.
	Reads []CounterRead `json:"reads"`
	// Errors are the reads outside their bounds.
	Errors []CounterRead `json:"errors"`
}

// Verdict implements Result.
func (r *CounterResult) Verdict() Validity { return r.Valid }

// Summary names the first reads out of bounds.
func (r *CounterResult) Summary() string {
	if len(r.Errors) == 0 {
		return fmt.Sprintf("all %d reads within bounds", len(r.Reads))
	}
	var parts []string
	for i, e := range r.Errors {
		if i == 3 {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, fmt.Sprintf("op %d read %d outside [%d, %d]", e.Index, e.Value, e.Lower, e.Upper))
	}
	return fmt.Sprintf("%d of %d counter reads out of bounds: %s", len(r.Errors), len(r.Reads), strings.Join(parts, "; "))
}

type counter struct{}

// Counter checks a counter that starts at 0, like Jepsen's checker/counter:
// "add" ops add their value (an integer), "read" ops return the current
// value. Every ok read must lie between the sum of the ok adds that
// completed before the read was invoked and the sum of the adds (not
// failed: ok, info or never completed) invoked before the read completed.
//
// Jepsen requires non-negative increments; Faultline accepts any integer
// and widens the bounds the other way for negative ones: a negative add
// lowers the lower bound from its invocation on and the upper bound only
// once it completed ok. With only non-negative adds the bounds are
// exactly Jepsen's.
func Counter() Checker { return counter{} }

func (counter) Name() string { return "counter" }

type counterSums struct {
	posOK, negOK   int64 // ok adds, by completion
	posInv, negInv int64 // adds not failed, by invocation
}

func (counter) Check(ctx context.Context, h *history.History, _ Options) (Result, error) {
	var s counterSums
	// Lower and upper bounds taken at a read's invocation, by process.
	type pending struct{ posOK, negOK int64 }
	open := map[int]pending{}
	nreads := 0
	for i := range h.Ops {
		if op := &h.Ops[i]; op.Type == history.OK && op.F == "read" && op.IsClient() {
			nreads++
		}
	}
	r := &CounterResult{Reads: make([]CounterRead, 0, nreads), Errors: []CounterRead{}}
	for i := range h.Ops {
		if i%65536 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		op := &h.Ops[i]
		if !op.IsClient() {
			continue
		}
		switch op.F {
		case "read":
			switch op.Type {
			case history.Invoke:
				if c, ok := h.Completion(i); ok && c.Type == history.OK {
					open[op.Process] = pending{s.posOK, s.negOK}
				}
			case history.OK:
				p, ok := open[op.Process]
				if !ok {
					continue // no paired invocation: not a read we can bound
				}
				delete(open, op.Process)
				v, ok := history.Int(op.Value)
				if !ok {
					return nil, fmt.Errorf("counter: op %d (%s): read value %s is not an integer", op.Index, op.String(), history.Format(op.Value))
				}
				cr := CounterRead{
					Lower: p.posOK + s.negInv,
					Value: v,
					Upper: s.posInv + p.negOK,
					Index: op.Index,
				}
				r.Reads = append(r.Reads, cr)
				if v < cr.Lower || v > cr.Upper {
					r.Errors = append(r.Errors, cr)
				}
			}
		case "add":
			switch op.Type {
			case history.Invoke:
				v, ok := history.Int(op.Value)
				if !ok {
					return nil, fmt.Errorf("counter: op %d (%s): add value %s is not an integer", op.Index, op.String(), history.Format(op.Value))
				}
				if c, ok := h.Completion(i); ok && c.Type == history.Fail {
					continue // never happened
				}
				if v >= 0 {
					s.posInv += v
				} else {
					s.negInv += v
				}
			case history.OK:
				// The invocation's value is the increment; the completion
				// usually repeats it.
				inv, ok := h.Invocation(i)
				if !ok {
					continue
				}
				v, _ := history.Int(inv.Value)
				if v >= 0 {
					s.posOK += v
				} else {
					s.negOK += v
				}
			}
		}
	}
	r.Valid = Valid
	if len(r.Errors) > 0 {
		r.Valid = Invalid
	}
	return r, nil
}
