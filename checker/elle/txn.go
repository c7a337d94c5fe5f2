package elle

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/faultline/faultline/history"
)

// txnKind is how a transaction ended.
type txnKind uint8

const (
	kindOK   txnKind = iota // it committed
	kindInfo                // unknown: it may have committed
	kindFail                // it did not commit
)

func (k txnKind) String() string {
	switch k {
	case kindOK:
		return "ok"
	case kindInfo:
		return "info"
	}
	return "fail"
}

// mopKind is the function of a micro-operation.
type mopKind uint8

const (
	mopAppend mopKind = iota
	mopRead
	mopWrite
)

// mop is one micro-operation, with its key and value interned. For an
// append, v is the element's id; for a register read or write, the value's
// id; for a list read, v and n locate the read's elements in
// parsed.elems (n = 0 for an empty read, -1 for a nil one).
type mop struct {
	kind mopKind
	key  int32
	v    int32
	n    int32
}

// txn is one transaction: a completion (with its invocation when there is
// one), or an invocation that never completed (taken as info).
type txn struct {
	pos    int32 // position of the completion in the history (of the invocation when pending)
	inv    int32 // position of the invocation, or -1
	kind   txnKind
	proc   int32
	m0, m1 int32 // its micro-ops are mops[m0:m1]
}

// vkey is a comparable stand-in for a history value: values that
// history.Equal calls equal get the same vkey.
type vkey = history.Key

func keyOf(v any) vkey { return history.KeyOf(v) }

// interner numbers keys, and values within a key, densely from 0.
type interner struct {
	keyInts   map[int64]int32
	keyOther  map[vkey]int32
	keyVals   []any
	valInts   map[[2]int64]int32
	valOther  map[valKey]int32
	valVals   []any
	valKeyOf  []int32
	nilValues []int32 // per key: id of the nil value, or -1
	// small[k][v] is 1 + the id of the small non-negative integer v of key
	// k (0: none yet): workloads number values 1, 2, 3... per key, so most
	// lookups avoid the map.
	small [][]int32
	// smallKeys[k] is 1 + the id of the small non-negative integer key k.
	smallKeys []int32
}

// maxSmallKey bounds the integer keys kept in the key table.
const maxSmallKey = 1 << 22

// maxSmall bounds the integer values kept in the per-key tables.
const maxSmall = 1 << 12

type valKey struct {
	key int32
	v   vkey
}

func newInterner() *interner {
	return &interner{keyInts: map[int64]int32{}, keyOther: map[vkey]int32{}, valInts: map[[2]int64]int32{}, valOther: map[valKey]int32{}}
}

// grow makes room for n more values.
func (in *interner) grow(n int) {
	in.valVals = slices.Grow(in.valVals, n)
	in.valKeyOf = slices.Grow(in.valKeyOf, n)
}

func (in *interner) key(k any) int32 {
	if x, ok := k.(int64); ok {
		return in.keyInt(x)
	}
	vk := keyOf(k)
	if n, ok := vk.Int(); ok {
		return in.keyInt(n)
	}
	if id, ok := in.keyOther[vk]; ok {
		return id
	}
	id := in.addKey(k)
	in.keyOther[vk] = id
	return id
}

// addKey numbers a new key.
func (in *interner) addKey(k any) int32 {
	id := int32(len(in.keyVals))
	in.keyVals = append(in.keyVals, k)
	in.nilValues = append(in.nilValues, -1)
	return id
}

// keyInt is key for the integer key x.
func (in *interner) keyInt(x int64) int32 {
	if x >= 0 && x < maxSmallKey {
		if int(x) < len(in.smallKeys) && in.smallKeys[x] > 0 {
			return in.smallKeys[x] - 1
		}
		id := in.addKey(x)
		if int(x) >= len(in.smallKeys) {
			grown := make([]int32, max(int(x)+1, 2*len(in.smallKeys), 64))
			copy(grown, in.smallKeys)
			in.smallKeys = grown
		}
		in.smallKeys[x] = id + 1
		return id
	}
	if id, ok := in.keyInts[x]; ok {
		return id
	}
	id := in.addKey(x)
	in.keyInts[x] = id
	return id
}

// val returns the id of value v of key k, and whether it is new.
func (in *interner) val(k int32, v any) (int32, bool) {
	if x, ok := v.(int64); ok {
		return in.valInt(k, x)
	}
	if v == nil {
		if id := in.nilValues[k]; id >= 0 {
			return id, false
		}
		id := in.addVal(k, nil)
		in.nilValues[k] = id
		return id, true
	}
	vk := keyOf(v)
	if n, ok := vk.Int(); ok {
		return in.valInt(k, n)
	}
	key := valKey{k, vk}
	if id, ok := in.valOther[key]; ok {
		return id, false
	}
	id := in.addVal(k, v)
	in.valOther[key] = id
	return id, true
}

// addVal numbers a new value v of key k.
func (in *interner) addVal(k int32, v any) int32 {
	id := int32(len(in.valVals))
	in.valVals = append(in.valVals, v)
	in.valKeyOf = append(in.valKeyOf, k)
	return id
}

