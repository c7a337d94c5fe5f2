package checker

import (
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/faultline/faultline/history"
)

// This file holds the value helpers shared by the checkers: hashable keys for
// history values (history.Key, as values may be slices and maps, so not Go
// map keys), a total order for sorting elements in results, and the JSON
// types of values and ops quoted in results (the JSONL op format of
// DESIGN.md, written by history's encoder).

// vkey is a comparable stand-in for a history value, so values can be map
// keys (history.Key).
type vkey = history.Key

func keyOf(v any) vkey { return history.KeyOf(v) }

// keyString renders a value for use as a JSON object key or in a message:
// strings as they are, anything else in history.Format notation.
func keyString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if n, ok := keyOf(v).Int(); ok {
		return strconv.FormatInt(n, 10)
	}
	return history.Format(v)
}

// compareValues orders values for results: nil first, then numbers by
// value, then strings, then everything else by its rendering. It is not the
// order history.Normalize sorts map keys in (booleans first among scalars,
// NaN before other numbers): results have always been sorted this way, and
// that order would reorder them.
func compareValues(a, b any) int {
	ra, rb := rank(a), rank(b)
	if ra != rb {
		return ra - rb
	}
	switch ra {
	case 0:
		return 0
	case 1:
		return compareNumbers(a, b)
	case 2:
		return strings.Compare(a.(string), b.(string))
	}
	return strings.Compare(history.Canonical(a), history.Canonical(b))
}

func rank(v any) int {
	switch v.(type) {
	case nil:
		return 0
	case int64, float64, *big.Int, int:
		return 1
	case string:
		return 2
	}
	return 3
}

func compareNumbers(a, b any) int {
	na, oka := keyOf(a).Int()
	nb, okb := keyOf(b).Int()
	if oka && okb {
		switch {
		case na < nb:
			return -1
		case na > nb:
			return 1
		}
		return 0
	}
	fa, fb := toBigFloat(a), toBigFloat(b)
	return fa.Cmp(fb)
}

func toBigFloat(v any) *big.Float {
	switch x := v.(type) {
	case int64:
		return new(big.Float).SetInt64(x)
	case int:
		return new(big.Float).SetInt64(int64(x))
	case float64:
		if math.IsNaN(x) {
			return new(big.Float)
		}
		return new(big.Float).SetFloat64(x)
	case *big.Int:
		return new(big.Float).SetInt(x)
	}
	return new(big.Float)
}

func sortValues(vs []any) {
	sort.SliceStable(vs, func(i, j int) bool { return compareValues(vs[i], vs[j]) < 0 })
}

// intervalSetString renders a set of values compactly, as Jepsen's
// util/integer-interval-set-str does: sorted, runs of consecutive integers
// as a..b, e.g. "#{1..3 5 7..9}". Values that are not integers follow the
// integers in history.Format notation.
func intervalSetString(vs []any) string {
	ints := make([]int64, 0, len(vs))
	var others []any
	for _, v := range vs {
		if n, ok := keyOf(v).Int(); ok {
			ints = append(ints, n)
		} else {
			others = append(others, v)
		}
	}
	sort.Slice(ints, func(i, j int) bool { return ints[i] < ints[j] })
	var b strings.Builder
	b.WriteString("#{")
	first := true
	sep := func() {
		if !first {
			b.WriteByte(' ')
		}
		first = false
	}
	for i := 0; i < len(ints); {
		j := i
		for j+1 < len(ints) && (ints[j+1] == ints[j] || ints[j+1] == ints[j]+1) {
			j++
		}
		sep()
		b.WriteString(strconv.FormatInt(ints[i], 10))
		if ints[j] != ints[i] {
			b.WriteString("..")
			b.WriteString(strconv.FormatInt(ints[j], 10))
		}
		i = j + 1
	}
	sortValues(others)
	for _, v := range others {
		sep()
		b.WriteString(history.Format(v))
	}
	b.WriteByte('}')
	return b.String()
}

// Values is a list of history values in a result; it marshals each value as
// the JSONL format does (history.AppendJSONValue: sets as arrays, maps as
// objects).
type Values []any

// MarshalJSON implements json.Marshaler.
func (vs Values) MarshalJSON() ([]byte, error) {
	if vs == nil {
		return []byte("[]"), nil
	}
	return history.AppendJSONValue(nil, []any(vs)), nil
}

// Value is one history value in a result, marshalled as in JSONL
// (history.AppendJSONValue).
type Value struct{ V any }

// MarshalJSON implements json.Marshaler.
func (v Value) MarshalJSON() ([]byte, error) { return history.AppendJSONValue(nil, v.V), nil }

// OpJSON is an op quoted in a result (an example, the op that broke a rule).
// It marshals as one line of history.jsonl (history.AppendJSON).
type OpJSON history.Op

// MarshalJSON implements json.Marshaler.
func (o OpJSON) MarshalJSON() ([]byte, error) {
	return history.AppendJSON(nil, history.Op(o)), nil
}

// opPtr returns a pointer to o as an OpJSON, for optional fields.
func opPtr(o history.Op) *OpJSON {
	j := OpJSON(o)
	return &j
}

// elems returns the elements of a collection value (vector, list or set),
// or false when v is not a collection. nil is the empty collection.
func elems(v any) ([]any, bool) {
	switch x := v.(type) {
	case nil:
		return nil, true
	case []any:
		return x, true
	case history.Set:
		return []any(x), true
	}
	return nil, false
}

// examples renders up to n values of vs (sorted) for a summary sentence,
// e.g. "17, 42, 99, ...".
func examples(vs []any, n int) string {
	s := append([]any(nil), vs...)
	sortValues(s)
	parts := make([]string, 0, n+1)
	for i, v := range s {
		if i == n {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, history.Format(v))
	}
	return strings.Join(parts, ", ")
}

// quantileIndex is the position of quantile q in n sorted values, as Jepsen
// computes it (checker/frequency-distribution, perf/quantiles): the element at
// index min(n-1, floor(n*q)).
func quantileIndex(n int, q float64) int {
	i := int(math.Floor(float64(n) * q))
	if i > n-1 {
		i = n - 1
	}
	if i < 0 {
		i = 0
	}
	return i
}

// Quantiles maps a quantile ("0", "0.5", "0.95", "0.99", "1") to a value,
// as Jepsen's latency maps ({0 3, 0.5 4, ...}) do.
type Quantiles map[string]float64

func quantilesOf[T int64 | float64](sorted []T) Quantiles {
	if len(sorted) == 0 {
		return nil
	}
	// The points Jepsen reports for latency distributions.
	points := [...]float64{0, 0.5, 0.95, 0.99, 1}
	out := make(Quantiles, len(points))
	for _, q := range points {
		out[strconv.FormatFloat(q, 'g', -1, 64)] = float64(sorted[quantileIndex(len(sorted), q)])
	}
	return out
}
