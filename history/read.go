package history

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

// FileFormat is an on-disk history format. (Format, the function, renders
// values.)
type FileFormat uint8

const (
	// FormatUnknown means the format could not be told (or is to be
	// detected, in ReadOptions).
	FormatUnknown FileFormat = iota
	// FormatJSONL is Faultline's native history.jsonl: one JSON object per line.
	FormatJSONL
	// FormatEDN is Jepsen's history.edn: EDN op maps, one per line or in one
	// vector or list.
	FormatEDN
	// FormatText is Jepsen's history.txt: "process :type :f value [error]" lines.
	FormatText
	// FormatLog is a log with op lines among other output, such as Jepsen's
	// jepsen.log or Porcupine's etcd logs.
	FormatLog
)

var formatNames = [...]string{"unknown", "jsonl", "edn", "text", "log"}

// String returns the format's name: "jsonl", "edn", "text", "log" or "unknown".
func (f FileFormat) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("format(%d)", int(f))
}

// ParseFormat maps a format name (as returned by String) to a FileFormat.
func ParseFormat(s string) (FileFormat, error) {
	for i, n := range formatNames {
		if n == s && i != 0 {
			return FileFormat(i), nil
		}
	}
	return FormatUnknown, fmt.Errorf("unknown history format %q (want jsonl, edn, text or log)", s)
}

// OpReader reads the ops of a history one at a time. JSONLReader, EDNReader
// and TextReader implement it.
type OpReader interface {
	// Next returns the next op, or io.EOF after the last one. An op that
	// cannot be decoded is reported as a Problem error, after which Next may
	// be called again; other errors are final.
	Next() (Op, error)
	// Line returns the line on which the op last returned by Next starts.
	Line() int
}

// NewReader returns the streaming reader for format f (JSONL, EDN, text or
// log) over r; name is used in error messages.
func NewReader(r io.Reader, name string, f FileFormat) (OpReader, error) {
	switch f {
	case FormatJSONL:
		return NewJSONLReader(r, name), nil
	case FormatEDN:
		return NewEDNReader(r, name), nil
	case FormatText:
		return NewTextReader(r, name), nil
	case FormatLog:
		return NewLogReader(r, name), nil
	}
	return nil, fmt.Errorf("%s: cannot read history format %s", name, f)
}

// record is what a reader saw of one op besides the op itself (which the
// reader writes to the destination its caller gives): where it came from and
// what is wrong with it.
type record struct {
	line      int
	hasIndex  bool   // the op carried its own index
	prob      string // why the op is not usable, or ""
	noProcess bool   // the only problem is a missing process
	syntax    bool   // no op could be decoded at all
	source    string // text of the op, for problems
}

func (rec *record) problem(file string, op Op) Problem {
	idx := op.Index
	if rec.syntax {
		idx = -1
	}
	return Problem{File: file, Line: rec.line, Index: idx, Op: op, Msg: rec.prob, Source: rec.source}
}

// opCursor is what the readers' Next share: the input's name for messages,
// the line of the op last returned, and the op being read.
type opCursor struct {
	name string
	line int
	cur  Op
}

// deliver returns what Next returns for a record read into c.cur: its op,
// with the Problem it has, if any.
func (c *opCursor) deliver(rec record, err error) (Op, error) {
	if err != nil {
		return Op{}, err
	}
	c.line = rec.line
	op := c.cur
	c.cur = Op{}
	if rec.prob != "" {
		return op, rec.problem(c.name, op)
	}
	return op, nil
}

// lineReader reads the lines of a line-based history (JSONL, text, log),
// however long.
type lineReader struct {
	opCursor
	br   *bufio.Reader
	long []byte // accumulates a line longer than the bufio buffer
	ln   int    // lines read
}

func newLineReader(r io.Reader, name string) lineReader {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < readBufferSize {
		br = bufio.NewReaderSize(r, readBufferSize)
	}
	return lineReader{opCursor: opCursor{name: name}, br: br}
}

// readLine returns the next line without its line break, and whether the
// line ended with one, and counts it.
func (r *lineReader) readLine() ([]byte, bool, error) {
	r.long = r.long[:0]
	for {
		b, err := r.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			r.long = append(r.long, b...)
			continue
		}
		if len(r.long) > 0 {
			r.long = append(r.long, b...)
			b = r.long
		}
		if err == io.EOF {
			if len(b) == 0 {
				return nil, false, io.EOF
			}
			r.ln++
			return b, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("reading %s: %w", r.name, err)
		}
		r.ln++
		return b[:len(b)-1], true, nil
	}
}

// recordReader is what Read needs from a reader: next reads the next op
// into dst (which it overwrites) and returns what else it knows of it.
type recordReader interface {
	next(dst *Op) (record, error)
}

