package linear

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/model"
)

// HTMLFile is the name of the timeline New's checker writes into
// checker.Options.Dir for an invalid history.
const HTMLFile = "linear.html"

// New returns a checker.Checker named "linear" that checks histories against
// model m.
func New(m model.Model, opts Options) checker.Checker { return &linearChecker{m: m, opts: opts} }

type linearChecker struct {
	m    model.Model
	opts Options
}

func (c *linearChecker) Name() string { return "linear" }

// Check implements checker.Checker. When opts.Dir is set and the history is
// not linearizable it writes linear.html there.
func (c *linearChecker) Check(ctx context.Context, h *history.History, opts checker.Options) (checker.Result, error) {
	r := Check(ctx, h, c.m, c.opts)
	if opts.Dir != "" && r.Valid == checker.Invalid {
		if err := writeHTML(filepath.Join(opts.Dir, HTMLFile), h, r); err != nil && opts.Log != nil {
			opts.Log.Warn("could not write linearizability timeline", "err", err)
		}
	}
	return r, nil
}

func writeHTML(path string, h *history.History, r *Result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := RenderHTML(f, h, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// partResult is the outcome of one part.
type partResult struct {
	p        *part
	verdict  checker.Validity
	cause    int32
	err      error
	explored int64
	okOps    int
	depth    int
	failure  *Failure // when invalid
}

// Check checks h against model m: fail ops are dropped, crashed ops (info, or
// never completed) may take effect at any time after their invocation or
// never, nemesis ops are ignored. Keyed histories are split per key and the
// keys checked in parallel. It never panics on bad input and always
// returns a result: an error or an exhausted budget gives Unknown.
func Check(ctx context.Context, h *history.History, m model.Model, opts Options) *Result {
	opts = opts.withDefaults()
	r := &Result{Valid: checker.Unknown, Analyzer: Analyzer, Model: m.Name(), independent: opts.Independent}
	if h == nil {
		r.Cause, r.Error = "error", "no history"
		return r
	}
	col, err := collect(h, opts.Independent)
	if err != nil {
		r.Cause, r.Error = "error", err.Error()
		return r
	}
	r.Ops, r.Failed, r.Crashed = len(col.calls), col.failed, col.crashed
	parts, err := partition(h, col, m, opts.NoSplit, opts.Independent)
	if err != nil {
		r.Cause, r.Error = "error", err.Error()
		return r
	}
	r.Keys = len(parts)
	for i := range parts {
		if parts[i].keyed {
			r.keyed = true
		}
	}

	if opts.TimeBudget > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.TimeBudget)
		defer cancel()
	}
	stop := &stopper{limit: opts.MemoryBudget, ctx: ctx}
	results := runParts(h, parts, m, opts, stop)
	assemble(r, results)
	return r
}

// quantum is how many search steps a key runs before the worker moves on
// to the next key, so that one hard key does not hold up the others (and
// an easy failure is found early).
const quantum = 1 << 13

// task is a part being checked; a search that used up its quantum goes
// back to the end of the queue.
type task struct {
	res *partResult
	s   *search
	m   model.Machine
}

// runParts checks the parts on a bounded pool of workers, largest first,
// round robin by quantum.
func runParts(h *history.History, parts []part, m model.Model, opts Options, stop *stopper) []partResult {
	results := make([]partResult, len(parts))
	queue := make([]*task, len(parts))
	for i := range parts {
		results[i] = partResult{p: &parts[i], verdict: checker.Unknown}
		queue[i] = &task{res: &results[i]}
	}
	slices.SortStableFunc(queue, func(a, b *task) int { return cmp.Compare(len(b.res.p.calls), len(a.res.p.calls)) })
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(parts))
	var mu sync.Mutex
	pop := func() *task {
		mu.Lock()
		defer mu.Unlock()
		if len(queue) == 0 {
			return nil
		}
		t := queue[0]
		queue = queue[1:]
		return t
	}
	work := func() {
		var mem *memo // reused by the searches of this worker
		for t := pop(); t != nil; t = pop() {
			if c := stop.cause.Load(); c != causeNone && t.s == nil {
				t.res.cause = c
				continue
			}
			if t.s == nil && mem == nil {
				mem = newMemo()
			}
			if !step(h, m, t, stop, mem, opts.Independent) {
				mu.Lock()
				queue = append(queue, t)
				mu.Unlock()
				if t.s.memo == mem {
					mem = nil // the suspended search keeps it
				}
				continue
			}
			if t.res.verdict == checker.Invalid && !opts.AllKeys {
				stop.halt(causeSkipped)
			}
		}
	}
	var wg sync.WaitGroup
	if workers <= 1 {
		work()
		return results
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	wg.Wait()
	return results
}

