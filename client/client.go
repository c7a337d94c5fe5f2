package client

import (
	"context"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/history"
)

// Client talks to the system under test on behalf of one process.
//
// Life cycle, as in Jepsen: the interpreter calls Open on a prototype client
// once per process (bound to one node), Setup once on one opened client
// before the run, Invoke for each operation, Teardown once after the run and
// Close on every opened client.
type Client interface {
	// Open returns a new client connected to node. It must not change the
	// receiver, which is a prototype.
	Open(ctx context.Context, env *control.Env, node string) (Client, error)
	// Setup prepares the system for the workload (create tables, keys...).
	Setup(ctx context.Context, env *control.Env) error
	// Invoke performs op (an invocation) and returns its completion: the same
	// op with Type OK, Fail or Info and the result in Value. Returning an
	// error, or panicking, records the op as Info with the error; an error
	// whose outcome is known not to have happened should be returned as a
	// Fail completion instead. ctx carries the per-op timeout.
	Invoke(ctx context.Context, env *control.Env, op history.Op) (history.Op, error)
	// Teardown undoes Setup.
	Teardown(ctx context.Context, env *control.Env) error
	// Close releases the connection.
	Close(ctx context.Context, env *control.Env) error
}

// Reusable is implemented by clients that can keep serving after an op ended
// in Info; other clients are closed and opened again for the new process.
type Reusable interface {
	Reusable() bool
}

// IsReusable reports whether c says it may be reused after an Info.
func IsReusable(c Client) bool {
	r, ok := c.(Reusable)
	return ok && r.Reusable()
}
