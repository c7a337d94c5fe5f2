package ssh

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/control"
	"golang.org/x/crypto/ssh"
)

// Remote runs commands on nodes over SSH. It is safe for concurrent use.
type Remote struct {
	opts     Options
	keys     []keySource
	hostKeys *hostKeys
	allowed  map[string]bool

	mu     sync.Mutex
	conns  map[string]*conn
	closed bool
}

var _ control.Remote = (*Remote)(nil)

// killWait bounds how long a cancelled command's session gets to close.
const killWait = 2 * time.Second

// New returns a Remote. It reads the private key and known_hosts files now
// (a missing or malformed one is an error) but connects to nothing until a
// node is used.
func New(opts Options) (*Remote, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	keys, err := loadKeys(opts.PrivateKey)
	if err != nil {
		return nil, err
	}
	hk, err := newHostKeys(opts.KnownHosts, opts.StrictHostKeyChecking)
	if err != nil {
		return nil, err
	}
	r := &Remote{opts: opts, keys: keys, hostKeys: hk, conns: map[string]*conn{}}
	if len(opts.Nodes) > 0 {
		r.allowed = map[string]bool{}
		for _, n := range opts.Nodes {
			r.allowed[n] = true
		}
	}
	return r, nil
}

// Nodes returns the node names given in Options.Nodes.
func (r *Remote) Nodes() []string { return slices.Clone(r.opts.Nodes) }

// Addr is the host:port dialed for node.
func (r *Remote) Addr(node string) string { return r.opts.addr(node) }

func (r *Remote) conn(node string) (*conn, error) {
	if node == "" {
		return nil, fmt.Errorf("%w: empty node name", control.ErrUnknownNode)
	}
	if r.allowed != nil && !r.allowed[node] {
		return nil, fmt.Errorf("%w %q (nodes: %s)", control.ErrUnknownNode, node, strings.Join(r.opts.Nodes, ", "))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, errors.New("ssh: remote closed")
	}
	c, ok := r.conns[node]
	if !ok {
		c = newConn(node, r.opts.addr(node), r.opts.MaxSessions)
		r.conns[node] = c
	}
	return c, nil
}

// Close closes every connection. Commands running on them fail.
func (r *Remote) Close() error {
	r.mu.Lock()
	r.closed = true
	conns := make([]*conn, 0, len(r.conns))
	for _, c := range r.conns {
		conns = append(conns, c)
	}
	r.mu.Unlock()
	var errs []error
	for _, c := range conns {
		if err := c.close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Exec runs cmd on node and waits for it. A command that exits non-zero is
// an *control.ExitError with its code and stderr; one that could not run
// (no connection, authentication, unknown host key) is an ExitError with
// code -1 whose Err says why.
func (r *Remote) Exec(ctx context.Context, node string, cmd control.Cmd) (control.Result, error) {
	var stdout, stderr bytes.Buffer
	code, err := r.run(ctx, node, cmd, cmd.Stdin, &stdout, &stderr)
	res := control.Result{Stdout: stdout.String(), Stderr: stderr.String(), ExitCode: code}
	return res, err
}

// Stream runs cmd on node like Exec, with its output going to stdout and
// stderr as it comes (the last few KiB of stderr are kept for errors).
func (r *Remote) Stream(ctx context.Context, node string, cmd control.Cmd, stdout, stderr io.Writer) (int, error) {
	return r.run(ctx, node, cmd, cmd.Stdin, stdout, stderr)
}

// run runs cmd with the given streams and returns its exit code.
func (r *Remote) run(ctx context.Context, node string, cmd control.Cmd, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	display := cmd.String()
	fail := func(code int, stderrText string, err error) error {
		return &control.ExitError{Node: node, Command: display, ExitCode: code, Stderr: stderrText, Err: err}
	}
	c, err := r.conn(node)
	if err != nil {
		return -1, err
	}
	if err := c.acquire(ctx, c.sem); err != nil {
		return -1, fail(-1, "", err)
	}
	defer func() { <-c.sem }()
	mode := sudoUnknown
	if needsSudo(cmd, r.opts.Username) {
		if mode, err = r.sudoMode(ctx, c); err != nil {
			return -1, fail(-1, "", err)
		}
	}
	rc, err := buildCommand(cmd, r.opts.Username, r.opts.Dirs[node], r.opts.Env[node], mode)
	if err != nil {
		return -1, fail(-1, "", err)
	}
	if rc.sendPasswd {
		pw := strings.NewReader(r.opts.SudoPassword + "\n")
		if stdin == nil {
			stdin = pw
		} else {
			stdin = io.MultiReader(pw, stdin)
		}
	}
	tail := &control.TailBuffer{Max: 4096}
	code, err := r.session(ctx, c, rc.line, stdin, stdout, io.MultiWriter(stderr, tail))
	if err != nil {
		return code, fail(code, tail.String(), err)
	}
	if code != 0 {
		return code, fail(code, tail.String(), nil)
	}
	return 0, nil
}

// session runs line in a new session on c's connection, reconnecting once
// when the connection turns out to be broken before the command starts.
func (r *Remote) session(ctx context.Context, c *conn, line string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	var sess *ssh.Session
	var gen int
	for attempt := 0; ; attempt++ {
		client, g, err := c.get(ctx, r)
		if err != nil {
			return -1, err
		}
		gen = g
		sess, err = client.NewSession()
		if err == nil {
			break
		}
		c.broken(gen)
		if attempt > 0 || ctx.Err() != nil {
			return -1, fmt.Errorf("ssh %s: opening a session: %w", c.addr, err)
		}
		r.opts.Log.Debug("ssh connection broken, reconnecting", "node", c.node, "err", err)
	}
	defer sess.Close()
	sess.Stdin = stdin
	sess.Stdout = stdout
	sess.Stderr = stderr
	if err := sess.Start(line); err != nil {
		return -1, fmt.Errorf("ssh %s: starting the command: %w", c.addr, err)
	}
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = sess.Signal(ssh.SIGKILL)
		sess.Close()
		select {
		case <-done:
		case <-time.After(killWait):
			// The server does not answer: the connection is unusable.
			c.broken(gen)
		}
		return -1, ctx.Err()
	}
	var ee *ssh.ExitError
	var me *ssh.ExitMissingError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee):
		return ee.ExitStatus(), nil
	case errors.As(err, &me):
		c.broken(gen)
		return -1, fmt.Errorf("ssh %s: connection lost while the command ran (it may have run): %w", c.addr, err)
	default:
		c.broken(gen)
		return -1, fmt.Errorf("ssh %s: %w", c.addr, err)
	}
}

