package faultline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faultline/faultline/client"
	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/generator"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/nemesis"
)

// maxPendingWait is how long the interpreter waits for a completion when the
// generator says it has nothing to emit yet.
const maxPendingWait = time.Millisecond

// overdueGrace is how long past its timeout an operation may run before the
// interpreter gives up on its worker, records it as info and starts a new
// worker for the thread.
const overdueGrace = 2 * time.Second

// recorder receives every op as it happens.
type recorder interface {
	Write(op history.Op) error
}

// completion is what a worker sends back.
type completion struct {
	thread int
	epoch  uint64 // the worker's epoch; stale completions are dropped
	op     history.Op
}

// worker is the interpreter's view of one thread's goroutine.
type worker struct {
	thread int
	node   string
	epoch  uint64
	in     chan history.Op
	busy   bool
	since  time.Time // when the current op was handed over
	op     history.Op
}

// counts are the live counters shown by the progress line.
type counts struct {
	invoked, ok, fail, info atomic.Int64
	nemesis                 atomic.Pointer[string]
	started                 atomic.Int64 // unix ns when the test clock started
}

// interpreter runs a generator against clients and a nemesis: one goroutine
// per worker thread plus the nemesis, and this loop, which alone owns the
// generator, its context and the history.
type interpreter struct {
	env       *control.Env
	client    client.Client
	nemesis   nemesis.Nemesis // nil: no nemesis thread
	opTimeout time.Duration
	nemTime   time.Duration
	log       *slog.Logger
	rec       recorder
	start     time.Time

	gen     generator.Generator
	gctx    *generator.Context
	workers map[int]*worker // by thread; the nemesis thread is -1
	slots   []*worker       // workers by thread+1, for the hot path
	done    chan struct{}   // closed when the loop ends; unblocks stale workers
	compl   chan completion

	ops          opLog
	outstanding  int
	nemesisFails []string
	recordErr    error
	genErr       error     // the generator failed
	nextReap     time.Time // when to look for overdue workers next
	counts       *counts
	epoch        uint64
}

// errStop is returned by step functions to end the loop.
var errStop = errors.New("stop")

