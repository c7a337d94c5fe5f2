package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/report/web"
)

// Exit codes, as Jepsen's.
const (
	ExitValid   = 0
	ExitInvalid = 1
	ExitUnknown = 2
	ExitUsage   = 254
	ExitCrash   = 255
)

// Suite is a system under test as the command line sees it: `--db <Name>`.
type Suite struct {
	// Name is the --db name, e.g. "etcd".
	Name string
	// Help is one line for the usage text.
	Help string
	// Workloads lists the --workload names the suite supports; the first is
	// the default.
	Workloads []string
	// Flags are suite options with their defaults; each becomes a flag
	// --<name> whose value lands in Options.Set[name].
	Flags []Flag
	// Test builds the test for o. The returned cleanup, if any, runs after the
	// test (e.g. removing a cluster made for the run).
	Test func(ctx context.Context, o *Options) (t *faultline.Test, cleanup func(), err error)
	// Checker rebuilds the checker of a stored run of this suite for
	// `analyze`, from its workload name and recorded options. Optional.
	Checker func(workload string, rec faultline.TestRecord) (checker.Checker, error)
}

// Flag is a suite option.
type Flag struct {
	Name, Default, Usage string
}

// Config is the command line of a program: its suites and extra commands.
type Config struct {
	// Program is the name shown in usage (default "faultline").
	Program string
	// Suites are the systems `--db` chooses from; the first is the default.
	Suites []Suite
	// Commands are extra subcommands (e.g. "cluster", "serve", "memdb").
	Commands []Command
	// Stdout and Stderr default to the process's.
	Stdout, Stderr io.Writer
}

// Command is a subcommand.
type Command struct {
	Name string
	Help string
	// Hidden leaves the command out of the usage text (internal helpers).
	Hidden bool
	// Run executes the command with the arguments after its name and returns
	// the exit code.
	Run func(ctx context.Context, args []string, env *Env) int
}

// Env is what commands get besides their arguments.
type Env struct {
	Config *Config
	Stdout io.Writer
	Stderr io.Writer
}

// Main runs the command line and returns the process exit code: 0 valid,
// 1 invalid, 2 unknown, 254 bad arguments, 255 crash. A suite's main is one
// line:
//
//	func main() { os.Exit(cli.Main(os.Args[1:], cli.Config{Suites: []cli.Suite{mySuite}})) }
func Main(args []string, cfg Config) int { return run(args, cfg, false) }

// run is Main; child says the process is the supervised child of Exec,
// whose stop requests come from its parent.
func run(args []string, cfg Config, child bool) (code int) {
	if cfg.Program == "" {
		cfg.Program = "faultline"
	}
	if cfg.Stdout == nil {
		cfg.Stdout = os.Stdout
	}
	if cfg.Stderr == nil {
		cfg.Stderr = os.Stderr
	}
	cfg.Commands = withStandardCommands(cfg.Commands)
	env := &Env{Config: &cfg, Stdout: cfg.Stdout, Stderr: cfg.Stderr}
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(cfg.Stderr, "%s: crashed: %v\n%s", cfg.Program, p, debug.Stack())
			code = ExitCrash
		}
	}()
	if len(args) == 0 {
		usage(env)
		return ExitUsage
	}
	ctx, stop := interruptContext(cfg.Stderr, cfg.Program, child)
	defer stop()
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "test":
		return runTests(ctx, rest, env, false)
	case "test-all":
		return runTests(ctx, rest, env, true)
	case "analyze":
		return runAnalyze(ctx, rest, env)
	case "version":
		fmt.Fprintf(cfg.Stdout, "%s %s\n", cfg.Program, faultline.Version)
		return ExitValid
	case "help", "-h", "--help", "-help":
		usage(env)
		return ExitValid
	}
	for _, c := range cfg.Commands {
		if c.Name == cmd {
			return c.Run(ctx, rest, env)
		}
	}
	fmt.Fprintf(cfg.Stderr, "%s: unknown command %q\n", cfg.Program, cmd)
	usage(env)
	return ExitUsage
}

// withStandardCommands adds the commands every Faultline program has
// (cluster) unless the program defines its own of the same name.
func withStandardCommands(cmds []Command) []Command {
	out := append([]Command(nil), cmds...)
	for _, std := range []Command{ClusterCommand(), ServeCommand()} {
		if !slices.ContainsFunc(out, func(c Command) bool { return c.Name == std.Name }) {
			out = append(out, std)
		}
	}
	return out
}

