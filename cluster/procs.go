package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a process found in a node's namespace.
type proc struct {
	PID   int
	State byte // from /proc/PID/stat: R, S, D, T (stopped), ...
	Comm  string
}

// nsInode is the inode that identifies namespace ns.
func nsInode(dir, ns string) (uint64, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(dir, ns), &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// nodeProcs finds the processes living in each namespace of nodes (node
// name -> namespace), by comparing /proc/PID/ns/net with the namespaces'
// inodes: the same scan `ip netns pids` does, once for all nodes.
func nodeProcs(dir string, nodes map[string]string) (map[string][]proc, error) {
	byInode := map[uint64]string{}
	for node, ns := range nodes {
		ino, err := nsInode(dir, ns)
		if err != nil {
			continue // no namespace, no processes
		}
		byInode[ino] = node
	}
	out := map[string][]proc{}
	if len(byInode) == 0 {
		return out, nil
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		target, err := os.Readlink("/proc/" + e.Name() + "/ns/net")
		if err != nil {
			continue // gone, a zombie, or a kernel thread
		}
		ino, ok := parseNsLink(target)
		if !ok {
			continue
		}
		node, ok := byInode[ino]
		if !ok {
			continue
		}
		p := proc{PID: pid}
		if stat, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
			p.Comm, p.State = parseStat(string(stat))
		}
		if p.State == 'Z' || p.State == 'X' {
			continue
		}
		out[node] = append(out[node], p)
	}
	return out, nil
}

// parseNsLink reads "net:[4026532290]".
func parseNsLink(s string) (uint64, bool) {
	i, j := strings.IndexByte(s, '['), strings.IndexByte(s, ']')
	if i < 0 || j < i {
		return 0, false
	}
	n, err := strconv.ParseUint(s[i+1:j], 10, 64)
	return n, err == nil
}

// parseStat reads the command name and state from /proc/PID/stat
// ("123 (comm) S ..."; comm may hold spaces and parentheses).
func parseStat(s string) (comm string, state byte) {
	i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if i < 0 || j < i || j+2 >= len(s) {
		return "", 0
	}
	return s[i+1 : j], s[j+2]
}

// killNodeProcs SIGKILLs every process in the nodes' namespaces and waits up
// to wait for them to be gone.
func killNodeProcs(dir string, nodes map[string]string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		procs, err := nodeProcs(dir, nodes)
		if err != nil {
			return err
		}
		left := 0
		for _, ps := range procs {
			for _, p := range ps {
				left++
				_ = syscall.Kill(p.PID, syscall.SIGKILL)
			}
		}
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			var errs []error
			for node, ps := range procs {
				for _, p := range ps {
					errs = append(errs, fmt.Errorf("%s: process %d (%s) survived SIGKILL", node, p.PID, p.Comm))
				}
			}
			return errors.Join(errs...)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
