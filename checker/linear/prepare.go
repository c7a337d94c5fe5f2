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
	ops   []model.Op // ops[i] is the op of calls[i]; built by buildOps
}

// buildOps fills p.ops from the history (done by the worker that checks
// p, so that reading the ops of a large history is shared by the workers).
func (p *part) buildOps(h *history.History, independent bool) {
	if p.ops != nil {
		return
	}
	p.ops = make([]model.Op, len(p.calls))
	for i, c := range p.calls {
		p.ops[i] = opOf(h, c, independent)
	}
}

// opOf is the op of a call as the model sees it.
func opOf(h *history.History, c call, independent bool) model.Op {
	inv := &h.Ops[c.inv]
	op := model.Op{F: inv.F, Value: inv.Value, Key: inv.Key}
	if c.ret >= 0 {
		op.Value = h.Ops[c.ret].Value
	}
	if independent {
		op.Key, op.Value, _ = tuple(inv)
		if c.ret >= 0 {
			_, op.Value, _ = tuple(&h.Ops[c.ret])
		}
	} else if op.Key == nil && c.comp >= 0 {
		op.Key = h.Ops[c.comp].Key
	}
	return op
}

// collected is a history reduced to its client calls, grouped by key.
type collected struct {
	calls   []call
	keys    []any // keys[g] is the key of group g
	start   []int // group g is calls[start[g]:start[g+1]]
	failed  int
	crashed int
}

// collect turns a history into calls, dropping nemesis and failed ops, and
// groups them by key (from Op.Key, or from independent [k v] tuples),
// keeping history order within a group. It reads the history once, in
// order, and only what it needs: large histories make that the cost that
// matters for easy checks.
func collect(h *history.History, independent bool) (*collected, error) {
	c := &collected{}
	idx := newKeyIndex()
	type raw struct {
		inv, comp int32
		group     int32
		typ       history.Type // of the completion; TypeNone when none
	}
	raws := make([]raw, 0, len(h.Ops)/2+1)
	slotOf := make([]int32, len(h.Ops)) // invocation position -> raws index
	lastKey, lastGroup := any(nil), int32(-1)
	group := func(k any) int32 {
		if isSimple(k) && lastGroup >= 0 && k == lastKey { // isSimple first: keys may be uncomparable vectors
			return lastGroup
		}
		lastKey, lastGroup = k, idx.group(k)
		return lastGroup
	}
	for i := range h.Ops {
		op := &h.Ops[i]
		if op.Process < 0 {
			continue
		}
		if op.Type == history.Invoke {
			slotOf[i] = int32(len(raws))
			var k any
			if independent {
				var err error
				if k, _, err = tuple(op); err != nil {
					return nil, err
				}
			} else {
				k = op.Key
			}
			raws = append(raws, raw{inv: int32(i), comp: -1, group: group(k)})
			continue
		}
		j := h.Pair(i)
		if j < 0 || j >= i {
			continue
		}
		r := &raws[slotOf[j]]
		r.comp, r.typ = int32(i), op.Type
		switch {
		case independent && op.Type == history.OK:
			k, _, err := tuple(op)
			if err != nil {
				return nil, err
			}
			if want := idx.keys[r.group]; !history.Equal(k, want) {
				return nil, fmt.Errorf("op %d (%s): completion key %s differs from invocation key %s", op.Index, op.String(), history.Format(k), history.Format(want))
			}
		case !independent && op.Key != nil && h.Ops[j].Key == nil:
			r.group = group(op.Key) // the key is on the completion only
		}
	}
	slotOf = nil
	ng := len(idx.keys)
	c.keys = idx.keys
	c.start = make([]int, ng+1)
	for k := range raws {
		switch raws[k].typ {
		case history.Fail:
			c.failed++
			raws[k].group = -1
			continue
		case history.OK:
		default:
			c.crashed++
		}
		c.start[raws[k].group+1]++
	}
	for g := 1; g <= ng; g++ {
		c.start[g] += c.start[g-1]
	}
	next := append([]int(nil), c.start[:ng]...)
	c.calls = make([]call, c.start[ng])
	for _, r := range raws {
		if r.group < 0 {
			continue
		}
		cl := call{inv: int(r.inv), ret: -1, comp: int(r.comp)}
		if r.typ == history.OK {
			cl.ret = cl.comp
		}
		c.calls[next[r.group]] = cl
		next[r.group]++
	}
	return c, nil
}

// isSimple reports whether == on k is history.Equal (scalars), so that a
// key equal to the previous one can skip the index.
func isSimple(k any) bool {
	switch k.(type) {
	case int64, string:
		return true
	}
	return false
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
func partition(h *history.History, c *collected, m model.Model, noSplit, independent bool) ([]part, error) {
	ng := len(c.keys)
	if noSplit && ng > 1 {
		if ka, ok := m.(model.KeyAware); !ok || !ka.KeyAware() {
			return nil, fmt.Errorf("model %s does not read keys, so a keyed history must be split per key", m.Name())
		}
		calls := slices.Clone(c.calls)
		slices.SortFunc(calls, func(a, b call) int { return a.inv - b.inv })
		return []part{{calls: calls}}, nil
	}
	parts := make([]part, 0, max(ng, 1))
	if ng == 0 {
		parts = append(parts, part{})
	}
	for g := range ng {
		a, b := c.start[g], c.start[g+1]
		k := c.keys[g]
		parts = append(parts, part{key: k, keyed: k != nil, calls: c.calls[a:b:b]})
	}
	pm, ok := m.(model.Partitioner)
	if !ok || noSplit {
		return parts, nil
	}
	var out []part
	for _, p := range parts {
		p.buildOps(h, independent)
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
