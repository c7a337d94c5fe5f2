package control

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// ErrUnknownNode is wrapped by remotes when asked about a node they do not
// know.
var ErrUnknownNode = errors.New("unknown node")

// NodeError is an error that happened on one node.
type NodeError struct {
	Node string
	Err  error
}

func (e *NodeError) Error() string {
	msg := e.Err.Error()
	if strings.HasPrefix(msg, e.Node+": ") {
		return msg
	}
	return e.Node + ": " + msg
}

func (e *NodeError) Unwrap() error { return e.Err }

// OnNodes calls f for every node in parallel and waits for all of them. The
// result joins (errors.Join) one *NodeError per failed node, in the order of
// nodes; it is nil when every call succeeded. A panic in f becomes that
// node's error instead of crashing the process.
func OnNodes(ctx context.Context, nodes []string, f func(ctx context.Context, node string) error) error {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, node := range nodes {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					errs[i] = &NodeError{Node: node, Err: fmt.Errorf("panic: %v", p)}
				}
			}()
			if err := f(ctx, node); err != nil {
				errs[i] = &NodeError{Node: node, Err: err}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
