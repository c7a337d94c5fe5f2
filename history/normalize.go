package history

import (
	"encoding"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strings"
)

// Normalize turns a Go value a client may return into the canonical value
// types of a history (nil, bool, int64, float64, string, *big.Int, []any,
// Set, Map, Tagged), so that it is written, compared and checked like a
// value read from a file. The interpreter calls it on every completion;
// values that are already canonical are returned as they are, without
// allocating.
//
//   - all integer types become int64 (a uint64 above MaxInt64 a *big.Int),
//     float32 becomes float64, named string and bool types their base type;
//   - slices and arrays become []any ([]byte becomes a string);
//   - Go maps become a Map sorted by key (numbers before strings, then by
//     Format), so that the order does not depend on map iteration;
//   - pointers are followed (nil is nil); errors become their message;
//     json.Number becomes a number; values implementing
//     encoding.TextMarshaler (time.Time, net.IP, ...) become their text;
//   - structs become a Map of their exported fields, named by their json tag
//     when they have one (json:"-" skips a field);
//   - anything else (functions, channels, values nested more than 100 deep)
//     becomes the string fmt.Sprint gives.
func Normalize(v any) any {
	switch x := v.(type) {
	case nil, bool, int64, float64, string:
		return v
	case *big.Int:
		if x == nil {
			return nil
		}
		return v
	case int:
		return int64(x)
	case []any:
		if canonicalSlice(x) {
			return v
		}
	case Map:
		if canonicalMap(x) {
			return v
		}
	}
	return normalize(v, 0) // which expands Compact values
}

const maxNormalizeDepth = 100

// canonical reports whether v is a canonical value throughout.
func canonical(v any) bool {
	switch x := v.(type) {
	case nil, bool, int64, float64, string:
		return true
	case *big.Int:
		return x != nil
	case []any:
		return canonicalSlice(x)
	case Set:
		return canonicalSlice(x)
	case Map:
		return canonicalMap(x)
	case Tagged:
		return canonical(x.Value)
	}
	return false
}

func canonicalSlice(s []any) bool {
	for _, e := range s {
		if !canonical(e) {
			return false
		}
	}
	return true
}

func canonicalMap(m Map) bool {
	for _, e := range m {
		if !canonical(e.Key) || !canonical(e.Val) {
			return false
		}
	}
	return true
}

func normalize(v any, depth int) any {
	if depth > maxNormalizeDepth {
		return fmt.Sprint(v)
	}
	switch x := v.(type) {
	case nil, bool, int64, float64, string:
		return v
	case *big.Int:
		if x == nil {
			return nil
		}
		return v
	case Compact:
		return normalize(x.Expand(), depth+1)
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint:
		return fromUint(uint64(x))
	case uint64:
		return fromUint(x)
	case uintptr:
		return fromUint(uint64(x))
	case float32:
		return float64(x)
	case []any:
		if canonicalSlice(x) {
			return v
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e, depth+1)
		}
		return out
	case Set:
		if canonicalSlice(x) {
			return v
		}
		out := make(Set, len(x))
		for i, e := range x {
			out[i] = normalize(e, depth+1)
		}
		return out
	case Map:
		if canonicalMap(x) {
			return v
		}
		out := make(Map, len(x))
		for i, e := range x {
			out[i] = Entry{Key: normalize(e.Key, depth+1), Val: normalize(e.Val, depth+1)}
		}
		return out
	case Tagged:
		return Tagged{Tag: x.Tag, Value: normalize(x.Value, depth+1)}
	case []byte:
		return string(x)
	case []int:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = int64(e)
		}
		return out
	case []int64:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	case map[string]any:
		out := make(Map, 0, len(x))
		for k, e := range x {
			out = append(out, Entry{Key: k, Val: normalize(e, depth+1)})
		}
		sortMap(out)
		return out
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		if b, ok := new(big.Int).SetString(string(x), 10); ok {
			return b
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return string(x)
	case error:
		if isNilPointer(v) {
			return nil
		}
		return safeText(v, func() (string, error) { return x.Error(), nil })
	case encoding.TextMarshaler:
		if isNilPointer(v) {
			return nil
		}
		return safeText(v, func() (string, error) {
			b, err := x.MarshalText()
			return string(b), err
		})
	}
	return normalizeReflect(reflect.ValueOf(v), depth)
}

