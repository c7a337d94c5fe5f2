package checker

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/faultline/faultline/history"
)

// UniqueIDsResult is the result of UniqueIDs, with Jepsen's keys.
type UniqueIDsResult struct {
	Valid             Validity `json:"valid"`
	AttemptedCount    int      `json:"attempted-count"`
	AcknowledgedCount int      `json:"acknowledged-count"`
	DuplicatedCount   int      `json:"duplicated-count"`
	// Duplicated maps up to 48 of the most duplicated ids to how often they
	// were returned.
	Duplicated map[string]int `json:"duplicated"`
	// Range is [lowest, highest] of the ids returned ([null, null] when none).
	Range Values `json:"range"`
}

// Verdict implements Result.
func (r *UniqueIDsResult) Verdict() Validity { return r.Valid }

// Summary names the most duplicated ids.
func (r *UniqueIDsResult) Summary() string {
	if r.DuplicatedCount == 0 {
		return fmt.Sprintf("all %d acknowledged ids distinct", r.AcknowledgedCount)
	}
	type kv struct {
		k string
		n int
	}
	var top []kv
	for k, n := range r.Duplicated {
		top = append(top, kv{k, n})
	}
	sort.Slice(top, func(i, j int) bool {
		if top[i].n != top[j].n {
			return top[i].n > top[j].n
		}
		return top[i].k < top[j].k
	})
	var parts []string
	for i, e := range top {
		if i == 5 {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%dx)", e.k, e.n))
	}
	return fmt.Sprintf("%d of %d acknowledged ids were returned more than once: %s", r.DuplicatedCount, r.AcknowledgedCount, strings.Join(parts, ", "))
}

type uniqueIDs struct{}

// UniqueIDs checks that an id generator returns distinct ids, like Jepsen's
// checker/unique-ids: "generate" ops whose ok completions carry the id. It
// is invalid when an id was returned twice.
func UniqueIDs() Checker { return uniqueIDs{} }

func (uniqueIDs) Name() string { return "unique-ids" }

func (uniqueIDs) Check(_ context.Context, h *history.History, _ Options) (Result, error) {
	r := &UniqueIDsResult{Duplicated: map[string]int{}, Range: Values{nil, nil}}
	counts := map[vkey]int{}
	vals := map[vkey]any{}
	var lo, hi any
	first := true
	for i := range h.Ops {
		op := &h.Ops[i]
		if !op.IsClient() || op.F != "generate" {
			continue
		}
		switch op.Type {
		case history.Invoke:
			r.AttemptedCount++
		case history.OK:
			r.AcknowledgedCount++
			k := keyOf(op.Value)
			if counts[k] == 0 {
				vals[k] = op.Value
			}
			counts[k]++
			if first || compareValues(op.Value, lo) < 0 {
				lo = op.Value
			}
			if first || compareValues(op.Value, hi) > 0 {
				hi = op.Value
			}
			first = false
		}
	}
	if !first {
		r.Range = Values{lo, hi}
	}
	type dup struct {
		v any
		n int
	}
	var dups []dup
	for k, n := range counts {
		if n > 1 {
			dups = append(dups, dup{vals[k], n})
		}
	}
	r.DuplicatedCount = len(dups)
	sort.Slice(dups, func(i, j int) bool {
		if dups[i].n != dups[j].n {
			return dups[i].n > dups[j].n
		}
		return compareValues(dups[i].v, dups[j].v) < 0
	})
	for i, d := range dups {
		if i == 48 {
			break
		}
		r.Duplicated[keyString(d.v)] = d.n
	}
	r.Valid = Valid
	if r.DuplicatedCount > 0 {
		r.Valid = Invalid
	}
	return r, nil
}
