package model

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strings"

	"github.com/faultline/faultline/history"
)

// Collections (set, queues) keep their state as a string of 4-byte element
// codes: sorted for the set and the unordered queue (a multiset), in order
// for the FIFO queue.

// NewSet returns Knossos' set: f "add" (value: the element) and "read"
// (value: the whole set, legal when it equals the current set). initial is
// nil (empty) or a collection of elements.
func NewSet(initial any) (Model, error) {
	init, err := initialElements("set", initial)
	if err != nil {
		return nil, err
	}
	return &collection{kind: kindSet, initial: init}, nil
}

// NewUnorderedQueue returns Knossos' unordered-queue: f "enqueue" (value: the
// element) and "dequeue" (value: the element dequeued, legal when it is
// pending). initial is nil (empty) or a collection of pending elements.
func NewUnorderedQueue(initial any) (Model, error) {
	init, err := initialElements("unordered-queue", initial)
	if err != nil {
		return nil, err
	}
	return &collection{kind: kindUnordered, initial: init}, nil
}

// NewFIFOQueue returns Knossos' fifo-queue: f "enqueue" and "dequeue"; a
// dequeue is legal when its value is the oldest pending element. initial is
// nil (empty) or the pending elements, oldest first.
func NewFIFOQueue(initial any) (Model, error) {
	init, err := initialElements("fifo-queue", initial)
	if err != nil {
		return nil, err
	}
	return &collection{kind: kindFIFO, initial: init}, nil
}

func initialElements(name string, initial any) ([]any, error) {
	if initial == nil {
		return nil, nil
	}
	els, ok := elements(initial)
	if !ok {
		return nil, fmt.Errorf("model %s: initial value must be a collection, got %s", name, history.Format(initial))
	}
	return els, nil
}

type collKind uint8

const (
	kindSet collKind = iota
	kindUnordered
	kindFIFO
)

var collNames = [...]string{kindSet: "set", kindUnordered: "unordered-queue", kindFIFO: "fifo-queue"}

type collection struct {
	kind    collKind
	initial []any
}

func (c *collection) Name() string { return collNames[c.kind] }

type collOp struct {
	add  bool   // add / enqueue; otherwise read / dequeue
	elem uint32 // element code for add, enqueue, dequeue
	read string // the encoded set a read expects
}

func encodeCodes(codes []uint32) string {
	b := make([]byte, 4*len(codes))
	for i, c := range codes {
		binary.LittleEndian.PutUint32(b[4*i:], c)
	}
	return string(b)
}

func decodeCodes(s string) []uint32 {
	out := make([]uint32, len(s)/4)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32([]byte(s[4*i : 4*i+4]))
	}
	return out
}

func sortedUnique(codes []uint32) []uint32 {
	sort.Slice(codes, func(i, j int) bool { return codes[i] < codes[j] })
	out := codes[:0]
	for i, c := range codes {
		if i == 0 || c != codes[i-1] {
			out = append(out, c)
		}
	}
	return out
}

