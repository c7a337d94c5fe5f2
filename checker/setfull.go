package checker

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/faultline/faultline/history"
)

// SetFullOptions configure SetFull.
type SetFullOptions struct {
	// Linearizable makes stale elements (seen late: a read that began after
	// the element was known to be added missed it) invalid, as Jepsen's
	// :linearizable? option does.
	Linearizable bool
}

// SetFullElement describes one element in a SetFullResult.
type SetFullElement struct {
	Element Value `json:"element"`
	// Outcome is "stable", "lost" or "never-read".
	Outcome string `json:"outcome"`
	// StableLatency and LostLatency are in milliseconds, nil when the
	// element is not stable (lost).
	StableLatency *int64 `json:"stable-latency"`
	LostLatency   *int64 `json:"lost-latency"`
	// Known is the op after which the element was known to be present: the
	// add's ok completion or the first read that saw it.
	Known *OpJSON `json:"known"`
	// LastAbsent is the invocation of the last read that missed it.
	LastAbsent *OpJSON `json:"last-absent"`
}

// SetFullResult is the result of SetFull, with Jepsen's keys.
type SetFullResult struct {
	Valid          Validity `json:"valid"`
	AttemptCount   int      `json:"attempt-count"`
	StableCount    int      `json:"stable-count"`
	LostCount      int      `json:"lost-count"`
	Lost           Values   `json:"lost"`
	NeverReadCount int      `json:"never-read-count"`
	NeverRead      Values   `json:"never-read"`
	StaleCount     int      `json:"stale-count"`
	Stale          Values   `json:"stale"`
	// WorstStale are the (at most 8) stale elements that took longest to
	// become stable.
	WorstStale      []SetFullElement `json:"worst-stale"`
	StableLatencies Quantiles        `json:"stable-latencies,omitempty"`
	LostLatencies   Quantiles        `json:"lost-latencies,omitempty"`
	DuplicatedCount int              `json:"duplicated-count"`
	// Duplicated maps elements that some read returned more than once to
	// the largest number of copies in one read.
	Duplicated map[string]int `json:"duplicated"`

	linearizable bool
}

// Verdict implements Result.
func (r *SetFullResult) Verdict() Validity { return r.Valid }