func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// safeText calls a method of a client's value that renders it, falling back
// to fmt.Sprint (which reports panics in its output) when the method fails
// or panics.
func safeText(v any, f func() (string, error)) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprint(v)
		}
	}()
	t, err := f()
	if err != nil {
		return fmt.Sprint(v)
	}
	return t
}

func fromUint(u uint64) any {
	if u <= math.MaxInt64 {
		return int64(u)
	}
	return new(big.Int).SetUint64(u)
}

func normalizeReflect(rv reflect.Value, depth int) any {
	switch rv.Kind() {
	case reflect.Bool:
		return rv.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return fromUint(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	case reflect.String:
		return rv.String()
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
		return normalize(rv.Elem().Interface(), depth+1)
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 && rv.Kind() == reflect.Slice {
			return string(rv.Bytes())
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = normalize(rv.Index(i).Interface(), depth+1)
		}
		return out
	case reflect.Map:
		if rv.IsNil() {
			return nil
		}
		out := make(Map, 0, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			out = append(out, Entry{Key: normalize(it.Key().Interface(), depth+1), Val: normalize(it.Value().Interface(), depth+1)})
		}
		sortMap(out)
		return out
	case reflect.Struct:
		t := rv.Type()
		out := make(Map, 0, t.NumField())
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name := f.Name
			if tag, ok := f.Tag.Lookup("json"); ok {
				tn, _, _ := strings.Cut(tag, ",")
				if tn == "-" {
					continue
				}
				if tn != "" {
					name = tn
				}
			}
			out = append(out, Entry{Key: name, Val: normalize(rv.Field(i).Interface(), depth+1)})
		}
		return out
	}
	if rv.IsValid() && rv.CanInterface() {
		return fmt.Sprint(rv.Interface())
	}
	return nil
}

// sortMap orders entries by key: see compareValues.
func sortMap(m Map) {
	sort.SliceStable(m, func(i, j int) bool { return compareValues(m[i].Key, m[j].Key) < 0 })
}

// compareValues is a total order on canonical values used to sort map keys:
// nil, then booleans, numbers (by value), strings, then everything else by
// Format.
func compareValues(a, b any) int {
	ra, rb := rank(a), rank(b)
	if ra != rb {
		return ra - rb
	}
	switch x := a.(type) {
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case string:
		return strings.Compare(x, b.(string))
	case int64, float64, *big.Int:
		return compareNumbers(a, b)
	case nil:
		return 0
	}
	return strings.Compare(Format(a), Format(b))
}

func rank(v any) int {
	switch v.(type) {
	case nil:
		return 0
	case bool:
		return 1
	case int64, float64, *big.Int:
		return 2
	case string:
		return 3
	}
	return 4
}

func compareNumbers(a, b any) int {
	if x, ok := a.(int64); ok {
		if y, ok := b.(int64); ok {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	fa, fb := toBigFloat(a), toBigFloat(b)
	if fa == nil || fb == nil { // NaN sorts first
		switch {
		case fa == nil && fb == nil:
			return 0
		case fa == nil:
			return -1
		}
		return 1
	}
	return fa.Cmp(fb)
}

func toBigFloat(v any) *big.Float {
	switch x := v.(type) {
	case int64:
		return new(big.Float).SetInt64(x)
	case float64:
		if math.IsNaN(x) {
			return nil
		}
		return new(big.Float).SetFloat64(x)
	case *big.Int:
		return new(big.Float).SetInt(x)
	}
	return nil
}
