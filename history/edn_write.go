package history

import (
	"io"
	"math"
	"math/big"
	"strconv"
	"unicode/utf8"
)

// AppendEDN appends op to dst as one EDN map in Jepsen's style, without a
// line break:
//
//	{:index 0, :time 1, :type :invoke, :process 3, :f :read, :value nil}
//
// followed by :error, :key and :node when set, then the Extra entries in
// order (entries named like a field above are skipped). :time is left out
// when it is unknown (-1).
//
// Since keywords and strings are both read as Go strings, the writer decides
// which strings become keywords: the type, f, the nemesis process (:nemesis),
// the names of micro-ops (the first element of each vector in the value of a
// :txn op, as in [:append 5 3] or [:r 5 [1 2]]), an error that is a
// keyword-like string or a vector starting with one ([:duplicate-key "..."])
// and keyword-like map keys. Every other string stays a string. A string
// becomes a keyword only when it reads back as the same keyword (letters,
// digits and *+!-_?<>=.$%&', at most one inner /, not starting with a digit).
// Sets are #{...}, Tagged values #tag value, *big.Int values carry an N,
// NaN and the infinities are ##NaN, ##Inf and ##-Inf. Values of other Go
// types are converted with Normalize first.
func AppendEDN(dst []byte, op Op) []byte { return appendEDNOp(dst, &op) }

func appendEDNOp(b []byte, op *Op) []byte {
	b = append(b, "{:index "...)
	b = strconv.AppendInt(b, int64(op.Index), 10)
	if op.Time != -1 {
		b = append(b, ", :time "...)
		b = strconv.AppendInt(b, op.Time, 10)
	}
	b = append(b, ", :type "...)
	b = appendKeywordOrString(b, op.Type.String())
	b = append(b, ", :process "...)
	b = appendEDNProcess(b, op.Process)
	b = append(b, ", :f "...)
	b = appendEDNF(b, op.F)
	b = append(b, ", :value "...)
	b = appendEDNOpValue(b, op)
	if op.Error != nil {
		b = append(b, ", :error "...)
		b = appendEDNError(b, op.Error)
	}
	if op.Key != nil {
		b = append(b, ", :key "...)
		b = appendEDNValue(b, op.Key)
	}
	if op.Node != "" {
		b = append(b, ", :node "...)
		b = appendEDNString(b, op.Node)
	}
	for _, e := range op.Extra {
		if reservedField(op, e.Key) {
			continue
		}
		b = append(b, ", "...)
		b = appendEDNKey(b, e.Key)
		b = append(b, ' ')
		b = appendEDNValue(b, e.Val)
	}
	return append(b, '}')
}

func appendEDNProcess(b []byte, p int) []byte {
	if p == NemesisProcess {
		return append(b, ":nemesis"...)
	}
	return strconv.AppendInt(b, int64(p), 10)
}

func appendEDNF(b []byte, f string) []byte {
	if f == "" {
		return append(b, "nil"...)
	}
	return appendKeywordOrString(b, f)
}

// appendEDNOpValue writes an op's value, with micro-op names as keywords
// when the op is a transaction.
func appendEDNOpValue(b []byte, op *Op) []byte {
	if cw, ok := op.Value.(CompactWriter); ok {
		return cw.AppendEDN(b, op.F == "txn")
	}
	v := Expand(op.Value)
	mops, ok := v.([]any)
	if op.F != "txn" || !ok {
		return appendEDNValue(b, v)
	}
	b = append(b, '[')
	for i, m := range mops {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendEDNLeadKeyword(b, m)
	}
	return append(b, ']')
}

// appendEDNLeadKeyword writes v; when v is a vector starting with a
// keyword-like string, that string is written as a keyword.
func appendEDNLeadKeyword(b []byte, v any) []byte {
	vec, ok := v.([]any)
	if !ok || len(vec) == 0 {
		return appendEDNValue(b, v)
	}
	b = append(b, '[')
	for i, e := range vec {
		if i > 0 {
			b = append(b, ' ')
		}
		if s, ok := e.(string); ok && i == 0 {
			b = appendKeywordOrString(b, s)
		} else {
			b = appendEDNValue(b, e)
		}
	}
	return append(b, ']')
}

func appendEDNError(b []byte, v any) []byte {
	if s, ok := v.(string); ok {
		return appendKeywordOrString(b, s)
	}
	return appendEDNLeadKeyword(b, v)
}

func appendEDNKey(b []byte, k any) []byte {
	if s, ok := k.(string); ok {
		return appendKeywordOrString(b, s)
	}
	return appendEDNValue(b, k)
}

// appendKeywordOrString writes s as a keyword when it reads back as one,
// else as a string.
func appendKeywordOrString(b []byte, s string) []byte {
	if keywordSafe(s) {
		b = append(b, ':')
		return append(b, s...)
	}
	return appendEDNString(b, s)
}

