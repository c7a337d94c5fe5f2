package history

import (
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
)

// Set is an EDN set (#{...}). In JSON Lines it is written as an array.
type Set []any

// Entry is one key/value pair of a Map.
type Entry struct {
	Key any
	Val any
}

// Map is an EDN map or JSON object: entries in their original order. Keys are
// usually strings (EDN keywords lose their colon) but may be any value.
type Map []Entry

// Get returns the value stored under key (compared with Equal).
func (m Map) Get(key any) (any, bool) {
	for _, e := range m {
		if Equal(e.Key, key) {
			return e.Val, true
		}
	}
	return nil, false
}

// Tagged is an EDN tagged literal such as #inst "..." or #jepsen.foo{...}.
type Tagged struct {
	Tag   string
	Value any
}

// Equal reports whether two values are equal: numbers by value (int64,
// float64 and *big.Int compare numerically), sequences element-wise, sets
// and maps regardless of order.
func Equal(a, b any) bool {
	if c, ok := a.(Compact); ok {
		a = c.Expand()
	}
	if c, ok := b.(Compact); ok {
		b = c.Expand()
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case int64, float64, *big.Int:
		return numEqual(a, b)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case Set:
		y, ok := b.(Set)
		if !ok || len(x) != len(y) {
			return false
		}
		used := make([]bool, len(y))
	outer:
		for _, e := range x {
			for j, f := range y {
				if !used[j] && Equal(e, f) {
					used[j] = true
					continue outer
				}
			}
			return false
		}
		return true
	case Map:
		y, ok := b.(Map)
		if !ok || len(x) != len(y) {
			return false
		}
		for _, e := range x {
			v, ok := y.Get(e.Key)
			if !ok || !Equal(e.Val, v) {
				return false
			}
		}
		return true
	case Tagged:
		y, ok := b.(Tagged)
		return ok && x.Tag == y.Tag && Equal(x.Value, y.Value)
	}
	return false
}

func numEqual(a, b any) bool {
	switch x := a.(type) {
	case int64:
		switch y := b.(type) {
		case int64:
			return x == y
		case float64:
			return float64(x) == y
		case *big.Int:
			return y.IsInt64() && y.Int64() == x
		}
	case float64:
		switch y := b.(type) {
		case int64:
			return x == float64(y)
		case float64:
			return x == y || (x != x && y != y) // NaN equals NaN here, so that values compare reflexively
		case *big.Int:
			if math.IsInf(x, 0) || math.IsNaN(x) {
				return false
			}
			bf := new(big.Float).SetFloat64(x)
			return bf.IsInt() && bf.Cmp(new(big.Float).SetInt(y)) == 0
		}
	case *big.Int:
		switch y := b.(type) {
		case int64, float64:
			return numEqual(y, x)
		case *big.Int:
			return x.Cmp(y) == 0
		}
	}
	return false
}

// Int returns v as an int64 when it is an integer (int64, an integral float64
// or a *big.Int that fits).
func Int(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		// The range test first: converting a float beyond int64 to int64
		// gives a different value on each architecture.
		if x == math.Trunc(x) && x >= math.MinInt64 && x < math.MaxInt64 {
			return int64(x), true
		}
	case *big.Int:
		if x.IsInt64() {
			return x.Int64(), true
		}
	}
	return 0, false
}

// Format renders a value in EDN-like notation for messages and evidence:
// nil, 3, "s", [1 2], #{1 2}, {"k" 1}. Strings are quoted; keywords were read
// as strings and are shown as such.
func Format(v any) string {
	if cw, ok := v.(CompactWriter); ok {
		return string(cw.AppendFormat(nil))
	}
	var b strings.Builder
	format(&b, v)
	return b.String()
}

func format(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("nil")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	case *big.Int:
		b.WriteString(x.String())
	case string:
		b.WriteString(strconv.Quote(x))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(' ')
			}
			format(b, e)
		}
		b.WriteByte(']')
	case Set:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = Format(e)
		}
		sort.Strings(parts)
		b.WriteString("#{")
		b.WriteString(strings.Join(parts, " "))
		b.WriteByte('}')
	case Map:
		b.WriteByte('{')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			format(b, e.Key)
			b.WriteByte(' ')
			format(b, e.Val)
		}
		b.WriteByte('}')
	case Tagged:
		b.WriteString("#" + x.Tag + " ")
		format(b, x.Value)
	case Compact:
		format(b, x.Expand())
	default:
		fmt.Fprint(b, x)
	}
}
