package history

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"unicode/utf8"
)

// errIncomplete reports that a form runs past the end of the parser's window
// and more input may complete it; the caller refills the window and parses the
// form again from its start.
var errIncomplete = errors.New("incomplete form")

// maxDepth bounds the nesting of collections, so that hostile input cannot
// exhaust the stack.
const maxDepth = 1000

// syntaxError is an EDN or JSON syntax error at a line of the input.
type syntaxError struct {
	line int
	msg  string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// ednParser reads EDN forms from a window of the input. Keywords and symbols
// become strings (without the colon); see the package documentation for the
// mapping of every EDN type.
type ednParser struct {
	src   []byte // the window
	pos   int    // next byte to read
	line  int    // 1-based line of src[pos]
	final bool   // src reaches the end of the input
	depth int
	// kw interns keyword and symbol names, boxed, so that the many repeated
	// keywords of a history cost no allocation.
	kw internCache
	// ints boxes integers, so that repeated ones (keys, values) cost no
	// allocation.
	ints intCache
	// stack and entries hold the elements of the collections being read;
	// each collection is copied out at its end, at its exact size.
	stack   []any
	entries []Entry
	slabs   slabs
	// lineMode: the window is one line of a text history, not a file.
	lineMode bool
	// keyword reports whether the last form read by form was a keyword or a
	// symbol (not a string): the text reader needs the difference.
	keyword bool
	// values, when set, is offered the text of every op's :value first.
	values ValueDecoder
}

func (p *ednParser) errorf(format string, args ...any) error {
	return &syntaxError{line: p.line, msg: fmt.Sprintf(format, args...)}
}

// endErr is the error for running out of window: incomplete, or a real end of
// input in the middle of a form.
func (p *ednParser) endErr(what string) error {
	if !p.final {
		return errIncomplete
	}
	if p.lineMode {
		return p.errorf("unexpected end of line in %s", what)
	}
	return p.errorf("unexpected end of input in %s (truncated file?)", what)
}

// charClass classifies bytes for the EDN reader: bit 0 marks whitespace
// (blanks, control characters \f \v, and commas), bit 1 the bytes that end
// a token (whitespace, quotes, semicolons, brackets and reader-macro
// characters).
const charClass = "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x03\x03\x03\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00\x02\x00\x00\x00\x00\x00\x02\x02\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x02\x02\x02\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x02\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"

// isWS reports EDN whitespace: blanks, \f, \v and commas.
func isWS(c byte) bool { return charClass[c]&1 != 0 }

// isTerm reports whether c ends a token (symbol, keyword, number).
func isTerm(c byte) bool { return charClass[c]&2 != 0 }

// skipWS skips whitespace and comments. A comment that runs past the window
// is left unconsumed (errIncomplete) so that it is not half-skipped.
func (p *ednParser) skipWS() error {
	src := p.src
	for p.pos < len(src) {
		c := src[p.pos]
		switch {
		case c == ' ' || c == ',':
			p.pos++
		case c == '\n':
			p.line++
			p.pos++
		case charClass[c]&1 != 0:
			p.pos++
		case c == ';':
			i := p.pos + 1
			for i < len(src) && src[i] != '\n' {
				i++
			}
			if i == len(src) && !p.final {
				return errIncomplete
			}
			p.pos = i
		case c == 0xEF && p.pos+2 < len(src) && src[p.pos+1] == 0xBB && src[p.pos+2] == 0xBF:
			p.pos += 3 // byte order mark
		case c == 0xEF && p.pos+2 >= len(src) && !p.final:
			return errIncomplete // may be a byte order mark
		default:
			return nil
		}
	}
	return nil
}

// skip skips whitespace, comments and #_ discarded forms.
func (p *ednParser) skip() error {
	if p.pos < len(p.src) {
		if c := p.src[p.pos]; charClass[c]&1 == 0 && c != ';' && c != '#' && c != 0xEF {
			return nil // the usual case: a form starts here
		}
	}
	for {
		if err := p.skipWS(); err != nil {
			return err
		}
		if p.pos+1 < len(p.src) && p.src[p.pos] == '#' && p.src[p.pos+1] == '_' {
			p.pos += 2
			if _, err := p.form(); err != nil {
				return err
			}
			continue
		}
		if p.pos+1 == len(p.src) && p.src[p.pos] == '#' && !p.final {
			return errIncomplete // cannot tell #_ from a tag yet
		}
		return nil
	}
}

// token returns the bytes of the token starting at p.pos (a symbol, keyword
// name or number) and advances past it.
func (p *ednParser) token() ([]byte, error) {
	start := p.pos
	i := start
	for i < len(p.src) && !isTerm(p.src[i]) {
		i++
	}
	if i == len(p.src) && !p.final {
		return nil, errIncomplete
	}
	p.pos = i
	return p.src[start:i], nil
}

// name interns a keyword or symbol name.
func (p *ednParser) name(b []byte) any { return p.kw.intern(b) }

// internCache is a small direct-mapped cache of boxed strings: the names of
// a history (keywords, JSON keys, op types) repeat all the time, and a hit
// costs no allocation. A miss replaces the slot.
type internCache struct {
	slots *[256]internSlot
}

type internSlot struct {
	s string
	v any
}

func (c *internCache) intern(b []byte) any {
	if c.slots == nil {
		c.slots = new([256]internSlot)
	}
	h := uint32(len(b)) * 0x9E3779B1
	for i := 0; i < len(b) && i < 12; i++ {
		h = (h ^ uint32(b[i])) * 0x01000193
	}
	e := &c.slots[(h>>8)&255]
	if e.v != nil && e.s == string(b) {
		return e.v
	}
	s := validUTF8(b)
	e.s, e.v = s, s
	return e.v
}

// keywordToken reads the keyword at p.pos (which is ':') and returns its
// name.
func (p *ednParser) keywordToken() ([]byte, error) {
	p.pos++
	if p.pos < len(p.src) && p.src[p.pos] == ':' {
		return nil, p.errorf("auto-resolved keyword ::… is not EDN")
	}
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	if len(tok) == 0 {
		return nil, p.errorf("empty keyword")
	}
	p.keyword = true
	return tok, nil
}

// intCache is a small direct-mapped cache of boxed integers: the keys and
// values of a history repeat, and a hit costs no allocation.
type intCache struct {
	slots *[1024]any
}

func (c *intCache) box(n int64) any {
	if uint64(n) < 256 {
		return n // the runtime boxes these without allocating
	}
	if c.slots == nil {
		c.slots = new([1024]any)
	}
	e := &c.slots[uint64(n)%1024]
	if x, ok := (*e).(int64); ok && x == n {
		return *e
	}
	*e = n
	return *e
}

// isNumberStart reports whether a token starting with c (and tok) is a
// number for form.
func isNumberStart(tok []byte) bool {
	c := tok[0]
	return c >= '0' && c <= '9' || (c == '-' || c == '+') && len(tok) > 1 && tok[1] >= '0' && tok[1] <= '9'
}

// smallInt parses a plain decimal integer token of at most 18 characters
// (so that it cannot overflow), with an optional sign.
func smallInt(tok []byte) (int64, bool) {
	if len(tok) > 18 {
		return 0, false
	}
	neg := false
	b := tok
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// form reads one EDN form.
func (p *ednParser) form() (any, error) {
	if err := p.skip(); err != nil {
		return nil, err
	}
	if p.pos >= len(p.src) {
		return nil, p.endErr("a value")
	}
	return p.formAt()
}

// formAt reads the form at p.pos, which is not blank and not the end of the
// window: form without the skip.
func (p *ednParser) formAt() (any, error) {
	p.keyword = false
	c := p.src[p.pos]
	switch c {
	case '{':
		p.pos++
		return p.mapBody()
	case '[':
		p.pos++
		return p.seq(']')
	case '(':
		p.pos++
		return p.seq(')')
	case '"':
		return p.str()
	case ':':
		tok, err := p.keywordToken()
		if err != nil {
			return nil, err
		}
		return p.name(tok), nil
	case '\\':
		return p.char()
	case '#':
		return p.dispatch()
	case '^':
		p.pos++
		if _, err := p.form(); err != nil { // metadata is dropped
			return nil, err
		}
		return p.form()
	case ')', ']', '}':
		return nil, p.errorf("unexpected %q", c)
	case '@', '`', '~':
		return nil, p.errorf("unexpected %q (reader macros are not EDN)", c)
	}
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	if len(tok) == 0 {
		return nil, p.errorf("unexpected %q", c)
	}
	if isNumberStart(tok) {
		return p.number(tok)
	}
	switch string(tok) {
	case "nil":
		return nil, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	p.keyword = true
	return p.name(tok), nil
}

// seq reads the elements of a vector or list up to the closing byte.
func (p *ednParser) seq(closing byte) (any, error) {
	if p.depth >= maxDepth {
		return nil, p.errorf("collections nested deeper than %d", maxDepth)
	}
	p.depth++
	out, err := p.seqElems(closing)
	p.depth--
	if err != nil {
		return nil, err
	}
	return out, nil
}

// seqElems reads the elements of a collection up to its closing byte.
func (p *ednParser) seqElems(closing byte) ([]any, error) {
	var e elemBuf
	e.start = -1
	for {
		if err := p.skip(); err != nil {
			e.drop(&p.stack)
			return nil, err
		}
		if p.pos >= len(p.src) {
			e.drop(&p.stack)
			return nil, p.endErr("a vector or list")
		}
		c := p.src[p.pos]
		if c == closing {
			p.pos++
			return e.finish(&p.stack, &p.slabs), nil
		}
		if c == ')' || c == ']' || c == '}' {
			e.drop(&p.stack)
			return nil, p.errorf("unexpected %q, expected %q", c, closing)
		}
		v, err := p.formAt()
		if err != nil {
			e.drop(&p.stack)
			return nil, err
		}
		e.add(&p.stack, v)
	}
}

// smallSeq is the number of elements elemBuf keeps in its own array.
const smallSeq = 8

// elemBuf gathers the elements of one collection being parsed (EDN and JSON
// readers): the first smallSeq in its own array, which stays on the
// goroutine's stack (writing there is cheap), the rest on the parser's
// shared stack of elements, from start on (start < 0: none there yet).
// Start it with start = -1.
type elemBuf struct {
	small [smallSeq]any
	n     int
	start int
}

func (e *elemBuf) add(stack *[]any, v any) {
	switch {
	case e.start >= 0:
		*stack = append(*stack, v)
	case e.n < smallSeq:
		e.small[e.n] = v
		e.n++
	default:
		e.start = len(*stack)
		*stack = append(append(*stack, e.small[:]...), v)
	}
}

// finish returns the elements, copied at their exact size into a slab,
// and removes them from the shared stack.
func (e *elemBuf) finish(stack *[]any, s *slabs) []any {
	if e.start < 0 {
		out := s.values(e.n)
		for i := range out {
			out[i] = e.small[i] // cheaper than copy for a few elements
		}
		return out
	}
	out := s.values(len(*stack) - e.start)
	copy(out, (*stack)[e.start:])
	e.drop(stack)
	return out
}

// drop removes the elements from the shared stack, if any are there.
func (e *elemBuf) drop(stack *[]any) {
	if e.start >= 0 {
		clear((*stack)[e.start:])
		*stack = (*stack)[:e.start]
	}
}

// mapBody reads the entries of a map after its '{'.
func (p *ednParser) mapBody() (any, error) {
	start := len(p.entries)
	defer func() {
		clear(p.entries[start:])
		p.entries = p.entries[:start]
	}()
	err := p.entriesOf(func(k, v any) { p.entries = append(p.entries, Entry{Key: k, Val: v}) })
	if err != nil {
		return nil, err
	}
	m := Map(p.slabs.entries(len(p.entries) - start))
	copy(m, p.entries[start:])
	if dup, ok := duplicateKey(m); ok {
		return nil, p.errorf("duplicate map key %s", Format(dup))
	}
	return m, nil
}

// entriesOf reads the entries of a map after its '{' up to and including
// its '}', passing each to add.
func (p *ednParser) entriesOf(add func(k, v any)) error {
	if p.depth >= maxDepth {
		return p.errorf("collections nested deeper than %d", maxDepth)
	}
	p.depth++
	defer func() { p.depth-- }()
	for {
		if err := p.skip(); err != nil {
			return err
		}
		if p.pos >= len(p.src) {
			return p.endErr("a map")
		}
		c := p.src[p.pos]
		if c == '}' {
			p.pos++
			return nil
		}
		if c == ')' || c == ']' {
			return p.errorf("unexpected %q, expected '}'", c)
		}
		k, err := p.formAt()
		if err != nil {
			return err
		}
		if err := p.skip(); err != nil {
			return err
		}
		if p.pos >= len(p.src) {
			return p.endErr("a map")
		}
		if p.src[p.pos] == '}' {
			return p.errorf("map has a key without a value")
		}
		v, err := p.formAt()
		if err != nil {
			return err
		}
		add(k, v)
	}
}

// slabs hands out the backing arrays of small collections from larger
// blocks, so that a history's many small vectors cost fewer allocations.
// A block stays alive while any collection carved from it does.
type slabs struct {
	vals []any
	ents []Entry
}

const slabMax = 32 // larger collections get their own array

func (s *slabs) values(n int) []any {
	if n > slabMax {
		return make([]any, n)
	}
	if len(s.vals) < n {
		s.vals = make([]any, 1024)
	}
	out := s.vals[:n:n]
	s.vals = s.vals[n:]
	return out
}

func (s *slabs) entries(n int) []Entry {
	if n > slabMax {
		return make([]Entry, n)
	}
	if len(s.ents) < n {
		s.ents = make([]Entry, 256)
	}
	out := s.ents[:n:n]
	s.ents = s.ents[n:]
	return out
}

// dispatch reads a form starting with '#': a set, a tagged literal, a record,
// ##Inf/##-Inf/##NaN, a regex (kept as Tagged "regex") or a discard.
func (p *ednParser) dispatch() (any, error) {
	if p.pos+1 >= len(p.src) {
		return nil, p.endErr("a # form")
	}
	c := p.src[p.pos+1]
	switch {
	case c == '{':
		p.pos += 2
		if p.depth >= maxDepth {
			return nil, p.errorf("collections nested deeper than %d", maxDepth)
		}
		p.depth++
		v, err := p.seqElems('}')
		p.depth--
		if err != nil {
			return nil, err
		}
		return Set(v), nil
	case c == '_':
		p.pos += 2
		if _, err := p.form(); err != nil {
			return nil, err
		}
		return p.form()
	case c == '#':
		p.pos += 2
		tok, err := p.token()
		if err != nil {
			return nil, err
		}
		switch string(tok) {
		case "Inf":
			return math.Inf(1), nil
		case "-Inf":
			return math.Inf(-1), nil
		case "NaN":
			return math.NaN(), nil
		}
		return nil, p.errorf("unknown symbolic value ##%s", tok)
	case c == '"':
		p.pos++
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return Tagged{Tag: "regex", Value: s}, nil
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		p.pos++
		tok, err := p.token()
		if err != nil {
			return nil, err
		}
		tag := p.name(tok).(string)
		v, err := p.form()
		if err != nil {
			return nil, err
		}
		return Tagged{Tag: tag, Value: v}, nil
	}
	return nil, p.errorf("unsupported dispatch #%c", c)
}

// str reads a string literal.
func (p *ednParser) str() (any, error) {
	src := p.src
	i := p.pos + 1
	start := i
	for i < len(src) {
		c := src[i]
		if c == '"' {
			s := validUTF8(src[start:i])
			p.line += countNL(src[start:i])
			p.pos = i + 1
			return s, nil
		}
		if c == '\\' {
			return p.strSlow(start)
		}
		i++
	}
	return nil, p.endErr("a string")
}

// strSlow reads a string with escapes, starting after its opening quote.
func (p *ednParser) strSlow(start int) (any, error) {
	src := p.src
	buf := make([]byte, 0, 32)
	lines := 0
	i := start
	for i < len(src) {
		c := src[i]
		switch c {
		case '"':
			p.line += lines
			p.pos = i + 1
			return validUTF8(buf), nil
		case '\n':
			lines++
			buf = append(buf, c)
			i++
		case '\\':
			if i+1 >= len(src) {
				return nil, p.endErr("a string")
			}
			e := src[i+1]
			i += 2
			switch e {
			case 't':
				buf = append(buf, '\t')
			case 'r':
				buf = append(buf, '\r')
			case 'n':
				buf = append(buf, '\n')
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case '\\', '"', '\'':
				buf = append(buf, e)
			case 'u':
				if i+4 > len(src) {
					return nil, p.endErr("a string")
				}
				r, ok := hex4(src[i : i+4])
				if !ok {
					return nil, p.errorf("bad \\u escape in string")
				}
				i += 4
				if utf16IsSurrogate(r) {
					// A surrogate pair is written as two escapes.
					if i+6 <= len(src) && src[i] == '\\' && src[i+1] == 'u' {
						if r2, ok := hex4(src[i+2 : i+6]); ok && r < 0xDC00 && r2 >= 0xDC00 && r2 < 0xE000 {
							r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
							i += 6
						} else {
							r = utf8.RuneError
						}
					} else if i+6 > len(src) && !p.final {
						return nil, errIncomplete
					} else {
						r = utf8.RuneError
					}
				}
				buf = utf8.AppendRune(buf, r)
			default:
				if e >= '0' && e <= '7' { // octal \ooo
					j := i - 1
					n := 0
					for k := 0; k < 3 && j < len(src) && src[j] >= '0' && src[j] <= '7'; k++ {
						n = n*8 + int(src[j]-'0')
						j++
					}
					if j == len(src) && !p.final {
						return nil, errIncomplete
					}
					if n > 0377 {
						return nil, p.errorf("octal escape out of range in string")
					}
					buf = utf8.AppendRune(buf, rune(n))
					i = j
					continue
				}
				return nil, p.errorf("unknown escape \\%c in string", e)
			}
		default:
			buf = append(buf, c)
			i++
		}
	}
	return nil, p.endErr("a string")
}

func utf16IsSurrogate(r rune) bool { return r >= 0xD800 && r < 0xE000 }

func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// char reads a character literal (\a, \newline, \u0041) as a one-character
// string.
func (p *ednParser) char() (any, error) {
	i := p.pos + 1
	if i >= len(p.src) {
		return nil, p.endErr("a character")
	}
	r, size := utf8.DecodeRune(p.src[i:])
	if r == utf8.RuneError && size <= 1 && !utf8.FullRune(p.src[i:]) && !p.final {
		return nil, errIncomplete
	}
	j := i + size
	if r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
		for j < len(p.src) && !isTerm(p.src[j]) {
			j++
		}
		if j == len(p.src) && !p.final {
			return nil, errIncomplete
		}
	}
	name := p.src[i:j]
	p.pos = j
	if len(name) == size {
		if r == utf8.RuneError {
			return "\uFFFD", nil
		}
		return string(r), nil
	}
	switch string(name) {
	case "newline":
		return "\n", nil
	case "space":
		return " ", nil
	case "tab":
		return "\t", nil
	case "return":
		return "\r", nil
	case "backspace":
		return "\b", nil
	case "formfeed":
		return "\f", nil
	}
	if name[0] == 'u' && len(name) == 5 {
		if r, ok := hex4(name[1:]); ok {
			if utf16IsSurrogate(r) {
				r = utf8.RuneError
			}
			return string(r), nil
		}
	}
	if name[0] == 'o' && len(name) >= 2 && len(name) <= 4 {
		if n, err := strconv.ParseUint(string(name[1:]), 8, 16); err == nil && n <= 0377 {
			return string(rune(n)), nil
		}
	}
	return nil, p.errorf("unknown character literal \\%s", name)
}

// number parses an EDN number token: integers (with an optional N suffix,
// and 0x hexadecimal), floats (with an optional M suffix) and ratios.
func (p *ednParser) number(tok []byte) (any, error) {
	// Fast path: a plain decimal integer that fits in int64.
	if n, ok := smallInt(tok); ok {
		return p.ints.box(n), nil
	}
	s := string(tok)
	last := s[len(s)-1]
	switch {
	case last == 'N':
		return parseInteger(s[:len(s)-1], 10, p)
	case last == 'M':
		f, err := strconv.ParseFloat(s[:len(s)-1], 64)
		if err != nil && !isRangeErr(err) {
			return nil, p.errorf("bad number %q", s)
		}
		return f, nil
	}
	if i := indexByte(s, '/'); i > 0 {
		n, err1 := parseInteger(s[:i], 10, p)
		d, err2 := parseInteger(s[i+1:], 10, p)
		if err1 != nil || err2 != nil {
			return nil, p.errorf("bad ratio %q", s)
		}
		return ratio(n, d, p, s)
	}
	body := s
	if body[0] == '-' || body[0] == '+' {
		body = body[1:]
	}
	if len(body) > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') {
		v, err := parseInteger(s[:len(s)-len(body)]+body[2:], 16, p)
		if err != nil {
			return nil, p.errorf("bad number %q", s)
		}
		return v, nil
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c < '0' || c > '9' {
			if c == '.' || c == 'e' || c == 'E' {
				f, err := strconv.ParseFloat(s, 64)
				if err != nil && !isRangeErr(err) || !plainFloat(body) {
					return nil, p.errorf("bad number %q", s)
				}
				return f, nil
			}
			return nil, p.errorf("bad number %q", s)
		}
	}
	return parseInteger(s, 10, p)
}

// plainFloat reports whether s (without sign) is digits[.digits][e[+-]digits],
// rejecting forms ParseFloat accepts but EDN does not (hex floats,
// underscores, "inf").
func plainFloat(s string) bool {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	return i == len(s)
}

func isRangeErr(err error) bool {
	var ne *strconv.NumError
	return errors.As(err, &ne) && ne.Err == strconv.ErrRange
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// parseInteger parses a signed integer in base 10 or 16: int64 when it fits,
// *big.Int otherwise.
func parseInteger(s string, base int, p *ednParser) (any, error) {
	if s == "" || s == "-" || s == "+" {
		return nil, p.errorf("bad number %q", s)
	}
	body := s
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		ok := c >= '0' && c <= '9' || base == 16 && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')
		if !ok {
			return nil, p.errorf("bad number %q", s)
		}
	}
	if n, err := strconv.ParseInt(s, base, 64); err == nil {
		return n, nil
	}
	b, ok := new(big.Int).SetString(s, base)
	if !ok {
		return nil, p.errorf("bad number %q", s)
	}
	return b, nil
}

// ratio turns n/d into an integer when d divides n, else into a float64.
func ratio(n, d any, p *ednParser, s string) (any, error) {
	bn, bd := toBig(n), toBig(d)
	if bd.Sign() == 0 {
		return nil, p.errorf("ratio %q divides by zero", s)
	}
	q, r := new(big.Int).QuoRem(bn, bd, new(big.Int))
	if r.Sign() == 0 {
		if q.IsInt64() {
			return q.Int64(), nil
		}
		return q, nil
	}
	f, _ := new(big.Rat).SetFrac(bn, bd).Float64()
	return f, nil
}

func toBig(v any) *big.Int {
	switch x := v.(type) {
	case int64:
		return big.NewInt(x)
	case *big.Int:
		return x
	}
	return new(big.Int)
}

func countNL(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}

// validUTF8 converts b to a string, replacing each invalid byte with U+FFFD
// (as encoding/json does), so that every string read is valid UTF-8 and
// survives a write and a read unchanged.
func validUTF8(b []byte) string {
	for i := 0; i < len(b); i++ {
		if b[i] >= utf8.RuneSelf {
			if utf8.Valid(b[i:]) {
				break
			}
			return fixUTF8(b)
		}
	}
	return string(b)
}

func fixUTF8(b []byte) string {
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			out = append(out, "\uFFFD"...)
		} else {
			out = append(out, b[:size]...)
		}
		b = b[size:]
	}
	return string(out)
}

// duplicateKey reports a key that occurs twice in m (keys compared with
// Equal). Large maps with only string and int64 keys are checked by hashing.
func duplicateKey(m Map) (any, bool) {
	if len(m) < 2 {
		return nil, false
	}
	if len(m) > 12 {
		strs := make(map[string]struct{}, len(m))
		ints := make(map[int64]struct{})
		hashed := true
		for _, e := range m {
			switch x := e.Key.(type) {
			case string:
				if _, ok := strs[x]; ok {
					return x, true
				}
				strs[x] = struct{}{}
			case int64:
				if _, ok := ints[x]; ok {
					return x, true
				}
				ints[x] = struct{}{}
			default:
				hashed = false
			}
			if !hashed {
				break
			}
		}
		if hashed {
			return nil, false
		}
	}
	for i := 1; i < len(m); i++ {
		for j := 0; j < i; j++ {
			if Equal(m[i].Key, m[j].Key) {
				return m[i].Key, true
			}
		}
	}
	return nil, false
}
