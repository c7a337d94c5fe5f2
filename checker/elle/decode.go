package elle

import (
	"strconv"

	"github.com/faultline/faultline/history"
)

// The value decoder reads the usual micro-op lists of list-append and
// rw-register histories straight from the file's text into compact,
// pointer-free arrays: [[:append 3 1] [:r 4 [1 2]] [:w 5 2] [:r 6 nil]] in
// EDN, or the same in JSON, with integer keys and values. The generic
// reader would build a tree of interface values for each of them, which
// costs time to build, time for the collector to scan, and time again for
// the checker to walk. Anything else (strings, floats, other functions,
// another layout) is left to the generic reader, and the checker takes
// both kinds.

// Micro-op functions as the decoder reads them.
const (
	fAppend uint8 = iota
	fRead
	fWrite
)

var fNames = [...]string{fAppend: "append", fRead: "r", fWrite: "w"}

// A decoded micro-op list is a stream of int32 words, for each micro-op:
// a head word (the function in its low 2 bits, the value's kind in the
// next 2, and for a list its length above them), the key, then the value
// (an integer), or the list's elements, or nothing for nil. Keys and
// values beyond int32 are left to the generic reader.
const (
	kScalar int32 = iota << 2
	kNil
	kList
)

const kindMask = 3 << 2

// ctxn is a decoded micro-op list: the Compact value the decoder puts in
// Op.Value. nm is its number of micro-ops, ne of list elements.
type ctxn struct {
	w      []int32
	nm, ne int32
}

// cmop is one micro-op of a ctxn, as each walks them.
type cmop struct {
	f, kind uint8
	key, v  int32
	elems   []int32 // a list's
}

// each calls fn for every micro-op of c, stopping when fn returns false.
func (c *ctxn) each(fn func(m cmop) bool) bool {
	w := c.w
	for i := 0; i < len(w); {
		h := w[i]
		m := cmop{f: uint8(h & 3), kind: uint8(h & kindMask), key: w[i+1]}
		i += 2
		switch h & kindMask {
		case kScalar:
			m.v = w[i]
			i++
		case kList:
			n := int(h >> 4)
			m.elems = w[i : i+n : i+n]
			i += n
		}
		if !fn(m) {
			return false
		}
	}
	return true
}

// writes returns the number of its appends and writes.
func (c *ctxn) writes() int {
	n := 0
	c.each(func(m cmop) bool {
		if m.f != fRead {
			n++
		}
		return true
	})
	return n
}

// Expand returns the micro-op list the generic reader would have read.
func (c *ctxn) Expand() any {
	out := make([]any, 0, c.nm)
	c.each(func(m cmop) bool {
		var v any
		switch int32(m.kind) {
		case kScalar:
			v = int64(m.v)
		case kList:
			l := make([]any, len(m.elems))
			for j, e := range m.elems {
				l[j] = int64(e)
			}
			v = l
		}
		out = append(out, []any{fNames[m.f], int64(m.key), v})
		return true
	})
	return out
}

// notation is how a micro-op list is written: the separator of elements,
// what comes before and after a micro-op's name, and nil.
type notation struct {
	sep               byte
	preName, postName string
	null              string
}

var (
	jsonNotation = notation{',', `["`, `",`, "null"}
	// A txn's micro-op names are keywords in EDN; other strings, and
	// history.Format, quote them.
	ednTxnNotation = notation{' ', "[:", " ", "nil"}
	ednNotation    = notation{' ', `["`, `" `, "nil"}
)

// appendIn appends c in notation n.
func (c *ctxn) appendIn(b []byte, n notation) []byte {
	b = append(b, '[')
	first := true
	c.each(func(m cmop) bool {
		if !first {
			b = append(b, n.sep)
		}
		first = false
		b = append(b, n.preName...)
		b = append(b, fNames[m.f]...)
		b = append(b, n.postName...)
		b = strconv.AppendInt(b, int64(m.key), 10)
		b = append(b, n.sep)
		switch int32(m.kind) {
		case kScalar:
			b = strconv.AppendInt(b, int64(m.v), 10)
		case kNil:
			b = append(b, n.null...)
		default:
			b = append(b, '[')
			for i, e := range m.elems {
				if i > 0 {
					b = append(b, n.sep)
				}
				b = strconv.AppendInt(b, int64(e), 10)
			}
			b = append(b, ']')
		}
		b = append(b, ']')
		return true
	})
	return append(b, ']')
}

// AppendJSON implements history.CompactWriter.
func (c *ctxn) AppendJSON(b []byte) []byte { return c.appendIn(b, jsonNotation) }

// AppendEDN implements history.CompactWriter.
func (c *ctxn) AppendEDN(b []byte, txn bool) []byte {
	if txn {
		return c.appendIn(b, ednTxnNotation)
	}
	return c.appendIn(b, ednNotation)
}

// AppendFormat implements history.CompactWriter.
func (c *ctxn) AppendFormat(b []byte) []byte { return c.appendIn(b, ednNotation) }