// DetectFormat tells the format of a history from the start of its content
// (not its name). It looks at the first thing that is not blank: '{' followed
// by a quoted key and ':' is JSONL; other '{', '[', '(', '#' or ';' is EDN; a
// line that starts with a process and an op type (3 :invoke ...) is Jepsen's
// history.txt; otherwise a line that holds an op after some prefix makes it
// a log. It returns FormatUnknown when none of these fit, including for
// blank input.
func DetectFormat(head []byte) FileFormat {
	b := bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF"))
	i := 0
	for i < len(b) && isWS(b[i]) && b[i] != ',' {
		i++
	}
	if i == len(b) {
		return FormatUnknown
	}
	switch b[i] {
	case '{':
		j := i + 1
		for j < len(b) && (b[j] == ' ' || b[j] == '\t' || b[j] == '\r') {
			j++
		}
		if j < len(b) && b[j] == '"' {
			k := j + 1
			for k < len(b) && b[k] != '"' && b[k] != '\n' {
				if b[k] == '\\' {
					k++
				}
				k++
			}
			k++
			spaced := false
			for k < len(b) && (b[k] == ' ' || b[k] == '\t') {
				k++
				spaced = true
			}
			// JSON: "key":value or "key" : value. EDN: "key" :keyword.
			if k < len(b) && b[k] == ':' && (!spaced || k+1 == len(b) || !isKeywordStart(b[k+1])) {
				return FormatJSONL
			}
		}
		if j < len(b) && b[j] == '}' {
			return FormatJSONL // {} is an op object in both; JSON is the native format
		}
		return FormatEDN
	case '[', '(', '#', ';':
		return FormatEDN
	}
	// One line of text: does it start with an op?
	lines := bytes.Split(b[i:], []byte("\n"))
	first := bytes.TrimRight(lines[0], " \t\r")
	if findOpStart(first) == 0 {
		return FormatText
	}
	if len(lines) > 1 && len(b) == len(head) {
		lines = lines[:len(lines)-1] // the last line may be cut short
	}
	for _, l := range lines {
		if findOpStart(bytes.TrimRight(l, " \t\r")) >= 0 {
			return FormatLog
		}
	}
	return FormatUnknown
}

func isKeywordStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '*' || c == '?' || c == '!'
}

// ReadOptions controls Read and ReadFile.
type ReadOptions struct {
	// Lenient reports ops that break the rules as problems and keeps the
	// rest, instead of failing on the first one. A caller that analyses a
	// history read with problems must not call it valid.
	Lenient bool
	// Format forces a format; FormatUnknown (the zero value) detects it from
	// the content.
	Format FileFormat
	// Values, when set, makes a ValueDecoder for each goroutine that reads
	// part of an EDN or JSON Lines file. Every op value is offered to it
	// before the general parser, so the history may hold values of the
	// decoder's own (Compact) types: a checker that knows them sets this
	// for a faster read in less memory. Values of other formats, and of
	// ops read sequentially (an input that cannot be cut), are never
	// offered.
	Values func() ValueDecoder
}

// readBufferSize is the size of the readers' buffers (lines and forms
// longer than this are still read whole).
const readBufferSize = 16 << 10

// detectLimit is how much of the input is examined to detect its format: a
// log may start with a lot of other output before its first op.
const detectLimit = 1 << 20

// ReadFile reads the history in the file at path; see Read.
func ReadFile(path string, opts ReadOptions) (*History, []Problem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return Read(f, path, opts)
}

// Read reads a whole history from r, whose name (usually the file name) is
// used in problems. The format is detected from the content unless
// opts.Format sets it. Blank input is an empty history.
//
// Every op is checked as it is decoded (fields, types) and then against the
// rules of a history (see New): a completion needs an invocation by the same
// process, a process does not invoke while its previous op is pending nor
// after an info completion. In strict mode the first problem, in file order,
// is returned as the error (a Problem naming file, line and op). In lenient
// mode the problems are returned and the remaining ops form the history; the
// error is then only for I/O failures and undetectable formats.
//
// Op.Index: when every op in the file carries an index it is kept as is;
// otherwise every op's index is set to its position in the file, counting
// from 0 (ops that were dropped still take their position). Histories
// written by Faultline have index == position.
//
// An op without a process (such as Elle's paper-example.edn, whose ops have
// only :index, :type and :value) is a problem in strict mode. In lenient mode
// it is reported too and kept when it can be paired without guessing: an
// invocation gets a fresh process number above every process in the file,
// and a completion gets the process of the one pending process-less
// invocation (it is dropped if there is not exactly one).
func Read(r io.Reader, name string, opts ReadOptions) (*History, []Problem, error) {
	size := inputSize(r)
	format := opts.Format
	if format == FormatUnknown {
		head, err := readHead(r)
		if err != nil {
			return nil, nil, fmt.Errorf("reading %s: %w", name, err)
		}
		format = DetectFormat(head)
		if format == FormatUnknown {
			if len(bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF")), " \t\r\n")) == 0 {
				h, _ := NewLenient(nil)
				return h, nil, nil
			}
			return nil, nil, fmt.Errorf("%s: not a history: found no JSONL, EDN or Jepsen text ops in its first %d bytes", name, len(head))
		}
		r = io.MultiReader(bytes.NewReader(head), r)
	}
	var g gathered
	switch format {
	case FormatJSONL, FormatEDN:
		if err := g.readChunked(r, name, format, chunkOptions{size: size, values: opts.Values}); err != nil {
			return nil, nil, err
		}
	case FormatText:
		if err := g.readAll(NewTextReader(r, name)); err != nil {
			return nil, nil, err
		}
	case FormatLog:
		if err := g.readAll(NewLogReader(r, name)); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, fmt.Errorf("%s: cannot read history format %s", name, format)
	}
	ops, metas, probs := g.concat()
	return assemble(ops, metas, probs, name, opts)
}

