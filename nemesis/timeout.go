package nemesis

import (
	"context"
	"fmt"
	"time"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/history"
)

// ErrTimeout is wrapped by the error of an op that Timeout gave up on.
var ErrTimeout = fmt.Errorf("nemesis operation timed out")

// Timeout bounds every Invoke of n to d (Jepsen's nemesis/timeout): the
// op's context gets that deadline, and if n does not return by then (plus
// a second for it to notice), the op ends with an error wrapping
// ErrTimeout while n's call finishes in the background. Setup and
// Teardown are not bounded: healing must be allowed to finish.
func Timeout(d time.Duration, n Nemesis) Nemesis { return &timeoutNemesis{d: d, n: n} }

type timeoutNemesis struct {
	d time.Duration
	n Nemesis
}

func (t *timeoutNemesis) Fs() []string {
	if r, ok := t.n.(Reflection); ok {
		return r.Fs()
	}
	return nil
}

func (t *timeoutNemesis) Setup(ctx context.Context, env *control.Env) (Nemesis, error) {
	s, err := safeSetup(ctx, env, t.n)
	if err != nil {
		return nil, err
	}
	return &timeoutNemesis{d: t.d, n: s}, nil
}

func (t *timeoutNemesis) Invoke(ctx context.Context, env *control.Env, op history.Op) (history.Op, error) {
	if t.d <= 0 {
		return t.n.Invoke(ctx, env, op)
	}
	ictx, cancel := context.WithTimeout(ctx, t.d)
	defer cancel()
	type result struct {
		op  history.Op
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{op, fmt.Errorf("nemesis panic: %v", p)}
			}
		}()
		r, err := t.n.Invoke(ictx, env, op)
		done <- result{r, err}
	}()
	select {
	case r := <-done:
		if r.err != nil && ictx.Err() != nil {
			return r.op, fmt.Errorf("%w after %v: %w", ErrTimeout, t.d, r.err)
		}
		return r.op, r.err
	case <-time.After(t.d + time.Second):
		return op, fmt.Errorf("%w after %v (%s did not return)", ErrTimeout, t.d, op.F)
	}
}

func (t *timeoutNemesis) Teardown(ctx context.Context, env *control.Env) error {
	return SafeTeardown(ctx, env, t.n)
}
