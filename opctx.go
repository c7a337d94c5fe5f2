package faultline

import (
	"context"
	"sync"
	"time"
)

// opContext is the context of one client operation: a deadline and nothing
// else. Unlike context.WithTimeout it starts no timer until a client asks for
// Done, so clients that never block (or finish quickly without looking) cost
// one small allocation per op. It never carries values or a parent.
type opContext struct {
	deadline time.Time
	mu       sync.Mutex
	done     chan struct{}
	timer    *time.Timer
	err      error
}

var _ context.Context = (*opContext)(nil)

func newOpContext(timeout time.Duration) *opContext {
	return &opContext{deadline: time.Now().Add(timeout)}
}

func (c *opContext) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *opContext) Value(any) any { return nil }

// Done returns a channel closed at the deadline; the timer starts on the
// first call.
func (c *opContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.err != nil {
			close(c.done)
		} else if d := time.Until(c.deadline); d <= 0 {
			c.err = context.DeadlineExceeded
			close(c.done)
		} else {
			c.timer = time.AfterFunc(d, c.expire)
		}
	}
	return c.done
}

func (c *opContext) expire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = context.DeadlineExceeded
		close(c.done)
	}
}

// Err reports context.DeadlineExceeded once the deadline has passed.
func (c *opContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil && c.done == nil && !time.Now().Before(c.deadline) {
		c.err = context.DeadlineExceeded
	}
	return c.err
}

// release stops the timer once the op is over. The context stays usable (its
// deadline still holds) for a client that kept it.
func (c *opContext) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
}
