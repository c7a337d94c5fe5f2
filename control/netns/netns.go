package netns

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/faultline/faultline/control"
)

// Environment variables set for every command run on a node.
const (
	EnvCluster = control.EnvCluster
	EnvNode    = control.EnvNode
	EnvNodeDir = control.EnvNodeDir
)

// Node is one node of a namespace cluster.
type Node struct {
	// Name is the node's host name, e.g. "n1".
	Name string
	// Namespace is the network namespace, as `ip netns list` shows it.
	Namespace string
	// Dir is the node's root folder on the host (data, logs, pidfiles).
	Dir string
	// Addr is the node's IPv4 address.
	Addr string
}

// Remote runs commands inside the nodes' network namespaces.
type Remote struct {
	cluster string
	ip      string
	nodes   map[string]Node
	names   []string
}

var _ control.Remote = (*Remote)(nil)

// New returns a Remote for the nodes of cluster. It needs the ip command
// (Debian package iproute2).
func New(cluster string, nodes []Node) (*Remote, error) {
	ip, err := LookPath("ip")
	if err != nil {
		return nil, fmt.Errorf("netns: %w (install the Debian package iproute2)", err)
	}
	r := &Remote{cluster: cluster, ip: ip, nodes: make(map[string]Node, len(nodes))}
	for _, n := range nodes {
		if n.Name == "" || n.Namespace == "" || n.Dir == "" {
			return nil, fmt.Errorf("netns: node %q needs a name, a namespace and a folder", n.Name)
		}
		if _, dup := r.nodes[n.Name]; dup {
			return nil, fmt.Errorf("netns: node %q given twice", n.Name)
		}
		r.nodes[n.Name] = n
		r.names = append(r.names, n.Name)
	}
	return r, nil
}

// Nodes returns the node names, in the order given to New.
func (r *Remote) Nodes() []string { return slices.Clone(r.names) }

// Node returns the node called name.
func (r *Remote) Node(name string) (Node, error) {
	n, ok := r.nodes[name]
	if !ok {
		return Node{}, fmt.Errorf("%w %q (cluster %s has %s)", control.ErrUnknownNode, name, r.cluster, strings.Join(r.names, ", "))
	}
	return n, nil
}

// Process is the local process that runs cmd on node; callers that stream
// output (an interactive shell, `cluster exec`) set its Stdin, Stdout and
// Stderr and pass it to control.RunLocal.
func (r *Remote) Process(node string, cmd control.Cmd) (control.LocalProcess, error) {
	n, err := r.Node(node)
	if err != nil {
		return control.LocalProcess{}, err
	}
	argv, vars, err := control.LocalArgv(cmd, os.Geteuid())
	if err != nil {
		return control.LocalProcess{}, control.NotRun(node, cmd, err)
	}
	env := append(os.Environ(), control.NodeEnv(r.cluster, n.Name, n.Dir)...)
	env = append(env, vars...)
	return control.LocalProcess{
		Node:    node,
		Argv:    append([]string{r.ip, "netns", "exec", n.Namespace}, argv...),
		Env:     env,
		Dir:     r.path(n, cmd.Dir),
		Stdin:   cmd.Stdin,
		Display: cmd.String(),
	}, nil
}

// Exec runs cmd inside node's namespace, in the node's folder unless cmd.Dir
// says otherwise (a relative cmd.Dir is taken inside the node's folder).
func (r *Remote) Exec(ctx context.Context, node string, cmd control.Cmd) (control.Result, error) {
	p, err := r.Process(node, cmd)
	if err != nil {
		// An unknown node or a malformed command: nothing ran.
		return control.Result{ExitCode: -1}, err
	}
	return control.RunLocal(ctx, p)
}

// Upload copies the local file to path on node; the filesystem is shared,
// so this is a copy on this machine. A relative path is taken inside the
// node's folder.
func (r *Remote) Upload(ctx context.Context, node, localPath, remote string) error {
	n, err := r.Node(node)
	if err != nil {
		return err
	}
	if err := control.CopyLocalFile(ctx, localPath, r.path(n, remote)); err != nil {
		return fmt.Errorf("%s: upload %s to %s: %w", node, localPath, remote, err)
	}
	return nil
}

// Download copies path on node to the local file; a relative path is taken
// inside the node's folder.
func (r *Remote) Download(ctx context.Context, node, remote, localPath string) error {
	n, err := r.Node(node)
	if err != nil {
		return err
	}
	if err := control.CopyLocalFile(ctx, r.path(n, remote), localPath); err != nil {
		return fmt.Errorf("%s: download %s to %s: %w", node, remote, localPath, err)
	}
	return nil
}

// Close does nothing: there is no connection.
func (r *Remote) Close() error { return nil }

// ExecHost runs cmd on the machine the nodes share (their filesystem and
// package database) with that machine's network, which the nodes lack:
// software installs (db.InstallPackages) happen once, there.
func (r *Remote) ExecHost(ctx context.Context, cmd control.Cmd) (control.Result, error) {
	p, err := control.LocalCommand("host", cmd)
	if err != nil {
		return control.Result{ExitCode: -1}, err
	}
	return control.RunLocal(ctx, p)
}

func (r *Remote) path(n Node, p string) string { return control.NodePath(n.Dir, p) }

// LookPath finds a system tool in PATH or, since PATH often lacks them for
// ordinary shells, in /usr/sbin and /sbin.
func LookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%q not found in PATH, /usr/sbin or /sbin", name)
}
