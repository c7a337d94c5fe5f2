package checker

import (
	"context"
	"fmt"
	"strings"

	"github.com/faultline/faultline/history"
)

// multiset counts history values.
type multiset struct {
	n    map[vkey]int
	vals map[vkey]any
	size int
}

func newMultiset() *multiset { return &multiset{n: map[vkey]int{}, vals: map[vkey]any{}} }

func (m *multiset) addN(k vkey, v any, n int) {
	if n <= 0 {
		return
	}
	if _, ok := m.vals[k]; !ok {
		m.vals[k] = v
	}
	m.n[k] += n
	m.size += n
}

func (m *multiset) add(v any) { m.addN(keyOf(v), v, 1) }

// remove takes one copy of the value with key k, reporting whether there
// was one.
func (m *multiset) remove(k vkey) bool {
	c := m.n[k]
	if c == 0 {
		return false
	}
	if c == 1 {
		delete(m.n, k)
	} else {
		m.n[k] = c - 1
	}
	m.size--
	return true
}

// values lists the multiset with repetitions, sorted.
func (m *multiset) values() Values {
	out := make(Values, 0, m.size)
	for k, c := range m.n {
		for range c {
			out = append(out, m.vals[k])
		}
	}
	sortValues(out)
	return out
}

// QueueResult is the result of Queue.
type QueueResult struct {
	Valid Validity `json:"valid"`
	// Error describes the first dequeue of a value that was not in the
	// queue, as Jepsen's model message does ("can't dequeue 3").
	Error string `json:"error,omitempty"`
	// BadDequeues are the dequeues of values not in the queue (at most 100).
	BadDequeues     []OpJSON `json:"bad-dequeues,omitempty"`
	BadDequeueCount int      `json:"bad-dequeue-count"`
	// FinalQueue is what the queue holds at the end, when every attempted
	// enqueue is taken to have happened.
	FinalQueue      Values `json:"final-queue"`
	FinalQueueCount int    `json:"final-queue-count"`
}

// Verdict implements Result.
func (r *QueueResult) Verdict() Validity { return r.Valid }

// Summary names the first bad dequeues.
func (r *QueueResult) Summary() string {
	if r.BadDequeueCount == 0 {
		return fmt.Sprintf("every dequeued value was enqueued; %d values left in the queue", r.FinalQueueCount)
	}
	var parts []string
	for i, op := range r.BadDequeues {
		if i == 3 {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, fmt.Sprintf("op %d dequeued %s", op.Index, history.Format(op.Value)))
	}
	return fmt.Sprintf("%d dequeues of values that were not in the queue: %s", r.BadDequeueCount, strings.Join(parts, ", "))
}

type queue struct{}

// Queue checks that every dequeue comes from somewhere, like Jepsen's
// checker/queue with Knossos' unordered-queue model: every enqueue that did
// not fail is taken to have happened at its invocation, every ok dequeue at
// its completion, and a dequeued value must then be in the queue (enqueued
// and not dequeued since). Order is not checked. O(n).
//
// Differences from Jepsen, all for Faultline's workloads: an ok dequeue with
// a nil value means the queue was empty and is skipped; an ok "drain" (its
// value the list of elements drained) counts as one dequeue per element;
// and an enqueue whose completion is fail is not counted (Jepsen's code
// counts every enqueue invocation, although its doc says "non-failing").
// Unlike Jepsen, which stops at the first bad dequeue, every bad dequeue is
// counted.
func Queue() Checker { return queue{} }

func (queue) Name() string { return "queue" }

func (queue) Check(_ context.Context, h *history.History, _ Options) (Result, error) {
	q := newMultiset()
	r := &QueueResult{}
	bad := func(op *history.Op, v any) {
		if r.BadDequeueCount == 0 {
			r.Error = "can't dequeue " + history.Format(v)
		}
		r.BadDequeueCount++
		if len(r.BadDequeues) < 100 {
			o := *op
			o.Value = v
			r.BadDequeues = append(r.BadDequeues, OpJSON(o))
		}
	}
	for i := range h.Ops {
		op := &h.Ops[i]
		if !op.IsClient() {
			continue
		}
		switch {
		case op.F == "enqueue" && op.Type == history.Invoke:
			if c, ok := h.Completion(i); ok && c.Type == history.Fail {
				continue
			}
			q.add(op.Value)
		case op.F == "dequeue" && op.Type == history.OK:
			if op.Value == nil {
				continue
			}
			if !q.remove(keyOf(op.Value)) {
				bad(op, op.Value)
			}
		case op.F == "drain" && op.Type == history.OK:
			vs, ok := elems(op.Value)
			if !ok {
				return nil, fmt.Errorf("queue: op %d (%s): drain value is not a list", op.Index, op.String())
			}
			for _, v := range vs {
				if !q.remove(keyOf(v)) {
					bad(op, v)
				}
			}
		}
	}
	r.FinalQueue = q.values()
	r.FinalQueueCount = q.size
	r.Valid = Valid
	if r.BadDequeueCount > 0 {
		r.Valid = Invalid
	}
	return r, nil
}

