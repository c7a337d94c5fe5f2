package checker

import (
	"context"
	"fmt"
	"strings"

	"github.com/faultline/faultline/history"
)

// SetResult is the result of Set, with Jepsen's keys. The element lists are
// compact strings as Jepsen writes them ("#{1..3 5}").
type SetResult struct {
	Valid             Validity `json:"valid"`
	Error             string   `json:"error,omitempty"`
	AttemptCount      int      `json:"attempt-count"`
	AcknowledgedCount int      `json:"acknowledged-count"`
	OKCount           int      `json:"ok-count"`
	LostCount         int      `json:"lost-count"`
	RecoveredCount    int      `json:"recovered-count"`
	UnexpectedCount   int      `json:"unexpected-count"`
	OK                string   `json:"ok"`
	Lost              string   `json:"lost"`
	Unexpected        string   `json:"unexpected"`
	Recovered         string   `json:"recovered"`

	lost, unexpected []any
}

// Verdict implements Result.
func (r *SetResult) Verdict() Validity { return r.Valid }

// Summary names lost and unexpected elements.
func (r *SetResult) Summary() string {
	if r.Error != "" {
		return r.Error
	}
	var parts []string
	if r.LostCount > 0 {
		parts = append(parts, fmt.Sprintf("lost %d of %d acknowledged adds: %s", r.LostCount, r.AcknowledgedCount, examples(r.lost, 5)))
	}
	if r.UnexpectedCount > 0 {
		parts = append(parts, fmt.Sprintf("read %d elements never added: %s", r.UnexpectedCount, examples(r.unexpected, 5)))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("all %d acknowledged adds read (%d of %d attempts present)", r.AcknowledgedCount, r.OKCount, r.AttemptCount)
	}
	return strings.Join(parts, "; ")
}

type setChecker struct{}

// Set checks a set after Jepsen's checker/set: "add" ops add their value,
// and the last ok "read" returns the whole set (a vector or set of
// elements). Every acknowledged (ok) add must be in that read (else lost),
// and every element read must have been attempted (else unexpected).
// Elements whose add crashed or failed but which were read are recovered.
// Without an ok read the result is unknown.
func Set() Checker { return setChecker{} }

func (setChecker) Name() string { return "set" }

// valueSet is a set of history values keyed by vkey, remembering one
// original value per key for output.
type valueSet map[vkey]any

func (s valueSet) add(v any) { s[keyOf(v)] = v }

func (s valueSet) values() []any {
	out := make([]any, 0, len(s))
	for _, v := range s {
		out = append(out, v)
	}
	sortValues(out)
	return out
}

func (setChecker) Check(_ context.Context, h *history.History, _ Options) (Result, error) {
	attempts, adds := valueSet{}, valueSet{}
	var final any
	var finalOp *history.Op
	for i := range h.Ops {
		op := &h.Ops[i]
		if !op.IsClient() {
			continue
		}
		switch {
		case op.F == "add" && op.Type == history.Invoke:
			attempts.add(op.Value)
		case op.F == "add" && op.Type == history.OK:
			v := op.Value
			if inv, ok := h.Invocation(i); ok {
				v = inv.Value
			}
			adds.add(v)
		case op.F == "read" && op.Type == history.OK:
			final, finalOp = op.Value, op
		}
	}
	r := &SetResult{}
	if finalOp == nil {
		r.Valid = Unknown
		r.Error = "Set was never read"
		r.AttemptCount, r.AcknowledgedCount = len(attempts), len(adds)
		return r, nil
	}
	read, ok := elems(final)
	if !ok {
		return nil, fmt.Errorf("set: op %d (%s): read value is not a collection", finalOp.Index, finalOp.String())
	}
	readSet := valueSet{}
	for _, v := range read {
		readSet.add(v)
	}
	okSet, unexpected, lost, recovered := valueSet{}, valueSet{}, valueSet{}, valueSet{}
	for k, v := range readSet {
		if _, tried := attempts[k]; tried {
			okSet[k] = v
			if _, acked := adds[k]; !acked {
				recovered[k] = v
			}
		} else {
			unexpected[k] = v
		}
	}
	for k, v := range adds {
		if _, seen := readSet[k]; !seen {
			lost[k] = v
		}
	}
	r.AttemptCount = len(attempts)
	r.AcknowledgedCount = len(adds)
	r.OKCount = len(okSet)
	r.LostCount = len(lost)
	r.RecoveredCount = len(recovered)
	r.UnexpectedCount = len(unexpected)
	r.lost, r.unexpected = lost.values(), unexpected.values()
	r.OK = intervalSetString(okSet.values())
	r.Lost = intervalSetString(r.lost)
	r.Unexpected = intervalSetString(r.unexpected)
	r.Recovered = intervalSetString(recovered.values())
	r.Valid = Valid
	if len(lost) > 0 || len(unexpected) > 0 {
		r.Valid = Invalid
	}
	return r, nil
}
