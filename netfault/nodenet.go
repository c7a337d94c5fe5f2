package netfault

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/faultline/faultline/control"
)

// Names of what NodeNet makes on the nodes. They follow the conventions
// `faultline cluster heal` relies on (a "faultline" prefix for nftables
// tables and iptables chains and comments), so leftovers of a killed run
// are found and removed.
const (
	// PartitionTable is the nftables table (family inet) holding the cut.
	PartitionTable = "faultline"
	// PacketTable is the nftables table (family ip) for loss and
	// duplication without netem.
	PacketTable = "faultline_packet"
	// PartitionChain is the iptables chain used when nft is missing.
	PartitionChain = "faultline-partition"
	// DelayChain is the iptables chain sending packets to the delay agent.
	DelayChain = "faultline-delay"
	// QdiscHandle is the handle of every root qdisc NodeNet adds; Unshape
	// removes only root qdiscs with this handle.
	QdiscHandle = "fa17:"
	// DefaultQueue is the NFQUEUE number of the delay agent.
	DefaultQueue = 7217
	// DefaultStateDir is where the agent's pidfile and log live on a node
	// (relative: the node's folder on a netns cluster, the login folder
	// over SSH).
	DefaultStateDir = "faultline-netfault"
)

// Config configures a NodeNet.
type Config struct {
	// Remote reaches the nodes; required.
	Remote control.Remote
	// Nodes are the nodes NodeNet may touch (Heal and Unshape clean all of
	// them); required.
	Nodes []string
	// Reject makes cut TCP connections fail at once (tcp reset) instead
	// of timing out; other packets are dropped either way.
	Reject bool
	// Addrs gives each node's addresses; nodes missing here are resolved
	// on the node applying a rule, with getent ahosts.
	Addrs map[string][]string
	// Device is the interface to shape; "" finds, on each node, the one
	// routing to the other nodes.
	Device string
	// AgentCommand starts the packet-delay agent: the program and the
	// arguments before AgentConfig.Args (default: this executable and
	// "nemesis-agent"). The nodes must be able to run it: on a netns
	// cluster they share this machine's files.
	AgentCommand []string
	// AgentEnv is added to the agent's environment.
	AgentEnv map[string]string
	// StateDir holds the agent's pidfile and log on the nodes (default
	// DefaultStateDir).
	StateDir string
	// Queue is the agent's NFQUEUE number (default DefaultQueue).
	Queue uint16
	// Sudo runs the commands through sudo (remotes that log in as another
	// user than root).
	Sudo bool
	// Seed seeds the delay agents' random sources.
	Seed int64
	// Log receives what is done and the probed capabilities.
	Log *slog.Logger
}

// NodeNet injects network faults with each node's own firewall and
// queueing disciplines, through control.Remote: nftables (or iptables) for
// cuts, loss and duplication, tc for netem and rates, and the delay agent
// with NFQUEUE for delays where the kernel lacks netem.
type NodeNet struct {
	cfg Config
	log *slog.Logger

	mu    sync.Mutex
	caps  map[string]Capabilities
	addrs map[string]map[string][]string // node → name → addresses as node resolves them
	devs  map[string]string
}

var (
	_ Net    = (*NodeNet)(nil)
	_ Shaper = (*NodeNet)(nil)
)

// New checks cfg and returns a NodeNet. It runs nothing yet.
func New(cfg Config) (*NodeNet, error) {
	if cfg.Remote == nil {
		return nil, errors.New("netfault: Config.Remote is required")
	}
	if len(cfg.Nodes) == 0 {
		return nil, errors.New("netfault: Config.Nodes is empty")
	}
	for i, n := range cfg.Nodes {
		if n == "" || slices.Contains(cfg.Nodes[:i], n) {
			return nil, fmt.Errorf("netfault: node %q empty or given twice", n)
		}
	}
	if len(cfg.AgentCommand) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("netfault: finding this program for the delay agent: %w", err)
		}
		cfg.AgentCommand = []string{exe, "nemesis-agent"}
	}
	if cfg.StateDir == "" {
		cfg.StateDir = DefaultStateDir
	}
	if cfg.Queue == 0 {
		cfg.Queue = DefaultQueue
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.Nodes = slices.Clone(cfg.Nodes)
	return &NodeNet{cfg: cfg, log: log, caps: map[string]Capabilities{}, addrs: map[string]map[string][]string{}, devs: map[string]string{}}, nil
}

