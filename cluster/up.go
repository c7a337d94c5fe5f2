package cluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/faultline/faultline/control"
)

// Up makes the cluster cfg describes, or repairs it when it exists: a second
// Up of a healthy cluster changes nothing. A new cluster that cannot be made
// completely is removed again, so a failed Up leaves nothing behind.
func Up(ctx context.Context, cfg Config) (*Cluster, error) {
	start := time.Now()
	cfg = cfg.adopt()
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Driver == DriverDocker {
		return upDocker(ctx, cfg)
	}
	if !cfg.Rootless && !isRoot() {
		return nil, fmt.Errorf("cluster %s: %w", cfg.Name, ErrNotRoot)
	}
	t, err := findTools(cfg.lookPath, "ip", "tc", "nft")
	if err != nil {
		return nil, err
	}
	if cfg.SSHD {
		if _, err := findSSHD(cfg.lookPath); err != nil {
			return nil, err
		}
	}
	if cfg.Rootless {
		if err := rootlessTools(cfg.lookPath); err != nil {
			return nil, err
		}
	}
	unlock, err := lock(ctx, cfg.StateRoot)
	if err != nil {
		return nil, err
	}
	defer unlock()

	dir := clusterDir(cfg.StateRoot, cfg.Name)
	st, err := readState(dir)
	switch {
	case err == nil:
		if err := sameCluster(st, cfg); err != nil {
			return nil, err
		}
		changed, err := repair(ctx, t, st, cfg)
		if err != nil {
			return nil, fmt.Errorf("cluster %s: repair: %w", st.Name, err)
		}
		cfg.Log.Info("cluster up", "cluster", st.Name, "nodes", len(st.Nodes), "repaired", changed, "elapsed", time.Since(start))
	case errors.Is(err, fs.ErrNotExist):
		st, err = plan(ctx, t, cfg)
		if err != nil {
			return nil, err
		}
		if err := create(ctx, t, st, cfg); err != nil {
			// Roll back even when ctx was cancelled (an interrupted up).
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			// A rootless cluster whose holder never started has nothing
			// but its state folder.
			if derr := rollback(rctx, t, st, cfg); derr != nil {
				return nil, fmt.Errorf("cluster %s: %w (and rolling back failed: %v; run `faultline cluster down %s`)", st.Name, err, derr, st.Name)
			}
			os.RemoveAll(st.Dir)
			return nil, fmt.Errorf("cluster %s: %w", st.Name, err)
		}
		cfg.Log.Info("cluster up", "cluster", st.Name, "nodes", len(st.Nodes), "subnet", st.Subnet, "elapsed", time.Since(start))
	default:
		return nil, err
	}
	return newCluster(st, cfg.StateRoot, cfg.Log, cfg.lookPath)
}

// adopt fills in the driver (and rootlessness) of an existing cluster of
// that name when cfg leaves the driver out, so that a plain up repairs any
// cluster.
func (c Config) adopt() Config {
	if c.Driver != "" {
		return c
	}
	name, root := c.Name, c.StateRoot
	if name == "" {
		name = DefaultName
	}
	if root == "" {
		root = DefaultStateRoot()
	}
	if st, err := readState(clusterDir(root, name)); err == nil {
		c.Driver = st.Driver
		c.Rootless = c.Rootless || st.Rootless != nil
	}
	return c
}

// rollback removes what a failed create made.
func rollback(ctx context.Context, t *tools, st *State, cfg Config) error {
	if cfg.Rootless && st.Rootless == nil {
		return nil
	}
	return teardown(ctx, t, st)
}

// sameCluster checks that cfg asks for the cluster st describes.
func sameCluster(st *State, cfg Config) error {
	if st.Driver != cfg.Driver {
		return fmt.Errorf("cluster %s exists with driver %s, not %s: run `faultline cluster down --name %s` first", st.Name, st.Driver, cfg.Driver, st.Name)
	}
	if (st.Rootless != nil) != cfg.Rootless && st.Driver == DriverNetns {
		what := "rootless"
		if st.Rootless == nil {
			what = "not rootless"
		}
		return fmt.Errorf("cluster %s exists and is %s: run `faultline cluster down --name %s` first", st.Name, what, st.Name)
	}
	if cfg.NodeCount != 0 && cfg.NodeCount != len(st.Nodes) {
		return fmt.Errorf("cluster %s exists with %d nodes, not %d: run `faultline cluster down` first", st.Name, len(st.Nodes), cfg.NodeCount)
	}
	if cfg.Subnet != "" {
		if p, err := netip.ParsePrefix(cfg.Subnet); err != nil || p.Masked().String() != st.Subnet {
			return fmt.Errorf("cluster %s exists on subnet %s, not %s: run `faultline cluster down` first", st.Name, st.Subnet, cfg.Subnet)
		}
	}
	return nil
}

