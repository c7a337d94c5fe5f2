package history

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
)

// Read gathers the ops of a history in chunks (opChunk) and copies them once
// into one slice of the exact size.
//
// JSONL and EDN files are cut into chunks of whole lines that are parsed at
// the same time on all cores (readChunked), then put back in file order;
// pairing and the checks of a history stay sequential (assemble). A JSONL
// line is an op, so any line break is a place to cut. An EDN op may span
// lines and the file may be one vector of ops, so an EDN chunk starts only
// at a line that begins with '{' and is parsed on the guess that it starts
// at the top level, between ops. The guess is checked when the chunks are
// put together: the chunk before must have ended cleanly, at its last byte,
// outside any collection and on the line where the next chunk starts.
// Otherwise the rest of the file is read sequentially from where that chunk
// stopped, so the result is always the one a sequential read gives.

// opChunk is the ops read from one part of the input, in order, with what
// Read keeps of their records.
type opChunk struct {
	ops   []Op
	metas []recMeta
	probs []chunkProblem // by position in ops
	// ordinals is how many op ordinals the reader used (its n): ops that
	// carry no index get their ordinal, and a chunk's ordinals start at 0.
	ordinals int
}

type chunkProblem struct {
	pos int
	recProblem
}

// add reads the next record of rr into the chunk.
func (c *opChunk) add(rr recordReader) error {
	i := len(c.ops)
	c.ops = append(c.ops, Op{})
	rec, err := rr.next(&c.ops[i])
	if err != nil {
		c.ops = c.ops[:i]
		return err
	}
	c.keep(i, rec)
	return nil
}

// keep stores the record of the op at position i.
func (c *opChunk) keep(i int, rec record) {
	m := recMeta{line: rec.line}
	if rec.hasIndex {
		m.flags |= metaIndexed
	}
	if rec.noProcess {
		m.flags |= metaNoProcess
	}
	if rec.syntax {
		m.flags |= metaSyntax
	}
	if rec.prob != "" {
		m.flags |= metaProblem
		c.probs = append(c.probs, chunkProblem{i, recProblem{msg: rec.prob, source: rec.source}})
	}
	c.metas = append(c.metas, m)
}

// gathered is the ops read so far, in file order: in flat, when there is
// one and they fit, then in chunks.
type gathered struct {
	// flat, when not nil, has room for all the ops the input is expected
	// to hold: chunks are copied into it as they come, so that their own
	// slices can be used again.
	flat   *opChunk
	chunks []*opChunk
	n      int // ops in all chunks
}

// seqChunkSize is the number of ops per chunk when reading sequentially.
const seqChunkSize = 4096