// Nodes returns the nodes NodeNet acts on.
func (n *NodeNet) Nodes() []string { return slices.Clone(n.cfg.Nodes) }

// pathPrefix lets scripts find system tools on nodes whose PATH lacks sbin.
const pathPrefix = `PATH="$PATH:/usr/sbin:/sbin"; export PATH
`

// sh runs script on node with args as $1...
func (n *NodeNet) sh(ctx context.Context, node, script, stdin string, args ...string) (string, error) {
	cmd := control.Cmd{Args: append([]string{"sh", "-c", pathPrefix + script, "faultline-netfault"}, args...), Sudo: n.cfg.Sudo}
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	res, err := n.cfg.Remote.Exec(ctx, node, cmd)
	if err != nil {
		var ee *control.ExitError
		if errors.As(err, &ee) {
			short := *ee
			short.Command = "netfault script"
			return res.Stdout, &short
		}
		return res.Stdout, err
	}
	return res.Stdout, nil
}

// Capabilities probes node once (later calls return what the first one
// found) and logs the result.
func (n *NodeNet) Capabilities(ctx context.Context, node string) (Capabilities, error) {
	n.mu.Lock()
	c, ok := n.caps[node]
	n.mu.Unlock()
	if ok {
		return c, nil
	}
	c, err := Probe(ctx, n.cfg.Remote, node, n.cfg.AgentCommand[0], n.cfg.Sudo)
	if err != nil {
		return c, err
	}
	n.log.Info("fault capabilities", "node", node, "summary", c.Summary(), "notes", c.Notes)
	n.mu.Lock()
	n.caps[node] = c
	n.mu.Unlock()
	return c, nil
}

// ProbeAll probes every node (in parallel, once) and returns their
// capabilities by node.
func (n *NodeNet) ProbeAll(ctx context.Context) (map[string]Capabilities, error) {
	var mu sync.Mutex
	out := map[string]Capabilities{}
	err := control.OnNodes(ctx, n.cfg.Nodes, func(ctx context.Context, node string) error {
		c, err := n.Capabilities(ctx, node)
		mu.Lock()
		out[node] = c
		mu.Unlock()
		return err
	})
	return out, err
}

// resolveScript prints "@NAME" and then `getent ahosts NAME` for each
// argument.
const resolveScript = `for n in "$@"; do echo "@$n"; getent ahosts "$n" 2>/dev/null; done; true`

// addresses returns the addresses of names as node resolves them.
func (n *NodeNet) addresses(ctx context.Context, node string, names []string) (map[string][]string, error) {
	out := map[string][]string{}
	var missing []string
	n.mu.Lock()
	cache := n.addrs[node]
	for _, name := range names {
		if a, ok := n.cfg.Addrs[name]; ok && len(a) > 0 {
			out[name] = a
		} else if a, ok := cache[name]; ok {
			out[name] = a
		} else {
			missing = append(missing, name)
		}
	}
	n.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	stdout, err := n.sh(ctx, node, resolveScript, "", missing...)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", strings.Join(missing, ", "), err)
	}
	found := parseResolve(stdout)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.addrs[node] == nil {
		n.addrs[node] = map[string][]string{}
	}
	for _, name := range missing {
		a := found[name]
		if len(a) == 0 {
			return nil, fmt.Errorf("%s cannot resolve node %q (getent ahosts found nothing)", node, name)
		}
		n.addrs[node][name] = a
		out[name] = a
	}
	return out, nil
}

