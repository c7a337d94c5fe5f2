package history

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// FileWriterOptions tunes a FileWriter. The zero value gives the defaults.
type FileWriterOptions struct {
	// FlushInterval bounds how long an op stays in memory: pending ops are
	// handed to the operating system with one write call at least this
	// often, so a SIGKILL of the process loses at most the ops of the last
	// FlushInterval. Default 5 ms.
	FlushInterval time.Duration
	// SyncInterval bounds how long written ops may stay out of stable
	// storage: the file is fsynced at least this often while ops are
	// written, so a crash of the machine loses at most about this much.
	// Default 100 ms; negative disables periodic syncs (Close still syncs).
	SyncInterval time.Duration
	// MaxBuffer is the number of pending bytes at which Write hands them to
	// the operating system itself instead of waiting for the next interval.
	// Default 64 KiB.
	MaxBuffer int
}

func (o FileWriterOptions) withDefaults() FileWriterOptions {
	if o.FlushInterval <= 0 {
		o.FlushInterval = 5 * time.Millisecond
	}
	if o.SyncInterval == 0 {
		o.SyncInterval = 100 * time.Millisecond
	}
	if o.MaxBuffer <= 0 {
		o.MaxBuffer = 64 << 10
	}
	return o
}

// FileWriter writes a history.jsonl as a test runs: Write encodes an op into
// memory, a background goroutine hands the pending ops to the file with one
// plain write per small batch every FlushInterval (5 ms), and another fsyncs
// the file every SyncInterval (100 ms) while there is something new. Close
// writes the rest and fsyncs. A SIGKILL of the process therefore loses only
// the ops of the last few milliseconds, and what is in the file is whole
// lines except possibly a cut-off last line, which the lenient reader
// reports and skips.
//
// A FileWriter is safe for concurrent use; the interpreter writes from one
// goroutine, and ops are written in the order of the Write calls. Write
// never waits for the disk except when MaxBuffer bytes are pending and no
// other write is under way. Errors are sticky: after a failed write every
// call returns the error.
type FileWriter struct {
	f    *os.File
	opts FileWriterOptions

	mu     sync.Mutex // guards buf, err, closed
	buf    []byte
	err    error
	closed bool

	ioMu    sync.Mutex // serialises writes to f; guards spare
	spare   []byte
	syncMu  sync.Mutex  // serialises fsyncs
	written atomic.Bool // bytes were written since the last fsync began

	done chan struct{}
	wg   sync.WaitGroup
}

// CreateFileWriter creates (or truncates) the file at path and returns a
// FileWriter for it.
func CreateFileWriter(path string, opts FileWriterOptions) (*FileWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	return NewFileWriter(f, opts), nil
}

// NewFileWriter returns a FileWriter that appends to f and closes it on
// Close.
func NewFileWriter(f *os.File, opts FileWriterOptions) *FileWriter {
	opts = opts.withDefaults()
	w := &FileWriter{f: f, opts: opts, buf: make([]byte, 0, opts.MaxBuffer+4096), spare: make([]byte, 0, opts.MaxBuffer+4096), done: make(chan struct{})}
	w.wg.Add(1)
	go w.loop(opts.FlushInterval, func() { _ = w.Flush() })
	if opts.SyncInterval > 0 {
		w.wg.Add(1)
		go w.loop(opts.SyncInterval, func() {
			if w.written.Load() {
				_ = w.sync()
			}
		})
	}
	return w
}

func (w *FileWriter) loop(every time.Duration, f func()) {
	defer w.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
			f()
		}
	}
}

// Write adds op to the history as one JSON line (see AppendJSON).
func (w *FileWriter) Write(op Op) error {
	w.mu.Lock()
	if w.err != nil || w.closed {
		err := w.errOrClosed()
		w.mu.Unlock()
		return err
	}
	w.buf = appendJSONOp(w.buf, &op)
	w.buf = append(w.buf, '\n')
	full := len(w.buf) >= w.opts.MaxBuffer
	w.mu.Unlock()
	if full && w.ioMu.TryLock() {
		w.flushLocked()
		w.ioMu.Unlock()
	}
	return nil
}

func (w *FileWriter) errOrClosed() error {
	if w.err != nil {
		return w.err
	}
	return fmt.Errorf("history file %s: %w", w.f.Name(), os.ErrClosed)
}

// Flush hands the pending ops to the operating system (without fsync).
func (w *FileWriter) Flush() error {
	w.ioMu.Lock()
	defer w.ioMu.Unlock()
	return w.flushLocked()
}

// flushLocked writes the pending bytes; w.ioMu is held.
func (w *FileWriter) flushLocked() error {
	w.mu.Lock()
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return err
	}
	data := w.buf
	w.buf = w.spare[:0]
	w.mu.Unlock()
	if len(data) == 0 {
		w.spare = data
		return nil
	}
	_, err := w.f.Write(data)
	w.spare = data[:0]
	w.written.Store(true)
	if err != nil {
		err = fmt.Errorf("writing history file: %w", err)
		w.mu.Lock()
		if w.err == nil {
			w.err = err
		}
		w.mu.Unlock()
	}
	return err
}

// Sync flushes the pending ops and fsyncs the file.
func (w *FileWriter) Sync() error {
	if err := w.Flush(); err != nil {
		return err
	}
	return w.sync()
}

func (w *FileWriter) sync() error {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.written.Store(false)
	if err := w.f.Sync(); err != nil {
		err = fmt.Errorf("syncing history file: %w", err)
		w.mu.Lock()
		if w.err == nil {
			w.err = err
		}
		w.mu.Unlock()
		return err
	}
	return nil
}

// Close writes the pending ops, fsyncs and closes the file, and stops the
// background goroutines. Calling Close again returns the first error, if
// any.
func (w *FileWriter) Close() error {
	w.mu.Lock()
	if w.closed {
		err := w.err
		w.mu.Unlock()
		return err
	}
	w.closed = true
	w.mu.Unlock()
	close(w.done)
	w.wg.Wait()
	err := w.Sync()
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing history file: %w", cerr)
	}
	w.mu.Lock()
	if w.err == nil && err != nil {
		w.err = err
	}
	w.mu.Unlock()
	return err
}
