package history

import (
	"fmt"
	"math"
)

// Bits of opBuilder.seen, one per field that maps onto an Op field.
const (
	seenIndex uint16 = 1 << iota
	seenTime
	seenType
	seenProcess
	seenF
	seenValue
	seenError
	seenKey
	seenNode
)

// opBuilder assembles an Op from the key/value pairs of an op map (EDN or
// JSON). It never stops at a bad field: it records the first problem and
// keeps going, so that the parser can finish the map and report where it is.
type opBuilder struct {
	op   *Op // where the op is built
	seen uint16
	msg  string // first problem with a field, or ""
}

// reset starts building an op in dst.
func (b *opBuilder) reset(dst *Op) {
	*dst = Op{Time: -1}
	b.op = dst
	b.seen = 0
	b.msg = ""
}

func (b *opBuilder) fail(format string, args ...any) {
	if b.msg == "" {
		b.msg = fmt.Sprintf(format, args...)
	}
}

// mark records that a known field was seen and reports a duplicate.
func (b *opBuilder) mark(bit uint16, name string) bool {
	if b.seen&bit != 0 {
		b.fail("duplicate field %s", name)
		return false
	}
	b.seen |= bit
	return true
}

// set stores one entry of an op map. Keys index, time, type, process, f,
// value, error, key and node (strings, i.e. keywords in EDN) fill Op fields;
// every other entry goes to Extra in order.
func (b *opBuilder) set(key, val any) {
	name, _ := key.(string)
	switch name {
	case "index":
		if b.mark(seenIndex, name) {
			n, ok := Int(val)
			if _, isFloat := val.(float64); !ok || isFloat || n < 0 || int64(int(n)) != n {
				b.fail("index must be a non-negative integer, got %s", Format(val))
				return
			}
			b.op.Index = int(n)
		}
	case "time":
		if b.mark(seenTime, name) {
			if val == nil {
				b.op.Time = -1
				return
			}
			n, ok := Int(val)
			if !ok {
				b.fail("time must be an integer (nanoseconds), got %s", Format(val))
				return
			}
			b.op.Time = n
		}
	case "type":
		if b.mark(seenType, name) {
			s, ok := val.(string)
			if !ok {
				b.fail("type must be a keyword or string, got %s", Format(val))
				return
			}
			t, err := ParseType(s)
			if err != nil {
				b.fail("%v", err)
				return
			}
			b.op.Type = t
		}
	case "process":
		if b.mark(seenProcess, name) {
			switch x := val.(type) {
			case nil:
				b.seen &^= seenProcess // treated as missing
			case string:
				if x != "nemesis" {
					b.fail("process must be an integer or nemesis, got %s", Format(val))
					return
				}
				b.op.Process = NemesisProcess
			case int64:
				if x < 0 || x > math.MaxInt32 {
					b.fail("process %d is out of range (want 0 to %d, or nemesis)", x, math.MaxInt32)
					return
				}
				b.op.Process = int(x)
			default:
				b.fail("process must be an integer or nemesis, got %s", Format(val))
			}
		}
	case "f":
		if b.mark(seenF, name) {
			switch x := val.(type) {
			case nil:
			case string:
				b.op.F = x
			default:
				b.fail("f must be a keyword or string, got %s", Format(val))
			}
		}
	case "value":
		if b.mark(seenValue, name) {
			b.op.Value = val
		}
	case "error":
		if b.mark(seenError, name) {
			b.op.Error = val
		}
	case "key":
		if b.mark(seenKey, name) {
			b.op.Key = val
		}
	case "node":
		if s, ok := val.(string); ok && s != "" {
			if b.mark(seenNode, name) {
				b.op.Node = s
			}
			return
		}
		b.extra(key, val)
	default:
		b.extra(key, val)
	}
}

func (b *opBuilder) extra(key, val any) {
	b.op.Extra = append(b.op.Extra, Entry{Key: key, Val: val})
}

// finish checks the required fields. It returns the problem message (or "")
// and whether the only problem is a missing process.
func (b *opBuilder) finish() (msg string, noProcess bool) {
	if b.msg == "" {
		if k, dup := duplicateKey(b.op.Extra); dup {
			if s, ok := k.(string); ok {
				b.fail("duplicate field %s", s)
			} else {
				b.fail("duplicate field %s", Format(k))
			}
		}
	}
	if b.msg != "" {
		return b.msg, false
	}
	if b.seen&seenType == 0 {
		return "missing :type", false
	}
	if b.seen&seenProcess == 0 {
		return "missing :process", true
	}
	return "", false
}
