package cluster

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"text/tabwriter"
)

// Status is what `faultline cluster status` shows.
type Status struct {
	Name     string
	Driver   string
	Dir      string
	Subnet   string
	Bridge   string
	HostAddr string
	// BridgeUp says the bridge exists, is up and has the host address.
	BridgeUp bool
	// Rootless says the cluster lives in a user namespace of its own.
	Rootless bool
	// SSHKey and SSHKnownHosts are the client key and known_hosts file
	// for the nodes' sshd ("" without sshd).
	SSHKey, SSHKnownHosts string
	// Healthy says every piece is in place.
	Healthy bool
	Nodes   []NodeStatus
}

// NodeStatus is one node's line of Status.
type NodeStatus struct {
	Name      string
	Addr      string
	Namespace string
	// Up says the namespace exists and its interface is up with its address
	// and attached to the bridge.
	Up bool
	// Problem says why it is not up.
	Problem string
	// Procs is the number of processes in the node's namespace.
	Procs int
	// SSHD is "up" or "down" for a node with sshd, "" without.
	SSHD string
	// Container is the docker container ("" for netns nodes).
	Container string
}

// Status inspects the cluster.
func (c *Cluster) Status(ctx context.Context) (*Status, error) {
	if c.st.Driver == DriverDocker {
		return c.statusDocker(ctx)
	}
	if c.st.Rootless == nil && !isRoot() {
		return nil, fmt.Errorf("cluster %s: %w", c.st.Name, ErrNotRoot)
	}
	t, err := findTools(c.look, "ip")
	if err != nil {
		return nil, err
	}
	st := &c.st
	if st.Rootless != nil {
		if err := t.useHolder(st.Rootless); err != nil {
			s := &Status{Name: st.Name, Driver: st.Driver, Dir: st.Dir, Subnet: st.Subnet, Bridge: st.Bridge, HostAddr: st.HostAddr, Rootless: true}
			for _, n := range st.Nodes {
				s.Nodes = append(s.Nodes, NodeStatus{Name: n.Name, Addr: n.Addr, Namespace: n.Namespace, Problem: "holder gone"})
			}
			return s, nil
		}
	}
	subnet, err := netip.ParsePrefix(st.Subnet)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: state: subnet %q: %w", st.Name, st.Subnet, err)
	}
	links, err := t.hostLinks(ctx)
	if err != nil {
		return nil, err
	}
	procs, err := nodeProcs(t.netnsDir, c.nsByNode())
	if err != nil {
		return nil, err
	}
	s := &Status{Name: st.Name, Driver: st.Driver, Dir: st.Dir, Subnet: st.Subnet, Bridge: st.Bridge, HostAddr: st.HostAddr, Rootless: st.Rootless != nil}
	if st.SSHD != nil {
		s.SSHKey, s.SSHKnownHosts = st.SSHD.ClientKey(), st.SSHD.KnownHosts()
	}
	br, ok := links[st.Bridge]
	s.BridgeUp = ok && br.up() && br.hasAddr(st.HostAddr, subnet.Bits())
	s.Healthy = s.BridgeUp && st.Phase == PhaseUp
	for _, n := range st.Nodes {
		ns := NodeStatus{Name: n.Name, Addr: n.Addr, Namespace: n.Namespace, Procs: len(procs[n.Name])}
		ns.Problem = nodeProblem(ctx, t, n, links, st.Bridge, subnet.Bits())
		if ns.Problem == "" && st.SSHD != nil {
			ns.SSHD = "up"
			if !sshdRunning(st.SSHD, n.Name) {
				ns.SSHD = "down"
				ns.Problem = "sshd not running"
			}
		}
		ns.Up = ns.Problem == ""
		s.Healthy = s.Healthy && ns.Up
		s.Nodes = append(s.Nodes, ns)
	}
	return s, nil
}

// nodeProblem says what is wrong with node n, "" when nothing.
func nodeProblem(ctx context.Context, t *tools, n NodeState, links map[string]link, bridge string, bits int) string {
	if !t.nsExists(n.Namespace) {
		return "namespace missing"
	}
	inner, err := t.nsLinks(ctx, n.Namespace)
	if err != nil {
		return "namespace unreadable: " + exitErr(err)
	}
	eth, ok := inner[n.Iface]
	switch {
	case !ok:
		return n.Iface + " missing"
	case !eth.up():
		return n.Iface + " down"
	case !eth.hasAddr(n.Addr, bits):
		return fmt.Sprintf("%s lacks %s/%d", n.Iface, n.Addr, bits)
	case !inner["lo"].up():
		return "lo down"
	}
	veth, ok := links[n.Veth]
	switch {
	case !ok:
		return n.Veth + " missing"
	case veth.Master != bridge:
		return n.Veth + " not on " + bridge
	case !veth.up():
		return n.Veth + " down"
	}
	return ""
}

// WriteText writes s as a table.
func (s *Status) WriteText(w io.Writer) error {
	health := "healthy"
	if !s.Healthy {
		health = "NOT healthy (run `faultline cluster up` to repair)"
	}
	bridge := "up"
	if !s.BridgeUp {
		bridge = "DOWN"
	}
	driver := s.Driver
	if s.Rootless {
		driver += ", rootless"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "cluster %s (%s): %s\n", s.Name, driver, health)
	what := "bridge"
	if s.Driver == DriverDocker {
		what = "network"
	}
	fmt.Fprintf(&b, "subnet %s, %s %s %s, host %s, state %s\n", s.Subnet, what, s.Bridge, bridge, s.HostAddr, s.Dir)
	sshd := s.SSHKey != ""
	if sshd {
		fmt.Fprintf(&b, "ssh: ssh -i %s -o UserKnownHostsFile=%s root@NODE\n", s.SSHKey, s.SSHKnownHosts)
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	where := "NAMESPACE"
	if s.Driver == DriverDocker {
		where = "CONTAINER"
	}
	head := "NODE\tADDRESS\t" + where + "\tSTATE\tPROCS"
	if sshd {
		head += "\tSSHD"
	}
	fmt.Fprintln(tw, head)
	for _, n := range s.Nodes {
		state := "up"
		if !n.Up {
			state = "down: " + n.Problem
		}
		id := n.Namespace
		if s.Driver == DriverDocker {
			id = n.Container
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%d", n.Name, n.Addr, id, state, n.Procs)
		if sshd {
			line += "\t" + n.SSHD
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	_, err := io.WriteString(w, b.String())
	return err
}