// valInt is val for the integer value x.
func (in *interner) valInt(k int32, x int64) (int32, bool) {
	if x >= 0 && x < maxSmall {
		for int(k) >= len(in.small) {
			in.small = append(in.small, nil)
		}
		tab := in.small[k]
		if int(x) < len(tab) && tab[x] > 0 {
			return tab[x] - 1, false
		}
		// Small values live only in the table.
		id := in.addVal(k, x)
		if int(x) >= len(tab) {
			grown := make([]int32, max(int(x)+1, 2*len(tab), 8))
			copy(grown, tab)
			tab = grown
			in.small[k] = tab
		}
		tab[x] = id + 1
		return id, true
	}
	return in.valMap(k, x)
}

// valMap interns the integer value x of key k through the map.
func (in *interner) valMap(k int32, x int64) (int32, bool) {
	ik := [2]int64{int64(k), x}
	if id, ok := in.valInts[ik]; ok {
		return id, false
	}
	id := in.addVal(k, x)
	in.valInts[ik] = id
	return id, true
}

// workload says which micro-ops a history may contain.
type workload uint8

const (
	listAppend workload = iota
	rwRegister
)

func (w workload) String() string {
	if w == listAppend {
		return "list-append"
	}
	return "rw-register"
}

// parsed is a history cut into transactions with interned micro-ops.
type parsed struct {
	ops   []history.Op
	txns  []txn
	mops  []mop
	elems []int32 // list-append read contents, by value id
	in    *interner
	// raw[i] is the micro-op list of txn i as it appeared (for reports),
	// when it was read without the value decoder; nil when none was.
	raw [][]any
}

// errShape is a history the checker cannot analyse.
type errShape struct {
	op   history.Op
	pos  int
	what string
}

func (e *errShape) Error() string {
	return fmt.Sprintf("op %d (%s): %s", e.op.Index, e.op.String(), e.what)
}

