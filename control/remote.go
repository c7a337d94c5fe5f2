package control

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// Cmd is a command to run on a node. Args are passed as separate words and
// quoted safely; Shell, when set instead, is a shell snippet run with sh -c.
type Cmd struct {
	Args  []string
	Shell string
	Env   map[string]string
	Dir   string
	Stdin io.Reader
	// Sudo runs the command as root (or as SudoUser) through sudo where the
	// remote is not root already.
	Sudo     bool
	SudoUser string
}

// Result is what a command printed and how it ended.
type Result struct {
	Stdout   string
	Stderr   string
	ExitCode int
}

// Remote runs commands on the nodes of a cluster.
type Remote interface {
	// Exec runs cmd on node and waits for it. A non-zero exit is an *ExitError.
	Exec(ctx context.Context, node string, cmd Cmd) (Result, error)
	// Upload copies a local file to path on node.
	Upload(ctx context.Context, node, local, remote string) error
	// Download copies path on node to a local file.
	Download(ctx context.Context, node, remote, local string) error
	// Close releases connections.
	Close() error
}

// ExitError is a command that ran and exited non-zero (or could not run).
type ExitError struct {
	Node     string
	Command  string
	ExitCode int
	Stderr   string
	Err      error // underlying error when the command could not run
}

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("%s: %s: exit %d", e.Node, e.Command, e.ExitCode)
	if s := strings.TrimSpace(e.Stderr); s != "" {
		if len(s) > 500 {
			s = s[:500] + "..."
		}
		msg += ": " + s
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *ExitError) Unwrap() error { return e.Err }

// Quote quotes one word for a POSIX shell.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// String renders cmd as one shell command line (without sudo).
func (c Cmd) String() string {
	var b strings.Builder
	if c.Dir != "" {
		b.WriteString("cd " + Quote(c.Dir) + " && ")
	}
	if len(c.Env) > 0 {
		b.WriteString("env")
		for _, k := range sortedKeys(c.Env) {
			b.WriteString(" " + Quote(k+"="+c.Env[k]))
		}
		b.WriteByte(' ')
	}
	if c.Shell != "" {
		b.WriteString("sh -c " + Quote(c.Shell))
		return b.String()
	}
	for i, a := range c.Args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(Quote(a))
	}
	return b.String()
}
