package model

import (
	"fmt"
	"math/bits"

	"github.com/faultline/faultline/history"
)

// interned is a Machine over rich comparable states S: every state reached
// gets a small number, and every transition (state number, op) is cached, so
// a step that was seen before is one table lookup and allocates nothing.
type interned[S comparable] struct {
	states   []S
	index    map[S]uint32
	cache    transCache
	step     func(s S, op int) (S, bool)
	describe func(s S) string
	explain  func(s S, op int) string
	flags    []Flags
	classes  []uint64
	size     func(s S) int // approximate bytes held by a state beyond its header
	bytes    int64         // bytes held by interned states
	extra    func() int64  // more memory held on behalf of the machine, or nil
}

const illegal = ^uint32(0)

func newInterned[S comparable](init S, nops int, step func(S, int) (S, bool)) *interned[S] {
	m := &interned[S]{
		index:   map[S]uint32{},
		step:    step,
		flags:   make([]Flags, nops),
		classes: make([]uint64, nops),
	}
	m.intern(init)
	return m
}

func (m *interned[S]) intern(s S) uint32 {
	if id, ok := m.index[s]; ok {
		return id
	}
	id := uint32(len(m.states))
	m.states = append(m.states, s)
	m.index[s] = id
	m.bytes += 64
	if m.size != nil {
		m.bytes += int64(m.size(s))
	}
	return id
}

func (m *interned[S]) Init() uint64 { return 0 }

func (m *interned[S]) Step(s uint64, op int) (uint64, bool) {
	key := s<<32 | uint64(uint32(op))
	if v, ok := m.cache.get(key); ok {
		return uint64(v), v != illegal
	}
	next := illegal
	if int(s) < len(m.states) {
		if ns, ok := m.step(m.states[s], op); ok {
			next = m.intern(ns)
		}
	}
	m.cache.put(key, next)
	return uint64(next), next != illegal
}

func (m *interned[S]) Flags(op int) Flags  { return m.flags[op] }
func (m *interned[S]) Class(op int) uint64 { return m.classes[op] }
func (m *interned[S]) MemoryBytes() int64 {
	n := m.bytes + m.cache.memoryBytes()
	if m.extra != nil {
		n += m.extra()
	}
	return n
}
func (m *interned[S]) state(s uint64) (S, bool) {
	if s < uint64(len(m.states)) {
		return m.states[s], true
	}
	var zero S
	return zero, false
}

func (m *interned[S]) Describe(s uint64) string {
	st, ok := m.state(s)
	if !ok {
		return fmt.Sprintf("state#%d", s)
	}
	if m.describe != nil {
		return m.describe(st)
	}
	return fmt.Sprint(st)
}

func (m *interned[S]) Explain(s uint64, op int) string {
	st, ok := m.state(s)
	if !ok {
		return "unknown state"
	}
	if m.explain != nil {
		return m.explain(st, op)
	}
	return "not legal in state " + m.Describe(s)
}

// transCache maps (state, op) keys to next states with open addressing.
type transCache struct {
	keys  []uint64 // key+1; 0 marks an empty slot
	vals  []uint32
	count int
	shift uint8
}

func (c *transCache) slot(key uint64) uint64 {
	return (key * 0x9E3779B97F4A7C15) >> c.shift
}

func (c *transCache) get(key uint64) (uint32, bool) {
	if c.count == 0 {
		return 0, false
	}
	mask := uint64(len(c.keys) - 1)
	k := key + 1
	for i := c.slot(key); ; i = (i + 1) & mask {
		switch c.keys[i] {
		case k:
			return c.vals[i], true
		case 0:
			return 0, false
		}
	}
}

func (c *transCache) put(key uint64, val uint32) {
	if (c.count+1)*2 > len(c.keys) {
		c.grow()
	}
	mask := uint64(len(c.keys) - 1)
	k := key + 1
	for i := c.slot(key); ; i = (i + 1) & mask {
		if c.keys[i] == 0 || c.keys[i] == k {
			if c.keys[i] == 0 {
				c.count++
			}
			c.keys[i] = k
			c.vals[i] = val
			return
		}
	}
}

func (c *transCache) grow() {
	n := 2 * len(c.keys)
	if n < 64 {
		n = 64
	}
	old, oldVals := c.keys, c.vals
	c.keys = make([]uint64, n)
	c.vals = make([]uint32, n)
	c.shift = uint8(64 - bits.TrailingZeros(uint(n)))
	c.count = 0
	for i, k := range old {
		if k != 0 {
			c.put(k-1, oldVals[i])
		}
	}
}

func (c *transCache) memoryBytes() int64 { return int64(len(c.keys)) * 12 }

// classTable numbers ops by their (f, value, key) so that identical ops
// share a class.
type classTable map[string]uint64

func (t classTable) class(op Op) uint64 {
	k := op.F + "\x00" + history.Canonical(op.Value) + "\x00" + history.Canonical(op.Key)
	if c, ok := t[k]; ok {
		return c
	}
	c := uint64(len(t))
	t[k] = c
	return c
}

const noGuard = ^uint64(0)

// guardedInterned is an interned machine whose read-only ops have guard
// states (see Guarded).
type guardedInterned[S comparable] struct {
	*interned[S]
	guards []uint64 // noGuard when none
}

func (g *guardedInterned[S]) Guard(op int) (uint64, bool) {
	st := g.guards[op]
	return st, st != noGuard
}
