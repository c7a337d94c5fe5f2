package history

import (
	"io"
	"math"
	"math/big"
	"strconv"
)

// reservedField reports whether an Extra entry of op is named like an op
// field with a place of its own, which is written instead: the entry would
// duplicate it. A "node" entry is written when the op has no Node (readers
// keep a node that is not a string, such as 0, as an entry).
func reservedField(op *Op, k any) bool {
	s, ok := k.(string)
	if !ok {
		return false
	}
	switch s {
	case "index", "time", "type", "process", "f", "value", "error", "key":
		return true
	case "node":
		return op.Node != ""
	}
	return false
}

// AppendJSON appends op to dst as one JSON object, without a line break:
//
//	{"index":0,"time":123456,"type":"invoke","process":3,"f":"read","value":null}
//
// followed by "error", "key" and "node" when set, then the Extra entries in
// order (entries named like a field above are skipped, and so are entries
// whose key renders like an earlier one's, which only non-string keys can). The nemesis process
// is "nemesis"; an empty F is null.
//
// Values: nil is null, bool, int64 and *big.Int are JSON literals and
// integers, float64 is a number that always has a fraction or an exponent
// (1.0, 1e+21) so that it reads back as a float, except NaN, +Inf and -Inf,
// which JSON cannot express and are written as the strings "NaN",
// "Infinity" and "-Infinity" (they read back as strings). Strings are JSON
// strings (invalid UTF-8 becomes U+FFFD); []any and Set are arrays (a Set
// reads back as []any); Map is an object in entry order, non-string keys
// rendered with Format (so they read back as strings; a map whose keys
// would then collide is written as an array of [key, value] pairs); Tagged is
// {"#tag":"inst","value":...}, which reads back as Tagged. Values of other Go
// types are converted with Normalize first.
func AppendJSON(dst []byte, op Op) []byte { return appendJSONOp(dst, &op) }

func appendJSONOp(b []byte, op *Op) []byte {
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, int64(op.Index), 10)
	b = append(b, `,"time":`...)
	b = strconv.AppendInt(b, op.Time, 10)
	b = append(b, `,"type":`...)
	if op.Type >= Invoke && op.Type <= Log {
		b = append(b, '"')
		b = append(b, typeNames[op.Type]...)
		b = append(b, '"')
	} else {
		b = appendJSONString(b, op.Type.String())
	}
	b = append(b, `,"process":`...)
	if op.Process == NemesisProcess {
		b = append(b, `"nemesis"`...)
	} else {
		b = strconv.AppendInt(b, int64(op.Process), 10)
	}
	b = append(b, `,"f":`...)
	if op.F == "" {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, op.F)
	}
	b = append(b, `,"value":`...)
	if cw, ok := op.Value.(CompactWriter); ok {
		b = cw.AppendJSON(b)
	} else {
		b = appendJSONValue(b, op.Value)
	}
	if op.Error != nil {
		b = append(b, `,"error":`...)
		b = appendJSONValue(b, op.Error)
	}
	if op.Key != nil {
		b = append(b, `,"key":`...)
		b = appendJSONValue(b, op.Key)
	}
	if op.Node != "" {
		b = append(b, `,"node":`...)
		b = appendJSONString(b, op.Node)
	}
	collide := keysCollide(op.Extra)
	for i, e := range op.Extra {
		if reservedField(op, e.Key) || collide && renderedBefore(op.Extra, i) {
			continue
		}
		b = append(b, ',')
		b = appendJSONKey(b, e.Key)
		b = append(b, ':')
		b = appendJSONValue(b, e.Val)
	}
	return append(b, '}')
}

// AppendJSONValue appends v to dst as JSON, the way AppendJSON writes an
// op's value (see there): results and reports quote values with it, so that
// they read like history.jsonl.
func AppendJSONValue(dst []byte, v any) []byte { return appendJSONValue(dst, v) }

