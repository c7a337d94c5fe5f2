package db

import (
	"context"

	"github.com/faultline/faultline/control"
)

// DB sets up and tears down the system under test on one node. Setup and
// Teardown are called for every node in parallel.
type DB interface {
	Setup(ctx context.Context, env *control.Env, node string) error
	Teardown(ctx context.Context, env *control.Env, node string) error
}

// Killer is a DB whose processes can be killed and started again.
type Killer interface {
	Kill(ctx context.Context, env *control.Env, node string) error
	Start(ctx context.Context, env *control.Env, node string) error
}

// Pauser is a DB whose processes can be paused and resumed.
type Pauser interface {
	Pause(ctx context.Context, env *control.Env, node string) error
	Resume(ctx context.Context, env *control.Env, node string) error
}

// Primaries is a DB that can tell which nodes are currently primaries/leaders.
type Primaries interface {
	Primaries(ctx context.Context, env *control.Env) ([]string, error)
}

// LogFiles is a DB that has log files worth downloading after the run.
type LogFiles interface {
	LogFiles(ctx context.Context, env *control.Env, node string) ([]string, error)
}

// Noop is a DB that does nothing, for systems set up by other means.
type Noop struct{}

func (Noop) Setup(context.Context, *control.Env, string) error    { return nil }
func (Noop) Teardown(context.Context, *control.Env, string) error { return nil }

// OS prepares a node's operating system (packages, host names, clocks)
// before the DB is set up, and undoes it afterwards.
type OS interface {
	Setup(ctx context.Context, env *control.Env, node string) error
	Teardown(ctx context.Context, env *control.Env, node string) error
}