// inputSize returns the number of bytes left to read in r when r can tell
// (a regular file, or a reader of bytes in memory), or -1.
func inputSize(r io.Reader) int64 {
	switch x := r.(type) {
	case *os.File:
		st, err := x.Stat()
		if err != nil || !st.Mode().IsRegular() {
			return -1
		}
		off, err := x.Seek(0, io.SeekCurrent)
		if err != nil {
			return -1
		}
		return st.Size() - off
	case interface{ Len() int }:
		return int64(x.Len())
	}
	return -1
}

// recMeta is what Read keeps of a record besides its op.
type recMeta struct {
	line  int
	flags uint8
}

const (
	metaIndexed   uint8 = 1 << iota // the op carried its own index
	metaNoProcess                   // the only problem is a missing process
	metaSyntax                      // no op could be decoded
	metaProblem                     // the op is not usable as it is
)

// recProblem is the problem of a record.
type recProblem struct {
	msg, source string
}

func (m recMeta) problem(file string, op Op, rp recProblem) Problem {
	rec := record{line: m.line, prob: rp.msg, syntax: m.flags&metaSyntax != 0, source: rp.source}
	return rec.problem(file, op)
}

// readHead reads the start of the input, enough to detect its format: 16
// KiB, or up to detectLimit while the format is still unknown.
func readHead(r io.Reader) ([]byte, error) {
	head := make([]byte, 0, readBufferSize)
	for {
		n, err := io.ReadFull(r, head[len(head):cap(head)])
		head = head[:len(head)+n]
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return head, nil
		}
		if err != nil {
			return nil, err
		}
		if len(head) >= detectLimit || DetectFormat(head) != FormatUnknown {
			return head, nil
		}
		grown := make([]byte, len(head), min(2*cap(head), detectLimit))
		copy(grown, head)
		head = grown
	}
}

// assemble applies the index rule, the missing-process rule and the pairing
// rules to the ops of a file, keeping the usable ones in place.
func assemble(ops []Op, metas []recMeta, recProbs map[int]recProblem, name string, opts ReadOptions) (*History, []Problem, error) {
	allIndexed := true
	maxProc := -1
	for i, m := range metas {
		if m.flags&metaSyntax != 0 {
			continue
		}
		if m.flags&metaIndexed == 0 {
			allIndexed = false
		}
		if m.flags&metaProblem == 0 && ops[i].Process > maxProc {
			maxProc = ops[i].Process
		}
	}
	if !allIndexed {
		for i := range ops {
			if metas[i].flags&metaSyntax == 0 {
				ops[i].Index = i
			}
		}
	}
	var probs []Problem
	kept := 0
	pairer := NewPairer()
	nextAnon := maxProc + 1
	var anonOpen []int // synthetic processes with an open invocation
	for i := range ops {
		m, op := metas[i], &ops[i]
		if m.flags&metaNoProcess != 0 {
			p := m.problem(name, *op, recProbs[i])
			if !opts.Lenient {
				probs = append(probs, p)
				break
			}
			switch {
			case op.Type == Invoke:
				op.Process = nextAnon
				anonOpen = append(anonOpen, nextAnon)
				nextAnon++
				p.Msg = fmt.Sprintf("missing :process; kept as process %d", op.Process)
			case len(anonOpen) == 1:
				op.Process = anonOpen[0]
				anonOpen = anonOpen[:0]
				p.Msg = fmt.Sprintf("missing :process; kept as process %d, that of the one pending invocation without a process", op.Process)
			default:
				p.Msg = fmt.Sprintf("missing :process, and %d invocations without a process are pending: cannot pair it; dropped", len(anonOpen))
				probs = append(probs, p)
				continue
			}
			p.Op = *op
			probs = append(probs, p)
		} else if m.flags&metaProblem != 0 {
			probs = append(probs, m.problem(name, *op, recProbs[i]))
			if !opts.Lenient {
				break
			}
			continue
		}
		if msg := pairer.Check(op); msg != "" {
			probs = append(probs, Problem{File: name, Line: m.line, Index: op.Index, Op: *op, Msg: msg})
			if !opts.Lenient {
				break
			}
			continue
		}
		if kept != i {
			ops[kept] = *op
		}
		kept++
	}
	clear(ops[kept:])
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
	if !opts.Lenient && len(probs) > 0 {
		return nil, nil, probs[0]
	}
	return pairOps(ops[:kept:kept]), probs, nil
}

// IsProblem reports whether err is (or wraps) a Problem, and returns it.
func IsProblem(err error) (Problem, bool) {
	var p Problem
	ok := errors.As(err, &p)
	return p, ok
}
