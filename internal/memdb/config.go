package memdb

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sort"
	"strings"
	"time"
)

// Bug selects a fault built into the replica logic.
type Bug string

const (
	// BugNone: the store is linearizable (quorum writes, read-index reads).
	BugNone Bug = "none"
	// BugStaleReads: every replica serves reads from its own applied state,
	// which on followers trails the leader by the replication lag.
	BugStaleReads Bug = "stale-reads"
	// BugLostWrites: the leader acknowledges writes as soon as they are in
	// its own log and serves reads from its own state, syncs its log only
	// once a second, ships entries to followers only with its heartbeats,
	// and hands leadership over every LeaderChangeEvery without first
	// catching the successor up; entries the successor lacks are
	// truncated everywhere.
	BugLostWrites Bug = "lost-writes"

	// The isolation bugs change how the node a client talks to runs a
	// transaction (txn command): not as one command, but as several
	// commands of its own, interleaved with other transactions'.

	// BugReadCommitted: each read of a transaction is a read of its own,
	// answered through the read index, so it sees the latest committed
	// state at that moment; writes are buffered and applied in one command
	// at commit. Reads of a list the transaction appended to show its own
	// appends on top, and the commit fails (write-conflict) if such a list
	// changed after that read. Non-repeatable reads, read skew and lost
	// updates follow (G-single-item, G2-item, lost-update).
	BugReadCommitted Bug = "read-committed"
	// BugSnapshotIsolation: a transaction reads from a snapshot, the state
	// at the log index where it started, and its buffered writes commit in
	// one command that fails (write-conflict) if another transaction wrote
	// one of its keys after the snapshot (first committer wins). Write
	// skew follows (G2-item).
	BugSnapshotIsolation Bug = "snapshot-isolation"
	// BugLostUpdate: snapshot reads as with BugSnapshotIsolation, but the
	// commit checks no write-write conflicts (only that a list the
	// transaction read after appending to it is unchanged since the
	// snapshot). Concurrent read-modify-write transactions both commit
	// (lost-update).
	BugLostUpdate Bug = "lost-update"
	// BugNonAtomic: each write is applied as a command of its own as the
	// transaction reaches it, each read sees the latest state, and a fifth
	// of the transactions with writes give up (fail "aborted") after a
	// random one of them, leaving the writes made so far in place.
	// Aborted and intermediate reads and dirty updates follow (G1a, G1b,
	// dirty-update), as well as write cycles (G0, G1c).
	BugNonAtomic Bug = "non-atomic"
)

// Bugs lists the valid Bug values.
func Bugs() []Bug {
	return []Bug{BugNone, BugStaleReads, BugLostWrites, BugReadCommitted, BugSnapshotIsolation, BugLostUpdate, BugNonAtomic}
}

// stepwise reports whether b runs transactions as several commands.
func (b Bug) stepwise() bool {
	switch b {
	case BugReadCommitted, BugSnapshotIsolation, BugLostUpdate, BugNonAtomic:
		return true
	}
	return false
}

// BugNames is the valid bug names, comma-separated, for help texts.
func BugNames() string {
	names := make([]string, len(Bugs()))
	for i, b := range Bugs() {
		names[i] = string(b)
	}
	return strings.Join(names, ", ")
}

// ParseBug checks a bug name; "" means none.
func ParseBug(s string) (Bug, error) {
	if s == "" {
		return BugNone, nil
	}
	for _, b := range Bugs() {
		if string(b) == s {
			return b, nil
		}
	}
	return "", fmt.Errorf("memdb: unknown bug %q (want one of %s)", s, BugNames())
}

