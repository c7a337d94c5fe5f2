package cluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/control"
)

// DockerState describes a docker cluster's network and image.
type DockerState struct {
	// Network is the docker network joining the nodes (fl-NAME); its
	// bridge on the host is State.Bridge.
	Network string `json:"network"`
	// Image is the nodes' image.
	Image string `json:"image"`
	// Compose is the compose file written for users of docker compose.
	Compose string `json:"compose"`
}

// Labels put on a docker cluster's containers and network.
const (
	labelCluster = "org.faultline.cluster"
	labelNode    = "org.faultline.node"
)

func networkName(name string) string { return "fl-" + name }

// dockerCLI runs the docker command.
type dockerCLI struct{ path string }

func (d dockerCLI) run(ctx context.Context, args ...string) (string, error) {
	return run(ctx, nil, append([]string{d.path}, args...)...)
}

// findDocker finds the docker command and checks that the daemon answers.
func findDocker(ctx context.Context, look func(string) (string, error)) (dockerCLI, error) {
	p, err := look("docker")
	if err != nil {
		return dockerCLI{}, fmt.Errorf("cluster: command docker not found: install Docker (Debian package docker.io)")
	}
	d := dockerCLI{p}
	if _, err := d.run(ctx, "version", "--format", "{{.Server.Version}}"); err != nil {
		return dockerCLI{}, fmt.Errorf("cluster: the Docker daemon does not answer: %s", exitErr(err))
	}
	return d, nil
}

// DockerAvailable reports why the docker driver cannot work here, or nil.
func DockerAvailable(ctx context.Context) error {
	_, err := findDocker(ctx, lookPath)
	return err
}

// upDocker makes (or repairs) a docker cluster.
func upDocker(ctx context.Context, cfg Config) (*Cluster, error) {
	start := time.Now()
	d, err := findDocker(ctx, cfg.lookPath)
	if err != nil {
		return nil, err
	}
	t, err := findTools(cfg.lookPath, "ip")
	if err != nil {
		return nil, err
	}
	image := cfg.Image
	if image == "" {
		spec := DefaultImageSpec(cfg.Mirror)
		if image, err = EnsureImage(ctx, spec, cfg.lookPath, cfg.Log); err != nil {
			return nil, err
		}
	} else if !imageExists(ctx, d.path, image) {
		return nil, &configError{fmt.Sprintf("cluster %s: docker image %s not found (no registry is used: build it or leave --image out)", cfg.Name, image)}
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
		if cfg.Image != "" && cfg.Image != st.Docker.Image {
			return nil, fmt.Errorf("cluster %s exists with image %s, not %s: run `faultline cluster down --name %s` first", st.Name, st.Docker.Image, cfg.Image, st.Name)
		}
		changed, err := ensureDocker(ctx, d, st)
		if err != nil {
			return nil, fmt.Errorf("cluster %s: repair: %w", st.Name, err)
		}
		cfg.Log.Info("cluster up", "cluster", st.Name, "driver", "docker", "nodes", len(st.Nodes), "repaired", changed, "elapsed", time.Since(start))
	case errors.Is(err, fs.ErrNotExist):
		cfg.Rootless = false
		st, err = plan(ctx, t, Config{Name: cfg.Name, Driver: DriverNetns, NodeCount: cfg.NodeCount, Subnet: cfg.Subnet, StateRoot: cfg.StateRoot, HostsFile: cfg.HostsFile})
		if err != nil {
			return nil, err
		}
		st.Driver = DriverDocker
		if !isRoot() {
			// Docker's DNS resolves the names inside the nodes; the
			// host's hosts file is root's.
			st.HostsFile = ""
		}
		st.Docker = &DockerState{Network: networkName(st.Name), Image: image, Compose: composePath(st)}
		st.SSHD = newSSHDState(st)
		for i := range st.Nodes {
			n := &st.Nodes[i]
			n.Container, n.Namespace, n.Veth, n.Iface = nsName(st.Name, n.Name), "", "", ""
		}
		if err := os.MkdirAll(st.Dir, 0o755); err != nil {
			return nil, err
		}
		if err := writeState(st); err != nil {
			return nil, err
		}
		if _, err := ensureDocker(ctx, d, st); err != nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if derr := teardownDocker(rctx, st); derr != nil {
				return nil, fmt.Errorf("cluster %s: %w (and rolling back failed: %v; run `faultline cluster down --name %s`)", st.Name, err, derr, st.Name)
			}
			os.RemoveAll(st.Dir)
			return nil, fmt.Errorf("cluster %s: %w", st.Name, err)
		}
		cfg.Log.Info("cluster up", "cluster", st.Name, "driver", "docker", "nodes", len(st.Nodes), "subnet", st.Subnet, "image", image, "elapsed", time.Since(start))
	default:
		return nil, err
	}
	return newCluster(st, cfg.StateRoot, cfg.Log, cfg.lookPath)
}

