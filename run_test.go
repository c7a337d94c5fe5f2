package faultline

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/generator"
)

// deadRemote reaches no node: every command fails to run.
type deadRemote struct{}

func (deadRemote) Exec(_ context.Context, node string, cmd control.Cmd) (control.Result, error) {
	return control.Result{}, &control.ExitError{Node: node, Command: strings.Join(cmd.Args, " "), ExitCode: -1, Err: errors.New("dial tcp: connection refused")}
}
func (deadRemote) Upload(context.Context, string, string, string) error   { return errors.New("no") }
func (deadRemote) Download(context.Context, string, string, string) error { return errors.New("no") }
func (deadRemote) Close() error                                           { return nil }

// countingDB counts set-ups and teardowns.
type countingDB struct{ setups, teardowns atomic.Int32 }

func (d *countingDB) Setup(context.Context, *control.Env, string) error {
	d.setups.Add(1)
	return nil
}
func (d *countingDB) Teardown(context.Context, *control.Env, string) error {
	d.teardowns.Add(1)
	return nil
}

// A node that cannot be reached ends the run before anything is set up,
// with one error naming the node and the cause.
func TestRunUnreachableNode(t *testing.T) {
	d := &countingDB{}
	_, err := Run(context.Background(), &Test{
		Name:        "unreachable",
		Nodes:       []string{"n1", "n2"},
		Concurrency: 1,
		Remote:      deadRemote{},
		DB:          d,
		Client:      okClient(),
		Generator:   generator.Clients(reads(1)),
		Checker:     checker.Stats(),
		NoStore:     true,
	})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
	for _, want := range []string{"n1", "n2", "connection refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "true") {
		t.Errorf("error %q names the probe command instead of the cause", err)
	}
	if d.setups.Load() != 0 || d.teardowns.Load() != 0 {
		t.Errorf("DB set up %d and torn down %d times on unreachable nodes", d.setups.Load(), d.teardowns.Load())
	}
}