// sudoMode probes once per node whether sudo needs a password there.
func (r *Remote) sudoMode(ctx context.Context, c *conn) (sudoMode, error) {
	if err := c.acquire(ctx, c.lock); err != nil {
		return sudoUnknown, err
	}
	mode := c.sudo
	<-c.lock
	if mode != sudoUnknown {
		return mode, nil
	}
	var out bytes.Buffer
	code, err := r.session(ctx, c, "sudo -n true", nil, io.Discard, &out)
	if err != nil {
		return sudoUnknown, err
	}
	switch {
	case code == 0:
		mode = sudoNoPasswd
	case code == 127:
		return sudoUnknown, fmt.Errorf("sudo is not installed on %s (install the Debian package sudo, or log in as root)", c.node)
	case r.opts.SudoPassword == "":
		msg := strings.TrimSpace(out.String())
		if msg == "" {
			msg = "exit " + strconv.Itoa(code)
		}
		return sudoUnknown, fmt.Errorf("sudo on %s needs a password and none was given (sudo -n true: %s)", c.node, msg)
	default:
		mode = sudoPassword
	}
	c.lock <- struct{}{}
	c.sudo = mode
	<-c.lock
	return mode, nil
}

// Upload copies the local file to path on node, atomically (written beside
// it, then renamed), with the local file's permission bits, making the
// parent directories. A relative path is taken in the node's directory.
func (r *Remote) Upload(ctx context.Context, node, localPath, remote string) error {
	fail := func(err error) error { return fmt.Errorf("%s: upload %s to %s: %w", node, localPath, remote, err) }
	f, st, err := control.OpenRegular(localPath)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	dst := control.NodePath(r.opts.Dirs[node], remote)
	mode := fmt.Sprintf("%o", st.Mode().Perm())
	_, err = r.run(ctx, node, control.Cmd{Args: []string{"sh", "-c", uploadScript, "faultline-upload", dst, mode}}, f, io.Discard, io.Discard)
	if err != nil {
		if errors.Is(err, control.ErrUnknownNode) {
			return err
		}
		return fail(shorten(err, "upload "+dst))
	}
	return nil
}

// Download copies path on node to the local file, atomically, keeping the
// remote file's permission bits. A missing remote file gives an error
// wrapping fs.ErrNotExist.
func (r *Remote) Download(ctx context.Context, node, remote, localPath string) error {
	fail := func(err error) error { return fmt.Errorf("%s: download %s to %s: %w", node, remote, localPath, err) }
	if _, err := r.conn(node); err != nil {
		return err
	}
	src := control.NodePath(r.opts.Dirs[node], remote)
	err := control.ReplaceLocalFile(localPath, func(w io.Writer) (fs.FileMode, error) {
		pr, pw := io.Pipe()
		type modeResult struct {
			mode os.FileMode
			err  error
		}
		got := make(chan modeResult, 1)
		go func() {
			br := bufio.NewReader(pr)
			line, err := br.ReadString('\n')
			if err != nil {
				pr.CloseWithError(err)
				got <- modeResult{err: err}
				return
			}
			m, err := strconv.ParseUint(strings.TrimSpace(line), 8, 32)
			if err != nil {
				pr.CloseWithError(err)
				got <- modeResult{err: fmt.Errorf("bad mode line %q", line)}
				return
			}
			_, err = io.Copy(w, br)
			pr.CloseWithError(err)
			got <- modeResult{mode: os.FileMode(m) & fs.ModePerm, err: err}
		}()
		_, err := r.run(ctx, node, control.Cmd{Args: []string{"sh", "-c", downloadScript, "faultline-download", src}}, nil, pw, io.Discard)
		pw.Close()
		mr := <-got
		if err != nil {
			var ee *control.ExitError
			if errors.As(err, &ee) && ee.ExitCode == 2 && ee.Err == nil {
				return 0, control.NotExist(shorten(err, "download "+src))
			}
			return 0, shorten(err, "download "+src)
		}
		if mr.err != nil && !errors.Is(mr.err, io.EOF) {
			return 0, mr.err
		}
		return mr.mode, nil
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// shorten replaces the command of an ExitError (a helper script) by what.
func shorten(err error, what string) error {
	var ee *control.ExitError
	if errors.As(err, &ee) {
		short := *ee
		short.Command = what
		short.Node = ""
		return &shortExit{&short}
	}
	return err
}

// shortExit prints an ExitError without its node (the caller adds it).
type shortExit struct{ *control.ExitError }

func (e *shortExit) Error() string {
	msg := fmt.Sprintf("%s: exit %d", e.Command, e.ExitCode)
	if s := strings.TrimSpace(e.Stderr); s != "" {
		msg += ": " + s
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *shortExit) Unwrap() error { return e.ExitError }
