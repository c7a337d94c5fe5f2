package etcd

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/generator"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/workload"
)

// WatchWorkload is the watch workload: about half of the client threads
// write unique integers (spread over a few keys), the others watch the
// keys' prefix, each from where its last watch ended; at the end every
// thread watches from its position until it reaches the revision current at
// that time. WatchChecker judges it.
func WatchWorkload(o workload.Options) workload.Workload {
	writes := generator.Indexed(func(i int64) (history.Op, bool) {
		return generator.Invocation("write", i), true
	})
	rate := o.Rate
	if rate == 0 {
		rate = workload.DefaultRate
	}
	var w generator.Generator = writes
	if rate > 0 {
		w = generator.Stagger(time.Duration(float64(time.Second)/rate), writes)
	}
	watches := generator.Repeat(generator.Lit(generator.Invocation("watch", nil)))
	var gen generator.Generator
	if o.Concurrency < 2 {
		gen = generator.Mix(w, watches)
	} else {
		gen = generator.Reserve([]generator.Share{{Threads: o.Concurrency / 2, Gen: w}}, watches)
	}
	return workload.Workload{
		Name:      WorkloadWatch,
		Generator: gen,
		Final:     generator.EachThread(generator.Lit(generator.Invocation("watch", "final"))),
		Checker:   WatchChecker(),
	}
}

// WatchChecker checks the watch workload: every watcher (a process's
// successive watch ops) sees the revisions after the start marker each
// exactly once and in order, with no gap; watchers agree on what happened
// at each revision; an acknowledged write shows at its own revision with
// its value; no watcher sees a value that was never written or whose write
// failed. The workload's writes are the only writes after the marker, so
// every revision after it must show up. The verdict is unknown when no
// final watch caught up with the revision current at the end, since then no
// watcher is known to have seen everything.
func WatchChecker() checker.Checker { return watchChecker{} }

type watchChecker struct{}

func (watchChecker) Name() string { return "watch" }

// WatchAnomaly is one problem the watch checker found.
type WatchAnomaly struct {
	// Type is "gap", "duplicate", "out-of-order", "divergence",
	// "wrong-value" (an acknowledged write seen with another value at its
	// revision), "duplicated-write" (one write seen at two revisions),
	// "failed-write-seen", "phantom" (a value nobody wrote), "late-start"
	// or "malformed".
	Type     string `json:"type"`
	Process  int    `json:"process"`
	Revision int64  `json:"revision,omitempty"`
	// Expected and Got describe the difference.
	Expected any             `json:"expected,omitempty"`
	Got      any             `json:"got,omitempty"`
	Op       *checker.OpJSON `json:"op,omitempty"`
	Message  string          `json:"message"`
}

// WatchResult is the watch checker's result.
type WatchResult struct {
	Valid checker.Validity `json:"valid"`
	// WatcherCount is the number of processes with an ok watch.
	WatcherCount int `json:"watcher-count"`
	// EventCount is the number of events all watchers received.
	EventCount int `json:"event-count"`
	// StartRevision is the first revision watched; MaxRevision the highest
	// seen by anyone.
	StartRevision int64 `json:"start-revision"`
	MaxRevision   int64 `json:"max-revision"`
	// WriteCount counts write invocations, AckedWrites the ok ones.
	WriteCount  int `json:"write-count"`
	AckedWrites int `json:"acked-write-count"`
	// FinalCount counts ok final watches, CaughtUp those that reached
	// their target revision; Lagging lists the processes that did not.
	FinalCount int   `json:"final-count"`
	CaughtUp   int   `json:"caught-up-count"`
	Lagging    []int `json:"lagging,omitempty"`
	// AnomalyTypes counts anomalies by type; Anomalies holds the first 20.
	AnomalyTypes map[string]int `json:"anomaly-types,omitempty"`
	Anomalies    []WatchAnomaly `json:"anomalies,omitempty"`
	// Reason says why the verdict is unknown.
	Reason string `json:"reason,omitempty"`
}

// Verdict implements checker.Result.
func (r *WatchResult) Verdict() checker.Validity { return r.Valid }

// Summary implements checker.Summarizer.
func (r *WatchResult) Summary() string {
	switch {
	case len(r.AnomalyTypes) > 0:
		var parts []string
		for _, t := range sortedKeys(r.AnomalyTypes) {
			parts = append(parts, fmt.Sprintf("%d %s", r.AnomalyTypes[t], t))
		}
		s := "watchers disagree with the revision history: " + strings.Join(parts, ", ")
		if len(r.Anomalies) > 0 {
			s += "; first: " + r.Anomalies[0].Message
		}
		return s
	case r.Valid == checker.Unknown:
		return "watch: unknown: " + r.Reason
	}
	return fmt.Sprintf("%d watchers saw revisions %d..%d in order without gaps or duplicates; %d of %d final watches caught up",
		r.WatcherCount, r.StartRevision, r.MaxRevision, r.CaughtUp, r.FinalCount)
}

