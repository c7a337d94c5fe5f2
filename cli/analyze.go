package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/runstore"
)

// AnalyzeFlags are the options of `analyze` that choose and tune a checker.
type AnalyzeFlags struct {
	Checker                                   string
	Model                                     string
	Initial                                   string
	Independent                               bool
	ConsistencyModels                         string
	Anomalies                                 string
	CycleSearchTimeout                        time.Duration
	LinearizableKeys, SequentialKeys, WFRKeys bool
	AllKeys, NoSplit                          bool
	TimeBudget                                time.Duration
	MemoryBudget                              int64 // bytes
}

type analyzeOpts struct {
	AnalyzeFlags
	json    bool
	test    string
	store   string
	noStore bool
	strict  bool
	name    string
	verbose bool
}

// runAnalyze implements `analyze [options] PATH...`.
func runAnalyze(ctx context.Context, args []string, env *Env) int {
	prog := env.Config.Program
	flags := newFlagSet(env, "analyze")
	var a analyzeOpts
	flags.StringVar(&a.Checker, "checker", "", "checker to run: "+strings.Join(checkerNames(), ", "))
	flags.StringVar(&a.Model, "model", "", "model for the linearizable checker: "+strings.Join(modelNames(), ", ")+" (implies --checker linear)")
	flags.StringVar(&a.Initial, "initial", "", "initial model value, in EDN (e.g. 0, nil, {:x 0})")
	flags.BoolVar(&a.Independent, "independent", false, "split Jepsen independent [key value] tuples into per-key histories")
	flags.BoolVar(&a.AllKeys, "all-keys", false, "linear: check every key and report all failures (default: stop at the first failing key)")
	flags.BoolVar(&a.NoSplit, "no-split", false, "linear: check a keyed history as one (kv model), without splitting it per key")
	flags.StringVar(&a.ConsistencyModels, "consistency-models", "", "models the transactional checkers check, comma-separated (default strict-serializable)")
	flags.StringVar(&a.Anomalies, "anomalies", "", "anomalies the transactional checkers look for, comma-separated (besides those the models forbid)")
	flags.Var(secondsValue{&a.CycleSearchTimeout}, "cycle-search-timeout", "seconds the transactional checkers search each strongly connected component for cycles")
	flags.BoolVar(&a.LinearizableKeys, "linearizable-keys", false, "rw-register: assume each key is linearizable when inferring version orders")
	flags.BoolVar(&a.SequentialKeys, "sequential-keys", false, "rw-register: assume each key is sequentially consistent")
	flags.BoolVar(&a.WFRKeys, "wfr-keys", false, "rw-register: assume writes follow reads within a transaction")
	a.TimeBudget = 5 * time.Minute
	flags.Var(secondsValue{&a.TimeBudget}, "time-budget", "seconds a checker may search before answering unknown")
	var mem string
	flags.StringVar(&mem, "memory-budget", "", "memory a checker may use before answering unknown (e.g. 4GB, 512MB)")
	flags.BoolVar(&a.json, "json", false, "print one JSON object per input instead of the summary")
	flags.StringVar(&a.test, "test", "", "a stored run: index into the store (-1 is the newest) or a path")
	flags.StringVar(&a.test, "t", "", "short for --test")
	flags.StringVar(&a.store, "store", "store", "store folder")
	flags.BoolVar(&a.noStore, "no-store", false, "write no run folder or results")
	flags.BoolVar(&a.strict, "strict", false, "fail on a malformed op instead of skipping it")
	flags.StringVar(&a.name, "name", "", "test name for new run folders")
	flags.BoolVar(&a.verbose, "verbose", false, "log progress to stderr")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitValid
		}
		return ExitUsage
	}
	if mem != "" {
		n, err := parseBytes(mem)
		if err != nil {
			fmt.Fprintf(env.Stderr, "%s analyze: --memory-budget: %v\n", prog, err)
			return ExitUsage
		}
		a.MemoryBudget = n
	}
	paths := flags.Args()
	if a.test != "" {
		p, err := pickStored(a.store, a.test)
		if err != nil {
			fmt.Fprintf(env.Stderr, "%s analyze: %v\n", prog, err)
			return ExitUsage
		}
		paths = append(paths, p)
	}
	if len(paths) == 0 {
		fmt.Fprintf(env.Stderr, "%s analyze: name a run folder or history file (e.g. store/latest), or -t -1\n", prog)
		return ExitUsage
	}
	var codes []int
	for _, p := range paths {
		if ctx.Err() != nil {
			break
		}
		codes = append(codes, analyzeOne(ctx, p, &a, env))
	}
	return worstCode(codes...)
}

