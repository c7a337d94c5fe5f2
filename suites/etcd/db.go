package etcd

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/db"
)

// Defaults of Config.
const (
	DefaultDir           = "etcd"
	DefaultClientPort    = 2379
	DefaultPeerPort      = 2380
	DefaultHealthTimeout = 60 * time.Second
	// DebianPackage is the package installed when no binary is given.
	DebianPackage = "etcd-server"
	// DebianBinary is where DebianPackage puts etcd.
	DebianBinary = "/usr/bin/etcd"
)

// Config says how to run etcd on the nodes.
type Config struct {
	// Binary is an etcd executable on the control machine, installed on
	// every node; "" installs Debian's etcd-server package instead.
	Binary string
	// Addr maps a node to the IPv4 address or host name peers and clients
	// reach it at; nil uses the node name.
	Addr func(node string) string
	// Dir is the folder on each node that holds etcd's binary, data, log
	// and pidfile. A relative folder lies inside the folder commands start
	// in: the node's own folder on a netns cluster, the login folder over
	// SSH. Default "etcd".
	Dir string
	// ClientPort and PeerPort default to 2379 and 2380.
	ClientPort, PeerPort int
	// HealthTimeout bounds the wait for a healthy cluster in Setup
	// (default 60 s).
	HealthTimeout time.Duration
	// ExtraArgs are added to etcd's command line.
	ExtraArgs []string
}

func (c Config) withDefaults() Config {
	if c.Dir == "" {
		c.Dir = DefaultDir
	}
	if c.ClientPort == 0 {
		c.ClientPort = DefaultClientPort
	}
	if c.PeerPort == 0 {
		c.PeerPort = DefaultPeerPort
	}
	if c.HealthTimeout == 0 {
		c.HealthTimeout = DefaultHealthTimeout
	}
	if c.Addr == nil {
		c.Addr = func(node string) string { return node }
	}
	return c
}

// DB runs an etcd cluster with one member per node. It implements db.DB,
// db.Killer, db.Pauser, db.Primaries and db.LogFiles, through the test's
// control.Remote only, so it works on any remote (netns nodes, SSH hosts).
type DB struct {
	cfg   Config
	nonce string

	mu     sync.Mutex
	tokens map[string]string // cluster token by run (env.Dir, name, seed)
}

var (
	_ db.DB        = (*DB)(nil)
	_ db.Killer    = (*DB)(nil)
	_ db.Pauser    = (*DB)(nil)
	_ db.Primaries = (*DB)(nil)
	_ db.LogFiles  = (*DB)(nil)
)

// NewDB returns a DB for cfg. Every DB makes its own cluster tokens, so that
// members of an earlier cluster never join a new one.
func NewDB(cfg Config) *DB {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &DB{cfg: cfg.withDefaults(), nonce: hex.EncodeToString(b[:]), tokens: map[string]string{}}
}

// Config returns the DB's configuration with its defaults filled in.
func (d *DB) Config() Config { return d.cfg }

func (d *DB) dataDir() string { return path.Join(d.cfg.Dir, "data") }
func (d *DB) logFile() string { return path.Join(d.cfg.Dir, "etcd.log") }
func (d *DB) pidFile() string { return path.Join(d.cfg.Dir, "etcd.pid") }
func (d *DB) binPath() string {
	if d.cfg.Binary == "" {
		return DebianBinary
	}
	return path.Join(d.cfg.Dir, "bin", "etcd")
}

// ClientURL is the URL clients use for node.
func (d *DB) ClientURL(node string) string {
	return "http://" + hostPort(d.cfg.Addr(node), d.cfg.ClientPort)
}

func (d *DB) peerURL(node string) string {
	return "http://" + hostPort(d.cfg.Addr(node), d.cfg.PeerPort)
}

func hostPort(host string, port int) string {
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port)
}

// token is the cluster token of the run env describes: one per DB and run,
// shared by all its members. A set-up attempt after a failed one wipes the
// data first, so it may use the same token.
func (d *DB) token(env *control.Env) string {
	key := fmt.Sprintf("%s\x00%s\x00%d", env.Dir, env.Name, env.Seed)
	d.mu.Lock()
	defer d.mu.Unlock()
	if t, ok := d.tokens[key]; ok {
		return t
	}
	sum := sha256.Sum256([]byte(d.nonce + "\x00" + key))
	t := "faultline-" + hex.EncodeToString(sum[:8])
	d.tokens[key] = t
	return t
}

func remoteOf(env *control.Env) (control.Remote, error) {
	if env == nil || env.Remote == nil {
		return nil, errors.New("etcd: the test has no remote to reach its nodes")
	}
	return env.Remote, nil
}

