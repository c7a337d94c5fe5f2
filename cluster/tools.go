package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/control/netns"
)

// hostNode names the host in errors from host commands.
const hostNode = "host"

func lookPath(name string) (string, error) { return netns.LookPath(name) }

// tools are the system commands the netns driver uses.
type tools struct {
	ip, tc, nft string
	// iptables is "" when absent (then no FORWARD rule is ever needed from
	// us: nothing else can have set one up through it either).
	iptables string
	lookPath func(string) (string, error)
	// hostPrefix, for a rootless cluster, runs a command in the holder's
	// namespaces (the cluster's "host"); nil runs it on this machine.
	hostPrefix []string
	// nodePrefix, for a rootless cluster, runs a command in a node's
	// namespace; nil uses ip netns exec.
	nodePrefix func(ns string) []string
	// netnsDir is where the namespaces' files are, as seen from this
	// process: /run/netns, or the holder's through /proc for a rootless
	// cluster.
	netnsDir string
}

// debianPackage names the package that brings a tool, for error messages.
var debianPackage = map[string]string{
	"ip": "iproute2", "tc": "iproute2", "nft": "nftables", "iptables": "iptables",
}

// findTools finds the commands in need (ip, tc, nft) and iptables when
// present.
func findTools(look func(string) (string, error), need ...string) (*tools, error) {
	t := &tools{lookPath: look, netnsDir: runNetns}
	dst := map[string]*string{"ip": &t.ip, "tc": &t.tc, "nft": &t.nft}
	for _, name := range need {
		p, err := look(name)
		if err != nil {
			return nil, fmt.Errorf("cluster: command %s not found: install the Debian package %s", name, debianPackage[name])
		}
		*dst[name] = p
	}
	if p, err := look("iptables"); err == nil {
		t.iptables = p
	}
	return t, nil
}

// run runs argv on this machine and returns its stdout.
func run(ctx context.Context, stdin io.Reader, argv ...string) (string, error) {
	res, err := control.RunLocal(ctx, control.LocalProcess{Node: hostNode, Argv: argv, Stdin: stdin})
	return res.Stdout, err
}

// run runs argv on the cluster's host (this machine, or the rootless
// holder's namespaces) and returns its stdout.
func (t *tools) run(ctx context.Context, stdin io.Reader, argv ...string) (string, error) {
	if t.hostPrefix != nil {
		argv = append(append([]string{}, t.hostPrefix...), argv...)
	}
	res, err := control.RunLocal(ctx, control.LocalProcess{Node: hostNode, Argv: argv, Stdin: stdin, Display: control.Cmd{Args: argv[len(t.hostPrefix):]}.String()})
	return res.Stdout, err
}

// nodeArgv is the command line that runs argv inside namespace ns.
func (t *tools) nodeArgv(ns string, argv ...string) []string {
	if t.nodePrefix != nil {
		return append(t.nodePrefix(ns), argv...)
	}
	return append([]string{t.ip, "netns", "exec", ns}, argv...)
}

// ipBatch runs the ip commands in lines with `ip -batch -`; force keeps
// going after a failing line.
func (t *tools) ipBatch(ctx context.Context, lines []string, force bool) error {
	if len(lines) == 0 {
		return nil
	}
	argv := []string{t.ip}
	if force {
		argv = append(argv, "-force")
	}
	argv = append(argv, "-batch", "-")
	_, err := t.run(ctx, strings.NewReader(strings.Join(lines, "\n")+"\n"), argv...)
	return err
}

// nodeExec runs a shell script inside namespace ns (outside any Remote: used
// while the cluster is being made or inspected).
func (t *tools) nodeExec(ctx context.Context, node, ns, script string) (string, error) {
	res, err := control.RunLocal(ctx, control.LocalProcess{
		Node:    node,
		Argv:    t.nodeArgv(ns, "sh", "-c", script),
		Display: script,
	})
	return res.Stdout, err
}

func isRoot() bool { return os.Geteuid() == 0 }

// exitErr is the reason of a failed host command on one line: its stderr
// when it ran and said why, else the error itself.
func exitErr(err error) string {
	var ee *control.ExitError
	if errors.As(err, &ee) && ee.Err == nil {
		if s := strings.TrimSpace(ee.Stderr); s != "" {
			return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ; ")), " ")
		}
	}
	return err.Error()
}