func sortedKeys(m map[string]int) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// watchObs is what a watch op returned.
type watchObs struct {
	from, to, target int64
	final            bool
	events           [][2]any // [rev int64, value]
}

func parseWatch(v any) (watchObs, error) {
	var w watchObs
	m, ok := v.(history.Map)
	if !ok {
		return w, fmt.Errorf("value %s is not a map", history.Format(v))
	}
	get := func(k string) (int64, bool) {
		x, ok := m.Get(k)
		if !ok {
			return 0, false
		}
		return history.Int(x)
	}
	if w.from, ok = get("from"); !ok {
		return w, fmt.Errorf("value %s has no integer \"from\"", history.Format(v))
	}
	if w.to, ok = get("to"); !ok {
		return w, fmt.Errorf("value %s has no integer \"to\"", history.Format(v))
	}
	if _, has := m.Get("target"); has {
		if w.target, ok = get("target"); !ok {
			return w, fmt.Errorf("value %s has a non-integer \"target\"", history.Format(v))
		}
		w.final = true
	}
	evs, _ := m.Get("events")
	list, ok := evs.([]any)
	if !ok && evs != nil {
		return w, fmt.Errorf("value %s: \"events\" is not a list", history.Format(v))
	}
	for _, e := range list {
		pair, ok := e.([]any)
		if !ok || len(pair) != 2 {
			return w, fmt.Errorf("event %s is not [revision value]", history.Format(e))
		}
		rev, ok := history.Int(pair[0])
		if !ok {
			return w, fmt.Errorf("event %s: revision is not an integer", history.Format(e))
		}
		w.events = append(w.events, [2]any{rev, pair[1]})
	}
	return w, nil
}

// maxAnomalies bounds the anomalies kept in a result.
const maxAnomalies = 20