// stopServiceScript stops and disables the etcd service that Debian's
// package starts on systemd machines.
const stopServiceScript = `if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet etcd 2>/dev/null; then systemctl disable --now etcd; fi; true`

// install puts etcd on node.
func (d *DB) install(ctx context.Context, r control.Remote, node string) error {
	if d.cfg.Binary == "" {
		if err := db.InstallPackages(ctx, r, node, DebianPackage); err != nil {
			return fmt.Errorf("installing etcd: %w", err)
		}
		if _, shared := r.(db.SharedHost); !shared {
			// On a machine of its own, Debian's package starts an etcd
			// service that holds the ports: stop it (best effort).
			_, _ = r.Exec(ctx, node, control.Cmd{Shell: stopServiceScript, Sudo: true})
		}
		return nil
	}
	abs, err := filepath.Abs(d.cfg.Binary)
	if err != nil {
		return err
	}
	if err := db.InstallArchive(ctx, r, node, "file://"+abs, d.binPath()); err != nil {
		return fmt.Errorf("installing etcd binary %s: %w", d.cfg.Binary, err)
	}
	return nil
}

// args is etcd's command line on node; state is "new" or "existing".
func (d *DB) args(env *control.Env, node, state string) []string {
	var members []string
	for _, n := range env.Nodes {
		members = append(members, n+"="+d.peerURL(n))
	}
	args := []string{
		"--name", node,
		"--data-dir", d.dataDir(),
		"--listen-client-urls", "http://" + hostPort("0.0.0.0", d.cfg.ClientPort),
		"--advertise-client-urls", d.ClientURL(node),
		"--listen-peer-urls", "http://" + hostPort("0.0.0.0", d.cfg.PeerPort),
		"--initial-advertise-peer-urls", d.peerURL(node),
		"--initial-cluster", strings.Join(members, ","),
		"--initial-cluster-state", state,
		"--initial-cluster-token", d.token(env),
	}
	return append(args, d.cfg.ExtraArgs...)
}

// start starts etcd on node as a daemon and waits until its client port
// answers (from inside the node).
func (d *DB) start(ctx context.Context, env *control.Env, r control.Remote, node, state string) error {
	_, err := db.StartDaemon(ctx, r, node, db.DaemonOpts{
		Bin:     d.binPath(),
		Args:    d.args(env, node, state),
		Logfile: d.logFile(),
		Pidfile: d.pidFile(),
		// etcd 3.4 refuses to start on arm64 without this; it is ignored
		// elsewhere.
		Env: map[string]string{"ETCD_UNSUPPORTED_ARCH": "arm64"},
	})
	if err != nil {
		return err
	}
	host := d.cfg.Addr(node)
	if err := db.AwaitTCP(ctx, r, node, host, d.cfg.ClientPort); err != nil {
		return fmt.Errorf("etcd on %s did not open its client port: %w; the end of %s:\n%s", node, err, d.logFile(), d.logTail(ctx, r, node))
	}
	return nil
}

// Setup installs etcd on node, starts a member of a new cluster (data wiped
// first) and waits until the member serves a linearizable read, which
// needs a leader and a quorum.
func (d *DB) Setup(ctx context.Context, env *control.Env, node string) error {
	r, err := remoteOf(env)
	if err != nil {
		return err
	}
	if err := d.install(ctx, r, node); err != nil {
		return err
	}
	if err := d.wipe(ctx, r, node); err != nil {
		return err
	}
	if _, err := r.Exec(ctx, node, control.Cmd{Args: []string{"mkdir", "-p", d.cfg.Dir}}); err != nil {
		return err
	}
	if err := d.start(ctx, env, r, node, "new"); err != nil {
		return err
	}
	hctx, cancel := context.WithTimeout(ctx, d.cfg.HealthTimeout)
	defer cancel()
	if err := d.AwaitHealthy(hctx, node); err != nil {
		return fmt.Errorf("etcd on %s is not healthy: %w; the end of %s:\n%s", node, err, d.logFile(), d.logTail(ctx, r, node))
	}
	return nil
}

// logTail returns the last lines of etcd's log on node, for errors.
func (d *DB) logTail(ctx context.Context, r control.Remote, node string) string {
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	res, err := r.Exec(tctx, node, control.Cmd{Args: []string{"tail", "-n", "8", d.logFile()}})
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return strings.TrimRight(res.Stdout, "\n")
}

