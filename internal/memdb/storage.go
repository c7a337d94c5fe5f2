package memdb

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// entry is one log entry; its index is its position in the log.
type entry struct {
	Term uint64  `json:"t"`
	Cmd  command `json:"c"`
}

// persisted is the state a replica keeps across crashes.
type persisted struct {
	term uint64
	vote string
	log  []entry // log[0] is a sentinel with term 0
}

// record is one change to the persisted state: new term and vote when From
// is 0, otherwise "the log from index From on is now Entries".
type record struct {
	Term    uint64  `json:"term,omitempty"`
	Vote    string  `json:"vote,omitempty"`
	From    uint64  `json:"from,omitempty"`
	Entries []entry `json:"entries,omitempty"`
}

func (p *persisted) apply(r *record) error {
	if r.From == 0 {
		p.term, p.vote = r.Term, r.Vote
		return nil
	}
	if r.From > uint64(len(p.log)) {
		return fmt.Errorf("log record starts at index %d but the log ends at %d", r.From, len(p.log)-1)
	}
	p.log = append(p.log[:r.From], r.Entries...)
	return nil
}

// storage keeps a replica's persisted state. Writes are buffered until
// sync; a crash loses what was not synced.
type storage interface {
	load() (persisted, error)
	write(r record)
	sync() error
	close() error
}

// memStorage is the storage of in-process replicas: it keeps the records
// (with their own copy of the entries, so that the replica's outgrown log
// arrays can be freed) and replays them on load.
type memStorage struct {
	mu      sync.Mutex
	durable []record
	pending []record
}

func newMemStorage() *memStorage { return &memStorage{} }

func (s *memStorage) load() (persisted, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := persisted{log: []entry{{}}}
	for i := range s.durable {
		if err := p.apply(&s.durable[i]); err != nil {
			return p, err
		}
	}
	// Keep the replayed state as two records: later loads stay cheap.
	s.durable = []record{{Term: p.term, Vote: p.vote}, {From: 1, Entries: p.log[1:]}}
	p.log = slices.Clone(p.log) // the replica's log must not share this array
	return p, nil
}

func (s *memStorage) write(r record) {
	r.Entries = slices.Clone(r.Entries)
	s.mu.Lock()
	s.pending = append(s.pending, r)
	s.mu.Unlock()
}

func (s *memStorage) sync() error {
	s.mu.Lock()
	s.durable = append(s.durable, s.pending...)
	s.pending = s.pending[:0]
	s.mu.Unlock()
	return nil
}

// crash drops everything written since the last sync.
func (s *memStorage) crash() {
	s.mu.Lock()
	s.pending = nil
	s.mu.Unlock()
}

func (s *memStorage) close() error { return nil }

// fileStorage appends records as JSON lines to DataDir/memdb.log; sync
// flushes and fsyncs.
type fileStorage struct {
	path string
	f    *os.File
	w    *bufio.Writer
	err  error
}

func openFileStorage(dir string) (*fileStorage, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("memdb: data dir: %w", err)
	}
	return &fileStorage{path: filepath.Join(dir, "memdb.log")}, nil
}

// load reads the log, cuts off a torn last record, and opens the file for
// appending.
func (s *fileStorage) load() (persisted, error) {
	data, err := os.ReadFile(s.path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return persisted{}, fmt.Errorf("memdb: %w", err)
	}
	p, good, err := parseLog(data)
	if err != nil {
		return persisted{}, fmt.Errorf("memdb: %s: %w", s.path, err)
	}
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return persisted{}, fmt.Errorf("memdb: %w", err)
	}
	if good < len(data) {
		if err := f.Truncate(int64(good)); err != nil {
			f.Close()
			return persisted{}, fmt.Errorf("memdb: cutting torn record: %w", err)
		}
	}
	if _, err := f.Seek(int64(good), 0); err != nil {
		f.Close()
		return persisted{}, fmt.Errorf("memdb: %w", err)
	}
	s.f, s.w = f, bufio.NewWriterSize(f, 64<<10)
	return p, nil
}

// parseLog replays a log file. It returns the state and the length of the
// intact prefix: a last record that is incomplete or unreadable (a write
// cut short by a crash) is not part of it; an unreadable earlier record is
// an error naming its line.
func parseLog(data []byte) (persisted, int, error) {
	p := persisted{log: []entry{{}}}
	off, line := 0, 0
	for off < len(data) {
		line++
		end := bytes.IndexByte(data[off:], '\n')
		last := end < 0
		if last {
			return p, off, nil // torn: no newline yet
		}
		var r record
		err := json.Unmarshal(data[off:off+end], &r)
		if err == nil {
			err = p.apply(&r)
		}
		if err != nil {
			if off+end+1 == len(data) {
				return p, off, nil // torn last record
			}
			return p, 0, fmt.Errorf("line %d: %w", line, err)
		}
		off += end + 1
	}
	return p, off, nil
}

func (s *fileStorage) write(r record) {
	if s.err != nil || s.w == nil {
		return
	}
	b, err := json.Marshal(r)
	if err == nil {
		b = append(b, '\n')
		_, err = s.w.Write(b)
	}
	s.err = err
}

func (s *fileStorage) sync() error {
	if s.err != nil {
		return s.err
	}
	if s.w == nil {
		return nil
	}
	if err := s.w.Flush(); err != nil {
		s.err = err
		return err
	}
	s.err = s.f.Sync()
	return s.err
}

// close closes the file without flushing: what was not synced is lost, as
// in a crash.
func (s *fileStorage) close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f, s.w = nil, nil
	return err
}
