package history

// Compact is a value kept in a form of its own, usually by a ValueDecoder
// to save memory and time on large histories, standing for the canonical
// value Expand returns. Format, Equal, KeyOf, Normalize and the writers
// see the expanded value, so such a history prints, compares and writes as
// if it had been read without the decoder. Code that inspects values with
// type switches must expand them first (see Expand).
type Compact interface {
	Expand() any
}

// Expand returns the canonical value of v: v itself, or what it stands for
// when it is Compact.
func Expand(v any) any {
	if c, ok := v.(Compact); ok {
		return c.Expand()
	}
	return v
}

// CompactWriter is a Compact value that writes itself, faster than its
// expansion would be written. What it appends must be exactly what the
// writers append for Expand().
type CompactWriter interface {
	Compact
	// AppendJSON appends the value as JSON.
	AppendJSON(b []byte) []byte
	// AppendEDN appends the value as the :value of an op, which is a
	// transaction when txn is set (AppendEDN writes the names of its
	// micro-ops as keywords, [:append 5 3]).
	AppendEDN(b []byte, txn bool) []byte
	// AppendFormat appends the value as Format renders it.
	AppendFormat(b []byte) []byte
}

// ValueDecoder decodes op values of a shape it knows straight from the
// text of a history, faster than the general parser and into a form of its
// own (a checker's, say). See ReadOptions.Values.
type ValueDecoder interface {
	// DecodeValue is offered the text of an op's value, from its first
	// byte to at least the end of its line, in format FormatEDN or
	// FormatJSONL. It returns the value and the number of bytes it used,
	// or ok false, having used nothing, to leave the value to the general
	// parser (it should do so for anything it does not know, and must for
	// anything that runs past the text or over a line break). A value it
	// returns must stand for what the general parser would have read: if
	// it is not canonical it must be Compact, expanding to that value.
	DecodeValue(format FileFormat, text []byte) (v any, n int, ok bool)
}