// Config holds what the replicas of a cluster share, in both modes. Zero
// fields take the defaults documented on each field.
type Config struct {
	// Bug is the fault built into the replicas; "" is BugNone.
	Bug Bug
	// ElectionTimeout is the minimum time a follower waits without hearing
	// from a leader before it stands for election (randomised up to twice
	// that). Default 250ms.
	ElectionTimeout time.Duration
	// HeartbeatInterval is how often an idle leader contacts its followers.
	// Default 50ms.
	HeartbeatInterval time.Duration
	// Lag is the replication lag: followers apply committed entries to their
	// state Lag±Jitter after learning that they committed. Default 10ms; a
	// negative value means no lag.
	Lag time.Duration
	// Jitter spreads Lag uniformly over [Lag-Jitter, Lag+Jitter]. Default
	// Lag/2; negative means none.
	Jitter time.Duration
	// LeaderChangeEvery makes a leader hand its leadership to a follower
	// about this long (±50%) after taking office. Default 500ms with
	// BugLostWrites, never otherwise; negative means never.
	LeaderChangeEvery time.Duration
	// RequestTimeout bounds how long a replica keeps a client request
	// before answering it as indeterminate. Default 1s.
	RequestTimeout time.Duration
	// Seed seeds the replicas' randomness (election timeouts, jitter).
	Seed int64
	// Logger receives the replicas' logs; nil discards them.
	Logger *slog.Logger
}

// withDefaults fills the zero fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	var err error
	if c.Bug, err = ParseBug(string(c.Bug)); err != nil {
		return c, err
	}
	def := func(d *time.Duration, v time.Duration) {
		switch {
		case *d == 0:
			*d = v
		case *d < 0:
			*d = 0
		}
	}
	def(&c.ElectionTimeout, 250*time.Millisecond)
	def(&c.HeartbeatInterval, 50*time.Millisecond)
	def(&c.Lag, 10*time.Millisecond)
	def(&c.Jitter, c.Lag/2)
	def(&c.RequestTimeout, time.Second)
	if c.Bug == BugLostWrites {
		def(&c.LeaderChangeEvery, 500*time.Millisecond)
	} else if c.LeaderChangeEvery < 0 {
		c.LeaderChangeEvery = 0
	}
	if c.ElectionTimeout == 0 || c.HeartbeatInterval == 0 || c.RequestTimeout == 0 {
		return c, errors.New("memdb: election timeout, heartbeat interval and request timeout must be positive")
	}
	if c.HeartbeatInterval >= c.ElectionTimeout {
		return c, fmt.Errorf("memdb: heartbeat interval %v must be shorter than the election timeout %v", c.HeartbeatInterval, c.ElectionTimeout)
	}
	if c.Jitter > c.Lag {
		c.Jitter = c.Lag
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c, nil
}

// DefaultPort is the port a node listens on when an address has none.
const DefaultPort = "7480"

// ServerConfig configures one networked replica (one OS process per node).
type ServerConfig struct {
	Config
	// Node is this replica's name; it must be a key of Peers.
	Node string
	// Listen is the TCP address to listen on for peers and clients, e.g.
	// ":7480" or "10.0.0.1:7480". Default ":" + DefaultPort.
	Listen string
	// Peers maps every node of the cluster, this one included, to the
	// address its peers and clients reach it at.
	Peers map[string]string
	// DataDir holds the replica's log; created when missing.
	DataDir string

	// ln, when set, is used instead of listening on Listen (tests).
	ln net.Listener
	// hook, when set, may drop or cut peer traffic (tests).
	hook *netHook
}

func (c ServerConfig) check() error {
	switch {
	case c.Node == "":
		return errors.New("memdb: server needs a node name (--node)")
	case c.DataDir == "":
		return errors.New("memdb: server needs a data directory (--data-dir)")
	case c.Peers[c.Node] == "":
		return fmt.Errorf("memdb: node %q is not in --peers", c.Node)
	}
	for n, a := range c.Peers {
		if n == "" || a == "" {
			return fmt.Errorf("memdb: bad peer %q=%q", n, a)
		}
	}
	return nil
}

