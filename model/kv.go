package model

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"strconv"

	"github.com/faultline/faultline/history"
)

// NewKV returns a key-value store of strings, as in Porcupine's kv tests: f
// "get" (value: the string read; nil when unknown, always legal), "put"
// (overwrite) and "append" (concatenate), on the key in Op.Key. Every key
// starts as initial: nil for "", or a string. Its histories split per key.
func NewKV(initial any) (Model, error) {
	switch x := initial.(type) {
	case nil:
		return &kv{}, nil
	case string:
		return &kv{initial: x}, nil
	}
	return nil, fmt.Errorf("model kv: initial value must be a string, got %s", history.Format(initial))
}

type kv struct{ initial string }

func (m *kv) Name() string   { return "kv" }
func (m *kv) KeyAware() bool { return true }

// Partition splits ops by key.
func (m *kv) Partition(ops []Op) [][]int {
	idx := map[string]int{}
	var out [][]int
	for i, op := range ops {
		k := history.Canonical(op.Key)
		g, ok := idx[k]
		if !ok {
			g = len(out)
			idx[k] = g
			out = append(out, nil)
		}
		out[g] = append(out[g], i)
	}
	return out
}

const (
	kvGet uint8 = iota
	kvPut
	kvAppend
)

type kvOp struct {
	kind    uint8
	unknown bool   // a get whose result is not known
	key     int    // key number
	val     string // put/append argument, or the string a get read
	valID   uint32 // the string table number of val (put, get)
	hash    uint64 // strHash(val)
	pow     uint64 // strBase^len(val)
}

func (m *kv) Compile(ops []Op) (Machine, error) {
	keyIdx := map[string]int{}
	var keys []any
	kops := make([]kvOp, len(ops))
	strs := newStrTable(m.initial)
	for i, op := range ops {
		var o kvOp
		switch op.F {
		case "get":
			o.kind = kvGet
		case "put":
			o.kind = kvPut
		case "append":
			o.kind = kvAppend
		default:
			return nil, opError("kv", i, op, "unknown f %q (want get, put or append)", op.F)
		}
		switch v := op.Value.(type) {
		case string:
			o.val = v
		case nil:
			if o.kind != kvGet {
				return nil, opError("kv", i, op, "%s needs a string value", op.F)
			}
			o.unknown = true
		default:
			return nil, opError("kv", i, op, "value must be a string, got %s", history.Format(op.Value))
		}
		o.hash, o.pow = strHash(o.val)
		if o.kind != kvAppend && !o.unknown {
			o.valID = strs.intern(o.val)
		}
		ck := history.Canonical(op.Key)
		k, ok := keyIdx[ck]
		if !ok {
			k = len(keys)
			keyIdx[ck] = k
			keys = append(keys, op.Key)
		}
		o.key = k
		kops[i] = o
	}
	classes := classTable{}
	cls := make([]uint64, len(ops))
	for i := range ops {
		cls[i] = classes.class(ops[i])
	}
	if len(keys) <= 1 {
		return &kvSingle{ops: kops, strs: strs, classes: cls}, nil
	}
	return compileKVMulti(kops, strs, keys, cls), nil
}

func kvFlags(o *kvOp) Flags {
	switch {
	case o.kind != kvGet:
		return 0
	case o.unknown:
		return ReadOnly | AlwaysLegal
	}
	return ReadOnly
}

// kvSingle is the kv machine for ops on one key: the state is the number of
// the key's string in a string table.
type kvSingle struct {
	ops     []kvOp
	strs    *strTable
	classes []uint64
	// prefixes holds, for the strings asked about as targets of MayExtend,
	// the hash of every prefix (prefixes[t][n]: of the first n bytes).
	prefixes     map[uint32][]uint64
	prefixMemory int64
}

func (m *kvSingle) Init() uint64 { return 0 }

func (m *kvSingle) Step(s uint64, i int) (uint64, bool) {
	o := &m.ops[i]
	switch o.kind {
	case kvGet:
		return s, o.unknown || uint32(s) == o.valID
	case kvPut:
		return uint64(o.valID), true
	}
	return uint64(m.strs.concat(uint32(s), o)), true
}

