package generator

import (
	"fmt"
	"sync/atomic"

	"github.com/faultline/faultline/history"
)

// KeySeq is a pure, possibly infinite sequence of keys for the independent
// generators: the key at position i, or false past the end.
type KeySeq func(i int) (key any, ok bool)

// Keys returns the KeySeq of keys, converted by history.Normalize (Go
// integers become int64, as in history values).
func Keys(keys ...any) KeySeq {
	ks := make([]any, len(keys))
	for i, k := range keys {
		ks[i] = history.Normalize(k)
	}
	return func(i int) (any, bool) {
		if i < 0 || i >= len(ks) {
			return nil, false
		}
		return ks[i], true
	}
}

// IntKeys returns the KeySeq 0, 1, 2, ... (as int64): Jepsen's (range).
func IntKeys() KeySeq {
	return func(i int) (any, bool) { return int64(i), true }
}

// keyed sets Key on the ops of g (all but sleep and log pseudo-ops) and
// hides it again from the events g is updated with.
type keyed struct {
	key any
	g   Generator
}

func withKey(key any, g Generator) Generator {
	if g == nil {
		return nil
	}
	return &keyed{key: key, g: g}
}

func (k *keyed) Op(ctx *Context) (history.Op, Generator, Status) {
	op, next, st := k.g.Op(ctx)
	if st != Ready {
		return op, nil, st
	}
	if op.Type != history.Sleep && op.Type != history.Log {
		op.Key = k.key
	}
	if next == nil {
		return op, nil, Ready
	}
	return op, &keyed{key: k.key, g: next}, Ready
}

func (k *keyed) Update(ctx *Context, event history.Op) Generator {
	event.Key = nil
	g := k.g.Update(ctx, event)
	switch {
	case same(g, k.g):
		return k
	case g == nil:
		return nil
	}
	return &keyed{key: k.key, g: g}
}

// SequentialGenerator runs fgen(k1) to exhaustion with every op keyed k1
// (Op.Key), then fgen(k2), and so on (Jepsen's
// independent/sequential-generator; the key goes in Op.Key rather than a
// [k v] tuple in the value). fgen must be pure.
func SequentialGenerator(keys []any, fgen func(key any) Generator) Generator {
	return SequentialGeneratorSeq(Keys(keys...), fgen)
}

// SequentialGeneratorSeq is SequentialGenerator over a KeySeq.
func SequentialGeneratorSeq(keys KeySeq, fgen func(key any) Generator) Generator {
	return &sequential{keys: keys, fgen: fgen}
}

type sequential struct {
	keys KeySeq
	fgen func(key any) Generator
	i    int       // position of the current key
	cur  Generator // its generator, when started
	has  bool
}

func (s *sequential) Op(ctx *Context) (history.Op, Generator, Status) {
	i, cur, has := s.i, s.cur, s.has
	for empty := 0; ; empty++ {
		if empty > maxEmpty {
			return failed(fmt.Errorf("SequentialGenerator: %d keys in a row gave no ops", empty))
		}
		if !has {
			k, ok := s.keys(i)
			if !ok {
				return history.Op{}, nil, Exhausted
			}
			cur, has = withKey(k, s.fgen(k)), true
		}
		op, next, st := opOf(cur, ctx)
		switch st {
		case Ready:
			n := &sequential{keys: s.keys, fgen: s.fgen, i: i, cur: next, has: true}
			if next == nil {
				n.i, n.cur, n.has = i+1, nil, false
			}
			return op, n, Ready
		case Exhausted:
			i, cur, has = i+1, nil, false
		default:
			return op, nil, st
		}
	}
}

func (s *sequential) Update(ctx *Context, event history.Op) Generator {
	if !s.has {
		return s
	}
	cur := update(s.cur, ctx, event)
	if same(cur, s.cur) {
		return s
	}
	return &sequential{keys: s.keys, fgen: s.fgen, i: s.i, cur: cur, has: true}
}

// ConcurrentGenerator splits the client threads into groups of n
// consecutive threads; each group runs fgen(key) for a key of its own, every
// op keyed (Op.Key), and takes the next unused key when its generator is
// exhausted (Jepsen's independent/concurrent-generator). The number of
// client threads must be a positive multiple of n, else the generator
// fails with an error saying so. It runs on client threads only. Updates go
// to the generator of the group whose thread caused them, with Key cleared.
func ConcurrentGenerator(n int, keys []any, fgen func(key any) Generator) Generator {
	return ConcurrentGeneratorSeq(n, Keys(keys...), fgen)
}

