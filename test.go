package faultline

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/client"
	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/db"
	"github.com/faultline/faultline/generator"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/runstore"
)

// Test describes one test run: the Go counterpart of Jepsen's test map.
type Test struct {
	// Name names the run folder: store/<Name>/<time>/.
	Name string
	// Nodes are the hosts the system runs on (n1..n5 by default).
	Nodes []string
	// Concurrency is the number of client worker threads.
	Concurrency int
	// TimeLimit bounds the main phase (Generator); 0 means no limit.
	TimeLimit time.Duration
	// Seed seeds every random choice of the run; 0 picks one, which is
	// recorded in test.json so the schedule can be replayed.
	Seed int64

	// Remote reaches the nodes; nil when the DB runs in-process.
	Remote control.Remote
	// OS prepares the nodes' operating system; optional.
	OS db.OS
	// DB sets up the system under test; nil means db.Noop.
	DB db.DB
	// Client talks to the system; required.
	Client client.Client
	// Nemesis injects faults; nil means no faults.
	Nemesis nemesis.Nemesis
	// Generator schedules the main phase (client and nemesis ops); required.
	// It is cut off after TimeLimit.
	Generator generator.Generator
	// FinalGenerator runs after the main phase, without time limit: healing
	// the nemesis and final reads. Optional.
	FinalGenerator generator.Generator
	// Checker analyses the history; required.
	Checker checker.Checker

	// OpTimeout bounds each client operation (default 10 s); an operation
	// that runs over is recorded as info.
	OpTimeout time.Duration
	// NemesisTimeout bounds each nemesis operation (default 60 s).
	NemesisTimeout time.Duration

	// Options are suite options, passed to DBs, clients and nemeses through
	// control.Env and recorded in test.json.
	Options map[string]string
	// Meta is extra information recorded in test.json (db, workload and
	// nemesis names, the command line...).
	Meta map[string]any

	// Store is the base folder of the store (default "store").
	Store string
	// NoStore keeps nothing on disk: no run folder, no history file.
	NoStore bool
	// LeaveDBRunning skips the DB and OS teardown at the end.
	LeaveDBRunning bool
	// Log receives the run's log besides faultline.log; nil discards it.
	Log *slog.Logger
	// Progress, when set, receives a live progress line (a terminal) or a
	// periodic log line (anything else).
	Progress io.Writer
}

// ErrConfig marks errors in a Test's configuration (exit code 254).
var ErrConfig = errors.New("bad test configuration")

// ErrUnreachable marks a run that could not run a first command on a node
// (exit code 254): nothing was set up.
var ErrUnreachable = errors.New("cannot reach the nodes")

func (t *Test) check() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}
	if err := runstore.CheckName(t.Name); err != nil {
		bad("%v", err)
	}
	if len(t.Nodes) == 0 {
		bad("no nodes")
	}
	seen := map[string]bool{}
	for _, n := range t.Nodes {
		if n == "" || seen[n] {
			bad("node %q is empty or given twice", n)
		}
		seen[n] = true
	}
	if t.Concurrency <= 0 {
		bad("concurrency %d: need at least one client thread", t.Concurrency)
	}
	if t.Client == nil {
		bad("no client")
	}
	if t.Generator == nil {
		bad("no generator")
	}
	if t.Checker == nil {
		bad("no checker")
	}
	if t.TimeLimit < 0 || t.OpTimeout < 0 || t.NemesisTimeout < 0 {
		bad("negative time limit or timeout")
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrConfig, errors.Join(errs...))
	}
	return nil
}

func (t *Test) withDefaults() {
	if t.DB == nil {
		t.DB = db.Noop{}
	}
	if t.OpTimeout == 0 {
		t.OpTimeout = 10 * time.Second
	}
	if t.NemesisTimeout == 0 {
		t.NemesisTimeout = 60 * time.Second
	}
	if t.Store == "" {
		t.Store = runstore.DefaultBase
	}
}
