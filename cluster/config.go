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
	DriverNetns  = "netns"
	DriverDocker = "docker"
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
	// ErrBadConfig is wrapped by errors in what the caller asked for (a bad
	// name, driver, node count or combination of options).
	ErrBadConfig = errors.New("bad cluster configuration")
	// ErrNotRoot is wrapped when the netns driver runs without root.
	ErrNotRoot = errors.New("the netns driver needs root (or --rootless)")
)

// Config says what cluster Up makes.
type Config struct {
	// Name is the cluster's name ([a-z][a-z0-9-]{0,31}); "" is "default".
	Name string
	// Driver is "netns" or "docker" ("" is netns).
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
	// SSHD runs an OpenSSH server in every node of a netns cluster (docker
	// nodes always have one), reachable with SSHRemote.
	SSHD bool
	// Rootless makes a netns cluster without root privileges, inside user,
	// mount and network namespaces kept alive by a holder process.
	Rootless bool
	// Image is the docker nodes' image; "" builds faultline-node:<hash>
	// with debootstrap once and reuses it.
	Image string
	// Mirror is the Debian mirror for the image build; "" takes it from
	// apt's sources.
	Mirror string

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

// configError is an ErrBadConfig that reads as its own message.
type configError struct{ msg string }

func (e *configError) Error() string        { return e.msg }
func (e *configError) Is(target error) bool { return target == ErrBadConfig }

func (c Config) validate() error {
	if err := c.check(); err != nil {
		return &configError{err.Error()}
	}
	return nil
}

func (c Config) check() error {
	if err := ValidName(c.Name); err != nil {
		return err
	}
	switch {
	case c.Driver != DriverNetns && c.Driver != DriverDocker:
		return fmt.Errorf("unknown cluster driver %q (have: netns, docker)", c.Driver)
	case c.Rootless && c.Driver != DriverNetns:
		return fmt.Errorf("--rootless works with the netns driver only")
	case c.Rootless && c.SSHD:
		return fmt.Errorf("--sshd needs root: sshd cannot run in a rootless cluster")
	case c.Image != "" && c.Driver != DriverDocker:
		return fmt.Errorf("an image is for the docker driver only")
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
