package cluster

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/control/docker"
)

// Stdio connects a command run by Exec or Shell to the caller's streams.
type Stdio struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Exec runs cmd on node with the caller's streams, in the foreground (the
// way `faultline cluster exec` does), and returns its exit status. The error
// is non-nil only when the command could not run at all (unknown node, no
// such program) or ctx ended.
func (c *Cluster) Exec(ctx context.Context, node string, cmd control.Cmd, stdio Stdio) (int, error) {
	return c.exec(ctx, node, cmd, stdio, false)
}

func (c *Cluster) exec(ctx context.Context, node string, cmd control.Cmd, stdio Stdio, tty bool) (int, error) {
	p, err := c.procs.Process(node, cmd)
	if d, ok := c.procs.(*docker.Remote); ok && tty {
		p, err = d.Interactive(node, cmd)
	}
	if err != nil {
		return -1, err
	}
	if cmd.Stdin == nil {
		p.Stdin = stdio.Stdin
	}
	p.Stdout, p.Stderr = stdio.Stdout, stdio.Stderr
	if p.Stdout == nil {
		p.Stdout = io.Discard
	}
	if p.Stderr == nil {
		p.Stderr = io.Discard
	}
	p.Foreground = true
	res, err := control.RunLocal(ctx, p)
	var ee *control.ExitError
	if errors.As(err, &ee) && ee.Err == nil {
		return ee.ExitCode, nil
	}
	return res.ExitCode, err
}

// Shell runs an interactive shell on node (bash when the machine has it,
// else sh) with a prompt naming the node, and returns its exit status.
func (c *Cluster) Shell(ctx context.Context, node string, stdio Stdio) (int, error) {
	argv := []string{"sh", "-i"}
	if _, err := exec.LookPath("bash"); err == nil {
		argv = []string{"bash", "--norc", "-i"}
	}
	if c.st.Driver == DriverDocker {
		argv = []string{"bash", "--norc", "-i"}
	}
	tty := false
	if f, ok := stdio.Stdin.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return c.exec(ctx, node, control.Cmd{
		Args: argv,
		Env:  map[string]string{"PS1": "[" + c.st.Name + " " + node + "] \\w# "},
	}, stdio, tty)
}