// readAll reads every record of rr sequentially.
func (g *gathered) readAll(rr recordReader) error {
	c := &opChunk{ops: make([]Op, 0, 256)}
	defer func() { g.push(c) }()
	for {
		if len(c.ops) == seqChunkSize {
			g.push(c)
			c = &opChunk{ops: make([]Op, 0, seqChunkSize)}
		}
		if err := c.add(rr); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// push adds a chunk. It returns true when it copied the chunk's ops, whose
// slices may then be used again.
func (g *gathered) push(c *opChunk) bool {
	if len(c.ops) == 0 {
		return false
	}
	g.n += len(c.ops)
	if f := g.flat; f != nil && len(g.chunks) == 0 && len(f.ops)+len(c.ops) <= cap(f.ops) {
		base := len(f.ops)
		f.ops = append(f.ops, c.ops...)
		f.metas = append(f.metas, c.metas...)
		for _, p := range c.probs {
			f.probs = append(f.probs, chunkProblem{base + p.pos, p.recProblem})
		}
		return true
	}
	g.chunks = append(g.chunks, c)
	return false
}

// concat returns the ops, their records and their problems (by position)
// in one piece.
func (g *gathered) concat() ([]Op, []recMeta, map[int]recProblem) {
	if g.flat != nil {
		if len(g.flat.ops) > 0 {
			g.chunks = append([]*opChunk{g.flat}, g.chunks...)
		}
		g.flat = nil
	}
	probs := map[int]recProblem{}
	if len(g.chunks) == 1 {
		c := g.chunks[0]
		for _, p := range c.probs {
			probs[p.pos] = p.recProblem
		}
		return c.ops, c.metas, probs
	}
	ops := make([]Op, g.n)
	metas := make([]recMeta, g.n)
	// Copying is memory-bound work worth sharing out for large histories.
	var wg sync.WaitGroup
	parts := 1
	if g.n >= 1<<16 {
		parts = min(runtime.GOMAXPROCS(0), 4)
	}
	at := 0
	for k := 0; k < parts; k++ {
		first := k * len(g.chunks) / parts
		last := (k + 1) * len(g.chunks) / parts
		start := at
		for _, c := range g.chunks[first:last] {
			for _, p := range c.probs {
				probs[at+p.pos] = p.recProblem
			}
			at += len(c.ops)
		}
		chunks := g.chunks[first:last]
		copyPart := func() {
			i := start
			for _, c := range chunks {
				copy(ops[i:], c.ops)
				copy(metas[i:], c.metas)
				i += len(c.ops)
				c.ops, c.metas = nil, nil
			}
		}
		if k == parts-1 {
			copyPart()
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			copyPart()
		}()
	}
	wg.Wait()
	g.chunks = nil
	return ops, metas, probs
}

// chunkOptions tunes readChunked; the zero value picks the defaults. Tests
// use small blocks to cut inputs in many places.
type chunkOptions struct {
	size    int64 // size of the input, or <= 0 when not known
	block   int   // bytes per chunk, about
	maxLine int   // longest stretch without a place to cut; longer ones are read sequentially
	workers int   // parsing goroutines
	values  func() ValueDecoder
}

const (
	defaultChunkBlock = 1 << 20
	minChunkBlock     = 64 << 10
	defaultMaxLine    = 16 << 20
)

// chunkJob is one chunk to parse and, once done is closed, its result.
type chunkJob struct {
	data  []byte
	line  int  // line of data[0]
	final bool // data reaches the end of the input
	done  chan struct{}
	out   opChunk
	end   ednState // where an EDN parse stopped
	err   error
}

// ednState is where an EDNReader stopped: enough to carry on from there.
type ednState struct {
	pos, line, n      int
	coll              byte
	resync, lineStart bool
}

// chunkParser parses chunks of one format, keeping its parser (and its
// caches) from chunk to chunk.
type chunkParser struct {
	edn   *EDNReader
	jsonl *JSONLReader
	// opsPerKLine is the number of ops per 1000 lines seen so far, to
	// size a chunk's slices (one op per line is the usual).
	opsPerKLine int
}

// newChunkParser returns a parser for chunks of format, with a value
// decoder of its own from values when that is set.
func newChunkParser(name string, format FileFormat, values func() ValueDecoder) *chunkParser {
	cp := &chunkParser{opsPerKLine: 1000}
	var dec ValueDecoder
	if values != nil {
		dec = values()
	}
	if format == FormatEDN {
		cp.edn = &EDNReader{opCursor: opCursor{name: name}, chunk: true}
		cp.edn.p.values = dec
	} else {
		cp.jsonl = &JSONLReader{lineReader: lineReader{opCursor: opCursor{name: name}}}
		cp.jsonl.p.values = dec
	}
	return cp
}

func (cp *chunkParser) parse(j *chunkJob) {
	lines := bytes.Count(j.data, []byte{'\n'}) + 1
	size := lines
	if cp.opsPerKLine < 1000 {
		size = lines*(cp.opsPerKLine+50)/1000 + 16
	}
	if cap(j.out.ops) < size {
		j.out.ops = make([]Op, 0, size)
	}
	if cap(j.out.metas) < size {
		j.out.metas = make([]recMeta, 0, size)
	}
	if cp.edn != nil {
		cp.parseEDN(j)
	} else {
		cp.parseJSONL(j)
	}
	if lines >= 100 {
		cp.opsPerKLine = len(j.out.ops) * 1000 / lines
	}
}

func (cp *chunkParser) parseEDN(j *chunkJob) {
	r := cp.edn
	r.p.src, r.p.pos, r.p.line, r.p.final, r.p.depth = j.data, 0, j.line, j.final, 0
	r.coll, r.resync, r.lineStart, r.notOp, r.n, r.err = 0, false, false, nil, 0, nil
	for {
		err := j.out.add(r)
		if err == nil {
			continue
		}
		if err != io.EOF && err != errChunkEnd {
			j.err = err
		}
		break
	}
	j.out.ordinals = r.n
	j.end = ednState{pos: r.p.pos, line: r.p.line, n: r.n, coll: r.coll, resync: r.resync, lineStart: r.lineStart}
	r.p.src = nil
}

func (cp *chunkParser) parseJSONL(j *chunkJob) {
	r := cp.jsonl
	r.n = 0
	data := j.data
	ln := j.line - 1
	c := &j.out
	for len(data) > 0 {
		line, nl := data, false
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data, nl = data[:i], data[i+1:], true
		} else {
			data = nil
		}
		ln++
		i := len(c.ops)
		c.ops = append(c.ops, Op{})
		rec, ok := r.parseLine(&c.ops[i], line, nl, ln)
		if !ok {
			c.ops = c.ops[:i]
			continue
		}
		c.keep(i, rec)
	}
	c.ordinals = r.n
	r.p.src = nil
}

// splitter cuts the input into chunks of whole lines.
type splitter struct {
	r       io.Reader
	name    string
	edn     bool
	block   int
	maxLine int
	carry   []byte // read, not yet in a chunk
	line    int    // line of carry[0]
	eof     bool
	free    [][]byte // buffers of parsed chunks, for reuse
}

// errTooLong stops the splitter at a stretch of input without a place to
// cut within maxLine bytes; the rest is read sequentially.
var errTooLong = errors.New("no place to cut")

// next returns the next chunk and the line it starts on. final is true for
// the last one (which may be empty).
func (s *splitter) next() (data []byte, line int, final bool, err error) {
	want := s.block
	for {
		need := len(s.carry) + want
		var buf []byte
		if n := len(s.free); n > 0 && cap(s.free[n-1]) >= need {
			buf = s.free[n-1][:0]
			s.free = s.free[:n-1]
		} else {
			buf = make([]byte, 0, need+want/16)
		}
		buf = append(buf, s.carry...)
		for len(buf) < need && !s.eof {
			n, err := s.r.Read(buf[len(buf):need])
			buf = buf[:len(buf)+n]
			if err == io.EOF {
				s.eof = true
			} else if err != nil {
				return nil, 0, false, fmt.Errorf("reading %s: %w", s.name, err)
			}
		}
		if s.eof {
			s.carry = nil
			return buf, s.line, true, nil
		}
		cut := s.cut(buf)
		if cut <= 0 {
			s.carry = buf
			if len(buf) >= s.maxLine {
				return nil, 0, false, errTooLong
			}
			want = 2 * len(buf) // read more into a larger buffer
			continue
		}
		s.carry = append(s.carry[:0:0], buf[cut:]...)
		data = buf[:cut]
		line = s.line
		s.line += bytes.Count(data, []byte{'\n'})
		return data, line, false, nil
	}
}

// cut returns where to end a chunk of buf: after its last line break that
// is followed by the start of an op (EDN: '{'), or 0 if there is none.
func (s *splitter) cut(buf []byte) int {
	if !s.edn {
		return bytes.LastIndexByte(buf, '\n') + 1
	}
	for end := len(buf); end > 0; {
		i := bytes.LastIndexByte(buf[:end], '\n')
		if i < 0 {
			return 0
		}
		if i+1 < len(buf) && buf[i+1] == '{' {
			return i + 1
		}
		end = i
	}
	return 0
}

// rest is the input not yet cut into chunks.
func (s *splitter) rest() io.Reader {
	if s.eof {
		return bytes.NewReader(s.carry)
	}
	return io.MultiReader(bytes.NewReader(s.carry), s.r)
}

// readChunked reads a JSONL or EDN history, parsing chunks of it at the same
// time; see the comment at the top of this file.
func (g *gathered) readChunked(r io.Reader, name string, format FileFormat, o chunkOptions) error {
	if o.workers <= 0 {
		o.workers = runtime.GOMAXPROCS(0)
	}
	if o.block <= 0 {
		o.block = defaultChunkBlock
		if o.size > 0 {
			// A few chunks per worker even for a small input, so that
			// all of them have work to the end.
			o.block = min(defaultChunkBlock, max(minChunkBlock, int(o.size)/(4*o.workers)))
		}
	}
	if o.maxLine <= 0 {
		o.maxLine = defaultMaxLine
	}
	edn := format == FormatEDN
	s := &splitter{r: r, name: name, edn: edn, block: o.block, maxLine: max(o.maxLine, o.block), line: 1}

	var (
		queue   []*chunkJob // dispatched, in file order
		jobs    chan *chunkJob
		stop    atomic.Bool // set when the results are no longer wanted
		wg      sync.WaitGroup
		started bool
	)
	defer func() {
		if started {
			stop.Store(true)
			close(jobs)
			wg.Wait()
		}
	}()
	inline := newChunkParser(name, format, o.values) // for a single chunk or a single core
	var free []opChunk                               // slices of gathered chunks, to use again
	dispatch := func(j *chunkJob) {
		queue = append(queue, j)
		if n := len(free); n > 0 {
			j.out.ops, j.out.metas = free[n-1].ops, free[n-1].metas
			free = free[:n-1]
		}
		if o.workers == 1 || (j.final && len(queue) == 1) {
			inline.parse(j)
			close(j.done)
			return
		}
		if !started {
			started = true
			jobs = make(chan *chunkJob, 2*o.workers)
			for range o.workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					cp := newChunkParser(name, format, o.values)
					for j := range jobs {
						if !stop.Load() {
							cp.parse(j)
						}
						close(j.done)
					}
				}()
			}
		}
		jobs <- j
	}

	ordinals := 0      // op ordinals used by the chunks gathered
	var last *chunkJob // the last chunk gathered
	splitDone, tooLong := false, false
	for {
		for !splitDone && len(queue) < 2*o.workers {
			data, line, final, err := s.next()
			if err == errTooLong {
				splitDone, tooLong = true, true
				break
			}
			if err != nil {
				return err
			}
			dispatch(&chunkJob{data: data, line: line, final: final, done: make(chan struct{})})
			splitDone = final
		}
		if len(queue) == 0 {
			break
		}
		j := queue[0]
		queue = queue[1:]
		<-j.done
		if edn && last != nil && !cleanEnd(last, j) {
			// The guess that j starts between ops was wrong: read on from
			// where the chunk before it stopped.
			return g.readRest(s, last, append([]*chunkJob{j}, queue...), &stop, name, format, ordinals)
		}
		if last == nil && !j.final && o.size > 0 {
			// Expect the ops per byte of the first chunk throughout.
			est := int(float64(o.size)*float64(len(j.out.ops))/float64(max(len(j.data), 1))*1.03) + 256
			g.flat = &opChunk{ops: make([]Op, 0, est), metas: make([]recMeta, 0, est)}
		}
		ordinals += j.out.ordinals
		if g.gather(j, ordinals-j.out.ordinals) {
			free = append(free, opChunk{ops: j.out.ops[:0], metas: j.out.metas[:0]})
		}
		j.out = opChunk{}
		if last != nil && !last.final {
			s.free = append(s.free, last.data[:0])
		}
		last = j
	}
	if tooLong {
		return g.readRest(s, last, nil, &stop, name, format, ordinals)
	}
	return nil
}

