package memory

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/db"
	"github.com/faultline/faultline/internal/memdb"
)

// Files of a networked replica, relative to its node's folder.
const (
	netDataDir = "memdb/data"
	netLogFile = "memdb/memdb.log"
	netPidFile = "memdb/memdb.pid"
)

// netDB runs the store as one `faultline memdb serve` process per node of
// a local cluster, so that partitions, kills and pauses act on real
// processes and real TCP connections.
type netDB struct {
	bin   string            // the faultline executable (nodes share the host's files)
	cfg   memdb.Config      // bug and timings
	addrs map[string]string // node -> host:port its peers and clients use
}

var (
	_ db.DB        = (*netDB)(nil)
	_ db.Killer    = (*netDB)(nil)
	_ db.Pauser    = (*netDB)(nil)
	_ db.Primaries = (*netDB)(nil)
	_ db.LogFiles  = (*netDB)(nil)
)

func newNetDB(cfg memdb.Config, addrs map[string]string) (*netDB, error) {
	bin, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("memdb: finding the faultline executable to run on the nodes: %w", err)
	}
	return &netDB{bin: bin, cfg: cfg, addrs: addrs}, nil
}

func (d *netDB) serverArgs(node string) []string {
	sc := memdb.ServerConfig{Config: d.cfg, Node: node, Listen: d.addrs[node], Peers: d.addrs, DataDir: netDataDir}
	return append([]string{"memdb", "serve"}, sc.Args()...)
}

// Setup starts node's replica on fresh data and waits until it answers.
func (d *netDB) Setup(ctx context.Context, env *control.Env, node string) error {
	if _, err := env.Remote.Exec(ctx, node, control.Cmd{Args: []string{"rm", "-rf", "memdb"}}); err != nil {
		return err
	}
	if _, err := env.Remote.Exec(ctx, node, control.Cmd{Args: []string{"mkdir", "-p", netDataDir}}); err != nil {
		return err
	}
	if err := d.Start(ctx, env, node); err != nil {
		return err
	}
	actx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := memdb.AwaitLeader(actx, d.addrs[node]); err != nil {
		return fmt.Errorf("memdb on %s: no leader elected: %w", node, err)
	}
	return nil
}

// Teardown stops node's replica and erases its data.
func (d *netDB) Teardown(ctx context.Context, env *control.Env, node string) error {
	err := db.StopDaemon(ctx, env.Remote, node, netPidFile, time.Second)
	if _, rerr := env.Remote.Exec(ctx, node, control.Cmd{Args: []string{"rm", "-rf", netDataDir}}); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return err
}

// Start starts node's replica on its existing data.
func (d *netDB) Start(ctx context.Context, env *control.Env, node string) error {
	_, err := db.StartDaemon(ctx, env.Remote, node, db.DaemonOpts{
		Bin: d.bin, Args: d.serverArgs(node), Logfile: netLogFile, Pidfile: netPidFile,
	})
	if err != nil {
		return err
	}
	host, port, _ := net.SplitHostPort(d.addrs[node])
	p, _ := strconv.Atoi(port)
	return db.AwaitTCP(ctx, env.Remote, node, host, p)
}

// Kill kills node's replica with SIGKILL and waits for it to exit.
func (d *netDB) Kill(ctx context.Context, env *control.Env, node string) error {
	return db.StopDaemon(ctx, env.Remote, node, netPidFile, 0)
}

// Pause stops node's replica with SIGSTOP.
func (d *netDB) Pause(ctx context.Context, env *control.Env, node string) error {
	return db.Signal(ctx, env.Remote, node, netPidFile, syscall.SIGSTOP)
}

// Resume continues node's replica with SIGCONT; a killed replica has no
// pidfile and nothing to resume.
func (d *netDB) Resume(ctx context.Context, env *control.Env, node string) error {
	err := db.Signal(ctx, env.Remote, node, netPidFile, syscall.SIGCONT)
	var ee *control.ExitError
	if errors.As(err, &ee) {
		return nil
	}
	return err
}

// Primaries asks every replica whom it follows and returns the leaders that
// say so themselves.
func (d *netDB) Primaries(ctx context.Context, env *control.Env) ([]string, error) {
	var out []string
	for _, n := range env.Nodes {
		qctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		st, err := memdb.QueryStatus(qctx, d.addrs[n])
		cancel()
		if err == nil && st.Role == "leader" {
			out = append(out, n)
		}
	}
	return out, nil
}

// LogFiles names the replica's log for download.
func (d *netDB) LogFiles(context.Context, *control.Env, string) ([]string, error) {
	return []string{netLogFile}, nil
}