// repair brings an existing netns cluster back to what its state says,
// adding sshd when cfg asks for it.
func repair(ctx context.Context, t *tools, st *State, cfg Config) (bool, error) {
	restarted := false
	if st.Rootless != nil && !holderAlive(st.Rootless) {
		// Its namespaces are gone with it; processes left in them die too.
		if err := killUserNS(st.Rootless.UserNS, killWait); err != nil {
			return false, err
		}
		if err := startHolder(ctx, st, cfg.lookPath); err != nil {
			return false, err
		}
		if err := writeState(st); err != nil {
			return false, err
		}
		restarted = true
	}
	if st.Rootless != nil {
		if err := t.useHolder(st.Rootless); err != nil {
			return false, err
		}
	}
	if cfg.SSHD && st.SSHD == nil {
		st.SSHD = newSSHDState(st)
		if err := writeState(st); err != nil {
			return false, err
		}
	}
	changed, err := ensure(ctx, t, st)
	return changed || restarted, err
}

// plan decides a new cluster's names and addresses and checks that none of
// them is taken. It creates nothing.
func plan(ctx context.Context, t *tools, cfg Config) (*State, error) {
	count := cfg.NodeCount
	if count == 0 {
		count = DefaultNodeCount
	}
	var host map[netip.Prefix]string
	var err error
	if !cfg.Rootless {
		// A rootless cluster lives in a network namespace of its own.
		if host, err = t.hostPrefixes(ctx); err != nil {
			return nil, fmt.Errorf("cluster %s: reading the host's routes: %w", cfg.Name, err)
		}
	}
	others, err := listStates(cfg.StateRoot)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", cfg.Name, err)
	}
	used := usedSubnets(host, others, cfg.Name)
	var subnet netip.Prefix
	if cfg.Subnet != "" {
		if subnet, err = parseSubnet(cfg.Subnet, count); err != nil {
			return nil, fmt.Errorf("cluster %s: %w", cfg.Name, err)
		}
		if who := clash(subnet, used); who != "" {
			return nil, fmt.Errorf("cluster %s: subnet %s overlaps %s", cfg.Name, subnet, who)
		}
	} else if subnet, err = pickSubnet(used); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", cfg.Name, err)
	}
	dir := clusterDir(cfg.StateRoot, cfg.Name)
	st := &State{
		Version:   StateVersion,
		Name:      cfg.Name,
		Driver:    cfg.Driver,
		Phase:     PhaseCreating,
		Created:   time.Now().UTC().Truncate(time.Millisecond),
		Dir:       dir,
		Subnet:    subnet.String(),
		Bridge:    bridgeName(cfg.Name),
		HostAddr:  hostAddr(subnet, 1).String(),
		HostsFile: cfg.HostsFile,
	}
	for i := 1; i <= count; i++ {
		n := nodeName(i)
		st.Nodes = append(st.Nodes, NodeState{
			Name:      n,
			Addr:      hostAddr(subnet, firstNodeHost+i).String(),
			Namespace: nsName(cfg.Name, n),
			Veth:      vethName(cfg.Name, n),
			Iface:     nodeIface,
			Dir:       nodeDir(dir, n),
		})
	}
	if cfg.Rootless {
		st.HostsFile = ""
		return st, nil
	}
	if cfg.SSHD {
		st.SSHD = newSSHDState(st)
	}
	links, err := t.hostLinks(ctx)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", cfg.Name, err)
	}
	if _, ok := links[st.Bridge]; ok {
		return nil, fmt.Errorf("cluster %s: a link named %s exists already (another cluster whose name shortens the same way?)", st.Name, st.Bridge)
	}
	for _, n := range st.Nodes {
		if _, ok := links[n.Veth]; ok {
			return nil, fmt.Errorf("cluster %s: a link named %s exists already", st.Name, n.Veth)
		}
		if t.nsExists(n.Namespace) {
			return nil, fmt.Errorf("cluster %s: network namespace %s exists already without a state file: run `faultline cluster down %s` to clear it", st.Name, n.Namespace, st.Name)
		}
	}
	return st, nil
}

