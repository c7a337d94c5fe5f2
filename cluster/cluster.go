package cluster

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/control/docker"
	"github.com/faultline/faultline/control/netns"
)

// Cluster is a local cluster described by its state file.
type Cluster struct {
	st     State
	root   string
	remote control.Remote
	// procs builds the local process that runs a command on a node, for
	// Exec and Shell.
	procs processer
	log   *slog.Logger
	look  func(string) (string, error)
}

// processer builds the local process that runs a command on a node.
type processer interface {
	Process(node string, cmd control.Cmd) (control.LocalProcess, error)
}

// Load opens the cluster whose state folder is dir.
func Load(dir string) (*Cluster, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := readState(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: no %s", ErrNoCluster, stateFile(dir))
	}
	if err != nil {
		return nil, err
	}
	return newCluster(st, filepath.Dir(dir), nil, nil)
}

// Open opens cluster name under the state root ("" is DefaultStateRoot()).
func Open(root, name string) (*Cluster, error) {
	if root == "" {
		root = DefaultStateRoot()
	}
	if name == "" {
		name = DefaultName
	}
	if err := ValidName(name); err != nil {
		return nil, err
	}
	c, err := Load(clusterDir(root, name))
	if errors.Is(err, ErrNoCluster) {
		return nil, fmt.Errorf("%w %q (no state under %s; run `faultline cluster up` first)", ErrNoCluster, name, root)
	}
	return c, err
}

// List opens every cluster under the state root ("" is DefaultStateRoot()).
func List(root string) ([]*Cluster, error) {
	if root == "" {
		root = DefaultStateRoot()
	}
	sts, err := listStates(root)
	if err != nil {
		return nil, err
	}
	var out []*Cluster
	for _, st := range sts {
		c, err := newCluster(st, root, nil, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func newCluster(st *State, root string, log *slog.Logger, look func(string) (string, error)) (*Cluster, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if look == nil {
		look = lookPath
	}
	c := &Cluster{st: *st, root: root, log: log, look: look}
	if st.Driver == DriverDocker {
		nodes := make([]docker.Node, len(st.Nodes))
		for i, n := range st.Nodes {
			nodes[i] = docker.Node{Name: n.Name, Container: n.Container, Dir: n.Dir}
		}
		r, err := docker.New(st.Name, nodes)
		if err != nil {
			return nil, err
		}
		c.remote, c.procs = r, r
		return c, nil
	}
	nodes := make([]netns.Node, len(st.Nodes))
	for i, n := range st.Nodes {
		nodes[i] = netns.Node{Name: n.Name, Namespace: n.Namespace, Dir: n.Dir, Addr: n.Addr}
	}
	r, err := netns.New(st.Name, nodes)
	if err != nil {
		return nil, err
	}
	c.remote, c.procs = r, r
	if st.Rootless != nil {
		rr, err := newRootlessRemote(r, st, look)
		if err != nil {
			return nil, err
		}
		c.remote, c.procs = rr, rr
	}
	return c, nil
}

// Name is the cluster's name.
func (c *Cluster) Name() string { return c.st.Name }

// Nodes are the node names, n1..nN.
func (c *Cluster) Nodes() []string { return c.st.nodeNames() }

// Driver is the cluster's driver: netns or docker.
func (c *Cluster) Driver() string { return c.st.Driver }

// Rootless reports whether the cluster is a rootless netns cluster.
func (c *Cluster) Rootless() bool { return c.st.Rootless != nil }

// Remote reaches the nodes: inside their network namespaces (netns, with
// ip netns exec as root, with nsenter when rootless) or containers
// (docker exec).
func (c *Cluster) Remote() control.Remote { return c.remote }

// Container is node's docker container, "" for an unknown node or another
// driver.
func (c *Cluster) Container(node string) string {
	n, _ := c.st.node(node)
	return n.Container
}

// Addr is node's IPv4 address, "" for an unknown node.
func (c *Cluster) Addr(node string) string {
	n, _ := c.st.node(node)
	return n.Addr
}

// Namespace is node's network namespace, "" for an unknown node.
func (c *Cluster) Namespace(node string) string {
	n, _ := c.st.node(node)
	return n.Namespace
}

// HostVeth is the host side of node's veth pair (the bridge port that
// bridge-level fault rules match on), "" for an unknown node.
func (c *Cluster) HostVeth(node string) string {
	n, _ := c.st.node(node)
	return n.Veth
}

// NodeDir is node's root folder on the host, "" for an unknown node.
func (c *Cluster) NodeDir(node string) string {
	n, _ := c.st.node(node)
	return n.Dir
}

// Dir is the cluster's state folder.
func (c *Cluster) Dir() string { return c.st.Dir }

// Bridge is the host bridge joining the nodes.
func (c *Cluster) Bridge() string { return c.st.Bridge }

// HostAddr is the host's address on the nodes' subnet.
func (c *Cluster) HostAddr() string { return c.st.HostAddr }

// Subnet is the nodes' subnet, e.g. "10.213.0.0/24".
func (c *Cluster) Subnet() string { return c.st.Subnet }

// HostTable is the name of the nftables table (in any family, on the host)
// that fault code may create for this cluster; Heal and Down delete it.
func (c *Cluster) HostTable() string { return hostTable(c.st.Name) }

// State returns a copy of the cluster's state.
func (c *Cluster) State() State {
	st := c.st
	st.Nodes = append([]NodeState(nil), c.st.Nodes...)
	st.ForwardRule = append([]string(nil), c.st.ForwardRule...)
	if c.st.SSHD != nil {
		s := *c.st.SSHD
		st.SSHD = &s
	}
	if c.st.Rootless != nil {
		r := *c.st.Rootless
		st.Rootless = &r
	}
	if c.st.Docker != nil {
		d := *c.st.Docker
		st.Docker = &d
	}
	return st
}

func (c *Cluster) nsByNode() map[string]string {
	m := make(map[string]string, len(c.st.Nodes))
	for _, n := range c.st.Nodes {
		m[n.Name] = n.Namespace
	}
	return m
}
