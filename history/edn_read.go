package history

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// EDNReader reads the ops of a Jepsen history.edn one at a time. It accepts
// one op map per line (Jepsen's store and Elle's histories), one vector or
// list of op maps spanning the file (Knossos), op maps spread over several
// lines, records such as #jepsen.history.Op{...}, comments and #_ discards.
// History order is file order; ops are never sorted by time.
//
// Op maps are decoded as described in the package documentation: :index,
// :time, :type, :process, :f, :value, :error, :key and :node fill Op fields
// and all other entries go to Op.Extra. A missing :time is -1; a missing
// :index is the op's position in the file (counting from 0). Jepsen's
// independent [k v] tuples are left in Value; see UnwrapIndependent.
type EDNReader struct {
	opCursor
	r      io.Reader
	buf    []byte
	p      ednParser
	b      opBuilder
	coll   byte // closing byte of the top-level vector or list we are in, or 0
	resync bool // skipping to the next line that looks like the start of an op
	// lineStart: while resyncing, p.pos is at the start of a line that is
	// still to be looked at.
	lineStart bool
	notOp     any // a top-level form that is not an op map
	n         int // ops seen so far (including undecodable ones)
	err       error
	// chunk: the window is one chunk of a file that Read parses in parts;
	// reaching its end stops next with errChunkEnd instead of reading more.
	chunk bool
}

// errChunkEnd stops an EDNReader in chunk mode at the end of its chunk, at a
// point where reading can resume (see ednState).
var errChunkEnd = errors.New("end of chunk")

// NewEDNReader returns a reader of the EDN history in r; name (usually the
// file name) is used in error messages.
func NewEDNReader(r io.Reader, name string) *EDNReader {
	return &EDNReader{opCursor: opCursor{name: name}, r: r, buf: make([]byte, readBufferSize), p: ednParser{line: 1}}
}

// Next returns the next op, or io.EOF after the last one. An op that cannot
// be decoded is returned as a Problem error (with whatever could be decoded
// in its Op); Next may then be called again to continue with the next op. Any
// other error (from the underlying reader) is final.
func (r *EDNReader) Next() (Op, error) { return r.deliver(r.next(&r.cur)) }

// Line returns the line on which the op last returned by Next starts.
func (r *EDNReader) Line() int { return r.line }

// refill keeps the window from p.pos on and reads more input after it.
func (r *EDNReader) refill() error {
	p := &r.p
	if r.chunk {
		return errChunkEnd
	}
	n := copy(r.buf, p.src[p.pos:])
	if n == len(r.buf) {
		nb := make([]byte, 2*len(r.buf))
		copy(nb, r.buf[:n])
		r.buf = nb
	}
	for {
		m, err := r.r.Read(r.buf[n:])
		n += m
		if err == io.EOF {
			p.final = true
			break
		}
		if err != nil {
			r.err = fmt.Errorf("reading %s: %w", r.name, err)
			return r.err
		}
		if m > 0 {
			break
		}
	}
	p.src = r.buf[:n]
	p.pos = 0
	return nil
}

// next reads the next op into dst and returns its record.
func (r *EDNReader) next(dst *Op) (record, error) {
	p := &r.p
	for {
		if r.err != nil {
			return record{}, r.err
		}
		if r.resync {
			if err := r.skipToOpLine(); err != nil {
				return record{}, err
			}
			continue
		}
		start, startLine := p.pos, p.line
		err := p.skip()
		if err == errIncomplete {
			p.pos, p.line = start, startLine
			if err := r.refill(); err != nil {
				return record{}, err
			}
			continue
		}
		if err != nil {
			return r.syntax(dst, err, start, startLine)
		}
		if p.pos >= len(p.src) {
			if !p.final {
				if err := r.refill(); err != nil {
					return record{}, err
				}
				continue
			}
			if r.coll != 0 {
				c := r.coll
				r.coll = 0
				*dst = Op{}
				return record{line: p.line, prob: fmt.Sprintf("unexpected end of input: the history's top-level collection lacks its closing %q (truncated file?)", c), syntax: true}, nil
			}
			return record{}, io.EOF
		}
		c := p.src[p.pos]
		switch {
		case r.coll == 0 && (c == '[' || c == '('):
			r.coll = ']'
			if c == '(' {
				r.coll = ')'
			}
			p.pos++
			continue
		case r.coll != 0 && c == r.coll:
			r.coll = 0
			p.pos++
			continue
		case c == '{' || c == '#':
		default:
			// The problem quotes the rest of the line: have all of it.
			if err := r.fillLine(); err != nil {
				return record{}, err
			}
			p.pos++
			what := fmt.Sprintf("%q", c)
			if c == '[' || c == '(' {
				what = "a nested vector or list"
			}
			rec := record{line: p.line, prob: "expected an op map, found " + what, syntax: true, source: snippet(p.src[p.pos-1:])}
			r.resync = true
			*dst = Op{}
			return rec, nil
		}
		opStart, opLine := p.pos, p.line
		isMap, err := r.opForm(dst)
		if err == errIncomplete {
			p.pos, p.line = opStart, opLine
			if err := r.refill(); err != nil {
				return record{}, err
			}
			continue
		}
		if err != nil {
			return r.syntax(dst, err, opStart, opLine)
		}
		r.n++
		text := p.src[opStart:p.pos]
		if !isMap {
			*dst = Op{Index: r.n - 1, Time: -1}
			return record{line: opLine, prob: "expected an op map, found " + kindName(r.notOp), source: snippet(text)}, nil
		}
		return builtRecord(&r.b, opLine, r.n-1, text), nil
	}
}