// create makes a planned cluster. The state is written first, so that a
// crash half-way leaves a state that Down can remove.
func create(ctx context.Context, t *tools, st *State, cfg Config) error {
	if err := os.MkdirAll(st.Dir, 0o755); err != nil {
		return err
	}
	if err := writeState(st); err != nil {
		return err
	}
	if cfg.Rootless {
		if err := startHolder(ctx, st, cfg.lookPath); err != nil {
			return err
		}
		if err := writeState(st); err != nil {
			return err
		}
		if err := t.useHolder(st.Rootless); err != nil {
			return err
		}
	}
	_, err := ensure(ctx, t, st)
	return err
}

// ensure makes every missing or broken piece of st and reports whether it
// changed anything.
func ensure(ctx context.Context, t *tools, st *State) (changed bool, err error) {
	subnet, err := netip.ParsePrefix(st.Subnet)
	if err != nil {
		return false, fmt.Errorf("state: subnet %q: %w", st.Subnet, err)
	}
	bits := subnet.Bits()
	for _, n := range st.Nodes {
		if err := os.MkdirAll(n.Dir, 0o755); err != nil {
			return false, err
		}
	}
	if _, err := os.Stat(etcNetns); errors.Is(err, fs.ErrNotExist) && !st.EtcNetnsCreated && st.Rootless == nil {
		st.EtcNetnsCreated = true
		if err := writeState(st); err != nil {
			return false, err
		}
	}

	links, err := t.hostLinks(ctx)
	if err != nil {
		return false, err
	}
	var lines, stale []string
	var setup []NodeState
	br, brOK := links[st.Bridge]
	if !brOK {
		lines = append(lines, "link add "+st.Bridge+" type bridge")
	}
	if !brOK || !br.hasAddr(st.HostAddr, bits) {
		lines = append(lines, fmt.Sprintf("addr replace %s/%d dev %s", st.HostAddr, bits, st.Bridge))
	}
	if !brOK || !br.up() {
		lines = append(lines, "link set "+st.Bridge+" addrgenmode none", "link set "+st.Bridge+" up")
	}
	for _, n := range st.Nodes {
		nsOK := t.nsExists(n.Namespace)
		var inner map[string]link
		if nsOK {
			if inner, err = t.nsLinks(ctx, n.Namespace); err != nil {
				return false, fmt.Errorf("%s: namespace %s exists but cannot be read: %s", n.Name, n.Namespace, exitErr(err))
			}
		} else {
			lines = append(lines, "netns add "+n.Namespace)
		}
		eth, ethOK := inner[n.Iface]
		veth, vethOK := links[n.Veth]
		newPair := !ethOK || !vethOK
		if newPair {
			if ethOK {
				lines = append(lines, fmt.Sprintf("netns exec %s %s link del %s", n.Namespace, t.ip, n.Iface))
			}
			if vethOK {
				// Its peer may be going away with a deleted namespace,
				// taking it along at any moment: delete it apart, and
				// let it be gone already.
				stale = append(stale, "link del "+n.Veth)
			}
			lines = append(lines,
				fmt.Sprintf("link add %s type veth peer name %s netns %s", n.Veth, n.Iface, n.Namespace),
				"link set "+n.Veth+" addrgenmode none")
		}
		if newPair || !brOK || veth.Master != st.Bridge || !veth.up() {
			lines = append(lines, fmt.Sprintf("link set %s master %s up", n.Veth, st.Bridge))
		}
		lo := inner["lo"]
		if newPair || !eth.hasAddr(n.Addr, bits) || !eth.up() || !lo.up() || eth.hasIPv6() || lo.hasIPv6() {
			setup = append(setup, n)
		}
	}
	_ = t.ipBatch(ctx, stale, true)
	if err := t.ipBatch(ctx, lines, false); err != nil {
		return false, fmt.Errorf("making links and namespaces: %s", exitErr(err))
	}
	var nodes []string
	for _, n := range setup {
		nodes = append(nodes, n.Name)
	}
	err = control.OnNodes(ctx, nodes, func(ctx context.Context, node string) error {
		n, _ := st.node(node)
		return setupNode(ctx, t, n, bits)
	})
	if err != nil {
		return true, fmt.Errorf("configuring nodes: %w", err)
	}
	changed = len(lines) > 0 || len(setup) > 0
	if st.Rootless != nil {
		// Names come from the hosts file the holder shows as /etc/hosts.
		if err := writeHostsInPlace(rootlessHosts(st), nodeHosts(st)); err != nil {
			return changed, fmt.Errorf("writing the hosts file: %w", err)
		}
	} else {
		if err := writeNodeHosts(st); err != nil {
			return changed, fmt.Errorf("writing node hosts files: %w", err)
		}
		had := hasHostsBlock(st.HostsFile, st.Name)
		if err := setHostsBlock(st.HostsFile, st.Name, st); err != nil {
			return changed, fmt.Errorf("writing %s: %w", st.HostsFile, err)
		}
		changed = changed || !had
		added, err := ensureForward(ctx, t, st)
		if err != nil {
			return changed, err
		}
		changed = changed || added
	}
	if st.SSHD != nil {
		started, err := ensureSSHD(ctx, t, st)
		if err != nil {
			return true, err
		}
		changed = changed || started
	}
	if st.Phase != PhaseUp {
		st.Phase = PhaseUp
		changed = true
	}
	if changed {
		if err := writeState(st); err != nil {
			return changed, err
		}
	}
	return changed, nil
}

