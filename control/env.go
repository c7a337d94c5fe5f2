package control

import (
	"log/slog"
	"path/filepath"
	"sort"
)

// Env describes a running test to the parts that act on nodes (DBs, clients,
// nemeses): the Go counterpart of the test map Jepsen passes everywhere.
type Env struct {
	// Name is the test name, e.g. "etcd-register".
	Name string
	// Nodes are the test's nodes (host names).
	Nodes []string
	// Concurrency is the number of client worker threads.
	Concurrency int
	// Remote reaches the nodes; nil for tests whose DB runs in-process.
	Remote Remote
	// Dir is the run folder in the store ("" when nothing is stored).
	Dir string
	// Log is the run's logger.
	Log *slog.Logger
	// Seed is the run's random seed.
	Seed int64
	// Options holds suite-specific options (e.g. "read-mode": "serializable").
	Options map[string]string
}

// NodeDir is the local folder for files downloaded from node (its logs).
func (e *Env) NodeDir(node string) string {
	if e.Dir == "" {
		return ""
	}
	return filepath.Join(e.Dir, node)
}

// Option returns Options[key], or def when unset.
func (e *Env) Option(key, def string) string {
	if v, ok := e.Options[key]; ok {
		return v
	}
	return def
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
