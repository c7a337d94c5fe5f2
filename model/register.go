package model

import (
	"fmt"

	"github.com/faultline/faultline/history"
)

// Register is Knossos' register: f "read" and "write". A read of nil (its
// result unknown) is always legal; a read of v is legal when the register
// holds v.
func Register(initial any) Model { return &register{cas: false, initial: initial} }

// CASRegister is Knossos' cas-register: a register with f "read", "write"
// and "cas" (value [from to]: legal when the register holds from, then it
// holds to). A read of nil is always legal.
func CASRegister(initial any) Model { return &register{cas: true, initial: initial} }

type register struct {
	cas     bool
	initial any
}

func (r *register) Name() string {
	if r.cas {
		return "cas-register"
	}
	return "register"
}

const (
	regRead uint8 = iota
	regWrite
	regCAS
)

type regOp struct {
	kind uint8
	a, b uint64 // read/write: a is the value; cas: a from, b to
}

// regMachine steps a register whose state is a value code (0 nil).
type regMachine struct {
	name    string
	values  *valueTable
	init    uint64
	ops     []regOp
	classes []uint64
}

func (r *register) Compile(ops []Op) (Machine, error) {
	name := r.Name()
	m := &regMachine{name: name, values: newValueTable(), ops: make([]regOp, len(ops)), classes: make([]uint64, len(ops))}
	m.init = m.values.code(r.initial)
	var classes map[regOp]uint64 // for codes too large to pack
	for i, op := range ops {
		var o regOp
		switch op.F {
		case "read":
			o = regOp{kind: regRead, a: m.values.code(op.Value)}
		case "write":
			o = regOp{kind: regWrite, a: m.values.code(op.Value)}
		case "cas":
			if !r.cas {
				return nil, opError(name, i, op, "f cas needs the cas-register model")
			}
			pair, ok := op.Value.([]any)
			if !ok || len(pair) != 2 {
				return nil, opError(name, i, op, "cas value must be [from to], got %s", history.Format(op.Value))
			}
			o = regOp{kind: regCAS, a: m.values.code(pair[0]), b: m.values.code(pair[1])}
		default:
			want := "read or write"
			if r.cas {
				want = "read, write or cas"
			}
			return nil, opError(name, i, op, "unknown f %q (want %s)", op.F, want)
		}
		m.ops[i] = o
		if o.a < 1<<30 && o.b < 1<<30 {
			m.classes[i] = uint64(o.kind)<<60 | o.a<<30 | o.b
			continue
		}
		if classes == nil {
			classes = map[regOp]uint64{}
		}
		c, ok := classes[o]
		if !ok {
			c = 1<<63 | uint64(len(classes))
			classes[o] = c
		}
		m.classes[i] = c
	}
	return m, nil
}

func (m *regMachine) Init() uint64 { return m.init }

func (m *regMachine) Step(s uint64, i int) (uint64, bool) {
	o := &m.ops[i]
	switch o.kind {
	case regRead:
		return s, o.a == 0 || o.a == s
	case regWrite:
		return o.a, true
	default:
		return o.b, o.a == s
	}
}

func (m *regMachine) Flags(i int) Flags {
	o := &m.ops[i]
	switch {
	case o.kind == regRead && o.a == 0:
		return ReadOnly | AlwaysLegal
	case o.kind == regRead, o.kind == regCAS && o.a == o.b:
		return ReadOnly
	}
	return 0
}

// Guard implements Guarded: a read of v, or a cas from v to v, is legal only
// when the register holds v.
func (m *regMachine) Guard(i int) (uint64, bool) {
	o := &m.ops[i]
	switch {
	case o.kind == regRead && o.a != 0, o.kind == regCAS && o.a == o.b:
		return o.a, true
	}
	return 0, false
}

func (m *regMachine) Class(i int) uint64 { return m.classes[i] }

func (m *regMachine) Describe(s uint64) string { return m.values.format(s) }

func (m *regMachine) Explain(s uint64, i int) string {
	o := &m.ops[i]
	switch o.kind {
	case regRead:
		return fmt.Sprintf("can't read %s from register %s", m.values.format(o.a), m.values.format(s))
	case regCAS:
		return fmt.Sprintf("can't CAS %s from %s to %s", m.values.format(s), m.values.format(o.a), m.values.format(o.b))
	}
	return "write is always legal"
}

func (m *regMachine) MemoryBytes() int64 {
	return int64(len(m.ops))*24 + int64(len(m.classes))*8 + m.values.memoryBytes()
}

// Precheck finds an op that needs the register to hold a value (a read of v,
// a cas from v) when no other op that could set v (a write of v or a cas to
// v) was invoked before it completed, and v is not the initial value.
func (m *regMachine) Precheck(t Timing) (int, string) {
	// The two earliest producer invocations of each value (two, so that a
	// cas [v v] does not count as its own producer).
	type producers struct {
		first, second int64
		firstOp       int
	}
	prod := map[uint64]*producers{}
	for i, o := range m.ops {
		var v uint64
		switch o.kind {
		case regWrite:
			v = o.a
		case regCAS:
			v = o.b
		default:
			continue
		}
		at := t.Invoke[i]
		p := prod[v]
		if p == nil {
			prod[v] = &producers{first: at, second: -1, firstOp: i}
			continue
		}
		switch {
		case at < p.first:
			p.second, p.first, p.firstOp = p.first, at, i
		case p.second < 0 || at < p.second:
			p.second = at
		}
	}
	bad, badRet, why := -1, int64(0), ""
	for i, o := range m.ops {
		if t.Return[i] < 0 {
			continue // an op that may never have happened constrains nothing
		}
		var v uint64
		switch o.kind {
		case regRead:
			v = o.a
		case regCAS:
			v = o.a
		default:
			continue
		}
		if v == 0 && o.kind == regRead || v == m.init {
			continue
		}
		earliest := int64(-1)
		if p := prod[v]; p != nil {
			earliest = p.first
			if p.firstOp == i {
				earliest = p.second
			}
		}
		if earliest >= 0 && earliest < t.Return[i] {
			continue
		}
		if bad >= 0 && t.Return[i] >= badRet {
			continue
		}
		what := "read"
		if o.kind == regCAS {
			what = "CAS from"
		}
		bad, badRet = i, t.Return[i]
		if earliest < 0 {
			why = fmt.Sprintf("%s %s, but no op writes %s and the initial value is %s", what, m.values.format(v), m.values.format(v), m.values.format(m.init))
		} else {
			why = fmt.Sprintf("%s %s, but the first op that writes %s was invoked after this op completed", what, m.values.format(v), m.values.format(v))
		}
	}
	return bad, why
}
