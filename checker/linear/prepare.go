package linear

import (
	"fmt"
	"slices"

	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/model"
)

// call is when one client operation happened, after Jepsen's
// history/complete: fail ops are gone; the op itself (with the completion's
// value for an ok op, the invocation's for a crashed one) is in part.ops.
type call struct {
	inv  int // position of the invocation in the history
	ret  int // position of the ok completion; -1 when the op crashed
	comp int // position of the completion (ok or info); -1 when none
}

func (c *call) crashed() bool { return c.ret < 0 }

// part is a group of calls checked on its own: one key, or one part of a
// model's partition, or the whole history.
type part struct {
	key   any // the independent key, when the history was split by key
	keyed bool
	calls []call     // in invocation order
	ops   []model.Op // ops[i] is the op of calls[i]
}

// collected is a history reduced to its client calls, grouped by key.
type collected struct {
	calls   []call
	ops     []model.Op
	keys    []any // keys[g] is the key of group g
	start   []int // group g is calls[start[g]:start[g+1]]
	failed  int
	crashed int
}

// collect turns a history into calls, dropping nemesis and failed ops, and
// groups them by key (from Op.Key, or from independent [k v] tuples),
// keeping history order within a group. It reads the history once, in
// order: histories are large and reading them dominates for easy ones.
func collect(h *history.History, independent bool) (*collected, error) {
	c := &collected{}
	n := len(h.Ops)/2 + 1
	calls := make([]call, 0, n)
	ops := make([]model.Op, 0, n)
	types := make([]history.Type, 0, n)
	slotOf := make([]int32, len(h.Ops)) // invocation position -> call number
	for i := range h.Ops {
		op := &h.Ops[i]
		if op.Process < 0 {
			continue
		}
		if op.Type == history.Invoke {
			slotOf[i] = int32(len(calls))
			calls = append(calls, call{inv: i, ret: -1, comp: -1})
			ops = append(ops, model.Op{F: op.F, Value: op.Value, Key: op.Key})
			types = append(types, history.TypeNone)
			continue
		}
		j := h.Pair(i)
		if j < 0 || j >= i {
			continue
		}
		k := slotOf[j]
		calls[k].comp, types[k] = i, op.Type
		if op.Type == history.OK {
			calls[k].ret = i
			ops[k].Value = op.Value
		}
		if ops[k].Key == nil && !independent {
			ops[k].Key = op.Key
		}
	}
	slotOf = nil
	idx := newKeyIndex()
	groups := make([]int32, len(calls))
	kept := 0
	for k := range calls {
		groups[k] = -1
		switch types[k] {
		case history.Fail:
			c.failed++
			continue
		case history.OK:
		default:
			c.crashed++
		}
		kept++
		if independent {
			ik, iv, err := tuple(&h.Ops[calls[k].inv])
			if err != nil {
				return nil, err
			}
			if types[k] == history.OK {
				comp := &h.Ops[calls[k].comp]
				ck, cv, err := tuple(comp)
				if err != nil {
					return nil, err
				}
				if !history.Equal(ik, ck) {
					return nil, fmt.Errorf("op %d (%s): completion key %s differs from invocation key %s", comp.Index, comp.String(), history.Format(ck), history.Format(ik))
				}
				iv = cv
			}
			ops[k].Key, ops[k].Value = ik, iv
		}
		groups[k] = idx.group(ops[k].Key)
	}
	ng := len(idx.keys)
	c.keys = idx.keys
	c.start = make([]int, ng+1)
	if ng <= 1 && kept == len(calls) {
		c.calls, c.ops = calls, ops
		c.start[ng] = len(calls)
		return c, nil
	}
	for _, g := range groups {
		if g >= 0 {
			c.start[g+1]++
		}
	}
	for g := 1; g <= ng; g++ {
		c.start[g] += c.start[g-1]
	}
	next := append([]int(nil), c.start[:ng]...)
	c.calls = make([]call, kept)
	c.ops = make([]model.Op, kept)
	for k, g := range groups {
		if g < 0 {
			continue
		}
		at := next[g]
		next[g]++
		c.calls[at], c.ops[at] = calls[k], ops[k]
	}
	return c, nil
}

