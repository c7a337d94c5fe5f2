package history

import (
	"bytes"
	"io"
)

// TextReader reads Jepsen's text histories one op at a time: history.txt
// (NewTextReader) and log files (NewLogReader).
//
// An op line is
//
//	process  :type  :f  value  [error]
//
// separated by tabs or spaces (the columns are EDN forms, so the separator
// does not matter), e.g. "3\t:invoke\t:read\tnil" or ":nemesis\t:info\t:start\tnil".
// In a log the op may follow any prefix, e.g. "INFO  jepsen.util - 3\t:ok\t:read\t2";
// lines without an op are other log output and are skipped. In history.txt
// every non-blank line must be an op line.
//
// The error column is whatever follows the value. Jepsen prints it with
// print rather than pr, so it is read as one EDN form when it is one, and as
// its text (a string) otherwise.
//
// Old Jepsen clients (e.g. the etcd test behind Porcupine's logs) put the
// reason of a fail or info completion in the value column as a bare keyword:
// "3\t:info\t:write\t:timed-out". When a client fail or info line has no error
// column and its value column is a bare keyword (not a string) that differs
// from the value of the process's invocation, the reader moves it to
// Op.Error ("timed-out") and gives the completion the invocation's value, as
// a modern Jepsen client would record it ({:type :info, :value 3, :error
// :timed-out}). Checkers therefore see the written value of an info write,
// not a keyword, and the reason stays available in Error.
//
// Text histories carry no time (Op.Time is -1) and no index (Op.Index is the
// op's position in the file).
type TextReader struct {
	lineReader
	log     bool
	p       ednParser
	b       opBuilder
	pending map[int]any // client process -> value of its open invocation
	n       int         // ops seen (including undecodable ones)
	err     error
}

// NewTextReader returns a reader of a Jepsen history.txt in r: every
// non-blank line must be an op line. name is used in error messages.
func NewTextReader(r io.Reader, name string) *TextReader { return newTextReader(r, name, false) }

// NewLogReader returns a reader of the op lines in a Jepsen log (such as
// Porcupine's etcd logs): lines without an op are skipped.
func NewLogReader(r io.Reader, name string) *TextReader { return newTextReader(r, name, true) }

func newTextReader(r io.Reader, name string, log bool) *TextReader {
	return &TextReader{lineReader: newLineReader(r, name), log: log, pending: map[int]any{}, p: ednParser{lineMode: true}}
}

// Next returns the next op, or io.EOF after the last one. A line that cannot
// be decoded is returned as a Problem error; Next may then be called again to
// continue with the next line. Any other error (from the underlying reader)
// is final.
func (r *TextReader) Next() (Op, error) { return r.deliver(r.next(&r.cur)) }

// Line returns the line of the op last returned by Next.
func (r *TextReader) Line() int { return r.line }

func (r *TextReader) next(dst *Op) (record, error) {
	for {
		if r.err != nil {
			return record{}, r.err
		}
		line, _, err := r.readLine()
		if err != nil {
			r.err = err
			return record{}, err
		}
		line = bytes.TrimRight(line, " \t\r")
		start := 0
		for start < len(line) && (line[start] == ' ' || line[start] == '\t' || line[start] == 0xEF || line[start] == 0xBB || line[start] == 0xBF) {
			start++ // blanks and a byte order mark
		}
		if start == len(line) {
			continue
		}
		if r.log {
			start = findOpStart(line)
			if start < 0 {
				continue // other log output
			}
		}
		r.n++
		return r.parse(dst, line, start), nil
	}
}

// parse decodes the op line starting at line[start:] into dst.
func (r *TextReader) parse(dst *Op, line []byte, start int) record {
	p := &r.p
	p.src, p.pos, p.line, p.final, p.depth = line[start:], 0, r.ln, true, 0
	fail := func(err error) record {
		msg := err.Error()
		if se, ok := err.(*syntaxError); ok {
			msg = se.msg
		}
		*dst = Op{}
		return record{line: r.ln, prob: "syntax error: " + msg + "; expected process, :type, :f, value[, error]", syntax: true, source: snippet(line)}
	}
	b := &r.b
	b.reset(dst)
	proc, err := p.form()
	if err != nil {
		return fail(err)
	}
	typ, err := p.form()
	if err != nil {
		return fail(err)
	}
	b.set("process", proc)
	b.set("type", typ)
	if err := p.skipWS(); err != nil {
		return fail(err)
	}
	valueIsKeyword := false
	if p.pos < len(p.src) {
		f, err := p.form()
		if err != nil {
			return fail(err)
		}
		b.set("f", f)
		if err := p.skipWS(); err != nil {
			return fail(err)
		}
		if p.pos < len(p.src) {
			v, err := p.form()
			if err != nil {
				return fail(err)
			}
			_, isStr := v.(string)
			valueIsKeyword = isStr && p.keyword
			b.set("value", v)
		}
	}
	if err := p.skipWS(); err != nil {
		return fail(err)
	}
	hasError := false
	if p.pos < len(p.src) {
		hasError = true
		rest := p.src[p.pos:]
		e, err := p.form()
		if err == nil {
			if p.skipWS(); p.pos < len(p.src) {
				err = errIncomplete // more than one form: take the text
			}
		}
		if err != nil {
			e = validUTF8(rest)
		}
		b.set("error", e)
	}
	rec := record{line: r.ln}
	dst.Index = r.n - 1
	rec.prob, rec.noProcess = b.finish()
	if rec.prob != "" {
		rec.source = snippet(line)
		return rec
	}
	op := dst
	if op.Process != NemesisProcess {
		switch op.Type {
		case Invoke:
			r.pending[op.Process] = op.Value
		case OK, Fail, Info:
			inv, open := r.pending[op.Process]
			delete(r.pending, op.Process)
			if !hasError && valueIsKeyword && (op.Type == Fail || op.Type == Info) && !(open && Equal(inv, op.Value)) {
				op.Error = op.Value
				op.Value = inv
			}
		}
	}
	return rec
}

// findOpStart returns where the op starts in a log line: the first process
// token (an integer or :nemesis) that follows a blank or the start of the
// line and is followed by blanks, :invoke, :ok, :fail or :info, blanks and
// an f column that is a keyword, a string or nil. It returns -1 when the
// line has no op.
func findOpStart(line []byte) int {
	for i := 0; i < len(line); i++ {
		if line[i] != ':' || i == 0 || !isBlank(line[i-1]) {
			continue
		}
		j := i + 1
		for j < len(line) && !isTerm(line[j]) {
			j++
		}
		switch string(line[i+1 : j]) {
		case "invoke", "ok", "fail", "info":
		default:
			continue
		}
		if j == len(line) || !isBlank(line[j]) {
			continue
		}
		// The f column follows: a keyword, a string or nil.
		for j < len(line) && isBlank(line[j]) {
			j++
		}
		if j == len(line) || !(line[j] == ':' || line[j] == '"' || bytes.HasPrefix(line[j:], []byte("nil"))) {
			continue
		}
		k := i - 1
		for k >= 0 && isBlank(line[k]) {
			k--
		}
		end := k + 1
		for k >= 0 && !isBlank(line[k]) {
			k--
		}
		tok := line[k+1 : end]
		if isProcessToken(tok) {
			return k + 1
		}
	}
	return -1
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// isProcessToken reports whether tok is an integer or :nemesis.
func isProcessToken(tok []byte) bool {
	if string(tok) == ":nemesis" {
		return true
	}
	if len(tok) > 0 && tok[0] == '-' {
		tok = tok[1:]
	}
	if len(tok) == 0 {
		return false
	}
	for _, c := range tok {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
