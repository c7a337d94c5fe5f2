package linear

import (
	"fmt"
	"slices"

	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/model"
)

// call is one client operation as the search sees it, after Jepsen's
// history/complete: fail ops are gone, an ok op carries its completion's
// value, a crashed op (info, or no completion) its invocation's value.
type call struct {
	inv  int // position of the invocation in the history
	ret  int // position of the ok completion; -1 when the op crashed
	comp int // position of the completion (ok or info); -1 when none
	op   model.Op
}

func (c *call) crashed() bool { return c.ret < 0 }

// part is a group of calls checked on its own: one key, or one part of a
// model's partition, or the whole history.
type part struct {
	key   any // the independent key, when the history was split by key
	keyed bool
	calls []call // in invocation order
}

// collect turns a history into calls, dropping nemesis and failed ops, and
// reports how many ops it dropped as failed.
func collect(h *history.History, independent bool) ([]call, int, error) {
	var calls []call
	failed := 0
	for i := range h.Ops {
		inv := &h.Ops[i]
		if inv.Type != history.Invoke || inv.Process < 0 {
			continue
		}
		c := call{inv: i, ret: -1, comp: -1, op: model.Op{F: inv.F, Value: inv.Value, Key: inv.Key}}
		var comp *history.Op
		if j := h.Pair(i); j > i {
			comp = &h.Ops[j]
			c.comp = j
		}
		if comp != nil && comp.Type == history.Fail {
			failed++
			continue
		}
		if independent {
			k, v, err := tuple(inv)
			if err != nil {
				return nil, 0, err
			}
			c.op.Key, c.op.Value = k, v
		}
		if comp != nil && comp.Type == history.OK {
			c.ret = c.comp
			c.op.Value = comp.Value
			if independent {
				k, v, err := tuple(comp)
				if err != nil {
					return nil, 0, err
				}
				if !history.Equal(k, c.op.Key) {
					return nil, 0, fmt.Errorf("op %d (%s): completion key %s differs from invocation key %s", comp.Index, comp.String(), history.Format(k), history.Format(c.op.Key))
				}
				c.op.Value = v
			}
		}
		if c.op.Key == nil && comp != nil && !independent {
			c.op.Key = comp.Key
		}
		calls = append(calls, c)
	}
	return calls, failed, nil
}

// tuple splits a Jepsen independent [k v] value.
func tuple(op *history.Op) (any, any, error) {
	t, ok := op.Value.([]any)
	if !ok || len(t) != 2 {
		return nil, nil, fmt.Errorf("op %d (%s): value is not an independent [key value] tuple", op.Index, op.String())
	}
	return t[0], t[1], nil
}

// partition groups calls by key, then by the model's own partition.
func partition(calls []call, m model.Model, noSplit bool) ([]part, error) {
	var parts []part
	idx := map[string]int{}
	for _, c := range calls {
		k := ""
		if c.op.Key != nil {
			k = "k" + history.Format(c.op.Key)
		}
		g, ok := idx[k]
		if !ok {
			g = len(parts)
			idx[k] = g
			parts = append(parts, part{key: c.op.Key, keyed: c.op.Key != nil})
		}
		parts[g].calls = append(parts[g].calls, c)
	}
	if noSplit && len(parts) > 1 {
		if ka, ok := m.(model.KeyAware); !ok || !ka.KeyAware() {
			return nil, fmt.Errorf("model %s does not read keys, so a keyed history must be split per key", m.Name())
		}
		whole := part{calls: calls}
		return []part{whole}, nil
	}
	pm, ok := m.(model.Partitioner)
	if !ok || noSplit {
		return parts, nil
	}
	var out []part
	for _, p := range parts {
		ops := make([]model.Op, len(p.calls))
		for i := range p.calls {
			ops[i] = p.calls[i].op
		}
		groups := pm.Partition(ops)
		seen := make([]bool, len(ops))
		for _, g := range groups {
			sub := part{key: p.key, keyed: p.keyed, calls: make([]call, 0, len(g))}
			for _, i := range g {
				if i < 0 || i >= len(ops) || seen[i] {
					return nil, fmt.Errorf("model %s: partition function returned a bad or repeated op index %d", m.Name(), i)
				}
				seen[i] = true
				sub.calls = append(sub.calls, p.calls[i])
			}
			sortCalls(sub.calls)
			out = append(out, sub)
		}
		for i, s := range seen {
			if !s {
				return nil, fmt.Errorf("model %s: partition function left out op %d", m.Name(), i)
			}
		}
	}
	return out, nil
}

// sortCalls restores invocation order if a partition function changed it.
func sortCalls(cs []call) {
	slices.SortStableFunc(cs, func(a, b call) int { return a.inv - b.inv })
}