func usage(env *Env) {
	c := env.Config
	w := env.Stderr
	fmt.Fprintf(w, "usage: %s <command> [options]\n\ncommands:\n", c.Program)
	fmt.Fprintln(w, "  test       run a test and check its history")
	fmt.Fprintln(w, "  test-all   run every workload of a suite (or the --workload list)")
	fmt.Fprintln(w, "  analyze    check a stored run or history file again")
	for _, cm := range c.Commands {
		if !cm.Hidden {
			fmt.Fprintf(w, "  %-10s %s\n", cm.Name, cm.Help)
		}
	}
	fmt.Fprintln(w, "  version    print the version")
	if len(c.Suites) > 0 {
		fmt.Fprintln(w, "\nsystems (--db):")
		for _, s := range c.Suites {
			fmt.Fprintf(w, "  %-10s %s (workloads: %s)\n", s.Name, s.Help, strings.Join(s.Workloads, ", "))
		}
	}
	fmt.Fprintf(w, "\n'%s <command> -h' lists a command's options.\n", c.Program)
	fmt.Fprintln(w, "exit codes: 0 valid, 1 invalid, 2 unknown, 254 bad arguments, 255 crash")
}

// interruptContext is cancelled by the first stop request; the run then
// heals, tears down and analyses. A second request exits at once.
//
// Stop requests are SIGINT and SIGTERM, except in the child process of Exec:
// there they come only from the supervising parent, over file descriptor 4,
// so that a signal sent to both processes (pkill, killall, a process
// manager) counts once, not twice.
func interruptContext(stderr io.Writer, program string, fromParent bool) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	requests := make(chan string, 2)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	if fromParent {
		go readStopRequests(requests)
	}
	go func() {
		for {
			select {
			case s := <-sigs:
				if fromParent {
					continue // the parent forwards the signals meant for the run
				}
				requests <- s.String()
			case <-done:
				return
			}
		}
	}()
	go func() {
		select {
		case s := <-requests:
			fmt.Fprintf(stderr, "\n%s: %s: stopping; healing faults and tearing down (signal again to exit at once)\n", program, s)
			cancel()
		case <-done:
			return
		}
		select {
		case s := <-requests:
			fmt.Fprintf(stderr, "\n%s: %s again: exiting now; run '%s cluster heal' to clear leftover faults\n", program, s, program)
			if fromParent {
				reportCode(130)
			}
			os.Exit(130)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

// newFlagSet makes a flag set whose errors print to env.Stderr.
func newFlagSet(env *Env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet(env.Config.Program+" "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

// logger makes the run's stderr logger.
func logger(w io.Writer, jsonLogs, verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	if jsonLogs {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// worstCode merges exit codes of several runs: 255, then 254, then 2, then 1.
func worstCode(codes ...int) int {
	rank := func(c int) int {
		switch c {
		case ExitCrash:
			return 5
		case ExitUsage:
			return 4
		case ExitUnknown:
			return 3
		case ExitInvalid:
			return 2
		case ExitValid:
			return 1
		}
		return 6
	}
	best := ExitValid
	for _, c := range codes {
		if rank(c) > rank(best) {
			best = c
		}
	}
	return best
}

// verdictCode maps a verdict to its exit code.
func verdictCode(v checker.Validity) int {
	switch v {
	case checker.Valid:
		return ExitValid
	case checker.Invalid:
		return ExitInvalid
	}
	return ExitUnknown
}

func (c *Config) suite(name string) (*Suite, error) {
	for i := range c.Suites {
		if c.Suites[i].Name == name {
			return &c.Suites[i], nil
		}
	}
	names := make([]string, len(c.Suites))
	for i, s := range c.Suites {
		names[i] = s.Name
	}
	sort.Strings(names)
	return nil, fmt.Errorf("unknown --db %q; known: %s", name, strings.Join(names, ", "))
}

// errUsage marks errors that are the caller's (exit 254).
var errUsage = errors.New("usage")

// ServeCommand is `serve`: the store in a browser.
func ServeCommand() Command {
	return Command{Name: "serve", Help: "serve the store in a browser: run list, reports, files",
		Run: func(ctx context.Context, args []string, env *Env) int {
			return web.Command(ctx, args, env.Stdout, env.Stderr)
		}}
}
