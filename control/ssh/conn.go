package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// conn is the connection to one node, shared by all its commands.
type conn struct {
	node, addr string
	// sem holds one token per running session.
	sem chan struct{}
	// lock guards the fields below; it is a channel so that waiting for
	// it (while another goroutine dials) honours ctx.
	lock   chan struct{}
	client *ssh.Client
	gen    int
	sudo   sudoMode
}

func newConn(node, addr string, maxSessions int) *conn {
	return &conn{node: node, addr: addr, sem: make(chan struct{}, maxSessions), lock: make(chan struct{}, 1)}
}

func (c *conn) acquire(ctx context.Context, ch chan struct{}) error {
	select {
	case ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// get returns the node's client, dialing when there is none, and its
// generation (to report it broken later).
func (c *conn) get(ctx context.Context, r *Remote) (*ssh.Client, int, error) {
	if err := c.acquire(ctx, c.lock); err != nil {
		return nil, 0, err
	}
	defer func() { <-c.lock }()
	if c.client != nil {
		return c.client, c.gen, nil
	}
	client, err := r.dialRetry(ctx, c.node, c.addr)
	if err != nil {
		return nil, 0, err
	}
	c.gen++
	c.client = client
	gen := c.gen
	// When the connection dies, forget it at once, so the next command
	// dials again instead of failing.
	go func() {
		err := client.Wait()
		r.opts.Log.Debug("ssh connection closed", "node", c.node, "addr", c.addr, "err", err)
		c.broken(gen)
	}()
	return client, gen, nil
}

// broken drops the client of generation gen, if it is still the current
// one.
func (c *conn) broken(gen int) {
	c.lock <- struct{}{}
	defer func() { <-c.lock }()
	if c.gen == gen && c.client != nil {
		c.client.Close()
		c.client = nil
	}
}

func (c *conn) close() error {
	c.lock <- struct{}{}
	defer func() { <-c.lock }()
	if c.client == nil {
		return nil
	}
	err := c.client.Close()
	c.client = nil
	c.gen++
	return err
}

// dialRetry dials node, trying again after transient failures.
func (r *Remote) dialRetry(ctx context.Context, node, addr string) (*ssh.Client, error) {
	wait := r.opts.Backoff
	for attempt := 0; ; attempt++ {
		client, err := r.dial(ctx, addr)
		if err == nil {
			return client, nil
		}
		if attempt >= r.opts.Retries || !transient(err) || ctx.Err() != nil {
			if attempt > 0 {
				err = fmt.Errorf("%w (after %d attempts)", err, attempt+1)
			}
			return nil, err
		}
		r.opts.Log.Debug("ssh dial failed, retrying", "node", node, "addr", addr, "err", err, "wait", wait)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (then %w)", err, ctx.Err())
		}
		wait *= 2
	}
}

// dial connects to addr and authenticates.
func (r *Remote) dial(ctx context.Context, addr string) (*ssh.Client, error) {
	methods, offered, done := r.authMethods()
	defer done()
	user := r.opts.Username
	where := user + "@" + addr
	dctx, cancel := context.WithTimeout(ctx, r.opts.DialTimeout)
	defer cancel()
	d := net.Dialer{}
	nc, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ssh %s: %w", where, err)
	}
	// The handshake ignores ctx: bound it with a deadline, and close the
	// socket should ctx end first.
	deadline, _ := dctx.Deadline()
	nc.SetDeadline(deadline)
	stop := context.AfterFunc(dctx, func() { nc.Close() })
	cfg := &ssh.ClientConfig{
		User:              user,
		Auth:              methods,
		HostKeyCallback:   r.hostKeys.callback(addr, r.opts.Log.Info),
		HostKeyAlgorithms: r.hostKeys.algorithms(addr),
		Timeout:           r.opts.DialTimeout,
	}
	cc, chans, reqs, err := ssh.NewClientConn(nc, addr, cfg)
	stopped := stop()
	if err != nil {
		nc.Close()
		switch {
		case errors.Is(err, ErrHostKey):
			// The callback's error says it all.
			var msg string
			if i := strings.Index(err.Error(), ErrHostKey.Error()); i >= 0 {
				msg = err.Error()[i:]
			}
			return nil, &hostKeyError{where: where, msg: msg, err: err}
		case strings.Contains(err.Error(), "unable to authenticate"):
			return nil, &AuthError{Where: where, Offered: offered, Err: err}
		case !stopped && ctx.Err() != nil:
			return nil, fmt.Errorf("ssh %s: %w", where, ctx.Err())
		case !stopped:
			return nil, fmt.Errorf("ssh %s: handshake: %w", where, context.DeadlineExceeded)
		}
		return nil, fmt.Errorf("ssh %s: %w", where, err)
	}
	nc.SetDeadline(time.Time{})
	return ssh.NewClient(cc, chans, reqs), nil
}

// AuthError is a server that accepted none of the credentials offered.
type AuthError struct {
	// Where is user@host:port.
	Where string
	// Offered describes what was offered: key files, agent keys, password.
	Offered string
	Err     error
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("ssh %s: authentication failed (offered %s): %v", e.Where, e.Offered, e.Err)
}

func (e *AuthError) Unwrap() error { return e.Err }

type hostKeyError struct {
	where, msg string
	err        error
}

func (e *hostKeyError) Error() string {
	if e.msg != "" {
		return "ssh " + e.where + ": " + e.msg
	}
	return "ssh " + e.where + ": " + e.err.Error()
}

func (e *hostKeyError) Unwrap() error { return e.err }

// transient reports whether a dial error may go away by itself: the
// server refused, reset or did not answer in time, or closed the
// connection during the handshake (sshd's MaxStartups).
func transient(err error) bool {
	var ae *AuthError
	var he *hostKeyError
	if errors.As(err, &ae) || errors.As(err, &he) {
		return false
	}
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.EOF), errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &ne) && ne.Timeout():
		return true
	}
	return false
}