// PreferInvocationOrder implements OrderHint: appends are best tried in
// the order they were invoked.
func (m *kvSingle) PreferInvocationOrder() bool { return true }

// Sets implements Prefixed: a put sets the key's string.
func (m *kvSingle) Sets(i int) (uint64, bool) {
	o := &m.ops[i]
	return uint64(o.valID), o.kind == kvPut
}

// MayExtend implements Prefixed by comparing the hash of s with that of
// t's prefix of the same length: different hashes mean different strings.
func (m *kvSingle) MayExtend(s, t uint64) bool {
	if s == t {
		return true
	}
	ns, nt := &m.strs.nodes[s], &m.strs.nodes[t]
	if ns.n >= nt.n {
		return false // same length but another string, or longer
	}
	ph, ok := m.prefixes[uint32(t)]
	if !ok {
		content := m.strs.appendContent(nil, uint32(t))
		ph = make([]uint64, len(content)+1)
		for i, c := range content {
			ph[i+1] = ph[i]*strBase + uint64(c)
		}
		if m.prefixes == nil {
			m.prefixes = map[uint32][]uint64{}
		}
		m.prefixes[uint32(t)] = ph
		m.prefixMemory += int64(len(ph))*8 + 64
	}
	return ph[ns.n] == ns.hash
}

func (m *kvSingle) Guard(i int) (uint64, bool) {
	o := &m.ops[i]
	return uint64(o.valID), o.kind == kvGet && !o.unknown
}

func (m *kvSingle) Flags(i int) Flags  { return kvFlags(&m.ops[i]) }
func (m *kvSingle) Class(i int) uint64 { return m.classes[i] }
func (m *kvSingle) MemoryBytes() int64 {
	return m.strs.memoryBytes() + m.prefixMemory + int64(len(m.ops))*64
}
func (m *kvSingle) Describe(s uint64) string {
	return truncate(strconv.Quote(m.strs.get(uint32(s))), 400)
}

func (m *kvSingle) Explain(s uint64, i int) string {
	return fmt.Sprintf("can't get %s: the key holds %s", truncate(strconv.Quote(m.ops[i].val), 200), truncate(strconv.Quote(m.strs.get(uint32(s))), 200))
}

// compileKVMulti: ops on several keys; the state is a tuple of string
// numbers, one per key, interned.
func compileKVMulti(kops []kvOp, strs *strTable, keys []any, classes []uint64) Machine {
	get := func(s string, k int) uint32 { return binary.LittleEndian.Uint32([]byte(s[4*k : 4*k+4])) }
	step := func(s string, i int) (string, bool) {
		o := &kops[i]
		cur := get(s, o.key)
		var next uint32
		switch o.kind {
		case kvGet:
			return s, o.unknown || cur == o.valID
		case kvPut:
			next = o.valID
		default:
			next = strs.concat(cur, o)
		}
		b := []byte(s)
		binary.LittleEndian.PutUint32(b[4*o.key:], next)
		return string(b), true
	}
	mm := newInterned(string(make([]byte, 4*len(keys))), len(kops), step)
	mm.size = func(s string) int { return len(s) }
	mm.extra = strs.memoryBytes
	mm.describe = func(s string) string {
		out := make(history.Map, len(keys))
		for k, key := range keys {
			out[k] = history.Entry{Key: key, Val: strs.get(get(s, k))}
		}
		return truncate(history.Format(out), 400)
	}
	mm.explain = func(s string, i int) string {
		o := &kops[i]
		return fmt.Sprintf("can't get %s from key %s: it holds %s", truncate(strconv.Quote(o.val), 200), history.Format(keys[o.key]), truncate(strconv.Quote(strs.get(get(s, o.key))), 200))
	}
	for i := range kops {
		mm.classes[i] = classes[i]
		mm.flags[i] = kvFlags(&kops[i])
	}
	return kvMulti{mm}
}

// kvMulti is the kv machine over several keys.
type kvMulti struct{ *interned[string] }

// PreferInvocationOrder implements OrderHint.
func (kvMulti) PreferInvocationOrder() bool { return true }

