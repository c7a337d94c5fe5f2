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
}

// Status inspects the cluster.
func (c *Cluster) Status(ctx context.Context) (*Status, error) {
	if !isRoot() {
		return nil, fmt.Errorf("cluster %s: %w", c.st.Name, ErrNotRoot)
	}
	t, err := findTools(c.look, "ip")
	if err != nil {
		return nil, err
	}
	st := &c.st
	subnet, err := netip.ParsePrefix(st.Subnet)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: state: subnet %q: %w", st.Name, st.Subnet, err)
	}
	links, err := t.hostLinks(ctx)
	if err != nil {
		return nil, err
	}
	procs, err := nodeProcs(c.nsByNode())
	if err != nil {
		return nil, err
	}
	s := &Status{Name: st.Name, Driver: st.Driver, Dir: st.Dir, Subnet: st.Subnet, Bridge: st.Bridge, HostAddr: st.HostAddr}
	br, ok := links[st.Bridge]
	s.BridgeUp = ok && br.up() && br.hasAddr(st.HostAddr, subnet.Bits())
	s.Healthy = s.BridgeUp && st.Phase == PhaseUp
	for _, n := range st.Nodes {
		ns := NodeStatus{Name: n.Name, Addr: n.Addr, Namespace: n.Namespace, Procs: len(procs[n.Name])}
		ns.Problem = nodeProblem(ctx, t, n, links, st.Bridge, subnet.Bits())
		ns.Up = ns.Problem == ""
		s.Healthy = s.Healthy && ns.Up
		s.Nodes = append(s.Nodes, ns)
	}
	return s, nil
}

// nodeProblem says what is wrong with node n, "" when nothing.
func nodeProblem(ctx context.Context, t *tools, n NodeState, links map[string]link, bridge string, bits int) string {
	if !nsExists(n.Namespace) {
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
	var b strings.Builder
	fmt.Fprintf(&b, "cluster %s (%s): %s\n", s.Name, s.Driver, health)
	fmt.Fprintf(&b, "subnet %s, bridge %s %s, host %s, state %s\n", s.Subnet, s.Bridge, bridge, s.HostAddr, s.Dir)
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tADDRESS\tNAMESPACE\tSTATE\tPROCS")
	for _, n := range s.Nodes {
		state := "up"
		if !n.Up {
			state = "down: " + n.Problem
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", n.Name, n.Addr, n.Namespace, state, n.Procs)
	}
	tw.Flush()
	_, err := io.WriteString(w, b.String())
	return err
}
