package etcd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"

	"github.com/faultline/faultline/client"
	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/history"
)

// ReadMode says how reads are served.
type ReadMode string

// Read modes.
const (
	// Linearizable reads go through etcd's read index (a quorum round
	// trip): they must never be stale.
	Linearizable ReadMode = "linearizable"
	// Serializable reads are served from the member's local state: fast,
	// and allowed to be stale, so the linearizability checker should
	// catch them once a partition leaves a member behind.
	Serializable ReadMode = "serializable"
)

// ParseReadMode reads "linearizable" or "serializable".
func ParseReadMode(s string) (ReadMode, error) {
	switch ReadMode(s) {
	case Linearizable, Serializable:
		return ReadMode(s), nil
	}
	return "", fmt.Errorf("read mode %q: want linearizable or serializable", s)
}

// Workload names the client understands.
const (
	WorkloadRegister = "register"
	WorkloadSet      = "set"
	WorkloadAppend   = "append"
	WorkloadWatch    = "watch"
)

// Workloads lists the workloads of the etcd suite; the first is the default.
func Workloads() []string {
	return []string{WorkloadRegister, WorkloadSet, WorkloadAppend, WorkloadWatch}
}

// DefaultPrefix is the prefix of every key the clients touch.
const DefaultPrefix = "faultline/"

// connectWait bounds how long an op waits for its node's connection before
// failing without having sent anything.
const connectWait = time.Second

// ClientConfig configures the etcd clients.
type ClientConfig struct {
	// Workload is one of Workloads().
	Workload string
	// ReadMode is Linearizable (default) or Serializable.
	ReadMode ReadMode
	// URL gives the client URL of a node (e.g. DB.ClientURL).
	URL func(node string) string
	// Prefix is prepended to every key (default DefaultPrefix).
	Prefix string
	// WatchWindow is how long a watch op collects events (default 1 s).
	WatchWindow time.Duration
}

func (c ClientConfig) withDefaults() (ClientConfig, error) {
	switch c.Workload {
	case WorkloadRegister, WorkloadSet, WorkloadAppend, WorkloadWatch:
	default:
		return c, fmt.Errorf("etcd client: unknown workload %q; known: %s", c.Workload, strings.Join(Workloads(), ", "))
	}
	if c.ReadMode == "" {
		c.ReadMode = Linearizable
	}
	if _, err := ParseReadMode(string(c.ReadMode)); err != nil {
		return c, fmt.Errorf("etcd client: %w", err)
	}
	if c.URL == nil {
		return c, errors.New("etcd client: no URL function")
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.WatchWindow <= 0 {
		c.WatchWindow = time.Second
	}
	return c, nil
}

// Client is an etcd client for one workload. The prototype made by
// NewClient opens one connection per process, to one node only: no
// failover to other members, as Jepsen's clients do, so that what a
// minority member answers shows in the history.
type Client struct {
	cfg   ClientConfig
	node  string
	cli   *clientv3.Client
	watch *watchState // watch workload only: this process's stream
}

var _ client.Client = (*Client)(nil)

// NewClient returns the prototype client for cfg.
func NewClient(cfg ClientConfig) (*Client, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Client{cfg: c}, nil
}

// newEtcdClient connects (lazily) to one endpoint only, with client-side
// retries off, quiet logs and a short reconnect backoff so a restarted
// member is found again within a second.
func newEtcdClient(url string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{
		Endpoints:            []string{url},
		Logger:               zap.NewNop(),
		MaxUnaryRetries:      1, // one attempt: no retries
		DialKeepAliveTime:    10 * time.Second,
		DialKeepAliveTimeout: 3 * time.Second,
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: time.Second,
		})},
	})
}

// Open connects a new client to node.
func (c *Client) Open(_ context.Context, _ *control.Env, node string) (client.Client, error) {
	cli, err := newEtcdClient(c.cfg.URL(node))
	if err != nil {
		return nil, fmt.Errorf("etcd client for %s: %w", node, err)
	}
	out := &Client{cfg: c.cfg, node: node, cli: cli}
	if c.cfg.Workload == WorkloadWatch {
		out.watch = &watchState{}
	}
	return out, nil
}

// Setup writes the watch workload's start marker; the other workloads
// start from empty keys.
func (c *Client) Setup(ctx context.Context, _ *control.Env) error {
	if c.cfg.Workload != WorkloadWatch || c.cli == nil {
		return nil
	}
	return c.watchSetup(ctx)
}

// Teardown does nothing: the DB wipes the data.
func (c *Client) Teardown(context.Context, *control.Env) error { return nil }

// Close closes the connection.
func (c *Client) Close(context.Context, *control.Env) error {
	if c.cli == nil {
		return nil
	}
	return c.cli.Close()
}

// Reusable says a connection may serve the next process after an info
// result; the watch client keeps a per-process stream and may not.
func (c *Client) Reusable() bool { return c.cfg.Workload != WorkloadWatch }