// ValueDecoder returns a history.ReadOptions.Values for list-append and
// rw-register histories: read with it, a history's transactions cost a
// fraction of the memory and are checked faster. The values it decodes
// are history.Compact: they print, compare and write as the generic
// reader's would.
func ValueDecoder() func() history.ValueDecoder {
	return func() history.ValueDecoder { return &decoder{} }
}

// decoder is one reading goroutine's decoder. Decoded lists are carved
// from slabs that it replaces as they fill.
type decoder struct {
	txns  []ctxn
	words []int32
	// The list being decoded, and its counts.
	bw     []int32
	nm, ne int32
}

const (
	slabTxns  = 1024
	slabWords = 16 << 10
)

func (d *decoder) DecodeValue(format history.FileFormat, text []byte) (any, int, bool) {
	d.bw, d.nm, d.ne = d.bw[:0], 0, 0
	var n int
	var ok bool
	switch format {
	case history.FormatEDN:
		n, ok = d.edn(text)
	case history.FormatJSONL:
		n, ok = d.json(text)
	}
	if !ok {
		return nil, 0, false
	}
	if len(d.txns) == 0 {
		d.txns = make([]ctxn, slabTxns)
	}
	c := &d.txns[0]
	d.txns = d.txns[1:]
	c.nm, c.ne = d.nm, d.ne
	if m := len(d.bw); m > 0 {
		if len(d.words) < m {
			d.words = make([]int32, max(slabWords, m))
		}
		c.w = d.words[:m:m]
		d.words = d.words[m:]
		copy(c.w, d.bw)
	}
	return c, n, true
}

// mop starts a micro-op of function f and key k; it returns the position
// of its head word.
func (d *decoder) mop(f uint8, k int32) int {
	d.nm++
	d.bw = append(d.bw, int32(f), k)
	return len(d.bw) - 2
}

// list records, in the head word at h, that the micro-op's value is the
// list of the words after it.
func (d *decoder) list(h int) bool {
	n := len(d.bw) - h - 2
	if n >= 1<<26 {
		return false
	}
	d.ne += int32(n)
	d.bw[h] |= kList | int32(n)<<4
	return true
}

// edn decodes an EDN micro-op list at the start of s, returning the bytes
// it used, or false. Commas and spaces are the only blanks it takes.
func (d *decoder) edn(s []byte) (int, bool) {
	if len(s) == 0 || s[0] != '[' {
		return 0, false
	}
	i := ednBlank(s, 1)
	for {
		if i >= len(s) {
			return 0, false
		}
		if s[i] == ']' {
			return i + 1, true
		}
		// [:f key value]
		if s[i] != '[' || i+1 >= len(s) || s[i+1] != ':' {
			return 0, false
		}
		i += 2
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != ',' {
			j++
		}
		var f uint8
		switch string(s[i:j]) {
		case "append":
			f = fAppend
		case "r":
			f = fRead
		case "w":
			f = fWrite
		default:
			return 0, false
		}
		var key int32
		var ok bool
		if key, i, ok = ednInt(s, ednBlank(s, j)); !ok {
			return 0, false
		}
		h := d.mop(f, key)
		if i = ednBlank(s, i); i >= len(s) {
			return 0, false
		}
		switch c := s[i]; {
		case c == 'n':
			if !ednWord(s, i, "nil") {
				return 0, false
			}
			d.bw[h] |= kNil
			i += 3
		case c == '[':
			i = ednBlank(s, i+1)
			for i < len(s) && s[i] != ']' {
				var e int32
				if e, i, ok = ednInt(s, i); !ok {
					return 0, false
				}
				d.bw = append(d.bw, e)
				i = ednBlank(s, i)
			}
			if i >= len(s) || !d.list(h) {
				return 0, false
			}
			i++
		default:
			var v int32
			if v, i, ok = ednInt(s, i); !ok {
				return 0, false
			}
			d.bw = append(d.bw, v)
		}
		if i = ednBlank(s, i); i >= len(s) || s[i] != ']' {
			return 0, false
		}
		i = ednBlank(s, i+1)
	}
}

// ednBlank skips spaces and commas from i.
func ednBlank(s []byte, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == ',') {
		i++
	}
	return i
}

// ednWord reports whether s holds word at i, followed by a blank or ']'.
func ednWord(s []byte, i int, word string) bool {
	j := i + len(word)
	return j < len(s) && string(s[i:j]) == word && (s[j] == ' ' || s[j] == ',' || s[j] == ']')
}

// ednInt reads a plain decimal integer at i that ends at a blank or ']'.
func ednInt(s []byte, i int) (int32, int, bool) {
	if n, j, ok := shortInt(s, i); ok {
		return n, j, true
	}
	n, j, ok := digits(s, i)
	if !ok || j >= len(s) || !(s[j] == ' ' || s[j] == ',' || s[j] == ']') {
		return 0, 0, false
	}
	return n, j, true
}