// step runs a task for one quantum; it reports whether the task is done.
// A panic in a model becomes an error.
func step(h *history.History, m model.Model, t *task, stop *stopper, mem *memo, independent bool) (done bool) {
	res := t.res
	defer func() {
		if p := recover(); p != nil {
			res.verdict, res.err, done = checker.Unknown, fmt.Errorf("panic while checking with model %s: %v", m.Name(), p), true
			if t.s != nil {
				t.s.release()
			}
		}
	}()
	if t.s == nil {
		calls := res.p.calls
		res.p.buildOps(h, independent)
		mach, err := m.Compile(res.p.ops)
		if err != nil {
			res.err = err
			return true
		}
		t.m = mach
		if pc, ok := mach.(model.Prechecker); ok {
			tm := model.Timing{Invoke: make([]int64, len(calls)), Return: make([]int64, len(calls))}
			for i := range calls {
				tm.Invoke[i], tm.Return[i] = int64(calls[i].inv), int64(calls[i].ret)
			}
			if bad, why := pc.Precheck(tm); bad >= 0 {
				res.verdict = checker.Invalid
				res.failure, res.explored = firstFailure(h, m, res.p, bad, stop)
				if res.failure == nil {
					res.failure = failure(h, res.p, mach, bad, why, nil)
				}
				return true
			}
		}
		t.s = newSearch(mach, calls, stop, mem)
		res.okOps = int(t.s.nOK)
	}
	s := t.s
	r := s.run(quantum)
	res.explored, res.depth = s.explored, s.maxDepth
	switch r {
	case runYield:
		return false
	case runAborted:
		res.cause = stop.cause.Load()
		if s.bestR > 0 {
			res.depth = max(res.depth, int(s.bestR))
		}
	case runValid:
		res.verdict = checker.Valid
	default:
		res.verdict = checker.Invalid
		res.failure = failure(h, res.p, t.m, int(s.callOf[s.bestR]), "", s.ends)
	}
	t.s, t.m = nil, nil // let the memory go
	return true
}

// firstFailure looks for the first op that cannot be linearized when op
// bad is known to be impossible: it searches the history up to bad's
// completion (ops still pending then may or may not have happened), which
// must fail at bad or earlier, and returns that failure with its evidence.
// It gives up (nil) after a bounded effort.
func firstFailure(h *history.History, m model.Model, p *part, bad int, stop *stopper) (*Failure, int64) {
	end := p.calls[bad].ret
	pre := part{key: p.key, keyed: p.keyed}
	for i, c := range p.calls {
		if c.inv >= end {
			break
		}
		if c.ret > end {
			c.ret = -1 // pending at the cut
		}
		pre.calls = append(pre.calls, c)
		pre.ops = append(pre.ops, p.ops[i])
	}
	mach, err := m.Compile(pre.ops)
	if err != nil {
		return nil, 0
	}
	s := newSearch(mach, pre.calls, stop, nil)
	if s.run(1<<20) != runInvalid {
		s.release() // after a yield; harmless otherwise
		return nil, s.explored
	}
	return failure(h, &pre, mach, int(s.callOf[s.bestR]), "", s.ends), s.explored
}