func parseResolve(out string) map[string][]string {
	m := map[string][]string{}
	cur := ""
	for _, l := range strings.Split(out, "\n") {
		if name, ok := strings.CutPrefix(l, "@"); ok {
			cur = strings.TrimSpace(name)
			continue
		}
		f := strings.Fields(l)
		if cur == "" || len(f) == 0 {
			continue
		}
		a, err := netip.ParseAddr(f[0])
		if err != nil || a.IsLoopback() {
			continue
		}
		s := a.Unmap().String()
		if !slices.Contains(m[cur], s) {
			m[cur] = append(m[cur], s)
		}
	}
	return m
}

func splitFamilies(addrs []string) (v4, v6 []string) {
	for _, a := range addrs {
		if p, err := netip.ParseAddr(a); err == nil && p.Is6() {
			v6 = append(v6, a)
		} else {
			v4 = append(v4, a)
		}
	}
	return v4, v6
}

// peerAddrs resolves peers as node sees them, all addresses in one list.
func (n *NodeNet) peerAddrs(ctx context.Context, node string, peers []string) ([]string, error) {
	m, err := n.addresses(ctx, node, peers)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range peers {
		for _, a := range m[p] {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out, nil
}

func (n *NodeNet) checkNodes(nodes []string) error {
	for _, x := range nodes {
		if !slices.Contains(n.cfg.Nodes, x) {
			return fmt.Errorf("netfault: %q is not one of the nodes (%s)", x, strings.Join(n.cfg.Nodes, ", "))
		}
	}
	return nil
}

// Drop applies g: every node in g drops the packets of its peers, every
// other node drops nothing. Each node's rules are replaced in one
// transaction. On error, some nodes may have their new rules and others
// not: call Heal.
func (n *NodeNet) Drop(ctx context.Context, g Grudge) error {
	g = g.Normalize()
	if err := g.Validate(n.cfg.Nodes); err != nil {
		return fmt.Errorf("netfault: %w", err)
	}
	for _, node := range g.Nodes() {
		c, err := n.Capabilities(ctx, node)
		if err != nil {
			return err
		}
		if err := c.CheckPartition(); err != nil {
			return err
		}
	}
	n.log.Info("partition", "grudge", g.String())
	return control.OnNodes(ctx, n.cfg.Nodes, func(ctx context.Context, node string) error {
		peers := g[node]
		if len(peers) == 0 {
			_, err := n.sh(ctx, node, healPartitionScript, "")
			return err
		}
		addrs, err := n.peerAddrs(ctx, node, peers)
		if err != nil {
			return err
		}
		c, _ := n.Capabilities(ctx, node)
		if c.Nft {
			_, err = n.sh(ctx, node, "nft -f -", PartitionNft(addrs, n.cfg.Reject))
			return err
		}
		_, err = n.sh(ctx, node, partitionIptables(addrs, n.cfg.Reject), "")
		return err
	})
}

// PartitionNft is the nft script that makes a node drop packets from
// addrs (and reset TCP connections from them when reject is set),
// replacing the table atomically.
func PartitionNft(addrs []string, reject bool) string {
	v4, v6 := splitFamilies(addrs)
	var b strings.Builder
	fmt.Fprintf(&b, "table inet %s\ndelete table inet %s\ntable inet %s {\n\tchain input {\n\t\ttype filter hook input priority -10; policy accept;\n", PartitionTable, PartitionTable, PartitionTable)
	for _, fam := range []struct {
		match string
		addrs []string
	}{{"ip saddr", v4}, {"ip6 saddr", v6}} {
		if len(fam.addrs) == 0 {
			continue
		}
		set := "{ " + strings.Join(fam.addrs, ", ") + " }"
		if reject {
			// Resets from the peers pass, so that both sides of a
			// symmetric cut see their connects refused at once.
			fmt.Fprintf(&b, "\t\t%s %s tcp flags & rst == rst accept\n", fam.match, set)
			fmt.Fprintf(&b, "\t\t%s %s meta l4proto tcp reject with tcp reset\n", fam.match, set)
		}
		fmt.Fprintf(&b, "\t\t%s %s drop\n", fam.match, set)
	}
	b.WriteString("\t}\n}\n")
	return b.String()
}

func partitionIptables(addrs []string, reject bool) string {
	var b strings.Builder
	b.WriteString(healIptablesPartition)
	fmt.Fprintf(&b, "iptables -w -N %[1]s || exit 1\niptables -w -I INPUT -m comment --comment %[1]s -j %[1]s || exit 1\n", PartitionChain)
	for _, a := range addrs {
		if strings.Contains(a, ":") {
			continue // IPv6: the iptables fallback covers IPv4 only
		}
		if reject {
			fmt.Fprintf(&b, "iptables -w -A %s -s %s -p tcp --tcp-flags RST RST -j RETURN || exit 1\n", PartitionChain, a)
			fmt.Fprintf(&b, "iptables -w -A %s -s %s -p tcp -j REJECT --reject-with tcp-reset || exit 1\n", PartitionChain, a)
		}
		fmt.Fprintf(&b, "iptables -w -A %s -s %s -j DROP || exit 1\n", PartitionChain, a)
	}
	return b.String()
}

const healIptablesPartition = `if command -v iptables >/dev/null 2>&1; then
	while iptables -w -D INPUT -m comment --comment ` + PartitionChain + ` -j ` + PartitionChain + ` 2>/dev/null; do :; done
	iptables -w -F ` + PartitionChain + ` 2>/dev/null; iptables -w -X ` + PartitionChain + ` 2>/dev/null
fi
`

const healPartitionScript = `rc=0
if command -v nft >/dev/null 2>&1; then
	printf 'table inet ` + PartitionTable + `\ndelete table inet ` + PartitionTable + `\n' | nft -f - || rc=1
fi
` + healIptablesPartition + `exit $rc
`

// Heal removes the cut from every node (the nftables table, and the
// iptables chain of the fallback), whatever this NodeNet thinks it did.
func (n *NodeNet) Heal(ctx context.Context) error {
	err := control.OnNodes(ctx, n.cfg.Nodes, func(ctx context.Context, node string) error {
		_, err := n.sh(ctx, node, healPartitionScript, "")
		return err
	})
	if err != nil {
		return fmt.Errorf("netfault: heal: %w", err)
	}
	n.log.Info("partition healed")
	return nil
}

// device finds the interface node uses to reach addr.
func (n *NodeNet) device(ctx context.Context, node, addr string) (string, error) {
	if n.cfg.Device != "" {
		return n.cfg.Device, nil
	}
	n.mu.Lock()
	d, ok := n.devs[node]
	n.mu.Unlock()
	if ok {
		return d, nil
	}
	out, err := n.sh(ctx, node, `ip -o route get "$1"`, "", addr)
	if err != nil {
		return "", fmt.Errorf("finding the interface to %s: %w", addr, err)
	}
	f := strings.Fields(out)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "dev" {
			d = f[i+1]
		}
	}
	if d == "" || d == "lo" {
		return "", fmt.Errorf("%s routes %s through %q: set the device to shape", node, addr, d)
	}
	n.mu.Lock()
	n.devs[node] = d
	n.mu.Unlock()
	return d, nil
}

// Shape applies b to links. Every source node is checked first: if any of
// them cannot do b, nothing changes and the error wraps ErrUnsupported.
// The nodes' earlier behaviours are removed first.
func (n *NodeNet) Shape(ctx context.Context, links Links, b Behaviour) error {
	if err := b.Validate(); err != nil {
		return fmt.Errorf("netfault: %w", err)
	}
	if len(links) == 0 {
		return errors.New("netfault: shape: no links given")
	}
	srcs := links.Sources()
	if err := n.checkNodes(srcs); err != nil {
		return err
	}
	var errs []error
	for _, node := range srcs {
		if err := n.checkNodes(links[node]); err != nil {
			return err
		}
		c, err := n.Capabilities(ctx, node)
		if err != nil {
			return err
		}
		if err := c.CheckBehaviour(b, len(links[node]) > 0); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	n.log.Info("shaping packets", "behaviour", b.String(), "from", srcs)
	if err := control.OnNodes(ctx, srcs, n.unshapeNode); err != nil {
		return fmt.Errorf("netfault: removing the earlier behaviour: %w", err)
	}
	return control.OnNodes(ctx, srcs, func(ctx context.Context, node string) error {
		return n.shapeNode(ctx, node, links[node], b)
	})
}

func (n *NodeNet) shapeNode(ctx context.Context, node string, peers []string, b Behaviour) error {
	c, _ := n.Capabilities(ctx, node)
	var addrs []string
	probe := peers
	if len(probe) == 0 {
		for _, o := range n.cfg.Nodes {
			if o != node {
				probe = []string{o}
				break
			}
		}
	}
	if len(probe) == 0 && n.cfg.Device == "" {
		return errors.New("cannot find the interface to shape: no other node to route to; set the device")
	}
	var dev string
	if len(probe) > 0 {
		a, err := n.peerAddrs(ctx, node, probe)
		if err != nil {
			return err
		}
		if len(peers) > 0 {
			addrs = a
		}
		if dev, err = n.device(ctx, node, a[0]); err != nil {
			return err
		}
	} else {
		dev = n.cfg.Device
	}
	v4, _ := splitFamilies(addrs)
	if len(peers) > 0 && len(v4) == 0 {
		return fmt.Errorf("no IPv4 address for %s: packet behaviours on chosen links need IPv4", strings.Join(peers, ", "))
	}
	if c.Netem {
		_, err := n.sh(ctx, node, NetemScript(dev, v4, b), "")
		return err
	}
	if b.Loss != nil || b.Duplicate != nil {
		if _, err := n.sh(ctx, node, "nft -f -", PacketNft(dev, v4, b)); err != nil {
			return err
		}
	}
	if b.Rate != nil {
		if _, err := n.sh(ctx, node, RateScript(dev, v4, b.Rate.BitsPerSecond), ""); err != nil {
			return err
		}
	}
	if b.Delay != nil {
		if err := n.startAgent(ctx, node, b); err != nil {
			return err
		}
		if _, err := n.sh(ctx, node, delayIptables(dev, v4, n.cfg.Queue), ""); err != nil {
			return err
		}
	}
	return nil
}

// NetemScript is the tc script that applies b with netem on dev: to all
// traffic, or through an htb class to the addresses in dsts.
func NetemScript(dev string, dsts []string, b Behaviour) string {
	netem := strings.Join(b.NetemArgs(), " ")
	if len(dsts) == 0 {
		return fmt.Sprintf("tc qdisc replace dev %s root handle %s netem %s\n", control.Quote(dev), QdiscHandle, netem)
	}
	var s strings.Builder
	h := strings.TrimSuffix(QdiscHandle, ":")
	fmt.Fprintf(&s, "set -e\ntc qdisc replace dev %[1]s root handle %[2]s: htb default 1\n"+
		"tc class add dev %[1]s parent %[2]s: classid %[2]s:1 htb rate 10gbit\n"+
		"tc class add dev %[1]s parent %[2]s: classid %[2]s:2 htb rate 10gbit\n"+
		"tc qdisc add dev %[1]s parent %[2]s:2 handle fa18: netem %[3]s\n", control.Quote(dev), h, netem)
	for _, a := range dsts {
		fmt.Fprintf(&s, "tc filter add dev %s parent %s: protocol ip prio 1 u32 match ip dst %s/32 flowid %s:2\n", control.Quote(dev), h, a, h)
	}
	return s.String()
}

// RateScript is the tc script limiting dev's rate: with tbf for all
// traffic, or an htb class for the addresses in dsts.
func RateScript(dev string, dsts []string, bps uint64) string {
	rate := FormatRate(bps)
	burst := max(bps/8/50, 4096) // bytes: 20 ms at the rate, at least a few packets
	if len(dsts) == 0 {
		return fmt.Sprintf("tc qdisc replace dev %s root handle %s tbf rate %s burst %d latency 400ms\n", control.Quote(dev), QdiscHandle, rate, burst)
	}
	h := strings.TrimSuffix(QdiscHandle, ":")
	var s strings.Builder
	fmt.Fprintf(&s, "set -e\ntc qdisc replace dev %[1]s root handle %[2]s: htb default 1\n"+
		"tc class add dev %[1]s parent %[2]s: classid %[2]s:1 htb rate 10gbit\n"+
		"tc class add dev %[1]s parent %[2]s: classid %[2]s:2 htb rate %[3]s ceil %[3]s burst %[4]d\n", control.Quote(dev), h, rate, burst)
	for _, a := range dsts {
		fmt.Fprintf(&s, "tc filter add dev %s parent %s: protocol ip prio 1 u32 match ip dst %s/32 flowid %s:2\n", control.Quote(dev), h, a, h)
	}
	return s.String()
}

// PacketNft is the nft script for loss and duplication without netem, on
// the packets leaving through dev (to dsts only, when given).
func PacketNft(dev string, dsts []string, b Behaviour) string {
	match := fmt.Sprintf("oifname %q", dev)
	if len(dsts) > 0 {
		match = "ip daddr { " + strings.Join(dsts, ", ") + " }"
	}
	var s strings.Builder
	fmt.Fprintf(&s, "table ip %[1]s\ndelete table ip %[1]s\ntable ip %[1]s {\n\tchain output {\n\t\ttype filter hook output priority 0; policy accept;\n", PacketTable)
	if b.Duplicate != nil {
		fmt.Fprintf(&s, "\t\t%s numgen random mod 10000 < %d dup to ip daddr device %q\n", match, basisPoints(b.Duplicate.Percent), dev)
	}
	if b.Loss != nil {
		fmt.Fprintf(&s, "\t\t%s numgen random mod 10000 < %d drop\n", match, basisPoints(b.Loss.Percent))
	}
	s.WriteString("\t}\n}\n")
	return s.String()
}

func basisPoints(pct float64) int { return int(pct*100 + 0.5) }

func delayIptables(dev string, dsts []string, queue uint16) string {
	var s strings.Builder
	fmt.Fprintf(&s, "set -e\niptables -w -N %s\n", DelayChain)
	q := strconv.Itoa(int(queue))
	if len(dsts) == 0 {
		fmt.Fprintf(&s, "iptables -w -A %s -o %s -j NFQUEUE --queue-num %s --queue-bypass\n", DelayChain, control.Quote(dev), q)
	}
	for _, a := range dsts {
		fmt.Fprintf(&s, "iptables -w -A %s -d %s/32 -j NFQUEUE --queue-num %s --queue-bypass\n", DelayChain, a, q)
	}
	fmt.Fprintf(&s, "iptables -w -I OUTPUT -m comment --comment %[1]s -j %[1]s\n", DelayChain)
	return s.String()
}

// agentStartScript starts the agent in the background with a pidfile
// ($1) and a log ($2), replacing one started before, and waits until it
// reports ready.
const agentStartScript = `f=$1 log=$2; shift 2
mkdir -p "$(dirname "$f")" "$(dirname "$log")" || exit 1
` + agentStopBody + `
: > "$log" || exit 1
( exec setsid "$@" ) >> "$log" 2>&1 < /dev/null &
pid=$!
echo $pid > "$f" || exit 1
i=0
while [ $i -lt 200 ]; do
	grep -q '` + AgentReadyLine + `' "$log" && exit 0
	if ! kill -0 $pid 2>/dev/null; then echo "the delay agent exited:" >&2; tail -c 2000 "$log" >&2; rm -f "$f"; exit 1; fi
	sleep 0.05; i=$((i+1))
done
echo "the delay agent did not get ready within 10 s:" >&2; tail -c 2000 "$log" >&2
exit 1
`

// agentStopBody stops the agent whose pidfile is $f, checking that the
// process is an agent (nodes may share one PID space).
const agentStopBody = `if [ -s "$f" ]; then
	pid=$(cat "$f")
	case $pid in ''|*[!0-9]*) pid= ;; esac
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' < /proc/"$pid"/cmdline 2>/dev/null | grep -q -- ' ` + AgentSubcommand + ` --queue '; then
		kill -TERM "$pid" 2>/dev/null; kill -CONT "$pid" 2>/dev/null
		i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 60 ]; do sleep 0.05; i=$((i+1)); done
		kill -KILL "$pid" 2>/dev/null
	fi
	rm -f "$f"
fi`

func (n *NodeNet) agentFiles() (pidfile, logfile string) {
	return n.cfg.StateDir + "/delay-agent.pid", n.cfg.StateDir + "/delay-agent.log"
}

func (n *NodeNet) startAgent(ctx context.Context, node string, b Behaviour) error {
	d := b.Delay
	cfg := AgentConfig{Queue: n.cfg.Queue, Delay: d.Time, Jitter: d.Jitter, Distribution: d.Distribution, Correlation: d.Correlation, Seed: n.cfg.Seed}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if b.Reorder != nil {
		cfg.Reorder, cfg.ReorderCorrelation = b.Reorder.Percent, b.Reorder.Correlation
	}
	pid, logf := n.agentFiles()
	argv := append(slices.Clone(n.cfg.AgentCommand), cfg.Args()...)
	cmd := control.Cmd{
		Args: append([]string{"sh", "-c", pathPrefix + agentStartScript, "faultline-agent", pid, logf}, argv...),
		Env:  n.cfg.AgentEnv,
		Sudo: n.cfg.Sudo,
	}
	if _, err := n.cfg.Remote.Exec(ctx, node, cmd); err != nil {
		var ee *control.ExitError
		if errors.As(err, &ee) {
			short := *ee
			short.Command = "start delay agent"
			err = &short
		}
		return err
	}
	n.log.Info("delay agent started", "node", node, "args", cfg.Args())
	return nil
}

// dropEmptyFilterTable deletes the ip filter table when it holds no rule
// and only chains with policy accept: iptables-nft creates that table (and
// the OUTPUT base chain) for the delay chain and the probe, and leaves it
// behind when they are removed. Deleting such a table changes nothing.
const dropEmptyFilterTable = `if command -v nft >/dev/null 2>&1 && t=$(nft list table ip filter 2>/dev/null); then
	if ! printf '%s\n' "$t" | grep -v -E '^[[:space:]]*(table ip filter \{|chain [A-Za-z0-9_-]+ \{|type filter hook [a-z]+ priority [a-z0-9-]+; policy accept;|\}|)$' | grep -q .; then
		nft delete table ip filter 2>/dev/null
	fi
fi
`

// unshapeScript removes every packet behaviour from a node; $1 is the
// agent's pidfile.
const unshapeScript = `rc=0
if command -v nft >/dev/null 2>&1; then
	printf 'table ip ` + PacketTable + `\ndelete table ip ` + PacketTable + `\n' | nft -f - || rc=1
fi
if command -v iptables >/dev/null 2>&1; then
	while iptables -w -D OUTPUT -m comment --comment ` + DelayChain + ` -j ` + DelayChain + ` 2>/dev/null; do :; done
	iptables -w -F ` + DelayChain + ` 2>/dev/null; iptables -w -X ` + DelayChain + ` 2>/dev/null
fi
` + dropEmptyFilterTable + `f=$1
` + agentStopBody + `
if command -v tc >/dev/null 2>&1; then
	for d in $(ls /sys/class/net); do
		if tc qdisc show dev "$d" root 2>/dev/null | grep -q ' ` + QdiscHandle + ` '; then tc qdisc del dev "$d" root || rc=1; fi
	done
fi
exit $rc
`

func (n *NodeNet) unshapeNode(ctx context.Context, node string) error {
	pid, _ := n.agentFiles()
	_, err := n.sh(ctx, node, unshapeScript, "", pid)
	return err
}

// Unshape removes every packet behaviour from every node: the nftables
// table, the iptables chain to the agent, the agent, and root qdiscs with
// NodeNet's handle.
func (n *NodeNet) Unshape(ctx context.Context) error {
	if err := control.OnNodes(ctx, n.cfg.Nodes, n.unshapeNode); err != nil {
		return fmt.Errorf("netfault: unshape: %w", err)
	}
	n.log.Info("packet behaviours removed")
	return nil
}