// run drives the generator until it is exhausted (or stop is closed) and
// every outstanding op has completed. It returns the ops recorded.
func (it *interpreter) run(stop <-chan struct{}) (ops []history.Op, err error) {
	it.done = make(chan struct{})
	it.compl = make(chan completion, len(it.workers)+1)
	maxThread := -1
	for th := range it.workers {
		maxThread = max(maxThread, th)
	}
	it.slots = make([]*worker, maxThread+2)
	for th, w := range it.workers {
		it.slots[th+1] = w
	}
	defer close(it.done)
	defer func() {
		for _, w := range it.slots {
			if w != nil {
				close(w.in)
			}
		}
		if p := recover(); p != nil {
			err = fmt.Errorf("interpreter panic: %v\n%s", p, debug.Stack())
		}
		if err == nil {
			err = errors.Join(it.genErr, it.recordErr)
		}
		ops = it.ops.all()
	}()
	it.startWorkers()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	stopping := false
	for {
		// Completions first: they free threads and inform the generator.
		select {
		case c := <-it.compl:
			it.complete(c)
			continue
		default:
		}
		if !stopping {
			select {
			case <-stop:
				stopping = true
				it.log.Info("interrupted: no new operations; waiting for outstanding ones", "outstanding", it.outstanding)
			default:
			}
		}
		if it.recordErr != nil && !stopping {
			stopping = true
		}
		wait := time.Duration(-1) // -1: wait for a completion only
		if !stopping {
			now := it.now()
			it.gctx = it.gctx.WithTime(now)
			var op history.Op
			var next generator.Generator
			st := generator.Exhausted
			if it.gen != nil { // a nil generator is exhausted
				op, next, st = it.gen.Op(it.gctx)
			}
			switch st {
			case generator.Exhausted:
				if it.outstanding == 0 {
					return nil, nil
				}
			case generator.Pending:
				wait = maxPendingWait
			case generator.Failed:
				it.log.Error("the generator failed; stopping the run", "err", generator.ErrorOf(op))
				it.genErr = fmt.Errorf("generator: %w", generator.ErrorOf(op))
				stopping = true
				continue
			case generator.Ready:
				if op.Time > now {
					wait = time.Duration(op.Time - now)
					break
				}
				if err := it.dispatch(op, next, now); err != nil {
					return nil, err
				}
				continue
			}
		} else if it.outstanding == 0 {
			return nil, nil
		}
		// Wait for a completion, a deadline, an interrupt or an overdue op.
		if ov := it.untilReap(); it.outstanding > 0 && (wait < 0 || ov < wait) {
			wait = ov
		}
		var tc <-chan time.Time
		if wait >= 0 {
			timer.Reset(wait)
			tc = timer.C
		}
		var stopC <-chan struct{}
		if !stopping {
			stopC = stop
		}
		select {
		case c := <-it.compl:
			it.complete(c)
		case <-tc:
		case <-stopC:
		}
		if tc != nil && !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

func (it *interpreter) now() int64 { return time.Since(it.start).Nanoseconds() }

// dispatch hands op to its thread's worker and records the invocation.
func (it *interpreter) dispatch(op history.Op, next generator.Generator, now int64) error {
	thread, ok := it.gctx.Thread(op.Process)
	if !ok {
		return fmt.Errorf("generator emitted an op for process %s, which no thread runs: %s", history.ProcessString(op.Process), op)
	}
	w := it.slot(thread)
	if w == nil || w.busy || !it.gctx.IsFree(thread) {
		return fmt.Errorf("generator emitted an op for busy thread %d: %s", thread, op)
	}
	switch op.Type {
	case history.Invoke, history.Sleep, history.Log:
	case history.Info:
		if thread == history.NemesisProcess {
			break
		}
		fallthrough
	default:
		return fmt.Errorf("generator emitted an op of type %q; want invoke, sleep or log: %s", op.Type, op)
	}
	if thread == history.NemesisProcess && op.Type == history.Invoke {
		// Nemesis ops are info on both ends, as in Jepsen.
		op.Type = history.Info
	}
	op.Time = now
	if op.Type == history.Invoke || op.Type == history.Info {
		op.Index = it.ops.n
		it.record(op)
		if op.Type == history.Invoke {
			it.counts.invoked.Add(1)
		}
	}
	it.gctx = it.gctx.BusyAt(now, thread)
	it.gen = next
	if next != nil {
		it.gen = next.Update(it.gctx, op)
	}
	w.busy = true
	w.since = time.Now()
	w.op = op
	it.outstanding++
	w.in <- op
	return nil
}

// complete takes a worker's completion into the history and the generator.
func (it *interpreter) complete(c completion) {
	w := it.slot(c.thread)
	if w == nil || c.epoch != w.epoch || !w.busy {
		return // a worker we gave up on finally returned
	}
	w.busy = false
	it.outstanding--
	now := it.now()
	op := c.op
	op.Time = now
	pseudo := op.Type == history.Sleep || op.Type == history.Log
	if !pseudo {
		op.Index = it.ops.n
		it.record(op)
		it.count(op)
		if c.thread == history.NemesisProcess && op.Error != nil {
			it.nemesisFails = append(it.nemesisFails, fmt.Sprintf("%s %s: %s", op.F, history.Format(w.op.Value), logText(op.Error)))
		}
	}
	it.gctx = it.gctx.FreeAt(now, c.thread)
	if it.gen != nil {
		it.gen = it.gen.Update(it.gctx, op)
	}
	if c.thread != history.NemesisProcess && op.Type == history.Info {
		it.gctx = it.gctx.WithNextProcess(c.thread)
	}
}

func (it *interpreter) count(op history.Op) {
	if op.Process == history.NemesisProcess {
		s := op.F
		if op.Value != nil {
			s += " " + history.Format(op.Value)
		}
		if len(s) > 60 {
			s = s[:57] + "..."
		}
		it.counts.nemesis.Store(&s)
		return
	}
	switch op.Type {
	case history.OK:
		it.counts.ok.Add(1)
	case history.Fail:
		it.counts.fail.Add(1)
	case history.Info:
		it.counts.info.Add(1)
	}
}

func (it *interpreter) record(op history.Op) {
	it.ops.add(op)
	if it.rec != nil && it.recordErr == nil {
		if err := it.rec.Write(op); err != nil {
			it.recordErr = fmt.Errorf("writing the history: %w", err)
			it.log.Error("cannot write the history; stopping the run", "err", err)
		}
	}
}

// timeoutFor is the limit after which an op of thread counts as overdue.
func (it *interpreter) timeoutFor(thread int) time.Duration {
	if thread == history.NemesisProcess {
		return it.nemTime + overdueGrace
	}
	return it.opTimeout + overdueGrace
}

// slot returns the worker of thread, or nil.
func (it *interpreter) slot(thread int) *worker {
	if thread+1 < 0 || thread+1 >= len(it.slots) {
		return nil
	}
	return it.slots[thread+1]
}

// reapEvery is how often the loop looks for overdue workers: often enough
// that an op is abandoned soon after timeout+grace, rarely enough to cost
// nothing per op.
func (it *interpreter) reapEvery() time.Duration {
	return min(100*time.Millisecond, max(it.opTimeout/4, time.Millisecond))
}

// untilReap returns how long until the next look for overdue workers, doing
// that look first when it is due.
func (it *interpreter) untilReap() time.Duration {
	now := time.Now()
	if !now.Before(it.nextReap) {
		it.reapOverdue()
		it.nextReap = now.Add(it.reapEvery())
	}
	return it.nextReap.Sub(now)
}

// reapOverdue gives up on workers whose op ran far past its timeout: the op is
// recorded as info and the thread gets a fresh worker (and, for clients, a new
// process and client), so one hung call cannot stall the test.
func (it *interpreter) reapOverdue() {
	now := time.Now()
	for _, w := range it.slots {
		if w == nil || !w.busy || w.op.Type == history.Sleep || now.Sub(w.since) < it.timeoutFor(w.thread) {
			continue
		}
		op := w.op
		op.Type = history.Info
		op.Error = fmt.Sprintf("timeout: no answer after %s; the call was abandoned", now.Sub(w.since).Round(time.Millisecond))
		it.log.Warn("operation overdue; abandoning its worker", "thread", w.thread, "op", w.op.String())
		close(w.in)
		nw := &worker{thread: w.thread, node: w.node}
		it.workers[w.thread] = nw
		it.slots[w.thread+1] = nw
		it.startWorker(nw, func() {})
		// Deliver the synthetic completion through the normal path.
		nw.busy = true
		it.complete(completion{thread: w.thread, epoch: nw.epoch, op: op})
	}
}

// startWorkers starts every worker and waits until each client thread has
// opened its client (or failed to), so that connection set-up does not
// count in the first operations' latencies. The test clock starts then.
func (it *interpreter) startWorkers() {
	var ready sync.WaitGroup
	for _, w := range it.workers {
		ready.Add(1)
		it.startWorker(w, ready.Done)
	}
	all := make(chan struct{})
	go func() { ready.Wait(); close(all) }()
	select {
	case <-all:
	case <-time.After(it.opTimeout + overdueGrace):
		it.log.Warn("some clients did not finish opening in time; starting anyway")
	}
	it.start = time.Now()
	it.counts.started.Store(it.start.UnixNano())
}

// startWorker starts the goroutine of w with a new epoch; ready is called
// once the worker can take ops.
func (it *interpreter) startWorker(w *worker, ready func()) {
	it.epoch++
	w.epoch = it.epoch
	w.in = make(chan history.Op, 1)
	if w.thread == history.NemesisProcess {
		ready()
		go it.nemesisWorker(w.in, w.epoch)
		return
	}
	go it.clientWorker(w.in, w.epoch, w.thread, w.node, ready)
}

func (it *interpreter) send(c completion) {
	select {
	case it.compl <- c:
	case <-it.done:
	}
}

// pseudo handles sleep and log ops in a worker.
func (it *interpreter) pseudo(op history.Op) {
	switch op.Type {
	case history.Sleep:
		if d, _ := generator.SleepDuration(op); d > 0 {
			select {
			case <-time.After(d):
			case <-it.done:
			}
		}
	case history.Log:
		it.log.Info(fmt.Sprint(logText(op.Value)))
	}
}

func logText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return history.Format(v)
}

// clientWorker runs one client thread: it opens a client for the thread's
// current process and invokes each op it is handed.
func (it *interpreter) clientWorker(in <-chan history.Op, epoch uint64, thread int, node string, ready func()) {
	ctx := context.Background()
	// Open eagerly for the thread's current process; a failure is retried
	// on the first op, which fails if it cannot open either.
	cl, err := it.openClient(ctx, node)
	if err != nil {
		it.log.Warn("cannot open client", "thread", thread, "node", node, "err", err)
		cl = nil
	}
	process := -2 // not yet bound: the first op binds the open client
	ready()
	defer func() {
		if cl != nil {
			it.closeClient(ctx, cl)
		}
	}()
	for op := range in {
		if op.Type == history.Sleep || op.Type == history.Log {
			it.pseudo(op)
			it.send(completion{thread: thread, epoch: epoch, op: op})
			continue
		}
		if process == -2 && cl != nil {
			process = op.Process
		}
		if op.Process != process {
			if cl == nil || !client.IsReusable(cl) {
				if cl != nil {
					it.closeClient(ctx, cl)
					cl = nil
				}
				c, err := it.openClient(ctx, node)
				if err != nil {
					// As Jepsen: an op on a process without a client fails.
					op.Type = history.Fail
					op.Error = []any{"no-client", err.Error()}
					it.send(completion{thread: thread, epoch: epoch, op: op})
					continue
				}
				cl = c
			}
			process = op.Process
		}
		it.send(completion{thread: thread, epoch: epoch, op: it.invokeClient(cl, op)})
	}
}

func (it *interpreter) openClient(ctx context.Context, node string) (c client.Client, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("client Open panicked: %v", p)
		}
	}()
	octx, cancel := context.WithTimeout(ctx, it.opTimeout)
	defer cancel()
	c, err = it.client.Open(octx, it.env, node)
	if err == nil && c == nil {
		err = errors.New("client Open returned no client")
	}
	return c, err
}