// Args renders c as command-line arguments that ParseServerFlags reads back
// (the Logger is not rendered).
func (c ServerConfig) Args() []string {
	args := []string{"--node", c.Node, "--data-dir", c.DataDir, "--peers", formatPeers(c.Peers)}
	if c.Listen != "" {
		args = append(args, "--listen", c.Listen)
	}
	if c.Bug != "" {
		args = append(args, "--bug", string(c.Bug))
	}
	dur := func(name string, d time.Duration) {
		if d != 0 {
			args = append(args, "--"+name, d.String())
		}
	}
	dur("election-timeout", c.ElectionTimeout)
	dur("heartbeat", c.HeartbeatInterval)
	dur("lag", c.Lag)
	dur("jitter", c.Jitter)
	dur("leader-change", c.LeaderChangeEvery)
	dur("request-timeout", c.RequestTimeout)
	if c.Seed != 0 {
		args = append(args, "--seed", fmt.Sprint(c.Seed))
	}
	return args
}

// ParseServerFlags reads the arguments of `faultline memdb serve`.
func ParseServerFlags(args []string) (ServerConfig, error) {
	var c ServerConfig
	fs := flag.NewFlagSet("memdb serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var peers, bug string
	fs.StringVar(&c.Node, "node", "", "this node's name")
	fs.StringVar(&c.Listen, "listen", "", "address to listen on (default :"+DefaultPort+")")
	fs.StringVar(&peers, "peers", "", "all nodes as name=host:port,...")
	fs.StringVar(&c.DataDir, "data-dir", "", "folder for the replica's log")
	fs.StringVar(&bug, "bug", "none", "built-in fault: "+BugNames())
	fs.DurationVar(&c.ElectionTimeout, "election-timeout", 0, "minimum election timeout")
	fs.DurationVar(&c.HeartbeatInterval, "heartbeat", 0, "leader heartbeat interval")
	fs.DurationVar(&c.Lag, "lag", 0, "replication lag of followers")
	fs.DurationVar(&c.Jitter, "jitter", 0, "jitter of the replication lag")
	fs.DurationVar(&c.LeaderChangeEvery, "leader-change", 0, "hand leadership over this often")
	fs.DurationVar(&c.RequestTimeout, "request-timeout", 0, "answer requests as indeterminate after this long")
	fs.Int64Var(&c.Seed, "seed", 0, "random seed")
	if err := fs.Parse(args); err != nil {
		return c, fmt.Errorf("memdb serve: %w", err)
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("memdb serve: unexpected argument %q", fs.Arg(0))
	}
	var err error
	if c.Bug, err = ParseBug(bug); err != nil {
		return c, err
	}
	if c.Peers, err = parsePeers(peers); err != nil {
		return c, err
	}
	return c, c.check()
}

func formatPeers(p map[string]string) string {
	names := make([]string, 0, len(p))
	for n := range p {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + "=" + p[n]
	}
	return strings.Join(parts, ",")
}

func parsePeers(s string) (map[string]string, error) {
	peers := map[string]string{}
	if s == "" {
		return peers, nil
	}
	for part := range strings.SplitSeq(s, ",") {
		name, addr, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || name == "" || addr == "" {
			return nil, fmt.Errorf("memdb: bad --peers entry %q (want name=host:port)", part)
		}
		if _, dup := peers[name]; dup {
			return nil, fmt.Errorf("memdb: node %q appears twice in --peers", name)
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			addr = net.JoinHostPort(addr, DefaultPort)
			if _, _, err := net.SplitHostPort(addr); err != nil {
				return nil, fmt.Errorf("memdb: bad address in --peers entry %q: %w", part, err)
			}
		}
		peers[name] = addr
	}
	return peers, nil
}

// checkNodes validates a node list for a cluster.
func checkNodes(nodes []string) error {
	if len(nodes) == 0 {
		return errors.New("memdb: a cluster needs at least one node")
	}
	s := slices.Clone(nodes)
	sort.Strings(s)
	for i, n := range s {
		if n == "" {
			return errors.New("memdb: empty node name")
		}
		if i > 0 && s[i-1] == n {
			return fmt.Errorf("memdb: node %q appears twice", n)
		}
	}
	return nil
}
