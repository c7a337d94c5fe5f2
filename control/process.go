package control

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

// LocalProcess is one program to run on this machine: the building block
// of the local and netns remotes.
type LocalProcess struct {
	// Node names the node in errors.
	Node string
	// Argv is the program and its arguments; Argv[0] is looked up in PATH.
	Argv []string
	// Env is the complete environment; nil means the current one.
	Env []string
	// Dir is the working directory; "" means the current one.
	Dir   string
	Stdin io.Reader
	// Stdout and Stderr receive the output as it comes; when nil, output is
	// captured into the Result instead. The last few KiB of stderr are kept
	// for errors either way.
	Stdout, Stderr io.Writer
	// Display is the command as shown in errors; "" shows Argv quoted.
	Display string
	// Foreground keeps the process in the caller's process group, for
	// interactive programs on a terminal. Otherwise it gets a group of its
	// own, killed as a whole when ctx ends.
	Foreground bool
}

// waitDelay bounds how long RunLocal waits for output pipes that a command's
// background children keep open after the command itself has exited.
const waitDelay = time.Second

// stderrTail is how much of a streamed stderr is kept for errors.
const stderrTail = 4096

// RunLocal runs p on this machine and waits for it. A command that exits
// non-zero, is killed, or cannot start gives an *ExitError carrying node,
// command, exit code (128+signal when killed, -1 when it could not start)
// and stderr; when ctx ends first, that error wraps ctx.Err().
func RunLocal(ctx context.Context, p LocalProcess) (Result, error) {
	display := p.Display
	if display == "" {
		display = Cmd{Args: p.Argv}.String()
	}
	fail := func(code int, stderr string, err error) error {
		return &ExitError{Node: p.Node, Command: display, ExitCode: code, Stderr: stderr, Err: err}
	}
	if len(p.Argv) == 0 {
		return Result{}, fail(-1, "", errors.New("empty command"))
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fail(-1, "", err)
	}
	c := exec.CommandContext(ctx, p.Argv[0], p.Argv[1:]...)
	c.Env = p.Env
	c.Dir = p.Dir
	c.Stdin = p.Stdin
	var stdout, stderr bytes.Buffer
	tail := &TailBuffer{Max: stderrTail}
	if p.Stdout != nil {
		c.Stdout = p.Stdout
	} else {
		c.Stdout = &stdout
	}
	if p.Stderr != nil {
		c.Stderr = io.MultiWriter(p.Stderr, tail)
	} else {
		c.Stderr = &stderr
	}
	if !p.Foreground {
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		c.Cancel = func() error {
			// Kill the whole group: sh -c and whatever it started in it.
			err := syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			if errors.Is(err, syscall.ESRCH) {
				return os.ErrProcessDone
			}
			return err
		}
	}
	c.WaitDelay = waitDelay
	err := c.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	errText := res.Stderr
	if p.Stderr != nil {
		errText = tail.String()
	}
	if c.ProcessState == nil {
		// It never started (missing binary, bad directory) or ctx ended first.
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = ctxErr
		}
		res.ExitCode = -1
		return res, fail(-1, errText, err)
	}
	res.ExitCode = exitCode(c.ProcessState)
	if ctxErr := ctx.Err(); ctxErr != nil && res.ExitCode != 0 {
		return res, fail(res.ExitCode, errText, ctxErr)
	}
	if res.ExitCode != 0 {
		return res, fail(res.ExitCode, errText, nil)
	}
	// Exit status 0 is success, also when ctx ended as the command finished
	// (Wait then reports ctx's error) or a background child kept the output
	// open past waitDelay (exec.ErrWaitDelay).
	return res, nil
}

func exitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// TailBuffer keeps the last Max bytes written to it: the end of a
// command's stderr, for its error.
type TailBuffer struct {
	Max int
	buf []byte
}

func (t *TailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.Max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.Max:]...)
	}
	return len(p), nil
}

func (t *TailBuffer) String() string { return string(t.buf) }

// LocalArgv turns cmd into the argument vector to run on a Linux machine
// where the caller has user id uid, and the variables to add to the
// environment. Shell snippets run under sh -c. Sudo goes through `sudo -n`
// when uid is not 0 and through runuser when uid is 0 and cmd.SudoUser
// names another user; in both cases cmd.Env is passed with env(1), since
// sudo resets the environment. cmd.Dir and cmd.Stdin are left to the caller.
func LocalArgv(cmd Cmd, uid int) (argv, env []string, err error) {
	switch {
	case cmd.Shell != "" && len(cmd.Args) > 0:
		return nil, nil, errors.New("command has both Shell and Args")
	case cmd.Shell != "":
		argv = []string{"sh", "-c", cmd.Shell}
	case len(cmd.Args) > 0:
		argv = cmd.Args
	default:
		return nil, nil, errors.New("empty command")
	}
	vars := make([]string, 0, len(cmd.Env))
	for k, v := range cmd.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return nil, nil, fmt.Errorf("bad environment variable name %q", k)
		}
		vars = append(vars, k+"="+v)
	}
	slices.Sort(vars)
	var wrap []string
	switch {
	case cmd.Sudo && uid != 0:
		wrap = []string{"sudo", "-n"}
		if cmd.SudoUser != "" {
			wrap = append(wrap, "-u", cmd.SudoUser)
		}
		wrap = append(wrap, "--")
	case cmd.Sudo && cmd.SudoUser != "" && cmd.SudoUser != "root":
		wrap = []string{"runuser", "-u", cmd.SudoUser, "--"}
	}
	if wrap == nil {
		return argv, vars, nil
	}
	full := append([]string{}, wrap...)
	if len(vars) > 0 {
		full = append(full, "env")
		full = append(full, vars...)
	}
	return append(full, argv...), nil, nil
}