// AwaitHealthy waits until node's member answers a linearizable read, from
// the control machine, until ctx ends.
func (d *DB) AwaitHealthy(ctx context.Context, node string) error {
	var last error
	for {
		err := d.probe(ctx, node)
		if err == nil {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (d *DB) probe(ctx context.Context, node string) error {
	cli, err := newEtcdClient(d.ClientURL(node))
	if err != nil {
		return err
	}
	defer cli.Close()
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = cli.Get(clientv3.WithRequireLeader(pctx), "faultline/health")
	return err
}

// wipe stops etcd on node and removes its data and log.
func (d *DB) wipe(ctx context.Context, r control.Remote, node string) error {
	if err := db.StopDaemon(ctx, r, node, d.pidFile(), 0); err != nil {
		return err
	}
	_, err := r.Exec(ctx, node, control.Cmd{Args: []string{"rm", "-rf", d.dataDir(), d.logFile()}})
	return err
}

// Teardown kills etcd on node and wipes its data and log (the log has been
// downloaded by then).
func (d *DB) Teardown(ctx context.Context, env *control.Env, node string) error {
	r, err := remoteOf(env)
	if err != nil {
		return err
	}
	return d.wipe(ctx, r, node)
}

// Kill kills etcd on node with SIGKILL (through its pidfile) and waits for
// it to be gone.
func (d *DB) Kill(ctx context.Context, env *control.Env, node string) error {
	r, err := remoteOf(env)
	if err != nil {
		return err
	}
	return db.StopDaemon(ctx, r, node, d.pidFile(), 0)
}

// Start starts etcd on node again, as a member of the existing cluster; it
// waits for the client port but not for the cluster (which may be
// partitioned). Kill waits until the killed process has exited, so the new
// one never meets the old one's locks and ports; a member that is still
// running is left alone (Jepsen's :already-running).
func (d *DB) Start(ctx context.Context, env *control.Env, node string) error {
	r, err := remoteOf(env)
	if err != nil {
		return err
	}
	return d.start(ctx, env, r, node, "existing")
}

// Pause stops etcd on node with SIGSTOP.
func (d *DB) Pause(ctx context.Context, env *control.Env, node string) error {
	r, err := remoteOf(env)
	if err != nil {
		return err
	}
	return db.Signal(ctx, r, node, d.pidFile(), syscall.SIGSTOP)
}

// Resume continues etcd on node with SIGCONT. A node without a running
// etcd (killed, never started) has nothing to resume: that is no error, so
// that healing "resume all" works beside kills.
func (d *DB) Resume(ctx context.Context, env *control.Env, node string) error {
	r, err := remoteOf(env)
	if err != nil {
		return err
	}
	if _, err := r.Exec(ctx, node, control.Cmd{Args: []string{"test", "-s", d.pidFile()}}); err != nil {
		var ee *control.ExitError
		if errors.As(err, &ee) && ee.ExitCode == 1 && ee.Err == nil {
			return nil
		}
		return err
	}
	return db.Signal(ctx, r, node, d.pidFile(), syscall.SIGCONT)
}

// primariesWait is how long Primaries waits for an election to end.
const primariesWait = 5 * time.Second

// Primaries returns the nodes whose member says it is the leader (more than
// one during a partition), asking every node's status from the control
// machine. While no member leads (an election), it asks again for up to
// primariesWait; then it returns none. It fails only when no node answers.
func (d *DB) Primaries(ctx context.Context, env *control.Env) ([]string, error) {
	deadline := time.Now().Add(primariesWait)
	for {
		leaders, err := d.leaders(ctx, env.Nodes)
		if err != nil || len(leaders) > 0 || !time.Now().Before(deadline) {
			return leaders, err
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// leaders asks every node once.
func (d *DB) leaders(ctx context.Context, nodes []string) ([]string, error) {
	leaders := make([]bool, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, node := range nodes {
		wg.Go(func() {
			leaders[i], errs[i] = d.isLeader(ctx, node)
		})
	}
	wg.Wait()
	var out []string
	answered := 0
	for i, node := range nodes {
		if errs[i] == nil {
			answered++
		}
		if leaders[i] {
			out = append(out, node)
		}
	}
	if answered == 0 && len(nodes) > 0 {
		return nil, fmt.Errorf("etcd primaries: no node answered: %w", errors.Join(errs...))
	}
	return out, nil
}

func (d *DB) isLeader(ctx context.Context, node string) (bool, error) {
	url := d.ClientURL(node)
	cli, err := newEtcdClient(url)
	if err != nil {
		return false, err
	}
	defer cli.Close()
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	st, err := cli.Status(sctx, url)
	if err != nil {
		return false, fmt.Errorf("%s: status: %w", node, err)
	}
	return st.Header != nil && st.Leader != 0 && st.Header.MemberId == st.Leader, nil
}

// LogFiles lists etcd's log on node.
func (d *DB) LogFiles(context.Context, *control.Env, string) ([]string, error) {
	return []string{d.logFile()}, nil
}