// setupNode configures a node inside its namespace: IPv6 off, then its
// address on its interface, the interface and lo up.
func setupNode(ctx context.Context, t *tools, n NodeState, bits int) error {
	if err := disableIPv6(ctx, t, n.Namespace); err != nil {
		return err
	}
	lines := []string{
		"link set lo up",
		fmt.Sprintf("addr replace %s/%d dev %s", n.Addr, bits, n.Iface),
		"link set " + n.Iface + " up",
	}
	_, err := t.run(ctx, strings.NewReader(strings.Join(lines, "\n")+"\n"), t.ip, "-n", n.Namespace, "-batch", "-")
	if err != nil {
		return fmt.Errorf("%s", exitErr(err))
	}
	return nil
}

// forwardSpec is the iptables FORWARD rule (after -I/-C/-D FORWARD) that
// lets traffic between the nodes through a host FORWARD chain that drops.
func forwardSpec(st *State) []string {
	return []string{"-i", st.Bridge, "-o", st.Bridge, "-m", "comment", "--comment", forwardComment(st.Name), "-j", "ACCEPT"}
}

// forwardNeeded reports whether bridged traffic goes through the host's
// iptables FORWARD chain and that chain may drop it (Docker sets its policy
// to DROP).
func forwardNeeded(ctx context.Context, t *tools) bool {
	if t.iptables == "" {
		return false
	}
	b, err := os.ReadFile("/proc/sys/net/bridge/bridge-nf-call-iptables")
	if err != nil || strings.TrimSpace(string(b)) != "1" {
		return false
	}
	out, err := t.run(ctx, nil, t.iptables, "-w", "-S", "FORWARD")
	if err != nil {
		return false
	}
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if l == "-P FORWARD ACCEPT" || l == "" {
			continue
		}
		if strings.HasPrefix(l, "-P FORWARD ") || strings.HasPrefix(l, "-A FORWARD ") {
			return true
		}
	}
	return false
}

// ensureForward adds the FORWARD accept rule when needed and missing.
func ensureForward(ctx context.Context, t *tools, st *State) (added bool, err error) {
	spec := forwardSpec(st)
	if len(st.ForwardRule) > 0 {
		if t.iptables == "" {
			return false, nil
		}
		if _, err := t.run(ctx, nil, append([]string{t.iptables, "-w", "-C", "FORWARD"}, st.ForwardRule...)...); err == nil {
			return false, nil
		}
		spec = st.ForwardRule
	} else if !forwardNeeded(ctx, t) {
		return false, nil
	} else {
		st.ForwardRule = spec
		if err := writeState(st); err != nil {
			return false, err
		}
	}
	if _, err := t.run(ctx, nil, append([]string{t.iptables, "-w", "-I", "FORWARD", "1"}, spec...)...); err != nil {
		return false, fmt.Errorf("adding the iptables FORWARD rule for %s: %s", st.Bridge, exitErr(err))
	}
	return true, nil
}
