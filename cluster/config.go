package cluster

import (
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
)

// Drivers.
const (
	DriverNetns = "netns"
)

// Defaults.
const (
	DefaultName      = "default"
	DefaultNodeCount = 5
	// DefaultSubnetBase is where free /24 subnets are looked for:
	// 10.213.0.0/24, 10.213.1.0/24, ...
	DefaultSubnetBase = "10.213.0.0/16"
	// DefaultHostsFile is the host's hosts file.
	DefaultHostsFile = "/etc/hosts"
	// MaxNodes is the most nodes a cluster can have.
	MaxNodes = 244
)

// etcNetns is where ip netns exec looks for a namespace's own /etc files.
const etcNetns = "/etc/netns"

// nodeIface is the node side of every veth pair.
const nodeIface = "eth0"

// firstNodeHost is the host number of n0 on the subnet: n1 = .11.
const firstNodeHost = 10

// Errors.
var (
	// ErrNoCluster is wrapped when no cluster of that name exists.
	ErrNoCluster = errors.New("no such cluster")
	// ErrNotRoot is wrapped when the netns driver runs without root.
	ErrNotRoot = errors.New("the netns driver needs root (rootless clusters are not implemented yet)")
)

// Config says what cluster Up makes.
type Config struct {
	// Name is the cluster's name ([a-z][a-z0-9-]{0,31}); "" is "default".
	Name string
	// Driver is "netns" ("" is netns).
	Driver string
	// NodeCount is the number of nodes, named n1..nN; 0 is 5 for a new
	// cluster and whatever the cluster has for an existing one.
	NodeCount int
	// Subnet is the IPv4 subnet, e.g. "10.213.7.0/24"; "" picks the first
	// free 10.213.K.0/24.
	Subnet string
	// StateRoot is the folder holding one folder per cluster; "" is
	// DefaultStateRoot().
	StateRoot string
	// HostsFile is the host's hosts file; "" is /etc/hosts.
	HostsFile string
	// Log receives progress; nil discards it.
	Log *slog.Logger

	// lookPath finds tools; tests replace it.
	lookPath func(string) (string, error)
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// ValidName reports whether name is a valid cluster name, with the reason.
func ValidName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("bad cluster name %q: use 1-32 characters a-z, 0-9 and '-', starting with a letter", name)
	}
	return nil
}

// DefaultStateRoot is /var/lib/faultline/clusters for root, else
// $XDG_STATE_HOME/faultline/clusters (~/.local/state/faultline/clusters).
func DefaultStateRoot() string {
	if os.Geteuid() == 0 {
		return "/var/lib/faultline/clusters"
	}
	if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "faultline", "clusters")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "faultline", "clusters")
	}
	return filepath.Join(os.TempDir(), "faultline-clusters")
}

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Driver == "" {
		c.Driver = DriverNetns
	}
	if c.StateRoot == "" {
		c.StateRoot = DefaultStateRoot()
	}
	if abs, err := filepath.Abs(c.StateRoot); err == nil {
		c.StateRoot = abs
	}
	if c.HostsFile == "" {
		c.HostsFile = DefaultHostsFile
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.lookPath == nil {
		c.lookPath = lookPath
	}
	return c
}

func (c Config) validate() error {
	if err := ValidName(c.Name); err != nil {
		return err
	}
	if c.Driver != DriverNetns {
		return fmt.Errorf("unknown cluster driver %q (have: netns)", c.Driver)
	}
	if c.NodeCount < 0 || c.NodeCount > MaxNodes {
		return fmt.Errorf("node count %d: want 1 to %d", c.NodeCount, MaxNodes)
	}
	return nil
}

// tag is the short form of a cluster name used in interface names.
func tag(name string) string {
	if len(name) <= 7 {
		return name
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return fmt.Sprintf("%s%04x", name[:3], h.Sum32()&0xffff)
}

func bridgeName(name string) string       { return "fl-" + tag(name) }
func vethName(name, node string) string   { return "fl-" + tag(name) + "-" + node }
func nsName(name, node string) string     { return "fl-" + name + "-" + node }
func nodeName(i int) string               { return fmt.Sprintf("n%d", i) }
func forwardComment(name string) string   { return "faultline:" + name }
func hostTable(name string) string        { return "faultline_" + name }
func hostsBegin(name string) string       { return "# BEGIN faultline cluster " + name }
func hostsEnd(name string) string         { return "# END faultline cluster " + name }
func stateFile(dir string) string         { return filepath.Join(dir, "cluster.json") }
func nodeDir(dir, node string) string     { return filepath.Join(dir, "nodes", node) }
func etcNetnsDir(ns string) string        { return filepath.Join(etcNetns, ns) }
func clusterDir(root, name string) string { return filepath.Join(root, name) }