// strTable interns strings by content without storing each one: a string
// made by appending to another is kept as (parent, appended part), with its
// length and a polynomial hash that extends in O(1). Strings with equal
// hash and length are compared by content, so numbers are exact: equal
// strings always get the same number.
type strTable struct {
	nodes []strNode
	slots []uint32 // node number + 1; 0 empty
	shift uint8
	buf   [2][]byte // scratch for content comparisons
}

type strNode struct {
	seg    string // the appended part, or the whole string of a leaf
	hash   uint64
	n      int    // length
	parent uint32 // noParent for a leaf
}

const (
	strBase  = 0x100000001B3
	noParent = ^uint32(0)
)

// strHash returns the polynomial hash of s and strBase^len(s).
func strHash(s string) (h, pow uint64) {
	pow = 1
	for i := 0; i < len(s); i++ {
		h = h*strBase + uint64(s[i])
		pow *= strBase
	}
	return h, pow
}

func newStrTable(initial string) *strTable {
	t := &strTable{slots: make([]uint32, 64), shift: 64 - 6}
	t.intern(initial)
	return t
}

func (t *strTable) slot(h uint64) uint64 { return (h * 0x9E3779B97F4A7C15) >> t.shift }

// appendContent appends the content of node id to b.
func (t *strTable) appendContent(b []byte, id uint32) []byte {
	start := len(b)
	b = slices.Grow(b, t.nodes[id].n)[:start+t.nodes[id].n]
	end := len(b)
	for {
		nd := &t.nodes[id]
		copy(b[end-len(nd.seg):end], nd.seg)
		end -= len(nd.seg)
		if nd.parent == noParent {
			break
		}
		id = nd.parent
	}
	return b
}

// get returns the content of node id.
func (t *strTable) get(id uint32) string {
	if int(id) >= len(t.nodes) {
		return ""
	}
	return string(t.appendContent(nil, id))
}

// intern returns the number of s.
func (t *strTable) intern(s string) uint32 {
	h, _ := strHash(s)
	mask := uint64(len(t.slots) - 1)
	for i := t.slot(h); t.slots[i] != 0; i = (i + 1) & mask {
		c := t.slots[i] - 1
		if nd := &t.nodes[c]; nd.hash == h && nd.n == len(s) {
			t.buf[0] = t.appendContent(t.buf[0][:0], c)
			if string(t.buf[0]) == s {
				return c
			}
		}
	}
	return t.add(strNode{seg: s, hash: h, n: len(s), parent: noParent})
}

// concat returns the number of the string of node id followed by o.val.
func (t *strTable) concat(id uint32, o *kvOp) uint32 {
	base := &t.nodes[id]
	h := base.hash*o.pow + o.hash
	n := base.n + len(o.val)
	mask := uint64(len(t.slots) - 1)
	for i := t.slot(h); t.slots[i] != 0; i = (i + 1) & mask {
		c := t.slots[i] - 1
		nd := &t.nodes[c]
		if nd.hash != h || nd.n != n {
			continue
		}
		if nd.parent == id && nd.seg == o.val {
			return c
		}
		// Same hash and length by another path: compare content.
		t.buf[0] = t.appendContent(t.buf[0][:0], c)
		t.buf[1] = append(t.appendContent(t.buf[1][:0], id), o.val...)
		if string(t.buf[0]) == string(t.buf[1]) {
			return c
		}
	}
	return t.add(strNode{seg: o.val, hash: h, n: n, parent: id})
}

func (t *strTable) add(nd strNode) uint32 {
	id := uint32(len(t.nodes))
	t.nodes = append(t.nodes, nd)
	if 2*len(t.nodes) > len(t.slots) {
		n := 2 * len(t.slots)
		t.slots = make([]uint32, n)
		t.shift = uint8(64 - bits.TrailingZeros(uint(n)))
		mask := uint64(n - 1)
		for c := range t.nodes {
			i := t.slot(t.nodes[c].hash)
			for t.slots[i] != 0 {
				i = (i + 1) & mask
			}
			t.slots[i] = uint32(c + 1)
		}
		return id
	}
	mask := uint64(len(t.slots) - 1)
	i := t.slot(nd.hash)
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = id + 1
	return id
}

func (t *strTable) memoryBytes() int64 {
	return int64(cap(t.nodes))*40 + int64(len(t.slots))*4 + int64(cap(t.buf[0])+cap(t.buf[1]))
}