// ConcurrentGeneratorSeq is ConcurrentGenerator over a KeySeq.
func ConcurrentGeneratorSeq(n int, keys KeySeq, fgen func(key any) Generator) Generator {
	if n <= 0 {
		return Fail(fmt.Errorf("ConcurrentGenerator: group size %d must be positive", n))
	}
	return Clients(&concurrent{n: n, keys: keys, fgen: fgen, memo: &groupMemo{}})
}

type concurrent struct {
	n    int
	keys KeySeq
	fgen func(key any) Generator
	memo *groupMemo
	next int         // position of the next unused key
	gens []Generator // one per group; nil before the first op
}

type groupMemo struct{ p atomic.Pointer[groups] }

type groups struct {
	tab     *threadTable
	all     threadBits
	masks   []threadBits // threads of each group
	size    []int
	ofIndex []int // thread index -> group, or -1
	err     error
}

func (c *concurrent) groups(ctx *Context) *groups {
	if g := c.memo.p.Load(); g != nil && g.tab == ctx.tab && g.all.equal(ctx.all) {
		return g
	}
	g := &groups{tab: ctx.tab, all: ctx.all, ofIndex: make([]int, ctx.tab.count)}
	count := ctx.all.count()
	switch {
	case count < c.n:
		g.err = fmt.Errorf("ConcurrentGenerator: with %d client threads it cannot run a key on %d threads at once; raise the concurrency to at least %d", count, c.n, c.n)
	case count%c.n != 0:
		g.err = fmt.Errorf("ConcurrentGenerator: %d client threads cannot be split into groups of %d; make the concurrency a multiple of %d", count, c.n, c.n)
	}
	for i := range g.ofIndex {
		g.ofIndex[i] = -1
	}
	if g.err == nil {
		for lo := 0; lo < count; lo += c.n {
			m := ctx.all.positions(lo, lo+c.n)
			for i := m.next(0); i >= 0; i = m.next(i + 1) {
				g.ofIndex[i] = len(g.masks)
			}
			g.masks = append(g.masks, m)
			g.size = append(g.size, c.n)
		}
	}
	c.memo.p.Store(g)
	return g
}

func (c *concurrent) Op(ctx *Context) (history.Op, Generator, Status) {
	gs := c.groups(ctx)
	if gs.err != nil {
		return failed(gs.err)
	}
	gens, next := c.gens, c.next
	owned := false
	if gens == nil {
		gens, owned = make([]Generator, len(gs.masks)), true
		for g := range gens {
			k, ok := c.keys(next)
			if !ok {
				break
			}
			gens[g] = withKey(k, c.fgen(k))
			next++
		}
	}
	var best candidate
	for g, mask := range gs.masks {
		if ctx.free.and(mask).count() == 0 {
			continue
		}
		sub := ctx.restrict(mask)
		for empty := 0; ; empty++ {
			if empty > maxEmpty {
				return failed(fmt.Errorf("ConcurrentGenerator: %d keys in a row gave no ops", empty))
			}
			cand := candidate{weight: gs.size[g], i: g, ok: true}
			cand.op, cand.next, cand.st = opOf(gens[g], sub)
			if cand.st == Exhausted {
				if !owned {
					gens, owned = append([]Generator(nil), gens...), true
				}
				k, ok := c.keys(next)
				if !ok {
					gens[g] = nil
					break
				}
				gens[g] = withKey(k, c.fgen(k))
				next++
				continue
			}
			if cand.st == Failed {
				return cand.op, nil, Failed
			}
			best.consider(ctx, &cand)
			break
		}
	}
	if best.ok && best.st == Ready {
		if !owned {
			gens = append([]Generator(nil), gens...)
		}
		gens[best.i] = best.next
		return best.op, &concurrent{n: c.n, keys: c.keys, fgen: c.fgen, memo: c.memo, next: next, gens: gens}, Ready
	}
	for _, g := range gens {
		if g != nil {
			return history.Op{}, nil, Pending
		}
	}
	return history.Op{}, nil, Exhausted
}

func (c *concurrent) Update(ctx *Context, event history.Op) Generator {
	if c.gens == nil {
		return c
	}
	t, ok := ctx.Thread(event.Process)
	if !ok {
		return c
	}
	i, _ := ctx.index(t)
	gs := c.groups(ctx)
	if gs.err != nil || gs.ofIndex[i] < 0 {
		return c
	}
	g := gs.ofIndex[i]
	g2 := update(c.gens[g], ctx.restrict(gs.masks[g]), event)
	if same(g2, c.gens[g]) {
		return c
	}
	gens := append([]Generator(nil), c.gens...)
	gens[g] = g2
	return &concurrent{n: c.n, keys: c.keys, fgen: c.fgen, memo: c.memo, next: c.next, gens: gens}
}
