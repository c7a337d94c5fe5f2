package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/netfault"
	"github.com/faultline/faultline/report"
)

// runTests implements `test` and `test-all`.
func runTests(ctx context.Context, args []string, env *Env, all bool) int {
	cfg := env.Config
	name := "test"
	if all {
		name = "test-all"
	}
	if len(cfg.Suites) == 0 {
		fmt.Fprintf(env.Stderr, "%s: no suites are configured\n", cfg.Program)
		return ExitUsage
	}
	fs := newFlagSet(env, name)
	o := &Options{}
	addTestFlags(fs, o, cfg.Suites[0].Name)
	suiteFlags := map[string]*string{}
	for _, s := range cfg.Suites {
		for _, f := range s.Flags {
			if _, dup := suiteFlags[f.Name]; dup || fs.Lookup(f.Name) != nil {
				continue
			}
			suiteFlags[f.Name] = fs.String(f.Name, f.Default, f.Usage+" (--db "+s.Name+")")
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitValid
		}
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "%s %s: unexpected arguments: %s\n", cfg.Program, name, strings.Join(fs.Args(), " "))
		return ExitUsage
	}
	if err := o.finish(); err != nil {
		fmt.Fprintf(env.Stderr, "%s %s: %v\n", cfg.Program, name, err)
		return ExitUsage
	}
	suite, err := cfg.suite(o.DB)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s %s: %v\n", cfg.Program, name, err)
		return ExitUsage
	}
	// The chosen suite's options: defaults, then what was given.
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	for _, f := range suite.Flags {
		if _, given := o.Set[f.Name]; !given {
			o.Set[f.Name] = *suiteFlags[f.Name]
		}
	}
	for n := range suiteFlags {
		if explicit[n] && !slices.ContainsFunc(suite.Flags, func(f Flag) bool { return f.Name == n }) {
			fmt.Fprintf(env.Stderr, "%s %s: --%s does not apply to --db %s\n", cfg.Program, name, n, suite.Name)
			return ExitUsage
		}
	}
	workloads, err := pickWorkloads(suite, o.Workload, all)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s %s: %v\n", cfg.Program, name, err)
		return ExitUsage
	}
	var codes []int
	var runs []report.JUnitRun
	for _, w := range workloads {
		for i := 0; i < o.TestCount; i++ {
			if ctx.Err() != nil {
				break
			}
			oo := *o
			oo.Workload = w
			code, jr := runOne(ctx, suite, &oo, env, args)
			codes = append(codes, code)
			runs = append(runs, jr)
		}
	}
	if o.JUnit != "" {
		if err := writeJUnit(o.JUnit, runs); err != nil {
			fmt.Fprintf(env.Stderr, "%s %s: --junit: %v\n", cfg.Program, name, err)
			codes = append(codes, ExitCrash)
		}
	}
	return worstCode(codes...)
}

func pickWorkloads(s *Suite, given string, all bool) ([]string, error) {
	if given == "" {
		if len(s.Workloads) == 0 {
			return nil, fmt.Errorf("--db %s lists no workloads; give --workload", s.Name)
		}
		if all {
			return s.Workloads, nil
		}
		return s.Workloads[:1], nil
	}
	var out []string
	for _, w := range strings.Split(given, ",") {
		w = strings.TrimSpace(w)
		if len(s.Workloads) > 0 && !slices.Contains(s.Workloads, w) {
			return nil, fmt.Errorf("--db %s has no workload %q; known: %s", s.Name, w, strings.Join(s.Workloads, ", "))
		}
		out = append(out, w)
	}
	return out, nil
}

// runOne builds and runs one test, prints its summary and status line, and
// returns its exit code.
func runOne(ctx context.Context, s *Suite, o *Options, env *Env, args []string) (int, report.JUnitRun) {
	prog := env.Config.Program
	o.Log = logger(env.Stderr, o.LoggingJSON, o.Verbose)
	t, cleanup, err := s.Test(ctx, o)
	if cleanup != nil {
		defer cleanup()
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s test: %v\n", prog, err)
		jr := report.JUnitRun{Name: s.Name + "-" + o.Workload, Error: err.Error()}
		if isUsageError(err) {
			return ExitUsage, jr
		}
		return ExitCrash, jr
	}
	if t.Name == "" {
		t.Name = s.Name + "-" + o.Workload
	}
	if t.Meta == nil {
		t.Meta = map[string]any{}
	}
	t.Meta["db"] = s.Name
	t.Meta["workload"] = o.Workload
	t.Meta["nemesis"] = o.Nemesis
	t.Meta["command"] = append([]string{prog, "test"}, args...)
	if t.Store == "" {
		t.Store = o.Store
	}
	if t.Seed == 0 {
		t.Seed = o.Seed
	}
	if t.OpTimeout == 0 {
		t.OpTimeout = o.OpTimeout
	}
	t.LeaveDBRunning = t.LeaveDBRunning || o.LeaveDBRunning
	t.Log = o.Log
	t.Progress = env.Stderr
	res, err := faultline.Run(ctx, t)
	code := ExitValid
	if res != nil {
		fmt.Fprintln(env.Stdout, res.Summary())
		code = verdictCode(res.Valid)
	}
	jr := report.JUnitRun{Name: t.Name}
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s test: %v\n", prog, err)
		jr.Error = err.Error()
		if isUsageError(err) {
			code = ExitUsage
		} else {
			code = ExitCrash
		}
	}
	if res != nil {
		fmt.Fprintln(env.Stdout, res.StatusLine())
		if res.Dir != "" {
			if r, rerr := report.JUnitRunFromDir(res.Dir); rerr == nil {
				r.Error = jr.Error
				jr = r
			}
		}
		jr.Name, jr.Valid, jr.Duration = res.Name, res.Valid, res.Duration
	} else {
		fmt.Fprintf(env.Stdout, "faultline: %s unknown -\n", t.Name)
	}
	return code, jr
}

// isUsageError reports errors that are the user's or the cluster's: bad
// options, or a fault this cluster cannot inject (exit 254).
func isUsageError(err error) bool {
	return errors.Is(err, faultline.ErrConfig) || errors.Is(err, faultline.ErrUnreachable) || errors.Is(err, errUsage) || errors.Is(err, netfault.ErrUnsupported)
}

// writeJUnit writes the runs as JUnit XML to path.
func writeJUnit(path string, runs []report.JUnitRun) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := report.WriteJUnit(f, runs); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