// cleanEnd reports whether the EDN chunk prev ended where the parse of next
// (the chunk after it) started: at its last byte, at the top level, on
// next's first line.
func cleanEnd(prev, next *chunkJob) bool {
	e := prev.end
	return e.pos == len(prev.data) && e.coll == 0 && (!e.resync || e.lineStart) && e.line == next.line
}

// gather adds the ops of a parsed chunk, giving the ops that carry no index
// their ordinal in the file (ordinals is the number used before the
// chunk). It returns true when the chunk's slices may be used again.
func (g *gathered) gather(j *chunkJob, ordinals int) bool {
	c := j.out
	if ordinals > 0 {
		for i := range c.ops {
			if c.metas[i].flags&(metaIndexed|metaSyntax) == 0 {
				c.ops[i].Index += ordinals
			}
		}
	}
	return g.push(&c)
}

// readRest reads the rest of the input sequentially, from where the chunk
// last stopped (from the start when last is nil): the rest of last's data,
// then the chunks queued after it, then what the splitter has not cut.
// ordinals is the number of op ordinals used before that point.
func (g *gathered) readRest(s *splitter, last *chunkJob, queued []*chunkJob, stop *atomic.Bool, name string, format FileFormat, ordinals int) error {
	stop.Store(true)
	for _, j := range queued {
		<-j.done
	}
	if format == FormatJSONL {
		// Only for a line too long to cut: every chunk before it was whole
		// lines, and all of them have been gathered.
		r := NewJSONLReader(s.rest(), name)
		r.ln, r.n = s.line-1, ordinals
		return g.readAll(r)
	}
	var parts []io.Reader
	r := NewEDNReader(nil, name)
	r.n = ordinals
	if last != nil {
		e := last.end
		parts = append(parts, bytes.NewReader(last.data[e.pos:]))
		r.p.line, r.coll, r.resync, r.lineStart = e.line, e.coll, e.resync, e.lineStart
	}
	for _, j := range queued {
		parts = append(parts, bytes.NewReader(j.data))
	}
	r.r = io.MultiReader(append(parts, s.rest())...)
	return g.readAll(r)
}