// opForm reads the form at p.pos, which starts with '{' or '#'. An op map,
// or a record such as #jepsen.history.Op{...}, goes straight into dst
// (through r.b) and isMap is true; any other form is left in r.notOp.
func (r *EDNReader) opForm(dst *Op) (isMap bool, err error) {
	p := &r.p
	r.b.reset(dst)
	r.notOp = nil
	if p.src[p.pos] == '#' {
		// A record: #name{...} or #name {...}.
		if p.pos+1 >= len(p.src) {
			return false, p.endErr("a # form")
		}
		if c := p.src[p.pos+1]; c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			save, saveLine := p.pos, p.line
			p.pos++
			if _, err := p.token(); err != nil {
				return false, err
			}
			if err := p.skip(); err != nil {
				return false, err
			}
			if p.pos >= len(p.src) {
				return false, p.endErr("a tagged value")
			}
			if p.src[p.pos] != '{' {
				p.pos, p.line = save, saveLine
			}
		}
	}
	if p.src[p.pos] == '{' {
		p.pos++
		return true, p.opMap(&r.b)
	}
	r.notOp, err = p.form()
	return false, err
}

// builtRecord makes the record of the op b has built.
func builtRecord(b *opBuilder, line, ordinal int, text []byte) record {
	rec := record{line: line, hasIndex: b.seen&seenIndex != 0}
	if !rec.hasIndex {
		b.op.Index = ordinal
	}
	rec.prob, rec.noProcess = b.finish()
	if rec.prob != "" {
		rec.source = snippet(text)
	}
	return rec
}

// syntax turns a parse error into a problem record and starts resyncing.
func (r *EDNReader) syntax(dst *Op, err error, start, startLine int) (record, error) {
	var se *syntaxError
	msg := err.Error()
	line := startLine
	if errors.As(err, &se) {
		msg = se.msg
		if se.line != startLine {
			msg = fmt.Sprintf("%s (at line %d)", msg, se.line)
		}
	}
	// Continue after the line on which the error was found; the problem
	// quotes the form's first line, so have all of it.
	r.p.line = startLine
	r.p.pos = start
	if err := r.fillLine(); err != nil {
		return record{}, err
	}
	r.n++
	*dst = Op{}
	rec := record{line: line, prob: "syntax error: " + msg, syntax: true, source: snippet(r.p.src[r.p.pos:])}
	if se != nil && se.line > startLine {
		// Move to the error's line so that the skip starts there.
		for r.p.line < se.line {
			i := bytes.IndexByte(r.p.src[r.p.pos:], '\n')
			if i < 0 {
				break
			}
			r.p.pos += i + 1
			r.p.line++
		}
	}
	r.resync = true
	return rec, nil
}

// fillLine makes sure that the window holds the rest of the line at p.pos
// (up to its line break, or the end of the input), so that what is quoted
// from it does not depend on where the window happens to end.
func (r *EDNReader) fillLine() error {
	p := &r.p
	for !p.final && bytes.IndexByte(p.src[p.pos:], '\n') < 0 {
		if err := r.refill(); err != nil {
			return err
		}
	}
	return nil
}

// skipToOpLine skips to the start of the next line whose first non-blank
// byte may begin an op or close the top-level collection.
func (r *EDNReader) skipToOpLine() error {
	p := &r.p
	for {
		if !r.lineStart {
			i := bytes.IndexByte(p.src[p.pos:], '\n')
			if i < 0 {
				p.pos = len(p.src)
				if p.final {
					r.resync = false
					return nil
				}
				return r.refill()
			}
			p.pos += i + 1
			p.line++
		}
		r.lineStart = false
		j := p.pos
		for j < len(p.src) && (p.src[j] == ' ' || p.src[j] == '\t' || p.src[j] == '\r' || p.src[j] == ',') {
			j++
		}
		if j == len(p.src) && !p.final {
			r.lineStart = true // look at this line again after the refill
			return r.refill()
		}
		if j == len(p.src) || bytes.IndexByte([]byte("{#[]()"), p.src[j]) >= 0 {
			r.resync = false
			return nil
		}
	}
}

// kindName names the kind of a value for messages.
func kindName(v any) string {
	switch v.(type) {
	case nil:
		return "nil"
	case bool:
		return "a boolean"
	case int64, float64:
		return "a number"
	case string:
		return "a keyword or string"
	case []any:
		return "a vector or list"
	case Set:
		return "a set"
	case Map:
		return "a map"
	case Tagged:
		return "a tagged value"
	}
	return fmt.Sprintf("%T", v)
}

// snippet returns the start of b (up to its first line break and 100
// bytes) for error messages.
func snippet(b []byte) string {
	const max = 100
	cut := false
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	b = bytes.TrimRight(b, "\r")
	if len(b) > max {
		b = b[:max]
		cut = true
	}
	s := fixUTF8(b)
	if cut {
		s += "…"
	}
	return s
}