// Summary names lost, stale and duplicated elements.
func (r *SetFullResult) Summary() string {
	var parts []string
	if r.LostCount > 0 {
		parts = append(parts, fmt.Sprintf("lost %d of %d added elements: %s", r.LostCount, r.AttemptCount, examples(r.Lost, 5)))
	}
	if r.StaleCount > 0 && r.linearizable {
		worst := ""
		if len(r.WorstStale) > 0 && r.WorstStale[0].StableLatency != nil {
			worst = fmt.Sprintf(" (worst %d ms)", *r.WorstStale[0].StableLatency)
		}
		parts = append(parts, fmt.Sprintf("%d stale elements, missing from reads begun after they were added: %s%s", r.StaleCount, examples(r.Stale, 5), worst))
	}
	if r.DuplicatedCount > 0 {
		ks := make([]string, 0, len(r.Duplicated))
		for k := range r.Duplicated {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		if len(ks) > 5 {
			ks = append(ks[:5], "...")
		}
		parts = append(parts, fmt.Sprintf("%d elements read more than once in a single read: %s", r.DuplicatedCount, strings.Join(ks, ", ")))
	}
	if len(parts) > 0 {
		return strings.Join(parts, "; ")
	}
	if r.StableCount == 0 {
		return fmt.Sprintf("no element of %d became stable: nothing was confirmed by a later read", r.AttemptCount)
	}
	return fmt.Sprintf("%d of %d elements stable (%d stale, %d never read), none lost", r.StableCount, r.AttemptCount, r.StaleCount, r.NeverReadCount)
}

type setFull struct{ opts SetFullOptions }

// SetFull is Jepsen's checker/set-full: a rigorous analysis of a set where
// "add" ops add single elements and ok "read" ops return the whole set (a
// vector or set), with a verdict per element:
//
//   - an element is stable when some read saw it and no read invoked later
//     than the last such read missed it; its stable latency is the time from
//     when it was known to be added (the add's ok completion, or the first
//     read that saw it, whichever completed first) to just after the
//     invocation of the last read that missed it, in ms, at least 0;
//     a stable element with a positive latency is stale;
//   - it is lost when it was known to be added and a read invoked after both
//     that point and the last read that saw it missed it;
//   - otherwise it was never read.
//
// Only reads that complete after an element's add was invoked count for it.
// The result is invalid when an element is lost, when a read returned an
// element twice (see below), or, with Linearizable, when an element is
// stale; unknown when no element is stable; valid otherwise.
//
// Jepsen's set-full also looks for duplicates, but its test for them
// (multiplicity < 1) can never be true; Faultline implements the intent: an
// element that appears more than once in one read is duplicated, and that
// makes the result invalid.
func SetFull(opts SetFullOptions) Checker { return &setFull{opts: opts} }

func (c *setFull) Name() string { return "set-full" }

// sfElems is the state of the elements during the scan, one slot per
// element; positions are indexes into h.Ops, -1 for none. The fields each
// read value touches sit together in hot; lastAbsent, touched by the pass
// over all elements, apart.
type sfElems struct {
	value      []any
	hot        []sfHot
	lastAbsent []int32 // invocation of the latest-invoked read that missed it
}

type sfHot struct {
	stamp       int32 // number of the last read that saw it
	copies      int32 // how often that read saw it
	known       int32 // the op that made the element known
	lastPresent int32 // invocation of the latest-invoked read that saw it
}

func (e *sfElems) reset(id int32, v any) {
	if int(id) == len(e.value) {
		e.value = append(e.value, v)
		e.hot = append(e.hot, sfHot{known: -1, lastPresent: -1})
		e.lastAbsent = append(e.lastAbsent, -1)
		return
	}
	// stamp and copies stay: they only matter within one read.
	e.value[id] = v
	e.hot[id].known, e.hot[id].lastPresent, e.lastAbsent[id] = -1, -1, -1
}

// sfIndex finds an element's state from a value read. Integer elements in a
// compact range use a dense table, anything else a map.
type sfIndex struct {
	dense    []int32 // element id by value-min, -1 if none
	min      int64
	ints     map[int64]int32
	others   map[vkey]int32
	useDense bool
}

func newSFIndex(h *history.History) *sfIndex {
	ix := &sfIndex{ints: map[int64]int32{}, others: map[vkey]int32{}}
	lo, hi, n := int64(math.MaxInt64), int64(math.MinInt64), 0
	for i := range h.Ops {
		op := &h.Ops[i]
		if op.F != "add" || op.Type != history.Invoke || !op.IsClient() {
			continue
		}
		v, ok := op.Value.(int64)
		if !ok {
			return ix
		}
		lo, hi, n = min(lo, v), max(hi, v), n+1
	}
	if n > 0 && hi-lo >= 0 && hi-lo < int64(4*n+1024) {
		ix.useDense, ix.min = true, lo
		ix.dense = make([]int32, hi-lo+1)
		for i := range ix.dense {
			ix.dense[i] = -1
		}
	}
	return ix
}

func (ix *sfIndex) get(v any) int32 {
	if x, ok := v.(int64); ok {
		if ix.useDense {
			if d := x - ix.min; d >= 0 && d < int64(len(ix.dense)) {
				return ix.dense[d]
			}
			return -1
		}
		if id, ok := ix.ints[x]; ok {
			return id
		}
		return -1
	}
	k := keyOf(v)
	if n, ok := k.Int(); ok {
		return ix.get(n)
	}
	if id, ok := ix.others[k]; ok {
		return id
	}
	return -1
}

func (ix *sfIndex) put(v any, id int32) {
	if x, ok := v.(int64); ok && ix.useDense {
		ix.dense[x-ix.min] = id
		return
	}
	k := keyOf(v)
	if n, ok := k.Int(); ok {
		if ix.useDense {
			ix.dense[n-ix.min] = id
		} else {
			ix.ints[n] = id
		}
		return
	}
	ix.others[k] = id
}

func (c *setFull) Check(ctx context.Context, h *history.History, _ Options) (Result, error) {
	if len(h.Ops) >= math.MaxInt32 {
		return nil, fmt.Errorf("set-full: history of %d ops is too long", len(h.Ops))
	}
	ix := newSFIndex(h)
	var els sfElems
	dups := map[int32]int32{}    // element id -> most copies in one read
	var foreignDups map[vkey]int // values never added, read twice
	var foreignVals map[vkey]any // their values
	var readNo int32
	for i := range h.Ops {
		op := &h.Ops[i]
		if !op.IsClient() {
			continue
		}
		switch op.F {
		case "add":
			switch op.Type {
			case history.Invoke:
				// A new element; adding it again starts it afresh, as in Jepsen.
				id := ix.get(op.Value)
				if id < 0 {
					id = int32(len(els.value))
					ix.put(op.Value, id)
				}
				els.reset(id, op.Value)
			case history.OK:
				v := op.Value
				if inv, ok := h.Invocation(i); ok {
					v = inv.Value
				}
				if id := ix.get(v); id >= 0 && els.hot[id].known < 0 {
					els.hot[id].known = int32(i)
				}
			}
		case "read":
			if op.Type != history.OK {
				continue
			}
			inv := h.Pair(i)
			if inv < 0 || inv > i {
				continue // no invocation: we cannot tell when it began
			}
			if readNo%64 == 0 && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			read, ok := elems(op.Value)
			if !ok {
				return nil, fmt.Errorf("set-full: op %d (%s): read value is not a collection", op.Index, op.String())
			}
			readNo++
			pos, invPos := int32(i), int32(inv)
			present := 0
			var foreign map[vkey]int
			for _, v := range read {
				id := ix.get(v)
				if id < 0 {
					if foreign == nil {
						foreign = map[vkey]int{}
					}
					k := keyOf(v)
					foreign[k]++
					if n := foreign[k]; n > 1 && n > foreignDups[k] {
						if foreignDups == nil {
							foreignDups, foreignVals = map[vkey]int{}, map[vkey]any{}
						}
						foreignDups[k], foreignVals[k] = n, v
					}
					continue
				}
				e := &els.hot[id]
				if e.stamp == readNo {
					e.copies++
					if e.copies > dups[id] {
						dups[id] = e.copies
					}
					continue
				}
				e.stamp, e.copies = readNo, 1
				present++
				if e.known < 0 {
					e.known = pos
				}
				if e.lastPresent < invPos {
					e.lastPresent = invPos
				}
			}
			if present == len(els.hot) {
				continue // nothing missing
			}
			hot, absent := els.hot, els.lastAbsent[:len(els.hot)]
			for j := range hot {
				if hot[j].stamp != readNo && absent[j] < invPos {
					absent[j] = invPos
				}
			}
		}
	}

	r := &SetFullResult{
		Lost: Values{}, NeverRead: Values{}, Stale: Values{}, WorstStale: []SetFullElement{},
		Duplicated: map[string]int{}, linearizable: c.opts.Linearizable,
	}
	type staleEl struct {
		id      int
		latency int64
	}
	var stale []staleEl
	var stableLat, lostLat []int64
	for id, v := range els.value {
		known, present, absent := els.hot[id].known, els.hot[id].lastPresent, els.lastAbsent[id]
		stable := present >= 0 && absent < present
		lost := known >= 0 && absent >= 0 && present < absent && known < absent
		switch {
		case stable:
			r.StableCount++
			lat := c.latency(h, absent, known)
			stableLat = append(stableLat, lat)
			if lat > 0 {
				stale = append(stale, staleEl{id, lat})
			}
		case lost:
			r.LostCount++
			r.Lost = append(r.Lost, v)
			lostLat = append(lostLat, c.latency(h, present, known))
		default:
			r.NeverReadCount++
			r.NeverRead = append(r.NeverRead, v)
		}
	}
	r.AttemptCount = len(els.value)
	sortValues(r.Lost)
	sortValues(r.NeverRead)
	r.StaleCount = len(stale)
	for _, s := range stale {
		r.Stale = append(r.Stale, els.value[s.id])
	}
	sortValues(r.Stale)
	// Worst first; among equal latencies the larger element first, as
	// Jepsen's (reverse (sort-by :stable-latency ...)) over sorted elements.
	sort.Slice(stale, func(a, b int) bool {
		if stale[a].latency != stale[b].latency {
			return stale[a].latency > stale[b].latency
		}
		return compareValues(els.value[stale[a].id], els.value[stale[b].id]) > 0
	})
	for i, s := range stale {
		if i == 8 {
			break
		}
		lat := s.latency
		we := SetFullElement{Element: Value{els.value[s.id]}, Outcome: "stable", StableLatency: &lat}
		if k := els.hot[s.id].known; k >= 0 {
			we.Known = opPtr(h.Ops[k])
		}
		if a := els.lastAbsent[s.id]; a >= 0 {
			we.LastAbsent = opPtr(h.Ops[a])
		}
		r.WorstStale = append(r.WorstStale, we)
	}
	sort.Slice(stableLat, func(a, b int) bool { return stableLat[a] < stableLat[b] })
	sort.Slice(lostLat, func(a, b int) bool { return lostLat[a] < lostLat[b] })
	r.StableLatencies = quantilesOf(stableLat)
	r.LostLatencies = quantilesOf(lostLat)
	for id, n := range dups {
		r.Duplicated[keyString(els.value[id])] = int(n)
	}
	for k, n := range foreignDups {
		r.Duplicated[keyString(foreignVals[k])] = n
	}
	r.DuplicatedCount = len(r.Duplicated)

	switch {
	case r.LostCount > 0:
		r.Valid = Invalid
	case r.StableCount == 0:
		r.Valid = Unknown
	case c.opts.Linearizable && r.StaleCount > 0:
		r.Valid = Invalid
	default:
		r.Valid = Valid
	}
	if r.DuplicatedCount > 0 {
		r.Valid = Invalid
	}
	return r, nil
}

// latency is Jepsen's stable (or lost) latency: from the time of the known
// op to just after the time of the op at pos (or to time 0 when pos is -1),
// floored to whole milliseconds, never negative.
func (c *setFull) latency(h *history.History, pos, known int32) int64 {
	var t int64
	if pos >= 0 {
		t = h.Ops[pos].Time + 1
	}
	var kt int64
	if known >= 0 {
		kt = h.Ops[known].Time
	}
	d := t - kt
	if d < 0 {
		d = 0
	}
	return d / 1_000_000
}