// assemble merges the parts' outcomes into r.
func assemble(r *Result, results []partResult) {
	verdicts := make([]checker.Validity, 0, len(results))
	var errs []string
	var cause int32
	for i := range results {
		res := &results[i]
		r.Explored += res.explored
		switch {
		case res.err != nil:
			errs = append(errs, res.err.Error())
			verdicts = append(verdicts, checker.Unknown)
		case res.verdict == checker.Invalid:
			r.Failures = append(r.Failures, *res.failure)
			verdicts = append(verdicts, checker.Invalid)
		case res.verdict == checker.Valid:
			verdicts = append(verdicts, checker.Valid)
		default:
			verdicts = append(verdicts, checker.Unknown)
			if res.cause == causeSkipped {
				r.Unchecked++
			} else {
				if cause == causeNone {
					cause = res.cause
				}
				if len(r.Unfinished) < 20 {
					r.Unfinished = append(r.Unfinished, Progress{Key: jsonValue(res.p.key), Linearized: res.depth, OKOps: res.okOps, Explored: res.explored})
				}
			}
		}
	}
	r.Valid = checker.Merge(verdicts...)
	switch {
	case r.Valid == checker.Invalid:
	case len(errs) > 0:
		r.Cause, r.Error = "error", errs[0]
	case r.Valid == checker.Unknown:
		r.Cause = causeNames[cause]
	}
	if len(r.Failures) > 0 {
		slices.SortFunc(r.Failures, func(a, b Failure) int { return cmp.Compare(a.Op.comp, b.Op.comp) })
		f := r.Failures[0]
		r.Key, r.Op, r.PreviousOK, r.Reason, r.Configs, r.FinalPaths = f.Key, f.Op, f.PreviousOK, f.Reason, f.Configs, f.FinalPaths
		if !r.keyed {
			r.Failures[0].Key = nil
		}
	}
}

// opRef describes call i of a part.
func opRef(h *history.History, p *part, i int) *OpRef {
	c, op := &p.calls[i], &p.ops[i]
	inv := &h.Ops[c.inv]
	o := &OpRef{
		Process: process(inv.Process), Type: "invoke", F: inv.F, Value: jsonValue(op.Value),
		Index: inv.Index, InvokeIndex: inv.Index, Time: inv.Time,
		inv: c.inv, comp: c.comp, key: op.Key, value: op.Value,
	}
	if c.comp >= 0 {
		comp := &h.Ops[c.comp]
		o.Type, o.Index, o.Time = comp.Type.String(), comp.Index, comp.Time
	}
	if o.Time < 0 {
		o.Time = 0
	}
	return o
}

func process(p int) any {
	if p == history.NemesisProcess {
		return "nemesis"
	}
	return p
}

// failure builds the evidence that a part is not linearizable: call fail
// could not be linearized, for the reason given (a precheck) or as the dead
// ends show.
func failure(h *history.History, p *part, m model.Machine, fail int, reason string, ends []deadEnd) *Failure {
	calls := p.calls
	fc := &calls[fail]
	f := &Failure{Key: jsonValue(p.key), keyed: p.keyed, rawKey: p.key, Op: opRef(h, p, fail), Reason: reason}
	// previous ok: the last ok completion of this part before the op's.
	prev := -1
	for i := range calls {
		if c := &calls[i]; c.ret >= 0 && c.ret < fc.ret && (prev < 0 || c.ret > calls[prev].ret) {
			prev = i
		}
	}
	if prev >= 0 {
		f.PreviousOK = opRef(h, p, prev)
	}
	for k, e := range ends {
		cfg := Config{Model: m.Describe(e.state), Linearized: e.depth, PendingMore: e.more, Pending: []*OpRef{}}
		if n := len(e.path); n > 0 {
			cfg.LastOp = opRef(h, p, int(e.path[n-1].call))
		}
		for _, c := range e.pending {
			cfg.Pending = append(cfg.Pending, opRef(h, p, int(c)))
		}
		f.Configs = append(f.Configs, cfg)
		path := make([]Step, 0, len(e.path)+1)
		for _, st := range e.path {
			path = append(path, Step{Op: opRef(h, p, int(st.call)), Model: m.Describe(st.state)})
		}
		why := m.Explain(e.state, fail)
		path = append(path, Step{Op: f.Op, Error: why})
		f.FinalPaths = append(f.FinalPaths, path)
		if k == 0 && f.Reason == "" {
			f.Reason = why
		}
	}
	if f.Reason == "" {
		f.Reason = "no linearization reaches it"
	}
	return f
}
