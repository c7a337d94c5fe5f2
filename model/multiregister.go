package model

import (
	"encoding/binary"
	"fmt"

	"github.com/faultline/faultline/history"
)

// NewMultiRegister returns Knossos' multi-register: registers identified by
// keys, with one f, "txn", whose value is a list of micro-ops [f k v] where f
// is "read" (or "r") or "write" (or "w"). A read of nil is always legal; a
// read of v is legal when key k holds v at that point of the transaction.
// initial maps keys to values (a history.Map or map[string]any); keys not in
// it start as nil. Its ops span keys, so it is never split per key.
func NewMultiRegister(initial any) (Model, error) {
	var init history.Map
	switch x := initial.(type) {
	case nil:
	case history.Map:
		init = x
	case map[string]any:
		for k, v := range x {
			init = append(init, history.Entry{Key: k, Val: v})
		}
	default:
		return nil, fmt.Errorf("model multi-register: initial value must be a map of keys to values, got %s", history.Format(initial))
	}
	return &multiRegister{initial: init}, nil
}

type multiRegister struct{ initial history.Map }

func (m *multiRegister) Name() string { return "multi-register" }

type micro struct {
	write bool
	key   int
	val   uint64
}

type multiState struct {
	values *valueTable
	keys   []any
	keyIdx map[string]int
}

func (t *multiState) key(k any) int {
	ck := history.Canonical(k)
	if i, ok := t.keyIdx[ck]; ok {
		return i
	}
	t.keys = append(t.keys, k)
	t.keyIdx[ck] = len(t.keys) - 1
	return len(t.keys) - 1
}

func getCode(s string, k int) uint64 {
	if 4*k+4 > len(s) {
		return 0
	}
	return uint64(binary.LittleEndian.Uint32([]byte(s[4*k : 4*k+4])))
}

func (m *multiRegister) Compile(ops []Op) (Machine, error) {
	t := &multiState{values: newValueTable(), keyIdx: map[string]int{}}
	txns := make([][]micro, len(ops))
	for _, e := range m.initial {
		t.key(e.Key)
	}
	for i, op := range ops {
		if op.F != "txn" {
			return nil, opError("multi-register", i, op, "unknown f %q (want txn)", op.F)
		}
		mops, ok := elements(op.Value)
		if !ok {
			return nil, opError("multi-register", i, op, "txn value must be a list of [f k v] micro-ops")
		}
		txn := make([]micro, len(mops))
		for j, mop := range mops {
			parts, ok := mop.([]any)
			if !ok || len(parts) != 3 {
				return nil, opError("multi-register", i, op, "micro-op %d is not [f k v]: %s", j, history.Format(mop))
			}
			f, _ := parts[0].(string)
			switch f {
			case "read", "r":
			case "write", "w":
				txn[j].write = true
			default:
				return nil, opError("multi-register", i, op, "micro-op %d has f %s (want read or write)", j, history.Format(parts[0]))
			}
			txn[j].key = t.key(parts[1])
			txn[j].val = t.values.code(parts[2])
		}
		txns[i] = txn
	}
	init := make([]byte, 4*len(t.keys))
	for _, e := range m.initial {
		binary.LittleEndian.PutUint32(init[4*t.key(e.Key):], uint32(t.values.code(e.Val)))
	}
	step := func(s string, i int) (string, bool) {
		var buf []byte
		get := func(k int) uint64 {
			if buf != nil {
				return uint64(binary.LittleEndian.Uint32(buf[4*k:]))
			}
			return getCode(s, k)
		}
		for _, mo := range txns[i] {
			if mo.write {
				if buf == nil {
					buf = []byte(s)
				}
				binary.LittleEndian.PutUint32(buf[4*mo.key:], uint32(mo.val))
				continue
			}
			if mo.val != 0 && get(mo.key) != mo.val {
				return s, false
			}
		}
		if buf == nil {
			return s, true
		}
		return string(buf), true
	}
	mm := newInterned(string(init), len(ops), step)
	mm.size = func(s string) int { return len(s) }
	mm.describe = func(s string) string {
		out := make(history.Map, len(t.keys))
		for k, key := range t.keys {
			out[k] = history.Entry{Key: key, Val: t.values.value(getCode(s, k))}
		}
		return history.Format(out)
	}
	mm.explain = func(s string, i int) string {
		cur := []byte(s)
		for _, mo := range txns[i] {
			if mo.write {
				binary.LittleEndian.PutUint32(cur[4*mo.key:], uint32(mo.val))
				continue
			}
			if have := uint64(binary.LittleEndian.Uint32(cur[4*mo.key:])); mo.val != 0 && have != mo.val {
				return fmt.Sprintf("can't read %s from %s, which holds %s", t.values.format(mo.val), history.Format(t.keys[mo.key]), t.values.format(have))
			}
		}
		return "legal"
	}
	classes := classTable{}
	for i, txn := range txns {
		mm.classes[i] = classes.class(Op{F: "txn", Value: ops[i].Value})
		readOnly, unknown := true, true
		for _, mo := range txn {
			if mo.write {
				readOnly = false
			}
			if mo.write || mo.val != 0 {
				unknown = false
			}
		}
		if readOnly {
			mm.flags[i] |= ReadOnly
		}
		if unknown {
			mm.flags[i] |= AlwaysLegal
		}
	}
	return mm, nil
}