// ensureDocker makes the network and the containers that are missing,
// starts stopped ones, and waits for every node's sshd.
func ensureDocker(ctx context.Context, d dockerCLI, st *State) (changed bool, err error) {
	if err := writeSSHFiles(st); err != nil {
		return false, fmt.Errorf("writing the ssh files: %w", err)
	}
	for _, n := range st.Nodes {
		if err := os.MkdirAll(n.Dir, 0o755); err != nil {
			return false, err
		}
	}
	if err := writeCompose(st); err != nil {
		return false, fmt.Errorf("writing the compose file: %w", err)
	}
	net := st.Docker.Network
	if _, err := d.run(ctx, "network", "inspect", "--format", "{{.Name}}", net); err != nil {
		if _, err := d.run(ctx, "network", "create", "--driver", "bridge",
			"--subnet", st.Subnet, "--gateway", st.HostAddr,
			"--opt", "com.docker.network.bridge.name="+st.Bridge,
			"--label", labelCluster+"="+st.Name, net); err != nil {
			return false, fmt.Errorf("creating docker network %s: %s", net, exitErr(err))
		}
		changed = true
	}
	states := containerStates(ctx, d, st)
	var mu sync.Mutex
	err = control.OnNodes(ctx, st.nodeNames(), func(ctx context.Context, node string) error {
		n, _ := st.node(node)
		switch states[n.Container] {
		case "running":
			return nil
		case "":
			if _, err := d.run(ctx, runArgs(st, n)...); err != nil {
				return fmt.Errorf("starting container %s: %s", n.Container, exitErr(err))
			}
		default:
			if _, err := d.run(ctx, "start", n.Container); err != nil {
				return fmt.Errorf("starting container %s: %s", n.Container, exitErr(err))
			}
		}
		mu.Lock()
		changed = true
		mu.Unlock()
		return awaitPort(ctx, n.Addr, st.SSHD.Port, 2*sshdStartWait, st.SSHD.Logfile(n.Name))
	})
	if err != nil {
		return changed, err
	}
	if st.HostsFile != "" {
		had := hasHostsBlock(st.HostsFile, st.Name)
		if err := setHostsBlock(st.HostsFile, st.Name, st); err != nil {
			return changed, fmt.Errorf("writing %s: %w", st.HostsFile, err)
		}
		changed = changed || !had
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

// nodeEntrypoint starts sshd and keeps the container alive; docker's init
// (--init) reaps orphans as PID 1.
const nodeEntrypoint = `mkdir -p /run/sshd && /usr/sbin/sshd -f "$1" -E "$2" || echo "faultline: sshd failed to start" >&2
exec sleep infinity`

// runArgs is the docker run command line for node n.
func runArgs(st *State, n NodeState) []string {
	return []string{"run", "--detach", "--init",
		"--name", n.Container, "--hostname", n.Name,
		"--network", st.Docker.Network, "--ip", n.Addr,
		"--network-alias", n.Name, "--network-alias", n.Name + "." + st.Name,
		"--cap-add", "NET_ADMIN",
		"--sysctl", "net.ipv6.conf.all.disable_ipv6=1",
		"--label", labelCluster + "=" + st.Name, "--label", labelNode + "=" + n.Name,
		// The node's folder and the ssh folder keep their host paths, so
		// that paths in the state mean the same inside and out.
		"--volume", n.Dir + ":" + n.Dir,
		"--volume", st.SSHD.Dir + ":" + st.SSHD.Dir,
		"--workdir", n.Dir,
		"--env", "FAULTLINE_CLUSTER=" + st.Name, "--env", "FAULTLINE_NODE=" + n.Name, "--env", "FAULTLINE_NODE_DIR=" + n.Dir,
		st.Docker.Image,
		"sh", "-c", nodeEntrypoint, "faultline-node", st.SSHD.config(n.Name), st.SSHD.Logfile(n.Name),
	}
}

// containerStates maps each existing container of st to its state
// (running, exited, paused, ...).
func containerStates(ctx context.Context, d dockerCLI, st *State) map[string]string {
	out, _ := d.run(ctx, "ps", "--all", "--filter", "label="+labelCluster+"="+st.Name, "--format", "{{.Names}} {{.State}}")
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 2 {
			m[f[0]] = f[1]
		}
	}
	return m
}

// teardownDocker removes a docker cluster's containers (by name and by
// label), its network and its hosts entries; the image stays.
func teardownDocker(ctx context.Context, st *State) error {
	d, err := findDocker(ctx, lookPath)
	if err != nil {
		return err
	}
	var errs []error
	names := map[string]bool{}
	for _, n := range st.Nodes {
		if n.Container != "" {
			names[n.Container] = true
		}
	}
	for name := range containerStates(ctx, d, st) {
		names[name] = true
	}
	if len(names) > 0 {
		args := []string{"rm", "--force", "--volumes"}
		for name := range names {
			args = append(args, name)
		}
		if _, err := d.run(ctx, args...); err != nil {
			// Some were gone already: check what is left.
			left := containerStates(ctx, d, st)
			for name := range names {
				if _, ok := left[name]; ok {
					errs = append(errs, fmt.Errorf("removing container %s: %s", name, exitErr(err)))
				}
			}
		}
	}
	net := networkName(st.Name)
	if st.Docker != nil && st.Docker.Network != "" {
		net = st.Docker.Network
	}
	if _, err := d.run(ctx, "network", "inspect", "--format", "{{.Name}}", net); err == nil {
		if _, err := d.run(ctx, "network", "rm", net); err != nil {
			errs = append(errs, fmt.Errorf("removing docker network %s: %s", net, exitErr(err)))
		}
	}
	if st.HostsFile != "" {
		if err := setHostsBlock(st.HostsFile, st.Name, nil); err != nil && !errors.Is(err, fs.ErrPermission) {
			errs = append(errs, fmt.Errorf("removing the hosts entries from %s: %w", st.HostsFile, err))
		}
	}
	if t, err := findTools(lookPath); err == nil {
		if p, err := lookPath("nft"); err == nil && isRoot() {
			t.nft = p
			if _, err := healHostTables(ctx, t, st); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// guessDocker finds the pieces of docker cluster cfg.Name by their labels
// and names when its state is gone.
func guessDocker(ctx context.Context, cfg Config) (*State, bool) {
	p, err := cfg.lookPath("docker")
	if err != nil {
		return nil, false
	}
	d := dockerCLI{p}
	st := &State{Version: StateVersion, Name: cfg.Name, Driver: DriverDocker, Dir: clusterDir(cfg.StateRoot, cfg.Name), HostsFile: cfg.HostsFile,
		Docker: &DockerState{Network: networkName(cfg.Name)}}
	found := len(containerStates(ctx, d, st)) > 0
	if _, err := d.run(ctx, "network", "inspect", "--format", "{{.Name}}", st.Docker.Network); err == nil {
		found = true
	}
	return st, found
}

// statusDocker inspects a docker cluster.
func (c *Cluster) statusDocker(ctx context.Context) (*Status, error) {
	st := &c.st
	d, err := findDocker(ctx, c.look)
	if err != nil {
		return nil, err
	}
	s := &Status{Name: st.Name, Driver: st.Driver, Dir: st.Dir, Subnet: st.Subnet, Bridge: st.Docker.Network, HostAddr: st.HostAddr,
		SSHKey: st.SSHD.ClientKey(), SSHKnownHosts: st.SSHD.KnownHosts()}
	_, err = d.run(ctx, "network", "inspect", "--format", "{{.Name}}", st.Docker.Network)
	s.BridgeUp = err == nil
	s.Healthy = s.BridgeUp && st.Phase == PhaseUp
	states := containerStates(ctx, d, st)
	s.Nodes = make([]NodeStatus, len(st.Nodes))
	_ = control.OnNodes(ctx, st.nodeNames(), func(ctx context.Context, node string) error {
		i := 0
		for j, n := range st.Nodes {
			if n.Name == node {
				i = j
			}
		}
		n := st.Nodes[i]
		ns := NodeStatus{Name: n.Name, Addr: n.Addr, Container: n.Container}
		switch state := states[n.Container]; state {
		case "running":
			if out, err := d.run(ctx, "top", n.Container, "-eo", "pid"); err == nil {
				ns.Procs = max(0, len(strings.Split(strings.TrimSpace(out), "\n"))-1)
			}
			ns.SSHD = "up"
			conn, err := net.DialTimeout("tcp", net.JoinHostPort(n.Addr, strconv.Itoa(st.SSHD.Port)), 500*time.Millisecond)
			if err != nil {
				ns.SSHD = "down"
				ns.Problem = "sshd not answering"
			} else {
				conn.Close()
			}
		case "":
			ns.Problem = "container missing"
		default:
			ns.Problem = "container " + state
		}
		ns.Up = ns.Problem == ""
		s.Nodes[i] = ns
		return nil
	})
	for _, n := range s.Nodes {
		s.Healthy = s.Healthy && n.Up
	}
	return s, nil
}

// resumeScript sends SIGCONT to every stopped process of a container and
// prints them.
const resumeScript = `for p in /proc/[0-9]*; do
	s=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "$p/status" 2>/dev/null)
	if [ "$s" = T ]; then pid=${p#/proc/}; kill -CONT "$pid" 2>/dev/null && echo "pid $pid ($(cat "$p/comm" 2>/dev/null))"; fi
done; true`

// healDocker runs the heal of every node inside its container, and removes
// the cluster's nftables tables and the bridge's qdiscs on the host.
func (c *Cluster) healDocker(ctx context.Context) (*HealReport, error) {
	// Inside the containers the tools are found through PATH.
	in := &tools{ip: "ip", tc: "tc", nft: "nft", iptables: "iptables"}
	rep := &HealReport{}
	var mu sync.Mutex
	r := c.remote
	nodeErr := control.OnNodes(ctx, c.Nodes(), func(ctx context.Context, node string) error {
		res, err := r.Exec(ctx, node, control.Cmd{Shell: inspectScript(in)})
		if err != nil {
			return err
		}
		cmds, what := healPlan(in, parseInspect(res.Stdout), nil)
		if script := shellScript(cmds); script != "" {
			if _, err := r.Exec(ctx, node, control.Cmd{Shell: script}); err != nil {
				return err
			}
		}
		res, err = r.Exec(ctx, node, control.Cmd{Shell: resumeScript})
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, w := range what {
			rep.Removed = append(rep.Removed, node+": "+w)
		}
		for _, l := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
			if l != "" {
				rep.Resumed = append(rep.Resumed, node+": "+l)
			}
		}
		return nil
	})
	var hostErr error
	if isRoot() {
		if t, err := findTools(c.look, "tc", "nft"); err == nil {
			what, err1 := healHostTables(ctx, t, &c.st)
			rep.Removed = append(rep.Removed, what...)
			st := c.st
			st.Nodes = nil // the host veths are docker's own
			what, err2 := healHostQdiscs(ctx, t, &st)
			rep.Removed = append(rep.Removed, what...)
			hostErr = errors.Join(err1, err2)
		}
	}
	if err := errors.Join(nodeErr, hostErr); err != nil {
		return rep, fmt.Errorf("cluster %s: heal: %w", c.st.Name, err)
	}
	return rep, nil
}