// parse pairs the client ops of a history into transactions (in order of
// completion; invocations that never completed come last, as info) and
// interns their micro-ops. Nemesis ops are ignored.
func parse(ctx context.Context, ops []history.Op, w workload) (*parsed, error) {
	p := &parsed{ops: ops, in: newInterner(), txns: make([]txn, 0, len(ops)/2+1)}
	// Open invocations by process: a slice for the usual small process
	// numbers (position + 1, 0 for none), a map for the others.
	const dense = 1 << 16
	var openDense []int32
	open := map[int]int32{}
	for i := range ops {
		op := &ops[i]
		if op.Process < 0 {
			continue
		}
		if i&0xffff == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		switch op.Type {
		case history.Invoke:
			if op.Process < dense {
				if op.Process >= len(openDense) {
					openDense = slices.Grow(openDense, max(op.Process+1, 2*len(openDense), 64)-len(openDense))
					openDense = openDense[:cap(openDense)]
				}
				openDense[op.Process] = int32(i) + 1
			} else {
				open[op.Process] = int32(i)
			}
		case history.OK, history.Info, history.Fail:
			inv := int32(-1)
			if op.Process < dense {
				if op.Process < len(openDense) && openDense[op.Process] > 0 {
					inv = openDense[op.Process] - 1
					openDense[op.Process] = 0
				}
			} else if j, ok := open[op.Process]; ok {
				inv = j
				delete(open, op.Process)
			}
			k := kindOK
			if op.Type == history.Info {
				k = kindInfo
			} else if op.Type == history.Fail {
				k = kindFail
			}
			p.txns = append(p.txns, txn{pos: int32(i), inv: inv, kind: k, proc: int32(op.Process)})
		}
	}
	var pend []int32
	for _, j := range openDense {
		if j > 0 {
			pend = append(pend, j-1)
		}
	}
	for _, j := range open {
		pend = append(pend, j)
	}
	sort.Slice(pend, func(a, b int) bool { return pend[a] < pend[b] })
	for _, j := range pend {
		p.txns = append(p.txns, txn{pos: j, inv: j, kind: kindInfo, proc: int32(ops[j].Process)})
	}
	// Size the micro-op and element arrays once.
	nm, ne, nw := 0, 0, 0
	for t := range p.txns {
		val := p.value(&p.txns[t])
		if c, ok := val.(*ctxn); ok {
			nm += int(c.nm)
			ne += int(c.ne)
			nw += c.writes()
			continue
		}
		list, _ := history.Expand(val).([]any)
		nm += len(list)
		for _, m := range list {
			mv, ok := m.([]any)
			if !ok || len(mv) != 3 {
				continue
			}
			if l, ok := mv[2].([]any); ok && w == listAppend {
				ne += len(l)
			} else if f, _ := mv[0].(string); f == "append" || f == "w" {
				nw++
			}
		}
	}
	p.mops = make([]mop, 0, nm)
	p.elems = make([]int32, 0, ne)
	p.in.grow(nw) // each write (usually) writes a value of its own
	for t := range p.txns {
		if t&0xfff == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err := p.parseTxn(int32(t), w); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// value returns the micro-ops of a transaction: its completion's value, or
// its invocation's when the completion carries none.
func (p *parsed) value(t *txn) any {
	v := p.ops[t.pos].Value
	if v == nil && t.inv >= 0 {
		v = p.ops[t.inv].Value
	}
	return v
}

func (p *parsed) parseTxn(t int32, w workload) error {
	tx := &p.txns[t]
	op := &p.ops[tx.pos]
	val := p.value(tx)
	tx.m0 = int32(len(p.mops))
	defer func() { tx.m1 = int32(len(p.mops)) }()
	if c, ok := val.(*ctxn); ok {
		if p.compact(c, w) {
			return nil
		}
		val = c.Expand() // a shape the workload does not take: say which
	}
	val = history.Expand(val)
	if val == nil {
		return nil
	}
	list, ok := val.([]any)
	if !ok {
		return &errShape{op: *op, pos: int(tx.pos), what: fmt.Sprintf("value %s is not a list of micro-ops", history.Format(val))}
	}
	if p.raw == nil { // made for the first txn with a generic value
		p.raw = make([][]any, len(p.txns))
	}
	p.raw[t] = list
	for mi, m := range list {
		mv, ok := m.([]any)
		if !ok || len(mv) < 2 || len(mv) > 3 {
			return &errShape{op: *op, pos: int(tx.pos), what: fmt.Sprintf("micro-op %d, %s, is not [f key value]", mi, history.Format(m))}
		}
		f, _ := mv[0].(string)
		var v any
		if len(mv) == 3 {
			v = mv[2]
		}
		key := p.in.key(mv[1])
		switch {
		case w == listAppend && f == "append":
			id, _ := p.in.val(key, v)
			p.mops = append(p.mops, mop{kind: mopAppend, key: key, v: id})
		case w == listAppend && f == "r":
			var elems []any
			switch x := v.(type) {
			case nil:
			case []any:
				elems = x
			default:
				return &errShape{op: *op, pos: int(tx.pos), what: fmt.Sprintf("micro-op %d reads %s, which is not a list", mi, history.Format(v))}
			}
			start := int32(len(p.elems))
			for _, e := range elems {
				id, _ := p.in.val(key, e)
				p.elems = append(p.elems, id)
			}
			n := int32(len(elems))
			if v == nil {
				n = -1 // not observed (an info op's read), unlike an empty read
			}
			p.mops = append(p.mops, mop{kind: mopRead, key: key, v: start, n: n})
		case w == rwRegister && (f == "w" || f == "r"):
			id, _ := p.in.val(key, v)
			k := mopWrite
			if f == "r" {
				k = mopRead
			}
			p.mops = append(p.mops, mop{kind: k, key: key, v: id})
		default:
			want := `"append" or "r"`
			if w == rwRegister {
				want = `"w" or "r"`
			}
			return &errShape{op: *op, pos: int(tx.pos), what: fmt.Sprintf("micro-op %d, %s, is not %s (the %s workload)", mi, history.Format(m), want, w)}
		}
	}
	return nil
}

// mopOf is the kind of a decoded micro-op's function.
var mopOf = [...]mopKind{fAppend: mopAppend, fRead: mopRead, fWrite: mopWrite}

// compact interns the micro-ops of a decoded list, when they all have the
// shapes of workload w: false, having done nothing, when one has not
// (parseTxn then explains what is wrong with it).
func (p *parsed) compact(c *ctxn, w workload) bool {
	fits := c.each(func(m cmop) bool {
		kind := int32(m.kind)
		switch {
		case w == listAppend && m.f == fAppend && kind == kScalar:
		case w == listAppend && m.f == fRead && kind != kScalar:
		case w == rwRegister && m.f != fAppend && kind != kList:
		default:
			return false
		}
		return true
	})
	if !fits {
		return false
	}
	in := p.in
	c.each(func(m cmop) bool {
		key := in.keyInt(int64(m.key))
		switch int32(m.kind) {
		case kScalar:
			id, _ := in.valInt(key, int64(m.v))
			p.mops = append(p.mops, mop{kind: mopOf[m.f], key: key, v: id})
		case kNil:
			if w == listAppend { // a read of nothing observed
				p.mops = append(p.mops, mop{kind: mopRead, key: key, v: int32(len(p.elems)), n: -1})
				break
			}
			id, _ := in.val(key, nil)
			p.mops = append(p.mops, mop{kind: mopOf[m.f], key: key, v: id})
		default: // a list read
			start := int32(len(p.elems))
			for _, e := range m.elems {
				id, _ := in.valInt(key, int64(e))
				p.elems = append(p.elems, id)
			}
			p.mops = append(p.mops, mop{kind: mopRead, key: key, v: start, n: int32(len(m.elems))})
		}
		return true
	})
	return true
}

// rawOf returns the micro-op list of txn t as it appeared.
func (p *parsed) rawOf(t int32) []any {
	if int(t) < len(p.raw) && p.raw[t] != nil {
		return p.raw[t]
	}
	l, _ := history.Expand(p.value(&p.txns[t])).([]any)
	return l
}

// read returns the elements a list read observed (none for a nil read).
func (p *parsed) read(m *mop) []int32 {
	if m.n <= 0 {
		return nil
	}
	return p.elems[m.v : m.v+m.n]
}
