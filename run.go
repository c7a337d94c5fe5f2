package faultline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/db"
	"github.com/faultline/faultline/generator"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/runstore"
)

// Result is what a run or an analysis produced.
type Result struct {
	// Name is the test name.
	Name string
	// Dir is the run folder ("" when nothing was stored).
	Dir string
	// Valid is the merged verdict.
	Valid checker.Validity
	// Results holds each checker's result.
	Results *Results
	// History is the analysed history.
	History *history.History
	// Counts are the client outcomes and nemesis ops.
	Counts Counts
	// Duration is the length of the main run (or of the history).
	Duration time.Duration
	// CheckTime is the time the checkers took.
	CheckTime time.Duration
	// Interrupted is true when the run was stopped by its context (SIGINT).
	Interrupted bool
	// Seed is the run's random seed.
	Seed int64
	// Concurrency is the number of client threads (0 if unknown).
	Concurrency int
	// Faults describes the nemesis in one phrase ("no faults" when none).
	Faults string
}

// Counts are the outcomes of a history's client ops.
type Counts struct {
	Invoked, OK, Fail, Info, Nemesis int
	// Errors counts the fail and info completions that carry an error, by
	// the error's name (see ErrorName).
	Errors map[string]int
}

// Completed is the number of client ops that completed (ok, fail or info).
func (c Counts) Completed() int { return c.OK + c.Fail + c.Info }

// Results is the content of results.json: the merged verdict, one result per
// checker, and notes on anything that weakened the verdict.
type Results struct {
	Valid    checker.Validity          `json:"valid"`
	Checkers map[string]checker.Result `json:"checkers"`
	Notes    []string                  `json:"notes,omitempty"`
}

// settle merges the checker results into r and applies the notes: a note
// means the run cannot be called valid.
func settle(name string, res checker.Result, notes []string) *Results {
	out := &Results{Notes: notes}
	if c, ok := res.(*checker.Composed); ok {
		out.Checkers = c.Checkers
	} else {
		out.Checkers = map[string]checker.Result{name: res}
	}
	vs := []checker.Validity{res.Verdict()}
	if len(notes) > 0 {
		vs = append(vs, checker.Unknown)
	}
	out.Valid = checker.Merge(vs...)
	return out
}

// Run executes t through Jepsen's life cycle: OS setup, DB teardown and setup
// (retried up to 3 times), nemesis and client setup, the run, client and
// nemesis teardown, log download, DB and OS teardown, analysis, results and
// summary. Cancelling ctx (SIGINT) stops the generator; the run then heals,
// tears down, keeps the history and still analyses it.
//
// An error means the run crashed (bad configuration, set-up that kept
// failing, a panic); Result may still be non-nil when a history exists.
func Run(ctx context.Context, t *Test) (res *Result, err error) {
	if t == nil {
		return nil, fmt.Errorf("%w: nil test", ErrConfig)
	}
	if err := t.check(); err != nil {
		return nil, err
	}
	tt := *t
	tt.withDefaults()
	if tt.Seed == 0 {
		tt.Seed = rand.Int64N(1<<53) + 1
	}
	r := &runner{t: &tt, began: time.Now()}
	defer r.closeLog()
	if err := r.open(); err != nil {
		return nil, err
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("faultline: run crashed: %v\n%s", p, debug.Stack())
			r.log.Error("run crashed", "panic", p)
		}
	}()
	return r.run(ctx)
}

// runner holds the state of one Run.
type runner struct {
	t       *Test
	began   time.Time
	dir     string
	log     *slog.Logger
	logFile *os.File
	env     *control.Env
	nem     nemesis.Nemesis // the nemesis Setup returned; nil without one
}

