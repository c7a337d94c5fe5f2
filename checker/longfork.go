package checker

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/faultline/faultline/history"
)

// maxForks bounds the forks a LongForkResult lists.
const maxForks = 100

// LongForkResult is the result of LongFork, with Jepsen's keys.
type LongForkResult struct {
	Valid          Validity `json:"valid"`
	ReadsCount     int      `json:"reads-count"`
	EarlyReadCount int      `json:"early-read-count"`
	LateReadCount  int      `json:"late-read-count"`
	// Error is ["multiple-writes", key] when a key was written twice, which
	// makes the analysis impossible (unknown).
	Error Values `json:"error,omitempty"`
	// Forks are pairs of reads of one group of keys that saw the inserts in
	// incompatible orders: each saw an insert the other missed. One example
	// op is given per distinct read state; at most 100 pairs are listed.
	Forks     [][2]OpJSON `json:"forks,omitempty"`
	ForkCount int         `json:"fork-count"`
}

// Verdict implements Result.
func (r *LongForkResult) Verdict() Validity { return r.Valid }

// Summary names the first long fork.
func (r *LongForkResult) Summary() string {
	if len(r.Error) > 0 {
		return fmt.Sprintf("key %s was written more than once; long-fork analysis needs single inserts", history.Format(r.Error[len(r.Error)-1]))
	}
	if r.ForkCount == 0 {
		return fmt.Sprintf("no long fork among %d reads", r.ReadsCount)
	}
	a, b := r.Forks[0][0], r.Forks[0][1]
	return fmt.Sprintf("%d long forks: op %d read %s but op %d read %s; each saw an insert the other missed",
		r.ForkCount, a.Index, history.Format(a.Value), b.Index, history.Format(b.Value))
}

type longFork struct{ n int }

// LongFork looks for long forks (an anomaly of parallel snapshot isolation
// that snapshot isolation forbids), like Jepsen's tests/long-fork checker
// with group size n. Write transactions insert one key once: the value
// [["w", k, v]]; read transactions read a whole group of n keys:
// [["r", k1, v1], ["r", k2, v2], ...] with nil for a key not yet inserted.
// Two reads of one group fork when each saw an insert the other did not.
// Every op is considered whatever its f, as in Jepsen.
//
// The result is invalid when a fork exists; unknown when a key was written
// twice. A read of a number of keys other than n, or two reads of one group
// that disagree on a key's value, are errors of the history (unknown via
// Check), as in Jepsen.
func LongFork(n int) Checker { return &longFork{n: n} }

func (c *longFork) Name() string { return "long-fork" }

type lfMop struct {
	f string
	k any
	v any
}

// lfTxn parses a transaction value; ok is false when v is not a list of
// [f k v] micro-ops.
func lfTxn(v any) ([]lfMop, bool) {
	vs, ok := elems(v)
	if !ok || len(vs) == 0 {
		return nil, false
	}
	out := make([]lfMop, len(vs))
	for i, m := range vs {
		t, ok := m.([]any)
		if !ok || len(t) < 2 || len(t) > 3 {
			return nil, false
		}
		f, ok := t[0].(string)
		if !ok {
			return nil, false
		}
		switch f {
		case "read":
			f = "r"
		case "write":
			f = "w"
		}
		out[i] = lfMop{f: f, k: t[1]}
		if len(t) == 3 {
			out[i].v = t[2]
		}
	}
	return out, true
}

func lfIsRead(t []lfMop) bool {
	for _, m := range t {
		if m.f != "r" {
			return false
		}
	}
	return true
}

// lfState is one distinct read of a group: key -> value, in key order.
type lfState struct {
	vals []any // by position of the key in the group's sorted keys
	op   int   // position of the first op that read this state
}

