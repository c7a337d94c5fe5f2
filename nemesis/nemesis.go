package nemesis

import (
	"context"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/history"
)

// Nemesis injects faults. Its ops are recorded in the history as Info ops of
// the nemesis process, on invocation and on completion.
type Nemesis interface {
	// Setup prepares the nemesis and returns the one to use for the run.
	Setup(ctx context.Context, env *control.Env) (Nemesis, error)
	// Invoke performs op and returns its completion, whose Value says what
	// was done to which node.
	Invoke(ctx context.Context, env *control.Env, op history.Op) (history.Op, error)
	// Teardown heals every fault this nemesis made. It must be safe to call
	// after a failed Invoke, and more than once.
	Teardown(ctx context.Context, env *control.Env) error
}

// Reflection is a nemesis that knows which fs it handles.
type Reflection interface {
	Fs() []string
}

// Noop is a nemesis that does nothing and handles no fs.
type Noop struct{}

func (Noop) Setup(context.Context, *control.Env) (Nemesis, error) { return Noop{}, nil }
func (Noop) Invoke(_ context.Context, _ *control.Env, op history.Op) (history.Op, error) {
	op.Type = history.Info
	return op, nil
}
func (Noop) Teardown(context.Context, *control.Env) error { return nil }
func (Noop) Fs() []string                                 { return nil }
