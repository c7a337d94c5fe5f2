package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// StateVersion is the version of the state file layout.
const StateVersion = 1

// Phases of a cluster in its state file.
const (
	// PhaseCreating: Up has started creating the pieces; some may be missing.
	PhaseCreating = "creating"
	// PhaseUp: every piece was created (it may have broken since).
	PhaseUp = "up"
)

// State is a cluster's state file, <state root>/<name>/cluster.json: what
// the cluster is made of, so that any process can reach, heal or remove it.
type State struct {
	Version int       `json:"version"`
	Name    string    `json:"name"`
	Driver  string    `json:"driver"`
	Phase   string    `json:"phase"`
	Created time.Time `json:"created"`
	// Dir is the cluster's state folder.
	Dir string `json:"dir"`
	// Subnet is the nodes' IPv4 subnet, e.g. "10.213.0.0/24".
	Subnet string `json:"subnet"`
	// Bridge is the host bridge; HostAddr its address on the subnet.
	Bridge   string `json:"bridge"`
	HostAddr string `json:"host_addr"`
	// HostsFile is the host's hosts file holding the cluster's block.
	HostsFile string `json:"hosts_file"`
	// ForwardRule is the iptables FORWARD rule added for the bridge (the
	// arguments after -I/-D FORWARD), empty when none was needed.
	ForwardRule []string `json:"forward_rule,omitempty"`
	// EtcNetnsCreated says whether Up created /etc/netns itself.
	EtcNetnsCreated bool        `json:"etc_netns_created,omitempty"`
	Nodes           []NodeState `json:"nodes"`
	// SSHD describes the nodes' OpenSSH servers; nil when they have none.
	SSHD *SSHDState `json:"sshd,omitempty"`
	// Rootless describes the holder of a rootless netns cluster.
	Rootless *RootlessState `json:"rootless,omitempty"`
	// Docker describes a docker cluster's network and image.
	Docker *DockerState `json:"docker,omitempty"`
}

// NodeState is one node in the state file.
type NodeState struct {
	Name string `json:"name"`
	Addr string `json:"addr"`
	// Namespace is the network namespace (ip netns).
	Namespace string `json:"namespace,omitempty"`
	// Veth is the host side of the node's veth pair; Iface the node side.
	Veth  string `json:"veth,omitempty"`
	Iface string `json:"iface,omitempty"`
	// Container is the docker container of a docker node.
	Container string `json:"container,omitempty"`
	// Dir is the node's root folder on the host.
	Dir string `json:"dir"`
}

func (s *State) node(name string) (NodeState, bool) {
	for _, n := range s.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return NodeState{}, false
}

func (s *State) nodeNames() []string {
	names := make([]string, len(s.Nodes))
	for i, n := range s.Nodes {
		names[i] = n.Name
	}
	return names
}

// readState reads the state file in dir; fs.ErrNotExist when absent.
func readState(dir string) (*State, error) {
	b, err := os.ReadFile(stateFile(dir))
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", stateFile(dir), err)
	}
	if st.Version != StateVersion {
		return nil, fmt.Errorf("%s: state version %d, this faultline reads %d", stateFile(dir), st.Version, StateVersion)
	}
	if err := ValidName(st.Name); err != nil {
		return nil, fmt.Errorf("%s: %w", stateFile(dir), err)
	}
	if st.Driver != DriverNetns && st.Driver != DriverDocker {
		return nil, fmt.Errorf("%s: unknown driver %q", stateFile(dir), st.Driver)
	}
	if st.Dir == "" {
		st.Dir = dir
	}
	return &st, nil
}

// writeState writes st to its folder atomically.
func writeState(st *State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	tmp := stateFile(st.Dir) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, stateFile(st.Dir))
}

// listStates reads every cluster state under root, skipping unreadable ones.
func listStates(root string) ([]*State, error) {
	ents, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*State
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		st, err := readState(filepath.Join(root, e.Name()))
		if err != nil {
			continue
		}
		out = append(out, st)
	}
	return out, nil
}

// lockPath is the lock that serializes cluster changes on this machine (they
// share /etc/hosts, subnets and names), whatever their state root.
func lockPath(root string) string {
	if os.Geteuid() == 0 {
		if st, err := os.Stat("/run/lock"); err == nil && st.IsDir() {
			return "/run/lock/faultline-cluster.lock"
		}
	}
	return filepath.Join(root, ".lock")
}

// lock takes the machine-wide cluster lock, waiting until ctx ends.
func lock(ctx context.Context, root string) (unlock func(), err error) {
	p := lockPath(root)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", p, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for lock %s: %w", p, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