// keywordSafe reports whether :s is a keyword that reads back as s.
func keywordSafe(s string) bool {
	if s == "" {
		return false
	}
	if c := s[0]; c >= '0' && c <= '9' || c == '/' || c == '\'' {
		return false
	}
	slash := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '*', c == '+', c == '!', c == '-', c == '_', c == '?', c == '<', c == '>', c == '=', c == '.', c == '$', c == '%', c == '&', c == '\'':
		case c == '/':
			if slash || i == len(s)-1 {
				return false
			}
			slash = true
		default:
			return false
		}
	}
	return true
}

func appendEDNValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "nil"...)
	case string:
		return appendEDNString(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case bool:
		return strconv.AppendBool(b, x)
	case float64:
		switch {
		case math.IsNaN(x):
			return append(b, "##NaN"...)
		case math.IsInf(x, 1):
			return append(b, "##Inf"...)
		case math.IsInf(x, -1):
			return append(b, "##-Inf"...)
		}
		return appendFloat(b, x)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ' ')
			}
			b = appendEDNValue(b, e)
		}
		return append(b, ']')
	case Map:
		b = append(b, '{')
		for i, e := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendEDNKey(b, e.Key)
			b = append(b, ' ')
			b = appendEDNValue(b, e.Val)
		}
		return append(b, '}')
	case Set:
		b = append(b, "#{"...)
		for i, e := range x {
			if i > 0 {
				b = append(b, ' ')
			}
			b = appendEDNValue(b, e)
		}
		return append(b, '}')
	case Tagged:
		if !tagSafe(x.Tag) {
			return appendEDNValue(b, Map{{Key: "#tag", Val: x.Tag}, {Key: "value", Val: x.Value}})
		}
		b = append(b, '#')
		b = append(b, x.Tag...)
		switch x.Value.(type) {
		case Map, []any:
		default:
			b = append(b, ' ')
		}
		return appendEDNValue(b, x.Value)
	case *big.Int:
		if x == nil {
			return append(b, "nil"...)
		}
		b = x.Append(b, 10)
		return append(b, 'N')
	}
	return appendEDNValue(b, Normalize(v))
}

// tagSafe reports whether #tag reads back as a tagged literal with this tag.
func tagSafe(tag string) bool {
	if tag == "" {
		return false
	}
	if c := tag[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return false
	}
	for i := 0; i < len(tag); i++ {
		if isTerm(tag[i]) {
			return false
		}
	}
	return utf8.ValidString(tag)
}

// appendEDNString writes s as an EDN string literal.
func appendEDNString(b []byte, s string) []byte { return appendQuoted(b, s, quoteEDN) }

// EDNWriter writes ops as Jepsen's history.edn, one op map per line (see
// AppendEDN), buffered: call Flush when done. It is not safe for concurrent
// use.
type EDNWriter struct{ lines lineWriter }

// NewEDNWriter returns an EDNWriter to w.
func NewEDNWriter(w io.Writer) *EDNWriter { return &EDNWriter{newLineWriter(w)} }

// Write encodes op as one line. Errors of the underlying writer are sticky.
func (w *EDNWriter) Write(op Op) error {
	if w.lines.err != nil {
		return w.lines.err
	}
	w.lines.buf = appendEDNOp(w.lines.buf, &op)
	return w.lines.endLine()
}

// Flush writes the buffered lines to the underlying writer.
func (w *EDNWriter) Flush() error { return w.lines.flush() }

// WriteEDN writes ops to w as a history.edn with one op map per line.
func WriteEDN(w io.Writer, ops []Op) error { return writeLines(w, ops, appendEDNOp) }

// AppendText appends op to dst as one line of Jepsen's history.txt, without
// the line break: process, type, f, value and (when set) error, separated by
// tabs, e.g. "3\t:invoke\t:read\tnil" or ":nemesis\t:info\t:start\tnil". The
// value and error are EDN (as in AppendEDN; the error is written readably,
// unlike Jepsen, so that it reads back as the same value). Index, time, key,
// node and extra fields have no place in this format and are left out.
func AppendText(dst []byte, op Op) []byte { return appendTextOp(dst, &op) }

func appendTextOp(b []byte, op *Op) []byte {
	b = appendEDNProcess(b, op.Process)
	b = append(b, '\t')
	b = appendKeywordOrString(b, op.Type.String())
	b = append(b, '\t')
	b = appendEDNF(b, op.F)
	b = append(b, '\t')
	b = appendEDNOpValue(b, op)
	if op.Error != nil {
		b = append(b, '\t')
		b = appendEDNError(b, op.Error)
	}
	return b
}

// WriteText writes ops to w as a Jepsen history.txt.
func WriteText(w io.Writer, ops []Op) error { return writeLines(w, ops, appendTextOp) }