func analyzeOne(ctx context.Context, path string, a *analyzeOpts, env *Env) int {
	prog := env.Config.Program
	fail := func(code int, err error) int {
		if a.json {
			b, _ := json.Marshal(map[string]any{"file": path, "valid": "unknown", "error": err.Error()})
			fmt.Fprintln(env.Stdout, string(b))
		}
		fmt.Fprintf(env.Stderr, "%s analyze: %v\n", prog, err)
		return code
	}
	src, err := runstore.Resolve(path)
	if err != nil {
		return fail(ExitUsage, err)
	}
	rec := faultline.ReadTestRecord(src.Dir)
	chk, err := pickChecker(&a.AnalyzeFlags, rec, env.Config)
	if err != nil {
		return fail(ExitUsage, err)
	}
	log := logger(env.Stderr, false, a.verbose)
	if !a.verbose {
		log = nil
	}
	res, err := faultline.Analyze(ctx, path, faultline.AnalyzeOptions{
		Checker: chk, Name: a.name, Store: a.store, NoStore: a.noStore, Strict: a.strict, Log: log,
	})
	if err != nil && res == nil {
		code := ExitCrash
		if errors.Is(err, faultline.ErrConfig) || isInputError(err) {
			code = ExitUsage
		}
		return fail(code, err)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s analyze: %s: %v\n", prog, path, err)
	}
	if a.json {
		b, jerr := marshalOrdered(jsonReport(path, res), "file", "valid", "ops", "seconds")
		if jerr != nil {
			return fail(ExitCrash, jerr)
		}
		fmt.Fprintln(env.Stdout, string(b))
	} else {
		fmt.Fprintln(env.Stdout, res.Summary())
		fmt.Fprintln(env.Stdout, res.StatusLine())
	}
	if err != nil {
		return ExitCrash
	}
	return verdictCode(res.Valid)
}

// isInputError reports whether err is about the input (a missing or
// malformed file) rather than a crash.
func isInputError(err error) bool {
	var prob history.Problem
	var perr *fs.PathError
	return errors.As(err, &prob) || errors.As(err, &perr)
}

// jsonReport is the --json object for one input: file, valid, ops, seconds,
// and the checker's own fields (evidence) at the top level.
func jsonReport(path string, res *faultline.Result) map[string]any {
	out := map[string]any{}
	if res.Results != nil {
		var fields map[string]any
		if len(res.Results.Checkers) == 1 {
			for _, r := range res.Results.Checkers {
				fields = toMap(r)
			}
		} else {
			fields = toMap(res.Results)
		}
		for k, v := range fields {
			out[k] = v
		}
		if len(res.Results.Notes) > 0 {
			out["notes"] = res.Results.Notes
		}
	}
	out["file"] = path
	out["valid"] = res.Valid
	out["ops"] = res.Counts.Invoked
	out["seconds"] = res.CheckTime.Seconds()
	if res.Dir != "" {
		out["dir"] = res.Dir
	}
	return out
}

// marshalOrdered writes m as one JSON object with the given keys first and
// the others in name order.
func marshalOrdered(m map[string]any, first ...string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	put := func(k string) error {
		v, ok := m[k]
		if !ok {
			return nil
		}
		kb, _ := json.Marshal(k)
		vb, err := marshalPlain(v)
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
		return nil
	}
	for _, k := range first {
		if err := put(k); err != nil {
			return nil, err
		}
	}
	rest := make([]string, 0, len(m))
	for k := range m {
		if !slices.Contains(first, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		if err := put(k); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func toMap(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return map[string]any{}
	}
	return m
}

// pickStored resolves -t: an index into the store's runs (oldest first; -1
// is the newest), or a path.
func pickStored(base, sel string) (string, error) {
	i, err := strconv.Atoi(sel)
	if err != nil {
		return sel, nil
	}
	runs, err := runstore.List(base)
	if err != nil {
		return "", fmt.Errorf("-t %s: %w", sel, err)
	}
	n := len(runs)
	// List is newest first; Jepsen's indices count from the oldest.
	if i < 0 {
		i += n
	}
	if i < 0 || i >= n {
		return "", fmt.Errorf("-t %s: the store %s holds %d runs", sel, base, n)
	}
	return runs[n-1-i].Dir, nil
}

// parseBytes reads sizes like 4GB, 512MB, 1048576.
func parseBytes(s string) (int64, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, suf := range []struct {
		s string
		m int64
	}{{"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(u, suf.s) {
			mult = suf.m
			u = strings.TrimSuffix(u, suf.s)
			break
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(u), 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("%q is not a size like 4GB", s)
	}
	return int64(f * float64(mult)), nil
}

// pickChecker chooses the checker: --model (linearizable), --checker, or the
// stored run's workload through its suite.
func pickChecker(a *AnalyzeFlags, rec faultline.TestRecord, cfg *Config) (checker.Checker, error) {
	if a.Model != "" && a.Checker == "" {
		a.Checker = "linear"
	}
	if a.Checker != "" {
		return CheckerByName(a.Checker, a)
	}
	dbName, _ := rec.Meta["db"].(string)
	wl, _ := rec.Meta["workload"].(string)
	if dbName != "" && wl != "" {
		if s, err := cfg.suite(dbName); err == nil && s.Checker != nil {
			return s.Checker(wl, rec)
		}
		return nil, fmt.Errorf("the run was made by --db %s --workload %s, which this program cannot re-check; name a checker with --checker", dbName, wl)
	}
	return nil, fmt.Errorf("%w: name a checker with --checker NAME or --model MODEL (checkers: %s)", errUsage, strings.Join(checkerNames(), ", "))
}

// marshalPlain is json.Marshal without escaping <, > and &, which appear in
// checkers' explanations.
func marshalPlain(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