func (c *collection) Compile(ops []Op) (Machine, error) {
	name := c.Name()
	values := newValueTable()
	code := func(v any) uint32 { return uint32(values.code(v)) }
	cops := make([]collOp, len(ops))
	addF, takeF := "enqueue", "dequeue"
	if c.kind == kindSet {
		addF, takeF = "add", "read"
	}
	for i, op := range ops {
		switch op.F {
		case addF:
			cops[i] = collOp{add: true, elem: code(op.Value)}
		case takeF:
			if c.kind != kindSet {
				cops[i] = collOp{elem: code(op.Value)}
				continue
			}
			if op.Value == nil {
				cops[i] = collOp{read: "\x00nil"} // matches no state, as in Knossos
				continue
			}
			els, ok := elements(op.Value)
			if !ok {
				return nil, opError(name, i, op, "read value must be a collection, got %s", history.Format(op.Value))
			}
			codes := make([]uint32, len(els))
			for j, e := range els {
				codes[j] = code(e)
			}
			cops[i] = collOp{read: encodeCodes(sortedUnique(codes))}
		default:
			return nil, opError(name, i, op, "unknown f %q (want %s or %s)", op.F, addF, takeF)
		}
	}
	initCodes := make([]uint32, len(c.initial))
	for i, e := range c.initial {
		initCodes[i] = code(e)
	}
	switch c.kind {
	case kindSet:
		initCodes = sortedUnique(initCodes)
	case kindUnordered:
		sort.Slice(initCodes, func(i, j int) bool { return initCodes[i] < initCodes[j] })
	}
	kind := c.kind
	step := func(s string, i int) (string, bool) {
		o := &cops[i]
		switch {
		case kind == kindSet && o.add:
			codes := decodeCodes(s)
			j := sort.Search(len(codes), func(j int) bool { return codes[j] >= o.elem })
			if j < len(codes) && codes[j] == o.elem {
				return s, true
			}
			codes = append(codes[:j], append([]uint32{o.elem}, codes[j:]...)...)
			return encodeCodes(codes), true
		case kind == kindSet:
			return s, s == o.read
		case o.add && kind == kindFIFO:
			return s + encodeCodes([]uint32{o.elem}), true
		case o.add:
			codes := decodeCodes(s)
			j := sort.Search(len(codes), func(j int) bool { return codes[j] > o.elem })
			codes = append(codes[:j], append([]uint32{o.elem}, codes[j:]...)...)
			return encodeCodes(codes), true
		case kind == kindFIFO:
			if len(s) >= 4 && binary.LittleEndian.Uint32([]byte(s[:4])) == o.elem {
				return s[4:], true
			}
			return s, false
		default:
			codes := decodeCodes(s)
			j := sort.Search(len(codes), func(j int) bool { return codes[j] >= o.elem })
			if j < len(codes) && codes[j] == o.elem {
				return encodeCodes(append(codes[:j], codes[j+1:]...)), true
			}
			return s, false
		}
	}
	m := newInterned(encodeCodes(initCodes), len(ops), step)
	m.size = func(s string) int { return len(s) }
	describe := func(s string) string {
		codes := decodeCodes(s)
		parts := make([]string, len(codes))
		for i, c := range codes {
			parts[i] = values.format(uint64(c))
		}
		if kind == kindSet {
			return "#{" + strings.Join(parts, " ") + "}"
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	m.describe = func(s string) string { return truncate(describe(s), 400) }
	m.explain = func(s string, i int) string {
		o := &cops[i]
		switch {
		case kind == kindSet:
			return fmt.Sprintf("can't read %s from %s", history.Format(ops[i].Value), truncate(describe(s), 400))
		case kind == kindFIFO && len(s) == 0:
			return fmt.Sprintf("can't dequeue %s from empty queue", values.format(uint64(o.elem)))
		case kind == kindFIFO:
			return fmt.Sprintf("can't dequeue %s: %s is at the head", values.format(uint64(o.elem)), values.format(uint64(binary.LittleEndian.Uint32([]byte(s[:4])))))
		}
		return fmt.Sprintf("can't dequeue %s: not pending", values.format(uint64(o.elem)))
	}
	classes := map[collOp]uint64{}
	for i, o := range cops {
		cl, ok := classes[o]
		if !ok {
			cl = uint64(len(classes))
			classes[o] = cl
		}
		m.classes[i] = cl
		if kind == kindSet && !o.add {
			m.flags[i] |= ReadOnly
		}
	}
	if kind != kindSet {
		return m, nil
	}
	// A read of a set is legal only in that set: its guard state.
	g := &guardedInterned[string]{interned: m, guards: make([]uint64, len(ops))}
	for i, o := range cops {
		g.guards[i] = noGuard
		if !o.add && ops[i].Value != nil {
			g.guards[i] = uint64(m.intern(o.read))
		}
	}
	return g, nil
}