func appendJSONKey(b []byte, k any) []byte {
	if s, ok := k.(string); ok {
		return appendJSONString(b, s)
	}
	return appendJSONString(b, Format(Normalize(k)))
}

func appendJSONValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendJSONString(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case bool:
		return strconv.AppendBool(b, x)
	case float64:
		switch {
		case math.IsNaN(x):
			return append(b, `"NaN"`...)
		case math.IsInf(x, 1):
			return append(b, `"Infinity"`...)
		case math.IsInf(x, -1):
			return append(b, `"-Infinity"`...)
		}
		return appendFloat(b, x)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONValue(b, e)
		}
		return append(b, ']')
	case Map:
		if keysCollide(x) {
			// Keys that render alike ({1 :a, "1" :b}) cannot be object keys:
			// write [key, value] pairs instead.
			b = append(b, '[')
			for i, e := range x {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, '[')
				b = appendJSONValue(b, e.Key)
				b = append(b, ',')
				b = appendJSONValue(b, e.Val)
				b = append(b, ']')
			}
			return append(b, ']')
		}
		b = append(b, '{')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONKey(b, e.Key)
			b = append(b, ':')
			b = appendJSONValue(b, e.Val)
		}
		return append(b, '}')
	case Set:
		return appendJSONValue(b, []any(x)) // a set is written as an array
	case Tagged:
		b = append(b, `{"#tag":`...)
		b = appendJSONString(b, x.Tag)
		b = append(b, `,"value":`...)
		b = appendJSONValue(b, x.Value)
		return append(b, '}')
	case *big.Int:
		if x == nil {
			return append(b, "null"...)
		}
		return x.Append(b, 10)
	}
	return appendJSONValue(b, Normalize(v))
}

// keysCollide reports whether two keys of m render to the same JSON object
// key (only possible when some key is not a string).
func keysCollide(m Map) bool {
	allStrings := true
	for _, e := range m {
		if _, ok := e.Key.(string); !ok {
			allStrings = false
			break
		}
	}
	if allStrings {
		return false
	}
	seen := make(map[string]struct{}, len(m))
	for _, e := range m {
		k, ok := e.Key.(string)
		if !ok {
			k = Format(Normalize(e.Key))
		}
		if _, dup := seen[k]; dup {
			return true
		}
		seen[k] = struct{}{}
	}
	return false
}

// renderedBefore reports whether an earlier key of m renders like m[i]'s.
func renderedBefore(m Map, i int) bool {
	k := jsonKeyText(m[i].Key)
	for j := 0; j < i; j++ {
		if jsonKeyText(m[j].Key) == k {
			return true
		}
	}
	return false
}

func jsonKeyText(k any) string {
	if s, ok := k.(string); ok {
		return s
	}
	return Format(Normalize(k))
}

// appendJSONString appends s as a JSON string, escaping quotes, backslashes
// and control characters, and replacing invalid UTF-8 with U+FFFD.
func appendJSONString(b []byte, s string) []byte { return appendQuoted(b, s, quoteJSON) }

// Writer writes ops as JSON Lines (see AppendJSON), buffered: call Flush
// when done. It is not safe for concurrent use; FileWriter is.
type Writer struct{ lines lineWriter }

// NewWriter returns a Writer of JSON Lines to w.
func NewWriter(w io.Writer) *Writer { return &Writer{newLineWriter(w)} }

// Write encodes op as one line. Errors of the underlying writer are sticky.
func (w *Writer) Write(op Op) error {
	if w.lines.err != nil {
		return w.lines.err
	}
	w.lines.buf = appendJSONOp(w.lines.buf, &op)
	return w.lines.endLine()
}

// Flush writes the buffered lines to the underlying writer.
func (w *Writer) Flush() error { return w.lines.flush() }

// WriteJSONL writes ops to w as JSON Lines.
func WriteJSONL(w io.Writer, ops []Op) error { return writeLines(w, ops, appendJSONOp) }
