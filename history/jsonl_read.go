package history

import (
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// JSONLReader reads a JSON Lines history (Faultline's native history.jsonl)
// one op at a time: one JSON object per line, blank lines ignored.
//
// Fields "index", "time", "type", "process", "f", "value", "error", "key"
// and "node" fill Op fields; every other field goes to Op.Extra in order.
// JSON numbers without a fraction or exponent become int64 (*big.Int when
// too big), other numbers float64; objects become Map with their order
// kept; an object {"#tag": T, "value": V} is the Tagged value T V. A
// missing "time" is -1 and a missing "index" is the op's position in the
// file (counting from 0).
type JSONLReader struct {
	lineReader
	p   jsonParser
	b   opBuilder
	n   int // ops seen (including undecodable ones)
	err error
}

// NewJSONLReader returns a reader of the JSON Lines history in r; name
// (usually the file name) is used in error messages.
func NewJSONLReader(r io.Reader, name string) *JSONLReader {
	return &JSONLReader{lineReader: newLineReader(r, name)}
}

// Next returns the next op, or io.EOF after the last one. A line that cannot
// be decoded is returned as a Problem error (with whatever could be decoded in
// its Op); Next may then be called again to continue with the next line. Any
// other error (from the underlying reader) is final.
func (r *JSONLReader) Next() (Op, error) { return r.deliver(r.next(&r.cur)) }

// Line returns the line of the op last returned by Next.
func (r *JSONLReader) Line() int { return r.line }

func (r *JSONLReader) next(dst *Op) (record, error) {
	for {
		if r.err != nil {
			return record{}, r.err
		}
		line, nl, err := r.readLine()
		if err != nil {
			r.err = err
			return record{}, err
		}
		if rec, ok := r.parseLine(dst, line, nl, r.ln); ok {
			return rec, nil
		}
	}
}

// parseLine decodes line number ln into dst. nl tells whether the line
// ended with a line break. It returns false for a blank line.
func (r *JSONLReader) parseLine(dst *Op, line []byte, nl bool, ln int) (record, bool) {
	p := &r.p
	p.src, p.pos, p.depth = line, 0, 0
	p.skipWS()
	if p.pos == len(line) {
		return record{}, false
	}
	r.n++
	var v any
	var err error
	isOp := line[p.pos] == '{'
	if isOp {
		r.b.reset(dst)
		err = p.opObject(&r.b)
	} else {
		v, err = p.value()
	}
	if err == nil {
		p.skipWS()
		if p.pos < len(line) {
			err = p.errorf("unexpected %q after the op object", line[p.pos])
		}
	}
	if err != nil {
		msg := "syntax error: " + err.Error()
		if !nl {
			msg += " (the last line has no line break: truncated file?)"
		}
		*dst = Op{}
		return record{line: ln, prob: msg, syntax: true, source: snippet(line)}, true
	}
	if !isOp {
		*dst = Op{Index: r.n - 1, Time: -1}
		return record{line: ln, prob: "expected an op object, found " + kindName(v), source: snippet(line)}, true
	}
	return builtRecord(&r.b, ln, r.n-1, line), true
}

// jsonParser decodes one JSON value from a complete line.
type jsonParser struct {
	src     []byte
	pos     int
	depth   int
	names   internCache // object keys and short strings
	stack   []any       // elements of the arrays being read
	entries []Entry     // entries of the objects being read
	slabs   slabs
	ints    intCache
	values  ValueDecoder // when set, offered the text of every op's "value" first
}

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("column %d: %s", p.pos+1, fmt.Sprintf(format, args...))
}

func (p *jsonParser) skipWS() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\r', '\n':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) value() (any, error) {
	p.skipWS()
	if p.pos >= len(p.src) {
		return nil, p.errorf("unexpected end of line")
	}
	switch c := p.src[p.pos]; c {
	case '{':
		return p.object()
	case '[':
		return p.array()
	case '"':
		p.pos++
		return p.str(false)
	case 't':
		return p.literal("true", true)
	case 'f':
		return p.literal("false", false)
	case 'n':
		return p.literal("null", nil)
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return p.number()
		}
		return nil, p.errorf("unexpected %q", c)
	}
}

func (p *jsonParser) literal(word string, v any) (any, error) {
	if len(p.src)-p.pos >= len(word) && string(p.src[p.pos:p.pos+len(word)]) == word {
		p.pos += len(word)
		return v, nil
	}
	return nil, p.errorf("invalid literal")
}

func (p *jsonParser) object() (any, error) {
	start := len(p.entries)
	defer func() {
		clear(p.entries[start:])
		p.entries = p.entries[:start]
	}()
	if err := p.entriesOf(func(k, v any) { p.entries = append(p.entries, Entry{Key: k, Val: v}) }); err != nil {
		return nil, err
	}
	m := Map(p.slabs.entries(len(p.entries) - start))
	copy(m, p.entries[start:])
	if dup, ok := duplicateKey(m); ok {
		return nil, p.errorf("duplicate key %s", Format(dup))
	}
	if len(m) == 2 && m[0].Key == "#tag" && m[1].Key == "value" {
		if tag, ok := m[0].Val.(string); ok {
			return Tagged{Tag: tag, Value: m[1].Val}, nil
		}
	}
	return m, nil
}