// Invoke performs op. Reads that fail are Fail (they changed nothing);
// writes fail only on errors that prove they were not applied, and return
// an error (recorded as info) otherwise.
func (c *Client) Invoke(ctx context.Context, _ *control.Env, op history.Op) (history.Op, error) {
	if c.cli == nil {
		return op, errors.New("etcd client: Invoke on the prototype; Open it first")
	}
	op.Node = c.node
	if !c.connected(ctx) {
		op.Type, op.Error = history.Fail, "not-connected"
		return op, nil
	}
	switch c.cfg.Workload {
	case WorkloadRegister:
		return c.register(ctx, op)
	case WorkloadSet:
		return c.set(ctx, op)
	case WorkloadAppend:
		return c.append(ctx, op)
	case WorkloadWatch:
		return c.watchOp(ctx, op)
	}
	return op, fmt.Errorf("etcd client: unknown workload %q", c.cfg.Workload)
}

// connected reports whether the connection to the node is ready, waiting
// up to connectWait (and never past half of ctx's time) for it. An op that
// finds no connection is failed before anything is sent.
func (c *Client) connected(ctx context.Context) bool {
	conn := c.cli.ActiveConnection()
	st := conn.GetState()
	if st == connectivity.Ready {
		return true
	}
	wait := connectWait
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl)/2)
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		switch st {
		case connectivity.Ready:
			return true
		case connectivity.Shutdown:
			return false
		case connectivity.Idle:
			conn.Connect()
		}
		if !conn.WaitForStateChange(wctx, st) {
			return conn.GetState() == connectivity.Ready
		}
		st = conn.GetState()
	}
}

// readOpts returns the options of a read in the configured mode.
func (c *Client) readOpts(opts ...clientv3.OpOption) []clientv3.OpOption {
	if c.cfg.ReadMode == Serializable {
		opts = append(opts, clientv3.WithSerializable())
	}
	return opts
}

// reqCtx marks ctx so that a member without a leader refuses the request
// at once (a definite failure) instead of waiting.
func reqCtx(ctx context.Context) context.Context { return clientv3.WithRequireLeader(ctx) }

// readCtx is the context of a read in the configured mode: linearizable
// reads require a leader like writes; serializable reads do not, since
// answering from local state without one is what they are for (and what
// the suite wants to observe).
func (c *Client) readCtx(ctx context.Context) context.Context {
	if c.cfg.ReadMode == Serializable {
		return ctx
	}
	return reqCtx(ctx)
}

// failRead completes a read that got err: a read changes nothing, so it
// certainly did not take place.
func failRead(op history.Op, err error) (history.Op, error) {
	op.Type, op.Error = history.Fail, errText(err)
	return op, nil
}

// failWrite completes a write that got err: Fail when err proves the write
// was not applied, otherwise an error, which the interpreter records as
// info (it may take effect later, or never).
func failWrite(op history.Op, err error) (history.Op, error) {
	if Definite(err) {
		op.Type, op.Error = history.Fail, errText(err)
		return op, nil
	}
	return op, fmt.Errorf("etcd: %s", errText(err))
}

// Definite reports whether err proves that a write was not applied: the
// member refused it before proposing it to Raft (no leader under
// WithRequireLeader, too many requests, request too large, bad request,
// proposal dropped) or rejected it when applying it (space exceeded), or it
// never left this machine. Timeouts, lost connections, "request timed
// out", "leader changed" and "server stopped" are not definite: the write
// may have been committed.
func Definite(err error) bool {
	if err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	code, msg, ok := grpcError(err)
	if !ok {
		return false
	}
	switch code {
	case codes.InvalidArgument, codes.Unimplemented, codes.PermissionDenied, codes.Unauthenticated,
		codes.ResourceExhausted, codes.FailedPrecondition, codes.OutOfRange, codes.AlreadyExists, codes.NotFound:
		return true
	case codes.Unavailable:
		return msg == rpctypes.ErrorDesc(rpctypes.ErrGRPCNoLeader) ||
			msg == "there is no address available" || msg == "there is no connection available"
	case codes.Unknown:
		// Raft dropped the proposal before it entered any log.
		return strings.Contains(msg, "raft proposal dropped")
	}
	return false
}

// grpcError returns the gRPC code and message of err: a gRPC status or the
// rpctypes.EtcdError the etcd client turns known ones into.
func grpcError(err error) (codes.Code, string, bool) {
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) {
		return ee.Code(), ee.Error(), true
	}
	if s, ok := status.FromError(err); ok {
		return s.Code(), s.Message(), true
	}
	return codes.Unknown, "", false
}

// errText is a short error value for the history.
func errText(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	if code, msg, ok := grpcError(err); ok {
		return code.String() + ": " + msg
	}
	return err.Error()
}