// open creates the run folder, the log and test.json.
func (r *runner) open() error {
	t := r.t
	var handlers []slog.Handler
	if t.Log != nil {
		handlers = append(handlers, t.Log.Handler())
	}
	if !t.NoStore {
		dir, err := runstore.Create(t.Store, t.Name, r.began)
		if err != nil {
			return err
		}
		r.dir = dir
		f, err := os.Create(filepath.Join(dir, runstore.LogFile))
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		r.logFile = f
		handlers = append(handlers, slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	r.log = slog.New(fanout(handlers))
	r.env = &control.Env{
		Name:        t.Name,
		Nodes:       append([]string(nil), t.Nodes...),
		Concurrency: t.Concurrency,
		Remote:      t.Remote,
		Dir:         r.dir,
		Log:         r.log,
		Seed:        t.Seed,
		Options:     t.Options,
	}
	if r.dir != "" {
		if err := runstore.WriteJSON(filepath.Join(r.dir, runstore.TestFile), testRecord(t, r.began)); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	return nil
}

func (r *runner) closeLog() {
	if r.logFile != nil {
		_ = r.logFile.Sync()
		_ = r.logFile.Close()
	}
}

// teardownTimeout bounds each teardown step, which runs even after an
// interrupt.
const teardownTimeout = 2 * time.Minute

func (r *runner) run(ctx context.Context) (*Result, error) {
	t, log := r.t, r.log
	log.Info("starting test", "name", t.Name, "nodes", t.Nodes, "concurrency", t.Concurrency,
		"time-limit", t.TimeLimit, "seed", t.Seed, "dir", r.dir)
	// Teardown and analysis run on a context that an interrupt does not cancel.
	bg := context.WithoutCancel(ctx)

	var notes []string
	var runErr error
	var ops []history.Op
	var started, interrupted bool
	var runTime time.Duration

	if err := r.reach(ctx); err != nil {
		return nil, err // nothing was set up: nothing to tear down
	}
	setupErr := r.setup(ctx)
	if setupErr == nil && ctx.Err() == nil {
		started = true
		var stats interpStats
		ops, stats, runErr = r.interpret(ctx)
		runTime = stats.duration
		interrupted = ctx.Err() != nil
		notes = append(notes, stats.notes...)
	} else if ctx.Err() != nil {
		interrupted = true
	}
	// Teardown always runs and always heals.
	r.teardown(bg)

	if setupErr != nil {
		if ctx.Err() == nil {
			return nil, setupErr
		}
		log.Warn("interrupted during set-up", "err", setupErr)
	}
	if !started {
		notes = append(notes, "the run was interrupted before any operation ran")
	}
	if interrupted {
		log.Warn("the run was interrupted; analysing the operations recorded so far")
	}
	res, err := r.analyse(bg, ops, notes)
	if res != nil {
		res.Interrupted = interrupted
		res.Duration = runTime
	}
	if runErr != nil {
		return res, runErr
	}
	return res, err
}

// reachTimeout bounds the first command on each node.
const reachTimeout = 30 * time.Second

// reach runs a first command on every node, before anything is set up, so
// that a node that cannot be reached (a wrong host, a refused key) ends the
// run with one clear error instead of failed set-up attempts and teardowns.
func (r *runner) reach(ctx context.Context) error {
	t := r.t
	if t.Remote == nil {
		return nil
	}
	err := control.OnNodes(ctx, t.Nodes, func(ctx context.Context, node string) error {
		ctx, cancel := context.WithTimeout(ctx, reachTimeout)
		defer cancel()
		_, err := t.Remote.Exec(ctx, node, control.Cmd{Args: []string{"true"}})
		var ee *control.ExitError
		if errors.As(err, &ee) && ee.Err != nil {
			err = ee.Err // the command could not run: say why, not which command
		}
		return err
	})
	if err != nil {
		r.log.Error("a node cannot be reached", "err", err)
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	return nil
}

// setup runs OS, DB, nemesis and client set-up.
func (r *runner) setup(ctx context.Context) error {
	t, env, log := r.t, r.env, r.log
	if t.OS != nil {
		log.Info("setting up the OS")
		if err := control.OnNodes(ctx, t.Nodes, func(ctx context.Context, node string) error {
			return t.OS.Setup(ctx, env, node)
		}); err != nil {
			return fmt.Errorf("OS setup: %w", err)
		}
	}
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		log.Info("setting up the DB", "attempt", attempt)
		r.dbTeardown(ctx)
		err = control.OnNodes(ctx, t.Nodes, func(ctx context.Context, node string) error {
			return t.DB.Setup(ctx, env, node)
		})
		if err == nil || ctx.Err() != nil {
			break
		}
		log.Warn("DB setup failed", "attempt", attempt, "err", err)
	}
	if err != nil {
		return fmt.Errorf("DB setup failed 3 times: %w", err)
	}
	if t.Nemesis != nil {
		n, err := t.Nemesis.Setup(ctx, env)
		if err != nil {
			return fmt.Errorf("nemesis setup: %w", err)
		}
		r.nem = n
	}
	c, err := t.Client.Open(ctx, env, t.Nodes[0])
	if err != nil {
		return fmt.Errorf("client open on %s for setup: %w", t.Nodes[0], err)
	}
	defer c.Close(context.WithoutCancel(ctx), env)
	if err := c.Setup(ctx, env); err != nil {
		return fmt.Errorf("client setup: %w", err)
	}
	return nil
}

// interpStats is what the interpreter reports besides the ops.
type interpStats struct {
	duration time.Duration
	notes    []string
}

// interpret runs the generator: the main phase under the time limit, then the
// final phase.
func (r *runner) interpret(ctx context.Context) ([]history.Op, interpStats, error) {
	t := r.t
	var st interpStats
	gen := t.Generator
	if t.TimeLimit > 0 {
		gen = generator.TimeLimit(t.TimeLimit, gen)
	}
	if t.FinalGenerator != nil {
		gen = generator.Phases(gen, t.FinalGenerator)
	}
	gen = generator.Validate(generator.Recover(gen))
	var rec recorder
	if r.dir != "" {
		w, err := history.CreateFileWriter(filepath.Join(r.dir, runstore.HistoryFile), history.FileWriterOptions{})
		if err != nil {
			return nil, st, fmt.Errorf("store: %w", err)
		}
		defer func() {
			if err := w.Close(); err != nil {
				r.log.Error("closing the history file", "err", err)
			}
		}()
		rec = w
	}
	it := &interpreter{
		env:       r.env,
		client:    t.Client,
		nemesis:   r.nem,
		opTimeout: t.OpTimeout,
		nemTime:   t.NemesisTimeout,
		log:       r.log,
		rec:       rec,
		gen:       gen,
		gctx:      generator.NewContext(t.Concurrency, r.nem != nil, t.Seed),
		workers:   map[int]*worker{},
		counts:    &counts{},
	}
	for i := 0; i < t.Concurrency; i++ {
		it.workers[i] = &worker{thread: i, node: t.Nodes[i%len(t.Nodes)]}
	}
	if r.nem != nil {
		it.workers[history.NemesisProcess] = &worker{thread: history.NemesisProcess}
	}
	stopProgress := startProgress(t.Progress, it, t.TimeLimit, r.log)
	r.log.Info("running", "concurrency", t.Concurrency, "time-limit", t.TimeLimit)
	ops, err := it.run(ctx.Done())
	stopProgress()
	st.duration = time.Since(it.start)
	if len(it.nemesisFails) > 0 {
		st.notes = append(st.notes, fmt.Sprintf("%d nemesis operation(s) failed, so faults may not have been injected as scheduled; first: %s",
			len(it.nemesisFails), it.nemesisFails[0]))
	}
	r.log.Info("run finished", "ops", len(ops), "duration", st.duration.Round(time.Millisecond))
	return ops, st, err
}

// teardown tears down clients, nemesis (healing every fault), downloads logs
// and tears down the DB and OS. Errors are logged, never fatal: every step
// runs.
func (r *runner) teardown(ctx context.Context) {
	t, env, log := r.t, r.env, r.log
	step := func(name string, f func(ctx context.Context) error) {
		sctx, cancel := context.WithTimeout(ctx, teardownTimeout)
		defer cancel()
		defer func() {
			if p := recover(); p != nil {
				log.Error(name+" panicked", "panic", p, "stack", string(debug.Stack()))
			}
		}()
		if err := f(sctx); err != nil {
			log.Error(name+" failed", "err", err)
		}
	}
	step("client teardown", func(ctx context.Context) error {
		c, err := t.Client.Open(ctx, env, t.Nodes[0])
		if err != nil {
			return err
		}
		defer c.Close(ctx, env)
		return c.Teardown(ctx, env)
	})
	if r.nem != nil {
		log.Info("tearing down the nemesis (healing all faults)")
		step("nemesis teardown", func(ctx context.Context) error { return r.nem.Teardown(ctx, env) })
	}
	if lf, ok := t.DB.(db.LogFiles); ok && t.Remote != nil && r.dir != "" {
		step("log download", func(ctx context.Context) error {
			return control.OnNodes(ctx, t.Nodes, func(ctx context.Context, node string) error {
				files, err := lf.LogFiles(ctx, env, node)
				if err != nil {
					return err
				}
				if err := os.MkdirAll(env.NodeDir(node), 0o755); err != nil {
					return err
				}
				var errs []error
				for _, f := range files {
					local := filepath.Join(env.NodeDir(node), filepath.Base(f))
					if err := t.Remote.Download(ctx, node, f, local); err != nil {
						errs = append(errs, err)
					}
				}
				return errors.Join(errs...)
			})
		})
	}
	if t.LeaveDBRunning {
		log.Info("leaving the DB running")
		return
	}
	step("DB teardown", func(ctx context.Context) error { r.dbTeardown(ctx); return nil })
	if t.OS != nil {
		step("OS teardown", func(ctx context.Context) error {
			return control.OnNodes(ctx, t.Nodes, func(ctx context.Context, node string) error {
				return t.OS.Teardown(ctx, env, node)
			})
		})
	}
}

// dbTeardown tears the DB down on every node, logging failures.
func (r *runner) dbTeardown(ctx context.Context) {
	err := control.OnNodes(ctx, r.t.Nodes, func(ctx context.Context, node string) error {
		return r.t.DB.Teardown(ctx, r.env, node)
	})
	if err != nil {
		r.log.Warn("DB teardown", "err", err)
	}
}

// analyse checks the recorded ops and writes history.edn and results.json.
func (r *runner) analyse(ctx context.Context, ops []history.Op, notes []string) (*Result, error) {
	t := r.t
	h, probs := history.NewLenient(ops)
	for _, p := range probs {
		r.log.Error("recorded op breaks the history rules", "problem", p.Error())
	}
	if len(probs) > 0 {
		notes = append(notes, fmt.Sprintf("%d recorded op(s) broke the history rules and were left out", len(probs)))
	}
	res, err := analyseHistory(ctx, h, t.Checker, r.dir, r.log, notes, checker.Options{
		RunDir: r.dir, Nodes: t.Nodes, Concurrency: t.Concurrency, Partial: len(probs) > 0,
	})
	if res == nil {
		return nil, err
	}
	res.Name, res.Seed, res.Concurrency = t.Name, t.Seed, t.Concurrency
	res.Faults = faultsPhrase(t)
	if r.dir != "" {
		if err2 := runstore.Finish(t.Store, r.dir); err2 != nil {
			r.log.Warn("store links", "err", err2)
		}
	}
	return res, err
}