// shortInt reads the one- or two-digit integer at i when a blank, a comma
// or ']' follows it, as most keys and values are; false leaves the number
// to digits.
func shortInt(s []byte, i int) (int32, int, bool) {
	if i+2 >= len(s) {
		return 0, 0, false
	}
	c0 := s[i] - '0'
	if c0 < 1 || c0 > 9 {
		return 0, 0, false
	}
	if c1 := s[i+1]; c1 == ' ' || c1 == ',' || c1 == ']' {
		return int32(c0), i + 1, true
	}
	if d := s[i+1] - '0'; d <= 9 {
		if c2 := s[i+2]; c2 == ' ' || c2 == ',' || c2 == ']' {
			return int32(c0)*10 + int32(d), i + 2, true
		}
	}
	return 0, 0, false
}

// digits reads an int32 at i: an optional '-' and 1 to 10 decimal digits,
// without a leading zero. Anything else (a sign '+', 1N, 0x10, 1.5, 007,
// on which EDN readers differ, or a larger number) is left to the generic
// reader.
func digits(s []byte, i int) (int32, int, bool) {
	neg := i < len(s) && s[i] == '-'
	if neg {
		i++
	}
	j := i
	var n int64
	for j < len(s) && s[j] >= '0' && s[j] <= '9' && j-i < 11 {
		n = n*10 + int64(s[j]-'0')
		j++
	}
	if j == i || s[i] == '0' && j-i > 1 || j < len(s) && s[j] >= '0' && s[j] <= '9' {
		return 0, 0, false
	}
	if neg {
		n = -n
	}
	if n != int64(int32(n)) {
		return 0, 0, false
	}
	return int32(n), j, true
}

// json decodes a JSON micro-op list at the start of s, as edn does:
// [["append",3,1],["r",4,[1,2]],["r",6,null]], with spaces allowed
// around the tokens.
func (d *decoder) json(s []byte) (int, bool) {
	if len(s) == 0 || s[0] != '[' {
		return 0, false
	}
	i := jsonBlank(s, 1)
	if i < len(s) && s[i] == ']' {
		return i + 1, true
	}
	for {
		// ["f",key,value]
		if i+1 >= len(s) || s[i] != '[' {
			return 0, false
		}
		i = jsonBlank(s, i+1)
		var f uint8
		switch {
		case hasAt(s, i, `"append"`):
			f, i = fAppend, i+8
		case hasAt(s, i, `"r"`):
			f, i = fRead, i+3
		case hasAt(s, i, `"w"`):
			f, i = fWrite, i+3
		default:
			return 0, false
		}
		var ok bool
		if i, ok = jsonComma(s, i); !ok {
			return 0, false
		}
		var key int32
		if key, i, ok = jsonInt(s, i); !ok {
			return 0, false
		}
		h := d.mop(f, key)
		if i, ok = jsonComma(s, i); !ok {
			return 0, false
		}
		switch {
		case hasAt(s, i, "null"):
			d.bw[h] |= kNil
			i += 4
		case i < len(s) && s[i] == '[':
			i = jsonBlank(s, i+1)
			if i < len(s) && s[i] == ']' {
				i++
			} else {
				for {
					var e int32
					if e, i, ok = jsonInt(s, i); !ok {
						return 0, false
					}
					d.bw = append(d.bw, e)
					if i = jsonBlank(s, i); i >= len(s) {
						return 0, false
					}
					if s[i] == ']' {
						i++
						break
					}
					if s[i] != ',' {
						return 0, false
					}
					i = jsonBlank(s, i+1)
				}
			}
			if !d.list(h) {
				return 0, false
			}
		default:
			var v int32
			if v, i, ok = jsonInt(s, i); !ok {
				return 0, false
			}
			d.bw = append(d.bw, v)
		}
		if i = jsonBlank(s, i); i >= len(s) || s[i] != ']' {
			return 0, false
		}
		if i = jsonBlank(s, i+1); i >= len(s) {
			return 0, false
		}
		switch s[i] {
		case ']':
			return i + 1, true
		case ',':
			i = jsonBlank(s, i+1)
		default:
			return 0, false
		}
	}
}

func jsonBlank(s []byte, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

func hasAt(s []byte, i int, tok string) bool {
	return len(s)-i >= len(tok) && string(s[i:i+len(tok)]) == tok
}

// jsonComma skips blanks, one comma and blanks from i.
func jsonComma(s []byte, i int) (int, bool) {
	if i = jsonBlank(s, i); i >= len(s) || s[i] != ',' {
		return 0, false
	}
	return jsonBlank(s, i+1), true
}

// jsonInt reads an integer at i (as digits does) that is not followed by
// a fraction or an exponent.
func jsonInt(s []byte, i int) (int32, int, bool) {
	if n, j, ok := shortInt(s, i); ok {
		return n, j, true
	}
	n, j, ok := digits(s, i)
	if !ok || j < len(s) && (s[j] == '.' || s[j] == 'e' || s[j] == 'E') {
		return 0, 0, false
	}
	return n, j, true
}