// tuple splits a Jepsen independent [k v] value.
func tuple(op *history.Op) (any, any, error) {
	t, ok := op.Value.([]any)
	if !ok || len(t) != 2 {
		return nil, nil, fmt.Errorf("op %d (%s): value is not an independent [key value] tuple", op.Index, op.String())
	}
	return t[0], t[1], nil
}

// keyIndex numbers keys: equal keys (history.Equal) get one number.
type keyIndex struct {
	ints   map[int64]int32
	strs   map[string]int32
	others map[string]int32
	keys   []any
	nilKey int32
}

func newKeyIndex() *keyIndex {
	return &keyIndex{ints: map[int64]int32{}, strs: map[string]int32{}, others: map[string]int32{}, nilKey: -1}
}

func (x *keyIndex) group(k any) int32 {
	add := func() int32 {
		x.keys = append(x.keys, k)
		return int32(len(x.keys) - 1)
	}
	if k == nil {
		if x.nilKey < 0 {
			x.nilKey = add()
		}
		return x.nilKey
	}
	if i, ok := history.Int(k); ok {
		g, ok := x.ints[i]
		if !ok {
			g = add()
			x.ints[i] = g
		}
		return g
	}
	if s, ok := k.(string); ok {
		g, ok := x.strs[s]
		if !ok {
			g = add()
			x.strs[s] = g
		}
		return g
	}
	f := history.Format(k)
	g, ok := x.others[f]
	if !ok {
		g = add()
		x.others[f] = g
	}
	return g
}

// partition makes the parts to check: one per key, then split further by
// the model's own partition; or the whole history when noSplit is set and
// the model reads keys itself.
func partition(c *collected, m model.Model, noSplit bool) ([]part, error) {
	ng := len(c.keys)
	if noSplit && ng > 1 {
		if ka, ok := m.(model.KeyAware); !ok || !ka.KeyAware() {
			return nil, fmt.Errorf("model %s does not read keys, so a keyed history must be split per key", m.Name())
		}
		// back to history order
		order := make([]int, len(c.calls))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return c.calls[a].inv - c.calls[b].inv })
		p := part{calls: make([]call, len(order)), ops: make([]model.Op, len(order))}
		for i, j := range order {
			p.calls[i], p.ops[i] = c.calls[j], c.ops[j]
		}
		return []part{p}, nil
	}
	parts := make([]part, 0, max(ng, 1))
	if ng == 0 {
		parts = append(parts, part{})
	}
	for g := range ng {
		a, b := c.start[g], c.start[g+1]
		k := c.keys[g]
		parts = append(parts, part{key: k, keyed: k != nil, calls: c.calls[a:b:b], ops: c.ops[a:b:b]})
	}
	pm, ok := m.(model.Partitioner)
	if !ok || noSplit {
		return parts, nil
	}
	var out []part
	for _, p := range parts {
		groups := pm.Partition(p.ops)
		if len(groups) == 1 && len(groups[0]) == len(p.ops) {
			out = append(out, p)
			continue
		}
		seen := make([]bool, len(p.ops))
		for _, g := range groups {
			sub := part{key: p.key, keyed: p.keyed, calls: make([]call, 0, len(g)), ops: make([]model.Op, 0, len(g))}
			for _, i := range g {
				if i < 0 || i >= len(p.ops) || seen[i] {
					return nil, fmt.Errorf("model %s: partition function returned a bad or repeated op index %d", m.Name(), i)
				}
				seen[i] = true
				sub.calls = append(sub.calls, p.calls[i])
				sub.ops = append(sub.ops, p.ops[i])
			}
			sortPart(&sub)
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

// sortPart restores invocation order if a partition function changed it.
func sortPart(p *part) {
	if slices.IsSortedFunc(p.calls, func(a, b call) int { return a.inv - b.inv }) {
		return
	}
	order := make([]int, len(p.calls))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return p.calls[a].inv - p.calls[b].inv })
	calls, ops := make([]call, len(order)), make([]model.Op, len(order))
	for i, j := range order {
		calls[i], ops[i] = p.calls[j], p.ops[j]
	}
	p.calls, p.ops = calls, ops
}
