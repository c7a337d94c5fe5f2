package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/faultline/faultline/cluster"
	"github.com/faultline/faultline/control"
)

// ClusterCommand is `cluster up|down|status|exec|shell|heal`: local test
// clusters of network namespaces (as root or rootless) or Docker
// containers.
func ClusterCommand() Command {
	return Command{Name: "cluster", Help: "make, inspect, heal and remove a local cluster (up|down|status|exec|shell|heal)", Run: runCluster}
}

const clusterUsage = `usage: %[1]s cluster <up|down|status|exec|shell|heal> [options]

  up      [--node-count N] [--name NAME] [--subnet CIDR]   make (or repair) a cluster
          [--sshd] [--rootless] [--image IMAGE] [--mirror URL]
  down    [--name NAME]                                    remove it and everything it made
  status  [--name NAME]                                    list nodes, addresses and state
  exec    [--name NAME] NODE -- COMMAND [ARGS...]          run a command on a node
  shell   [--name NAME] NODE                               open a shell on a node
  heal    [--name NAME]                                    remove leftover faults of a killed run

  --driver netns   one network namespace per node on this machine (default; needs root,
                   or --rootless for an ordinary user: user+mount+network namespaces)
  --driver docker  one container per node on a private docker network; the node image
                   is built once with debootstrap (no registry), every node runs sshd
  --sshd           run an OpenSSH server in every netns node (key in the state folder)
  --state-dir DIR  where clusters' state lives (default /var/lib/faultline/clusters as
                   root, else $XDG_STATE_HOME/faultline/clusters)
`

func runCluster(ctx context.Context, args []string, env *Env) int {
	prog := env.Config.Program
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(env.Stderr, clusterUsage, prog)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitValid
	}
	sub, rest := args[0], args[1:]
	fs := newFlagSet(env, "cluster "+sub)
	cfg := cluster.Config{}
	fs.StringVar(&cfg.Name, "name", cluster.DefaultName, "cluster name")
	fs.StringVar(&cfg.Driver, "driver", "", "cluster driver: netns or docker (default: the cluster's, else netns)")
	fs.StringVar(&cfg.StateRoot, "state-dir", "", "folder holding the clusters' state (default "+cluster.DefaultStateRoot()+")")
	verbose := fs.Bool("verbose", false, "log progress")
	if sub == "up" {
		fs.IntVar(&cfg.NodeCount, "node-count", 0, fmt.Sprintf("number of nodes n1..nN (default %d; an existing cluster keeps its own)", cluster.DefaultNodeCount))
		fs.StringVar(&cfg.Subnet, "subnet", "", "IPv4 /24 subnet (default: the first free 10.213.K.0/24)")
		fs.BoolVar(&cfg.SSHD, "sshd", false, "run an OpenSSH server in every node (netns; docker nodes always have one)")
		fs.BoolVar(&cfg.Rootless, "rootless", false, "make a netns cluster without root (user, mount and network namespaces)")
		fs.StringVar(&cfg.Image, "image", "", "docker node image (default: build faultline-node:<hash> once with debootstrap)")
		fs.StringVar(&cfg.Mirror, "mirror", "", "Debian mirror for the image build (default: apt's)")
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitValid
		}
		return ExitUsage
	}
	switch cfg.Driver {
	case "", cluster.DriverNetns, cluster.DriverDocker:
	default:
		fmt.Fprintf(env.Stderr, "%s cluster: unknown driver %q; use --driver netns or --driver docker\n", prog, cfg.Driver)
		return ExitUsage
	}
	if *verbose {
		cfg.Log = logger(env.Stderr, false, true)
	}
	fail := func(err error) int {
		fmt.Fprintf(env.Stderr, "%s cluster %s: %v\n", prog, sub, err)
		if errors.Is(err, cluster.ErrNoCluster) || errors.Is(err, cluster.ErrNotRoot) || errors.Is(err, control.ErrUnknownNode) || errors.Is(err, cluster.ErrBadConfig) {
			return ExitUsage
		}
		return 1
	}
	open := func() (*cluster.Cluster, error) {
		c, err := cluster.Open(cfg.StateRoot, cfg.Name)
		if err == nil && cfg.Driver != "" && c.Driver() != cfg.Driver {
			return nil, fmt.Errorf("%w: cluster %s has driver %s, not %s", cluster.ErrBadConfig, cfg.Name, c.Driver(), cfg.Driver)
		}
		return c, err
	}
	switch sub {
	case "up":
		began := time.Now()
		if cfg.Driver == cluster.DriverDocker && cfg.Image == "" && !*verbose {
			if tag := cluster.DefaultImageSpec(cfg.Mirror).Tag(); !cluster.ImageBuilt(ctx, tag) {
				fmt.Fprintf(env.Stderr, "%s cluster up: building the docker node image %s with debootstrap (once; a few minutes)\n", prog, tag)
			}
		}
		c, err := cluster.Up(ctx, cfg)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(env.Stdout, "cluster %s up in %.2fs: %s\n", cfg.Name, time.Since(began).Seconds(), describeNodes(c))
		return ExitValid
	case "down":
		if err := cluster.Down(ctx, cfg); err != nil {
			return fail(err)
		}
		fmt.Fprintf(env.Stdout, "cluster %s down\n", cfg.Name)
		return ExitValid
	case "status":
		c, err := open()
		if err != nil {
			return fail(err)
		}
		st, err := c.Status(ctx)
		if err != nil {
			return fail(err)
		}
		if err := st.WriteText(env.Stdout); err != nil {
			return fail(err)
		}
		if !st.Healthy {
			return 1
		}
		return ExitValid
	case "heal":
		c, err := open()
		if err != nil {
			return fail(err)
		}
		rep, err := c.Heal(ctx)
		if rep != nil {
			_ = rep.WriteText(env.Stdout)
		}
		if err != nil {
			return fail(err)
		}
		return ExitValid
	case "exec", "shell":
		pos := fs.Args()
		if len(pos) == 0 {
			fmt.Fprintf(env.Stderr, "%s cluster %s: name a node\n", prog, sub)
			return ExitUsage
		}
		node, cmdArgs := pos[0], pos[1:]
		if len(cmdArgs) > 0 && cmdArgs[0] == "--" {
			cmdArgs = cmdArgs[1:]
		}
		c, err := open()
		if err != nil {
			return fail(err)
		}
		stdio := cluster.Stdio{Stdin: os.Stdin, Stdout: env.Stdout, Stderr: env.Stderr}
		var code int
		if sub == "shell" {
			code, err = c.Shell(ctx, node, stdio)
		} else {
			if len(cmdArgs) == 0 {
				fmt.Fprintf(env.Stderr, "%s cluster exec: give a command after the node: exec %s -- COMMAND\n", prog, node)
				return ExitUsage
			}
			code, err = c.Exec(ctx, node, control.Cmd{Args: cmdArgs}, stdio)
		}
		if err != nil {
			return fail(err)
		}
		return code
	}
	fmt.Fprintf(env.Stderr, "%s cluster: unknown subcommand %q\n", prog, sub)
	fmt.Fprintf(env.Stderr, clusterUsage, prog)
	return ExitUsage
}

func describeNodes(c *cluster.Cluster) string {
	var parts []string
	for _, n := range c.Nodes() {
		parts = append(parts, n+"="+c.Addr(n))
	}
	return strings.Join(parts, " ")
}
