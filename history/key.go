package history

import (
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
)

// Key is a comparable stand-in for a value, so that values (which may be
// slices and maps) can key Go maps: values that Equal calls equal get the
// same Key. Integers (int64, integral float64 and *big.Int within int64's
// range, and Go ints) share one kind, whose number Int returns.
type Key struct {
	kind keyKind
	n    int64
	s    string
}

type keyKind uint8

const (
	keyNil keyKind = iota
	keyInt
	keyString
	keyOther
)

// KeyOf returns v's Key.
func KeyOf(v any) Key {
	switch x := v.(type) {
	case int64:
		return Key{kind: keyInt, n: x}
	case nil:
		return Key{kind: keyNil}
	case string:
		return Key{kind: keyString, s: x}
	case int:
		return Key{kind: keyInt, n: int64(x)}
	case float64, *big.Int:
		if n, ok := Int(x); ok {
			return Key{kind: keyInt, n: n}
		}
	case Compact:
		return KeyOf(x.Expand())
	}
	return Key{kind: keyOther, s: Canonical(v)}
}

// Int returns the number of an integer's Key.
func (k Key) Int() (int64, bool) { return k.n, k.kind == keyInt }

// Canonical renders v in Format's notation, but so that values Equal calls
// equal render the same: integral numbers as integers, and the elements of
// sets and the entries of maps sorted.
func Canonical(v any) string {
	var b strings.Builder
	writeCanonical(&b, v)
	return b.String()
}

func writeCanonical(b *strings.Builder, v any) {
	switch x := v.(type) {
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int:
		b.WriteString(strconv.Itoa(x))
	case float64:
		if n, ok := Int(x); ok {
			b.WriteString(strconv.FormatInt(n, 10))
		} else if x == math.Trunc(x) && !math.IsInf(x, 0) {
			// An integer beyond int64, equal to the *big.Int of its value.
			b.WriteString(new(big.Float).SetFloat64(x).Text('f', 0))
		} else {
			format(b, x)
		}
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(' ')
			}
			writeCanonical(b, e)
		}
		b.WriteByte(']')
	case Set:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = Canonical(e)
		}
		sort.Strings(parts)
		b.WriteString("#{")
		b.WriteString(strings.Join(parts, " "))
		b.WriteByte('}')
	case Map:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = Canonical(e.Key) + " " + Canonical(e.Val)
		}
		sort.Strings(parts)
		b.WriteByte('{')
		b.WriteString(strings.Join(parts, ", "))
		b.WriteByte('}')
	case Tagged:
		b.WriteString("#" + x.Tag + " ")
		writeCanonical(b, x.Value)
	case Compact:
		writeCanonical(b, x.Expand())
	default:
		format(b, v)
	}
}
