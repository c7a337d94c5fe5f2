package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/cluster"
	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/control/ssh"
	"github.com/faultline/faultline/db"
	"github.com/faultline/faultline/nemesis/combined"
	"github.com/faultline/faultline/netfault"
)

// LocalCluster returns the netns cluster name with count nodes (with an
// sshd in every node when sshd is set): the running one when it is healthy
// (repaired, or given its sshd, when it is not), else a new one. The
// cleanup removes a cluster made here and does nothing for one that was
// already there: `--cluster netns` semantics.
func LocalCluster(ctx context.Context, name string, count int, sshd bool, log *slog.Logger) (*cluster.Cluster, func(), error) {
	noop := func() {}
	c, err := cluster.Open("", name)
	switch {
	case err == nil:
		if n := len(c.Nodes()); n != count {
			return nil, nil, fmt.Errorf("%w: cluster %s has %d nodes, not %d: give --node-count %d, or run `faultline cluster down --name %s`", faultline.ErrConfig, name, n, count, n, name)
		}
		st, err := c.Status(ctx)
		if errors.Is(err, cluster.ErrNotRoot) {
			return nil, nil, fmt.Errorf("%w: %w", faultline.ErrConfig, err)
		}
		_, noSSHD := c.SSHOptions()
		if err == nil && st.Healthy && (!sshd || noSSHD == nil) {
			log.Info("reusing the running netns cluster", "cluster", name, "nodes", count)
			return c, noop, nil
		}
		log.Info("repairing the netns cluster", "cluster", name, "sshd", sshd)
		c, err = cluster.Up(ctx, cluster.Config{Name: name, NodeCount: count, SSHD: sshd, Log: log})
		if err != nil {
			return nil, nil, err
		}
		return c, noop, nil
	case errors.Is(err, cluster.ErrNoCluster):
	default:
		return nil, nil, err
	}
	began := time.Now()
	c, err = cluster.Up(ctx, cluster.Config{Name: name, NodeCount: count, SSHD: sshd, Log: log})
	if errors.Is(err, cluster.ErrNotRoot) {
		return nil, nil, fmt.Errorf("%w: %w", faultline.ErrConfig, err)
	}
	if err != nil {
		return nil, nil, err
	}
	log.Info("made a netns cluster for the run", "cluster", name, "nodes", count, "took", time.Since(began).Round(time.Millisecond))
	cleanup := func() {
		dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.Down(dctx); err != nil {
			log.Warn("removing the netns cluster", "cluster", name, "err", err)
		}
	}
	return c, cleanup, nil
}

// ClusterFaults builds the nemesis package that --nemesis and
// --nemesis-interval ask for, on the local cluster c (reached through
// remote) running d; see NodeFaults.
func ClusterFaults(ctx context.Context, o *Options, c *cluster.Cluster, remote control.Remote, d db.DB, log *slog.Logger) (combined.Package, error) {
	addrs := map[string]string{}
	for _, n := range c.Nodes() {
		addrs[n] = c.Addr(n)
	}
	return NodeFaults(ctx, o, c.Nodes(), addrs, remote, d, log)
}

// NodeFaults builds the nemesis package that --nemesis and
// --nemesis-interval ask for, on nodes (with their IP addresses, as peers
// see them) reached through remote and running d: network faults through
// netfault on the nodes, process faults through d's abilities (kill/start,
// pause/resume), file corruption of d's data files, clock faults through
// the clock agent where nodes have their own kernel. Faults these nodes
// cannot take are refused before anything runs, with an error wrapping
// netfault.ErrUnsupported and faultline.ErrConfig (exit 254). No faults
// give an empty package.
func NodeFaults(ctx context.Context, o *Options, nodes []string, addrs map[string]string, remote control.Remote, d db.DB, log *slog.Logger) (combined.Package, error) {
	faults, err := combined.ParseFaults(o.Nemesis)
	if err != nil {
		return combined.Package{}, fmt.Errorf("%w: --nemesis: %v", faultline.ErrConfig, err)
	}
	if len(faults) == 0 {
		return combined.Package{}, nil
	}
	peerAddrs := map[string][]string{}
	for _, n := range nodes {
		if a := addrs[n]; a != "" {
			peerAddrs[n] = []string{a}
		}
	}
	nn, err := netfault.New(netfault.Config{Remote: remote, Nodes: nodes, Addrs: peerAddrs, Seed: o.Seed, Log: log})
	if err != nil {
		return combined.Package{}, err
	}
	var caps map[string]netfault.Capabilities
	if slices.Contains(faults, combined.Partition) || slices.Contains(faults, combined.Packet) {
		if caps, err = nn.ProbeAll(ctx); err != nil {
			return combined.Package{}, fmt.Errorf("probing the nodes' fault capabilities: %w", err)
		}
	}
	env := &control.Env{Nodes: nodes, Remote: remote, Seed: o.Seed, Log: log}
	pkg, err := Faults(ctx, o, combined.Options{Nodes: nodes, DB: d, Net: nn, Shaper: nn, Env: env}, caps)
	if errors.Is(err, netfault.ErrUnsupported) {
		return pkg, fmt.Errorf("%w: %w", faultline.ErrConfig, err)
	}
	return pkg, err
}

// SSHRemote reaches the nodes given with --node, --nodes or --nodes-file
// over SSH, with Jepsen's options (--username, --password,
// --ssh-private-key, --strict-host-key-checking, --ssh-port).
func SSHRemote(o *Options) (*ssh.Remote, error) {
	if o.SSH.NoSSH {
		return nil, fmt.Errorf("%w: --no-ssh: these nodes can only be reached over SSH", faultline.ErrConfig)
	}
	r, err := ssh.New(ssh.Options{
		Username:              o.SSH.Username,
		Password:              o.SSH.Password,
		PrivateKey:            o.SSH.PrivateKey,
		StrictHostKeyChecking: o.SSH.StrictHostKeyChecking,
		Port:                  o.SSH.Port,
		Nodes:                 o.Nodes,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", faultline.ErrConfig, err)
	}
	return r, nil
}

// ResolveNodes gives each node the IP address its name resolves to on this
// machine (what peers use to reach it; fault rules need addresses).
func ResolveNodes(ctx context.Context, nodes []string) (map[string]string, error) {
	out := map[string]string{}
	var r net.Resolver
	for _, n := range nodes {
		if ip := net.ParseIP(n); ip != nil {
			out[n] = n
			continue
		}
		addrs, err := r.LookupHost(ctx, n)
		if err != nil || len(addrs) == 0 {
			return nil, fmt.Errorf("%w: node %s: cannot resolve its address: %v", faultline.ErrConfig, n, err)
		}
		out[n] = addrs[0]
		for _, a := range addrs {
			if net.ParseIP(a).To4() != nil {
				out[n] = a // fault rules are IPv4 where there is a choice
				break
			}
		}
	}
	return out, nil
}