// TotalQueueResult is the result of TotalQueue, with Jepsen's keys.
type TotalQueueResult struct {
	Valid             Validity `json:"valid"`
	AttemptCount      int      `json:"attempt-count"`
	AcknowledgedCount int      `json:"acknowledged-count"`
	OKCount           int      `json:"ok-count"`
	UnexpectedCount   int      `json:"unexpected-count"`
	DuplicatedCount   int      `json:"duplicated-count"`
	LostCount         int      `json:"lost-count"`
	RecoveredCount    int      `json:"recovered-count"`
	Lost              Values   `json:"lost"`
	Unexpected        Values   `json:"unexpected"`
	Duplicated        Values   `json:"duplicated"`
	Recovered         Values   `json:"recovered"`
}

// Verdict implements Result.
func (r *TotalQueueResult) Verdict() Validity { return r.Valid }

// Summary names lost, unexpected and duplicated values.
func (r *TotalQueueResult) Summary() string {
	var parts []string
	if r.LostCount > 0 {
		parts = append(parts, fmt.Sprintf("lost %d of %d acknowledged enqueues: %s", r.LostCount, r.AcknowledgedCount, examples(r.Lost, 5)))
	}
	if r.UnexpectedCount > 0 {
		parts = append(parts, fmt.Sprintf("dequeued %d values never enqueued: %s", r.UnexpectedCount, examples(r.Unexpected, 5)))
	}
	if r.DuplicatedCount > 0 {
		parts = append(parts, fmt.Sprintf("dequeued %d values more often than enqueued: %s", r.DuplicatedCount, examples(r.Duplicated, 5)))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("all %d acknowledged enqueues dequeued (%d recovered)", r.AcknowledgedCount, r.RecoveredCount)
	}
	return strings.Join(parts, "; ")
}

type totalQueue struct{}

// TotalQueue checks that what goes in comes out, like Jepsen's
// checker/total-queue: over the multisets of attempted enqueues
// (invocations), acknowledged enqueues (ok) and dequeued values (ok
// "dequeue" values, plus each element of ok "drain" values):
//
//	ok         = dequeued ∩ attempted
//	unexpected = dequeued values never attempted (every copy)
//	duplicated = dequeued − attempted − unexpected
//	lost       = acknowledged − dequeued
//	recovered  = ok − acknowledged
//
// It is invalid when a value is lost or unexpected; duplicates (an
// at-least-once queue's right) are reported but do not make it invalid,
// as in Jepsen. A history must drain the queue for lost to mean anything.
// A crashed (info) drain is an error, as in Jepsen: its elements are
// unknown. An ok dequeue with a nil value (empty queue) is skipped.
func TotalQueue() Checker { return totalQueue{} }

func (totalQueue) Name() string { return "total-queue" }

func (totalQueue) Check(_ context.Context, h *history.History, _ Options) (Result, error) {
	attempts, enqueues, dequeues := newMultiset(), newMultiset(), newMultiset()
	for i := range h.Ops {
		op := &h.Ops[i]
		if !op.IsClient() {
			continue
		}
		switch op.F {
		case "enqueue":
			switch op.Type {
			case history.Invoke:
				attempts.add(op.Value)
			case history.OK:
				v := op.Value
				if inv, ok := h.Invocation(i); ok {
					v = inv.Value
				}
				enqueues.add(v)
			}
		case "dequeue":
			if op.Type == history.OK && op.Value != nil {
				dequeues.add(op.Value)
			}
		case "drain":
			switch op.Type {
			case history.OK:
				vs, ok := elems(op.Value)
				if !ok {
					return nil, fmt.Errorf("total-queue: op %d (%s): drain value is not a list", op.Index, op.String())
				}
				for _, v := range vs {
					dequeues.add(v)
				}
			case history.Info:
				return nil, fmt.Errorf("total-queue: op %d (%s): a crashed drain leaves the dequeued elements unknown", op.Index, op.String())
			}
		}
	}
	okSet, unexpected, duplicated, lost, recovered := newMultiset(), newMultiset(), newMultiset(), newMultiset(), newMultiset()
	for k, d := range dequeues.n {
		v := dequeues.vals[k]
		a := attempts.n[k]
		if a == 0 {
			unexpected.addN(k, v, d)
			continue
		}
		okSet.addN(k, v, min(a, d))
		duplicated.addN(k, v, d-a)
	}
	for k, e := range enqueues.n {
		lost.addN(k, enqueues.vals[k], e-dequeues.n[k])
	}
	for k, o := range okSet.n {
		recovered.addN(k, okSet.vals[k], o-enqueues.n[k])
	}
	r := &TotalQueueResult{
		AttemptCount:      attempts.size,
		AcknowledgedCount: enqueues.size,
		OKCount:           okSet.size,
		UnexpectedCount:   unexpected.size,
		DuplicatedCount:   duplicated.size,
		LostCount:         lost.size,
		RecoveredCount:    recovered.size,
		Lost:              lost.values(),
		Unexpected:        unexpected.values(),
		Duplicated:        duplicated.values(),
		Recovered:         recovered.values(),
	}
	r.Valid = Valid
	if r.LostCount > 0 || r.UnexpectedCount > 0 {
		r.Valid = Invalid
	}
	return r, nil
}
