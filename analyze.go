package faultline

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/report"
	"github.com/faultline/faultline/runstore"
)

// AnalyzeOptions configures Analyze.
type AnalyzeOptions struct {
	// Checker analyses the history; required.
	Checker checker.Checker
	// Name is the test name of a new run folder; by default the stored
	// run's name, or "analyze-<file name>".
	Name string
	// Store is the base folder for new run folders (default "store").
	Store string
	// NoStore writes nothing: no run folder, no results file.
	NoStore bool
	// Strict makes any malformed op an error instead of being skipped.
	Strict bool
	// Log receives progress messages; nil discards them.
	Log *slog.Logger
}

// Analyze checks a stored run or a history file again. path may be a
// Faultline run folder (or a link such as store/latest), a Jepsen store
// folder (history.edn + results.edn), or a history file in JSON Lines, Jepsen
// EDN or Jepsen text/log format (detected from its content).
//
// Results of a Faultline run folder are rewritten in place; for a history file
// or a Jepsen folder, a new run folder is made holding a copy of the input,
// the history in both formats and the results, never beside the input.
// Malformed ops are reported and left out (unless Strict); a history with ops
// left out is never called valid.
//
// A checker that implements checker.ValueDecoding (the list-append and
// rw-register checkers) reads the values itself: the Result's History
// then holds history.Compact values (history.Expand gives the usual ones).
func Analyze(ctx context.Context, path string, opts AnalyzeOptions) (*Result, error) {
	if opts.Checker == nil {
		return nil, fmt.Errorf("%w: analyze needs a checker", ErrConfig)
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	src, err := runstore.Resolve(path)
	if err != nil {
		return nil, err
	}
	ro := history.ReadOptions{Lenient: !opts.Strict}
	if vd, ok := opts.Checker.(checker.ValueDecoding); ok {
		ro.Values = vd.ValueDecoder() // the transactional checkers' compact micro-ops
	}
	h, probs, err := history.ReadFile(src.History, ro)
	if err != nil {
		return nil, err
	}
	var notes []string
	for i, p := range probs {
		if i < 20 {
			log.Warn("skipped malformed op", "problem", p.Error())
		}
	}
	if len(probs) > 0 {
		notes = append(notes, fmt.Sprintf("%d malformed op(s) were skipped, first: %s", len(probs), probs[0].Error()))
	}
	name := opts.Name
	rec := readTestRecord(src.Dir)
	if name == "" {
		name = rec.Name
	}
	if name == "" {
		name = "analyze-" + sanitize(strings.TrimSuffix(filepath.Base(src.History), filepath.Ext(src.History)))
	}
	dir := ""
	if !opts.NoStore {
		if src.Kind == runstore.KindRun {
			dir = src.Dir
		} else {
			base := opts.Store
			if base == "" {
				base = runstore.DefaultBase
			}
			dir, err = runstore.Create(base, name, time.Now())
			if err != nil {
				return nil, err
			}
			if err := copyFile(src.History, filepath.Join(dir, "input-"+filepath.Base(src.History))); err != nil {
				return nil, err
			}
			if err := writeOps(filepath.Join(dir, runstore.HistoryFile), h.Ops, history.WriteJSONL); err != nil {
				return nil, err
			}
			if err := runstore.WriteJSON(filepath.Join(dir, runstore.TestFile), map[string]any{
				"name": name, "analyzed-from": absPath(path), "checker": opts.Checker.Name(),
				"analyzed-at": time.Now().Format(time.RFC3339),
			}); err != nil {
				return nil, err
			}
			defer func() {
				if err := runstore.Finish(base, dir); err != nil {
					log.Warn("store links", "err", err)
				}
			}()
		}
	}
	runDir := dir
	if src.Dir != "" {
		runDir = src.Dir // node logs stay in the original run folder
	}
	res, err := analyseHistory(ctx, h, opts.Checker, dir, log, notes, checker.Options{
		RunDir: runDir, Nodes: rec.Nodes, Concurrency: rec.Concurrency, Partial: len(probs) > 0,
	})
	if res != nil {
		res.Name = name
		res.Concurrency = rec.Concurrency
		res.Seed = rec.Seed
		res.Faults = rec.Faults
		res.Duration = historySpan(h)
	}
	return res, err
}

// analyseHistory runs the checker and writes history.edn and results.json
// into dir (when set).
// The checker options' Dir and Log are set here.
func analyseHistory(ctx context.Context, h *history.History, chk checker.Checker, dir string, log *slog.Logger,
	notes []string, copts checker.Options) (*Result, error) {
	log.Info("analysing", "ops", h.Len(), "checker", chk.Name())
	began := time.Now()
	copts.Dir, copts.Log = dir, log
	r := checker.Check(ctx, chk, h, copts)
	results := settle(chk.Name(), r, notes)
	took := time.Since(began)
	log.Info("analysis done", "valid", results.Valid.String(), "seconds", took.Seconds())
	res := &Result{Dir: dir, Valid: results.Valid, Results: results, History: h, Counts: countOps(h), CheckTime: took}
	if dir != "" {
		if err := writeOps(filepath.Join(dir, runstore.HistoryEDNFile), h.Ops, history.WriteEDN); err != nil {
			return res, fmt.Errorf("store: %w", err)
		}
		if err := runstore.WriteJSON(filepath.Join(dir, runstore.ResultsFile), results); err != nil {
			return res, fmt.Errorf("store: %w", err)
		}
		in, err := report.ReadRun(dir)
		if err == nil {
			err = report.Write(dir, h, in)
		}
		if err != nil {
			log.Warn("writing the report", "err", err)
		}
	}
	return res, nil
}

func countOps(h *history.History) Counts {
	var c Counts
	for i := range h.Ops {
		op := &h.Ops[i]
		if op.Process == history.NemesisProcess {
			c.Nemesis++
			continue
		}
		switch op.Type {
		case history.Invoke:
			c.Invoked++
		case history.OK:
			c.OK++
		case history.Fail:
			c.Fail++
		case history.Info:
			c.Info++
		}
		if op.Error != nil && (op.Type == history.Fail || op.Type == history.Info) {
			if c.Errors == nil {
				c.Errors = map[string]int{}
			}
			c.Errors[ErrorName(op.Error)]++
		}
	}
	return c
}

// historySpan is the time between the first and last op with a time.
func historySpan(h *history.History) time.Duration {
	first, last := int64(-1), int64(-1)
	for i := range h.Ops {
		if t := h.Ops[i].Time; t >= 0 {
			if first < 0 {
				first = t
			}
			last = t
		}
	}
	if first < 0 {
		return 0
	}
	return time.Duration(last - first)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._+-]+`)

func sanitize(s string) string {
	s = strings.Trim(unsafeName.ReplaceAllString(s, "-"), "-.")
	if s == "" {
		return "history"
	}
	return s
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// writeOps writes ops to path with one of history's writers, through a
// buffer, and syncs the file.
func writeOps(path string, ops []history.Op, write func(io.Writer, []history.Op) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	err = write(bw, ops)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