func (it *interpreter) closeClient(ctx context.Context, c client.Client) {
	defer func() {
		if p := recover(); p != nil {
			it.log.Warn("client Close panicked", "panic", p)
		}
	}()
	cctx, cancel := context.WithTimeout(ctx, it.opTimeout)
	defer cancel()
	if err := c.Close(cctx, it.env); err != nil {
		it.log.Debug("client close", "err", err)
	}
}

// invokeClient performs op and returns its completion; errors and panics
// become info, as the outcome is unknown.
func (it *interpreter) invokeClient(cl client.Client, op history.Op) (res history.Op) {
	defer func() {
		if p := recover(); p != nil {
			it.log.Error("client Invoke panicked", "op", op.String(), "panic", p, "stack", string(debug.Stack()))
			res = op
			res.Type = history.Info
			res.Error = fmt.Sprintf("panic: %v", p)
		}
	}()
	ictx := newOpContext(it.opTimeout)
	defer ictx.release()
	r, err := cl.Invoke(ictx, it.env, op)
	if err != nil {
		res = op
		res.Type = history.Info
		res.Error = errorValue(ictx, err)
		return res
	}
	return it.checkCompletion(op, r)
}

// errorValue records an error as a string; timeouts are marked as such.
func errorValue(ctx context.Context, err error) any {
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded {
		return "timeout: " + err.Error()
	}
	return err.Error()
}