func (watchChecker) Check(ctx context.Context, h *history.History, _ checker.Options) (checker.Result, error) {
	r := &WatchResult{AnomalyTypes: map[string]int{}}
	add := func(a WatchAnomaly) {
		r.AnomalyTypes[a.Type]++
		if len(r.Anomalies) < maxAnomalies {
			r.Anomalies = append(r.Anomalies, a)
		}
	}
	// Writes: by value, their fate; acknowledged ones by revision.
	type write struct {
		typ history.Type
		rev int64
		op  history.Op
	}
	writes := map[int64]*write{}
	ackedAt := map[int64]int64{} // revision -> value
	for i, op := range h.Ops {
		if !op.IsClient() || op.F != "write" || op.Type != history.Invoke {
			continue
		}
		v, ok := history.Int(op.Value)
		if !ok {
			add(WatchAnomaly{Type: "malformed", Process: op.Process, Op: opJSON(op), Message: fmt.Sprintf("write of non-integer %s", history.Format(op.Value))})
			continue
		}
		r.WriteCount++
		w := &write{typ: history.Info, op: op}
		if c, ok := h.Completion(i); ok {
			w.typ, w.op = c.Type, c
			if c.Type == history.OK {
				r.AckedWrites++
				if x, ok := c.Extra.Get("revision"); ok {
					if rev, ok := history.Int(x); ok {
						w.rev = rev
						ackedAt[rev] = v
					}
				}
			}
		}
		writes[v] = w
	}
	// Watch streams, per process, in history order.
	type stream struct {
		expect int64 // next revision this process should see; 0 before any
		seen   map[int64]bool
	}
	streams := map[int]*stream{}
	seenAt := map[int64]any{} // revision -> value, as first seen
	seenBy := map[int64]int{}
	valueAt := map[int64]int64{} // written value -> revision it was first seen at
	start := int64(-1)
	var firstFrom []struct {
		p    int
		from int64
		op   history.Op
	}
	for i, op := range h.Ops {
		if i%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !op.IsClient() || op.F != "watch" || op.Type != history.OK {
			continue
		}
		w, err := parseWatch(op.Value)
		if err != nil {
			add(WatchAnomaly{Type: "malformed", Process: op.Process, Op: opJSON(op), Message: err.Error()})
			continue
		}
		s := streams[op.Process]
		if s == nil {
			s = &stream{expect: w.from, seen: map[int64]bool{}}
			streams[op.Process] = s
			firstFrom = append(firstFrom, struct {
				p    int
				from int64
				op   history.Op
			}{op.Process, w.from, op})
			if start < 0 || w.from < start {
				start = w.from
			}
		}
		if w.final {
			r.FinalCount++
			if w.to >= w.target {
				r.CaughtUp++
			} else {
				r.Lagging = append(r.Lagging, op.Process)
			}
		}
		for _, e := range w.events {
			rev := e[0].(int64)
			val := e[1]
			r.EventCount++
			r.MaxRevision = max(r.MaxRevision, rev)
			switch {
			case s.seen[rev]:
				add(WatchAnomaly{Type: "duplicate", Process: op.Process, Revision: rev, Op: opJSON(op),
					Message: fmt.Sprintf("process %d saw revision %d twice", op.Process, rev)})
				continue
			case rev < s.expect:
				add(WatchAnomaly{Type: "out-of-order", Process: op.Process, Revision: rev, Expected: s.expect, Op: opJSON(op),
					Message: fmt.Sprintf("process %d saw revision %d after revision %d", op.Process, rev, s.expect-1)})
			case rev > s.expect:
				add(WatchAnomaly{Type: "gap", Process: op.Process, Revision: rev, Expected: s.expect, Got: rev, Op: opJSON(op),
					Message: fmt.Sprintf("process %d skipped revisions %d..%d (next event was revision %d)", op.Process, s.expect, rev-1, rev)})
			}
			s.seen[rev] = true
			s.expect = max(s.expect, rev+1)
			if prev, ok := seenAt[rev]; ok {
				if !history.Equal(prev, val) {
					add(WatchAnomaly{Type: "divergence", Process: op.Process, Revision: rev, Expected: prev, Got: val, Op: opJSON(op),
						Message: fmt.Sprintf("at revision %d process %d saw %s, process %d saw %s", rev, seenBy[rev], history.Format(prev), op.Process, history.Format(val))})
				}
			} else {
				seenAt[rev], seenBy[rev] = val, op.Process
			}
			if want, ok := ackedAt[rev]; ok && !history.Equal(want, val) {
				add(WatchAnomaly{Type: "wrong-value", Process: op.Process, Revision: rev, Expected: want, Got: val, Op: opJSON(op),
					Message: fmt.Sprintf("revision %d was acknowledged for the write of %d, but process %d saw %s there", rev, want, op.Process, history.Format(val))})
			}
			x, isInt := history.Int(val)
			if first, ok := valueAt[x]; isInt && ok && first != rev {
				add(WatchAnomaly{Type: "duplicated-write", Process: op.Process, Revision: rev, Expected: first, Got: rev, Op: opJSON(op),
					Message: fmt.Sprintf("process %d saw the write of %d at revision %d, but it was seen at revision %d too: it took effect twice", op.Process, x, rev, first)})
			} else if isInt && !ok {
				valueAt[x] = rev
			}
			wr := writes[x]
			switch {
			case !isInt || wr == nil:
				add(WatchAnomaly{Type: "phantom", Process: op.Process, Revision: rev, Got: val, Op: opJSON(op),
					Message: fmt.Sprintf("process %d saw %s at revision %d, which no write wrote", op.Process, history.Format(val), rev)})
			case wr.typ == history.Fail:
				add(WatchAnomaly{Type: "failed-write-seen", Process: op.Process, Revision: rev, Got: val, Op: opJSON(wr.op),
					Message: fmt.Sprintf("process %d saw %s at revision %d, but its write failed (%s)", op.Process, history.Format(val), rev, history.Format(wr.op.Error))})
			case wr.typ == history.OK && wr.rev != 0 && wr.rev != rev:
				add(WatchAnomaly{Type: "wrong-value", Process: op.Process, Revision: rev, Expected: wr.rev, Got: rev, Op: opJSON(op),
					Message: fmt.Sprintf("process %d saw the write of %d at revision %d, but it was acknowledged at revision %d", op.Process, x, rev, wr.rev)})
			}
		}
	}
	for _, f := range firstFrom {
		if f.from != start {
			add(WatchAnomaly{Type: "late-start", Process: f.p, Expected: start, Got: f.from, Op: opJSON(f.op),
				Message: fmt.Sprintf("process %d started watching at revision %d, others at %d", f.p, f.from, start)})
		}
	}
	r.WatcherCount = len(streams)
	r.StartRevision = max(start, 0)
	sort.Ints(r.Lagging)
	switch {
	case len(r.AnomalyTypes) > 0:
		r.Valid = checker.Invalid
	case r.WatcherCount == 0:
		r.Valid, r.Reason = checker.Unknown, "no watch op succeeded"
	case r.CaughtUp == 0:
		r.Valid, r.Reason = checker.Unknown, "no final watch caught up with the last revision, so no watcher is known to have seen every revision"
	case len(r.Lagging) > 0:
		r.Valid, r.Reason = checker.Unknown, fmt.Sprintf("%d final watches did not catch up with the last revision (processes %v)", len(r.Lagging), r.Lagging)
	default:
		r.Valid = checker.Valid
	}
	if len(r.AnomalyTypes) == 0 {
		r.AnomalyTypes = nil
	}
	return r, nil
}

func opJSON(op history.Op) *checker.OpJSON {
	j := checker.OpJSON(op)
	return &j
}