// entriesOf reads an object from its '{' to its '}', passing each entry to
// add.
func (p *jsonParser) entriesOf(add func(k, v any)) error {
	if p.depth >= maxDepth {
		return p.errorf("values nested deeper than %d", maxDepth)
	}
	p.depth++
	defer func() { p.depth-- }()
	p.pos++ // {
	p.skipWS()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		return nil
	}
	for {
		p.skipWS()
		if p.pos >= len(p.src) {
			return p.errorf("unexpected end of line in an object")
		}
		if p.src[p.pos] != '"' {
			return p.errorf("expected a string key, found %q", p.src[p.pos])
		}
		p.pos++
		k, err := p.str(true)
		if err != nil {
			return err
		}
		p.skipWS()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return p.errorf("expected ':' after an object key")
		}
		p.pos++
		v, err := p.value()
		if err != nil {
			return err
		}
		add(k, v)
		p.skipWS()
		if p.pos >= len(p.src) {
			return p.errorf("unexpected end of line in an object")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return nil
		default:
			return p.errorf("expected ',' or '}' in an object, found %q", p.src[p.pos])
		}
	}
}

func (p *jsonParser) array() (any, error) {
	if p.depth >= maxDepth {
		return nil, p.errorf("values nested deeper than %d", maxDepth)
	}
	p.depth++
	out, err := p.elements()
	p.depth--
	if err != nil {
		return nil, err
	}
	return out, nil
}

// elements reads an array from its '['.
func (p *jsonParser) elements() ([]any, error) {
	p.pos++ // [
	p.skipWS()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		return []any{}, nil
	}
	var e elemBuf
	e.start = -1
	for {
		v, err := p.value()
		if err != nil {
			e.drop(&p.stack)
			return nil, err
		}
		e.add(&p.stack, v)
		p.skipWS()
		if p.pos >= len(p.src) {
			e.drop(&p.stack)
			return nil, p.errorf("unexpected end of line in an array")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return e.finish(&p.stack, &p.slabs), nil
		default:
			e.drop(&p.stack)
			return nil, p.errorf("expected ',' or ']' in an array, found %q", p.src[p.pos])
		}
	}
}

// str reads a string after its opening quote. Keys are interned.
func (p *jsonParser) str(key bool) (any, error) {
	src := p.src
	start := p.pos
	i := start
	for i < len(src) {
		c := src[i]
		if c == '"' {
			b := src[start:i]
			p.pos = i + 1
			if key || len(b) <= 16 {
				return p.names.intern(b), nil
			}
			return validUTF8(b), nil
		}
		if c == '\\' {
			return p.strSlow(start)
		}
		if c < 0x20 {
			p.pos = i
			return nil, p.errorf("control character %q in a string", c)
		}
		i++
	}
	p.pos = i
	return nil, p.errorf("unterminated string")
}

func (p *jsonParser) strSlow(start int) (any, error) {
	src := p.src
	buf := make([]byte, 0, 32)
	i := start
	for i < len(src) {
		c := src[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return validUTF8(buf), nil
		case c < 0x20:
			p.pos = i
			return nil, p.errorf("control character %q in a string", c)
		case c == '\\':
			if i+1 >= len(src) {
				p.pos = i
				return nil, p.errorf("unterminated string")
			}
			e := src[i+1]
			i += 2
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				if i+4 > len(src) {
					p.pos = i
					return nil, p.errorf("bad \\u escape")
				}
				r, ok := hex4(src[i : i+4])
				if !ok {
					p.pos = i
					return nil, p.errorf("bad \\u escape")
				}
				i += 4
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+6 <= len(src) && src[i] == '\\' && src[i+1] == 'u' {
						if x, ok := hex4(src[i+2 : i+6]); ok {
							r2 = x
						}
					}
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				buf = utf8.AppendRune(buf, r)
			default:
				p.pos = i - 1
				return nil, p.errorf("unknown escape \\%c", e)
			}
		default:
			buf = append(buf, c)
			i++
		}
	}
	p.pos = i
	return nil, p.errorf("unterminated string")
}

func (p *jsonParser) number() (any, error) {
	tok, integral, err := p.scanNumber()
	if err != nil {
		return nil, err
	}
	return p.numberValue(tok, integral)
}

// scanNumber reads a JSON number at p.pos and returns its text and whether
// it is an integer (no fraction, no exponent).
func (p *jsonParser) scanNumber() ([]byte, bool, error) {
	src := p.src
	start := p.pos
	i := start
	if i < len(src) && src[i] == '-' {
		i++
	}
	digits := i
	if i < len(src) && src[i] == '0' {
		i++
	} else {
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
	}
	if i == digits {
		p.pos = i
		return nil, false, p.errorf("bad number")
	}
	integral := true
	if i < len(src) && src[i] == '.' {
		integral = false
		i++
		j := i
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
		if i == j {
			p.pos = i
			return nil, false, p.errorf("bad number")
		}
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		integral = false
		i++
		if i < len(src) && (src[i] == '+' || src[i] == '-') {
			i++
		}
		j := i
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
		if i == j {
			p.pos = i
			return nil, false, p.errorf("bad number")
		}
	}
	p.pos = i
	return src[start:i], integral, nil
}

// numberValue converts the text of a JSON number read by scanNumber.
func (p *jsonParser) numberValue(tok []byte, integral bool) (any, error) {
	if integral {
		if n, ok := smallInt(tok); ok {
			return p.ints.box(n), nil
		}
		if n, err := strconv.ParseInt(string(tok), 10, 64); err == nil {
			return n, nil
		}
		b, _ := new(big.Int).SetString(string(tok), 10)
		return b, nil
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil {
		if math.IsInf(f, 0) || !isRangeErr(err) {
			return nil, p.errorf("number %s out of range", tok)
		}
	}
	return f, nil
}