// checkCompletion makes a client's completion well-formed: same process and
// f as the invocation, a completion type, a canonical value.
func (it *interpreter) checkCompletion(inv, r history.Op) history.Op {
	if r.Process != inv.Process || r.F != inv.F {
		it.log.Warn("client changed the process or f of an op; restoring them", "invoke", inv.String(), "completion", r.String())
		r.Process, r.F = inv.Process, inv.F
	}
	if r.Key == nil {
		r.Key = inv.Key
	}
	r.Value = history.Normalize(r.Value)
	r.Error = history.Normalize(r.Error)
	switch r.Type {
	case history.OK, history.Fail, history.Info:
	default:
		r.Value = inv.Value
		r.Error = fmt.Sprintf("client returned op type %q; recorded as info", r.Type)
		r.Type = history.Info
	}
	return r
}

// nemesisWorker runs the nemesis thread.
func (it *interpreter) nemesisWorker(in <-chan history.Op, epoch uint64) {
	ctx := context.Background()
	for op := range in {
		if op.Type == history.Sleep || op.Type == history.Log {
			it.pseudo(op)
			it.send(completion{thread: history.NemesisProcess, epoch: epoch, op: op})
			continue
		}
		it.send(completion{thread: history.NemesisProcess, epoch: epoch, op: it.invokeNemesis(ctx, op)})
	}
}

func (it *interpreter) invokeNemesis(ctx context.Context, op history.Op) (res history.Op) {
	defer func() {
		if p := recover(); p != nil {
			it.log.Error("nemesis panicked", "op", op.String(), "panic", p, "stack", string(debug.Stack()))
			res = op
			res.Type = history.Info
			res.Error = fmt.Sprintf("nemesis panic: %v", p)
		}
		res.Type = history.Info
		res.Process = history.NemesisProcess
	}()
	nctx, cancel := context.WithTimeout(ctx, it.nemTime)
	defer cancel()
	r, err := it.nemesis.Invoke(nctx, it.env, op)
	if err != nil {
		res = op
		res.Error = err.Error()
		return res
	}
	r.Value = history.Normalize(r.Value)
	r.Error = history.Normalize(r.Error)
	if r.F == "" {
		r.F = op.F
	}
	return r
}

// opLog keeps the recorded ops in fixed-size chunks, so that a long run never
// copies its history to grow it.
type opLog struct {
	chunks [][]history.Op
	n      int
}

const opChunk = 1 << 13

func (l *opLog) add(op history.Op) {
	if len(l.chunks) == 0 || len(l.chunks[len(l.chunks)-1]) == opChunk {
		l.chunks = append(l.chunks, make([]history.Op, 0, opChunk))
	}
	last := &l.chunks[len(l.chunks)-1]
	*last = append(*last, op)
	l.n++
}

// all returns the ops in one slice.
func (l *opLog) all() []history.Op {
	if len(l.chunks) == 1 {
		return l.chunks[0]
	}
	out := make([]history.Op, 0, l.n)
	for _, c := range l.chunks {
		out = append(out, c...)
	}
	return out
}
