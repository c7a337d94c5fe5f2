package history

import "math"

// The op decoders below read the top-level map of an op (EDN) or object
// (JSON) straight into an opBuilder. They accept exactly what the general
// entriesOf with opBuilder.set accepts and report the same problems, but
// store the index, time, process and type without boxing them first: most
// of the values of a history are these.

// opField names the fields the op decoders store without boxing.
type opField uint8

const (
	fieldOther opField = iota
	fieldIndex
	fieldTime
	fieldType
	fieldProcess
)

// opFieldOf returns the field named name, with the name as a key (a
// constant, so boxing it costs nothing), or fieldOther.
func opFieldOf[T ~string | ~[]byte](name T) (opField, any) {
	switch string(name) {
	case "index":
		return fieldIndex, "index"
	case "time":
		return fieldTime, "time"
	case "type":
		return fieldType, "type"
	case "process":
		return fieldProcess, "process"
	}
	return fieldOther, nil
}

// typeOf is ParseType for a keyword's bytes.
func typeOf(name []byte) (Type, bool) {
	switch string(name) {
	case "invoke":
		return Invoke, true
	case "ok":
		return OK, true
	case "fail":
		return Fail, true
	case "info":
		return Info, true
	case "sleep":
		return Sleep, true
	case "log":
		return Log, true
	}
	return TypeNone, false
}

// setInt is set for field f (index, time or process) with the integer n.
func (b *opBuilder) setInt(f opField, n int64) {
	switch f {
	case fieldIndex:
		if b.seen&seenIndex == 0 && n >= 0 && int64(int(n)) == n {
			b.seen |= seenIndex
			b.op.Index = int(n)
			return
		}
		b.set("index", n)
	case fieldTime:
		if b.seen&seenTime == 0 {
			b.seen |= seenTime
			b.op.Time = n
			return
		}
		b.set("time", n)
	case fieldProcess:
		if b.seen&seenProcess == 0 && n >= 0 && n <= math.MaxInt32 {
			b.seen |= seenProcess
			b.op.Process = int(n)
			return
		}
		b.set("process", n)
	}
}

// opMap reads the entries of an op map after its '{' up to and including
// its '}' into b: entriesOf(b.set), faster.
func (p *ednParser) opMap(b *opBuilder) error {
	if p.depth >= maxDepth {
		return p.errorf("collections nested deeper than %d", maxDepth)
	}
	p.depth++
	err := p.opEntries(b)
	p.depth--
	return err
}

func (p *ednParser) opEntries(b *opBuilder) error {
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
		var k any
		field := fieldOther
		isValue := false
		if c == ':' {
			// What form does for a keyword, knowing the op's own fields.
			p.keyword = false
			tok, err := p.keywordToken()
			if err != nil {
				return err
			}
			if field, k = opFieldOf(tok); field == fieldOther {
				k = p.name(tok)
				isValue = string(tok) == "value"
			}
		} else {
			var err error
			if k, err = p.formAt(); err != nil {
				return err
			}
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
		if field != fieldOther {
			done, err := p.opValue(b, field, k)
			if err != nil {
				return err
			}
			if done {
				continue
			}
		}
		if isValue && p.values != nil {
			if v, n, ok := p.values.DecodeValue(FormatEDN, p.src[p.pos:]); ok {
				p.pos += n
				p.keyword = false // as formAt leaves it after a vector
				b.set(k, v)
				continue
			}
		}
		v, err := p.formAt()
		if err != nil {
			return err
		}
		b.set(k, v)
	}
}

// opValue reads the value of field f at p.pos (not blank) into b when it
// is a keyword (type) or an integer token (index, time, process), as form
// and set would. It returns false, having read nothing, for other values.
func (p *ednParser) opValue(b *opBuilder, f opField, k any) (bool, error) {
	c := p.src[p.pos]
	if f == fieldType {
		if c != ':' {
			return false, nil
		}
		p.keyword = false
		tok, err := p.keywordToken()
		if err != nil {
			return false, err
		}
		if t, ok := typeOf(tok); ok && b.seen&seenType == 0 {
			b.seen |= seenType
			b.op.Type = t
			return true, nil
		}
		b.set(k, p.name(tok))
		return true, nil
	}
	if !(c >= '0' && c <= '9' || c == '-' || c == '+') {
		return false, nil
	}
	start := p.pos
	p.keyword = false
	tok, err := p.token()
	if err != nil {
		return false, err
	}
	if !isNumberStart(tok) {
		p.pos = start // a symbol such as -x: form reads it
		return false, nil
	}
	if n, ok := smallInt(tok); ok {
		b.setInt(f, n)
		return true, nil
	}
	v, err := p.number(tok)
	if err != nil {
		return false, err
	}
	b.set(k, v)
	return true, nil
}

// opObject reads an op object from its '{' to its '}' into b:
// entriesOf(b.set), faster.
func (p *jsonParser) opObject(b *opBuilder) error {
	if p.depth >= maxDepth {
		return p.errorf("values nested deeper than %d", maxDepth)
	}
	p.depth++
	err := p.opMembers(b)
	p.depth--
	return err
}

func (p *jsonParser) opMembers(b *opBuilder) error {
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
		done := false
		if name, _ := k.(string); len(name) >= 4 && len(name) <= 7 {
			if f, _ := opFieldOf(name); f == fieldIndex || f == fieldTime || f == fieldProcess {
				if done, err = p.opInt(b, f, k); err != nil {
					return err
				}
			} else if name == "value" && p.values != nil {
				p.skipWS()
				if v, n, ok := p.values.DecodeValue(FormatJSONL, p.src[p.pos:]); ok {
					p.pos += n
					b.set(k, v)
					done = true
				}
			}
		}
		if !done {
			v, err := p.value()
			if err != nil {
				return err
			}
			b.set(k, v)
		}
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

// opInt reads the value of field f (index, time or process) into b when it
// is a number, as value and set would. It returns false, having read only
// blanks, for other values.
func (p *jsonParser) opInt(b *opBuilder, f opField, k any) (bool, error) {
	p.skipWS()
	if p.pos >= len(p.src) || !(p.src[p.pos] == '-' || p.src[p.pos] >= '0' && p.src[p.pos] <= '9') {
		return false, nil
	}
	tok, integral, err := p.scanNumber()
	if err != nil {
		return false, err
	}
	if integral {
		if n, ok := smallInt(tok); ok {
			b.setInt(f, n)
			return true, nil
		}
	}
	v, err := p.numberValue(tok, integral)
	if err != nil {
		return false, err
	}
	b.set(k, v)
	return true, nil
}