func (c *longFork) Check(ctx context.Context, h *history.History, _ Options) (Result, error) {
	r := &LongForkResult{}
	written := map[vkey]bool{}
	type group struct {
		keys   []vkey
		states map[string]*lfState
		order  []string
	}
	groups := map[string]*group{}
	var gorder []string
	for i := range h.Ops {
		op := &h.Ops[i]
		if !op.IsClient() {
			continue
		}
		t, ok := lfTxn(op.Value)
		if !ok {
			continue
		}
		if op.Type == history.Invoke && len(t) == 1 && t[0].f == "w" {
			k := keyOf(t[0].k)
			if written[k] && r.Error == nil {
				r.Error = Values{"multiple-writes", t[0].k}
			}
			written[k] = true
			continue
		}
		if op.Type != history.OK || !lfIsRead(t) {
			continue
		}
		r.ReadsCount++
		some, all := false, true
		for _, m := range t {
			if m.v != nil {
				some = true
			} else {
				all = false
			}
		}
		if !some {
			r.EarlyReadCount++
		}
		if all {
			r.LateReadCount++
		}
		// Key set of this read, sorted, as the group's name.
		idx := make([]int, len(t))
		keys := make([]vkey, len(t))
		names := make([]string, len(t))
		for j, m := range t {
			idx[j] = j
			keys[j] = keyOf(m.k)
			names[j] = history.Canonical(m.k)
		}
		sort.Slice(idx, func(a, b int) bool { return names[idx[a]] < names[idx[b]] })
		sortedNames := make([]string, len(t))
		for j, x := range idx {
			sortedNames[j] = names[x]
		}
		for j := 1; j < len(sortedNames); j++ {
			if sortedNames[j] == sortedNames[j-1] {
				return nil, fmt.Errorf("long-fork: op %d (%s) reads key %s twice", op.Index, op.String(), sortedNames[j])
			}
		}
		gname := strings.Join(sortedNames, "\x00")
		g := groups[gname]
		if g == nil {
			if len(t) != c.n {
				return nil, fmt.Errorf("long-fork: op %d (%s): every read should observe exactly %d keys, but this one observed %d", op.Index, op.String(), c.n, len(t))
			}
			g = &group{states: map[string]*lfState{}}
			for _, x := range idx {
				g.keys = append(g.keys, keys[x])
			}
			groups[gname] = g
			gorder = append(gorder, gname)
		}
		vals := make([]any, len(t))
		vnames := make([]string, len(t))
		for j, x := range idx {
			vals[j] = t[x].v
			vnames[j] = history.Canonical(t[x].v)
		}
		sname := strings.Join(vnames, "\x00")
		if _, ok := g.states[sname]; !ok {
			g.states[sname] = &lfState{vals: vals, op: i}
			g.order = append(g.order, sname)
		}
	}
	if r.Error != nil {
		r.Valid = Unknown
		return r, nil
	}
	for _, gname := range gorder {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		g := groups[gname]
		for a := 0; a < len(g.order); a++ {
			for b := a + 1; b < len(g.order); b++ {
				sa, sb := g.states[g.order[a]], g.states[g.order[b]]
				cmp, err := lfCompare(sa.vals, sb.vals)
				if err != nil {
					return nil, fmt.Errorf("long-fork: ops %d and %d: %w", h.Ops[sa.op].Index, h.Ops[sb.op].Index, err)
				}
				if cmp == lfIncomparable {
					r.ForkCount++
					if len(r.Forks) < maxForks {
						r.Forks = append(r.Forks, [2]OpJSON{OpJSON(h.Ops[sa.op]), OpJSON(h.Ops[sb.op])})
					}
				}
			}
		}
	}
	r.Valid = Valid
	if r.ForkCount > 0 {
		r.Valid = Invalid
	}
	return r, nil
}

const lfIncomparable = 2

// lfCompare compares two reads of the same keys: -1 when a saw a superset
// of b's inserts, 1 when b did, 0 when equal, lfIncomparable when each saw
// an insert the other missed. Two different non-nil values for a key are an
// error: this checker assumes one write per key.
func lfCompare(a, b []any) (int, error) {
	res := 0
	for i := range a {
		va, vb := a[i], b[i]
		switch {
		case keyOf(va) == keyOf(vb):
		case vb == nil:
			if res > 0 {
				return lfIncomparable, nil
			}
			res = -1
		case va == nil:
			if res < 0 {
				return lfIncomparable, nil
			}
			res = 1
		default:
			return 0, fmt.Errorf("the reads saw distinct values %s and %s for the same key; this checker assumes only one write per key", history.Format(va), history.Format(vb))
		}
	}
	return res, nil
}
