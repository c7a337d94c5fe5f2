package memdb

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/faultline/faultline/client"
	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/history"
)

// Workload names: what a client's ops mean (the f names overlap, e.g.
// "read" of a register and of a set).
const (
	WorkloadRegister  = "register"
	WorkloadSet       = "set"
	WorkloadCounter   = "counter"
	WorkloadBank      = "bank"
	WorkloadUniqueIDs = "unique-ids"
	WorkloadQueue     = "queue"
	WorkloadAppend    = "append"
	WorkloadWR        = "wr"
)

// Workloads lists the workloads the clients handle.
func Workloads() []string {
	return []string{WorkloadRegister, WorkloadSet, WorkloadCounter, WorkloadBank, WorkloadUniqueIDs, WorkloadQueue, WorkloadAppend, WorkloadWR}
}

// ClientConfig configures InProcessClient and NetClient.
type ClientConfig struct {
	// Workload is one of Workloads(); it gives the ops their meaning.
	Workload string
	// Accounts are the bank accounts Setup creates (default 0..7, as in
	// Jepsen's bank test), holding TotalAmount (default 100) split evenly.
	Accounts    []int64
	TotalAmount int64
	// Addrs maps node names to host:port for NetClient; a node missing here
	// is reached at node:DefaultPort.
	Addrs map[string]string
	// DialTimeout bounds NetClient's connection attempts (default 1s).
	DialTimeout time.Duration
}

func (cc ClientConfig) withDefaults() (ClientConfig, error) {
	ok := false
	for _, w := range Workloads() {
		ok = ok || w == cc.Workload
	}
	if !ok {
		return cc, fmt.Errorf("memdb: unknown workload %q (want one of %v)", cc.Workload, Workloads())
	}
	if len(cc.Accounts) == 0 {
		cc.Accounts = []int64{0, 1, 2, 3, 4, 5, 6, 7}
	}
	if cc.TotalAmount == 0 {
		cc.TotalAmount = 100
	}
	if cc.DialTimeout <= 0 {
		cc.DialTimeout = time.Second
	}
	return cc, nil
}

// toCommand turns an invocation into a state-machine command.
func toCommand(workload string, op *history.Op) (command, error) {
	key := keyName(workload, op.Key)
	bad := func(what string) (command, error) {
		return command{}, fmt.Errorf("memdb: %s op %q: %s, got %s", workload, op.F, what, history.Format(op.Value))
	}
	val := func() (int64, bool) { return history.Int(op.Value) }
	c := command{Key: key}
	switch workload + " " + op.F {
	case "register read":
		c.Op = opRegRead
	case "register write":
		v, ok := val()
		if !ok {
			return bad("value must be an integer")
		}
		c.Op, c.A = opRegWrite, v
	case "register cas":
		pair, _ := op.Value.([]any)
		if len(pair) != 2 {
			return bad("value must be [old new]")
		}
		a, ok1 := history.Int(pair[0])
		b, ok2 := history.Int(pair[1])
		if !ok1 || !ok2 {
			return bad("value must be [old new] integers")
		}
		c.Op, c.A, c.B = opRegCAS, a, b
	case "set add", "counter add", "queue enqueue":
		v, ok := val()
		if !ok {
			return bad("value must be an integer")
		}
		c.Op, c.A = map[string]string{"set": opSetAdd, "counter": opCtrAdd, "queue": opQueueEnq}[workload], v
	case "set read":
		c.Op = opSetRead
	case "counter read":
		c.Op = opCtrRead
	case "bank transfer":
		m, _ := op.Value.(history.Map)
		var xs [3]int64
		for i, f := range []string{"from", "to", "amount"} {
			v, _ := m.Get(f)
			var ok bool
			if xs[i], ok = history.Int(v); !ok {
				return bad(`value must be {"from" int, "to" int, "amount" int}`)
			}
		}
		c.Op, c.A, c.B, c.C = opBankXfer, xs[0], xs[1], xs[2]
	case "bank read":
		c.Op = opBankRead
	case "unique-ids generate":
		c.Op = opGenID
	case "queue dequeue":
		c.Op = opQueueDeq
	case "queue drain":
		c.Op = opQueueDrain
	case "append txn", "wr txn":
		return txnCommand(workload, op)
	default:
		return command{}, fmt.Errorf("memdb: the %s workload has no op %q", workload, op.F)
	}
	return c, nil
}

// txnCommand turns a transaction of the append or wr workload into one
// txn command carrying its micro-ops.
func txnCommand(workload string, op *history.Op) (command, error) {
	bad := func(what string) (command, error) {
		return command{}, fmt.Errorf("memdb: %s op %q: %s, got %s", workload, op.F, what, history.Format(op.Value))
	}
	write := mopAppend
	if workload == WorkloadWR {
		write = mopWrite
	}
	mops, ok := op.Value.([]any)
	if !ok {
		return bad("value must be a list of micro-ops")
	}
	c := command{Op: opTxn, Txn: make([]micro, len(mops))}
	for i, x := range mops {
		m, _ := x.([]any)
		if len(m) != 3 {
			return bad(fmt.Sprintf("micro-op %d must be [f k v]", i))
		}
		f, _ := m[0].(string)
		switch f {
		case mopRead:
		case write:
			v, ok := history.Int(m[2])
			if !ok {
				return bad(fmt.Sprintf("micro-op %d must write an integer", i))
			}
			c.Txn[i].V = v
		default:
			return bad(fmt.Sprintf("micro-op %d must be %q or %q", i, mopRead, write))
		}
		c.Txn[i].F, c.Txn[i].K = f, keyName(workload, m[1])
	}
	return c, nil
}

// keyName is the state machine's name for a workload's key: namespaced by
// workload, and with integral keys as int64 so that 3 and 3.0 name one key.
func keyName(workload string, k any) string {
	if i, ok := history.Int(k); ok {
		k = i
	}
	return workload + ":" + history.Format(k)
}

// complete turns the result of c into op's completion. Definite refusals
// are Fail; an unknown outcome is an error (recorded as Info), except for
// reads, which change nothing and so certainly did not happen.
func complete(workload string, op history.Op, c *command, res result) (history.Op, error) {
	switch {
	case res.Err != "":
		op.Type, op.Error = history.Fail, res.Err
		return op, nil
	case res.Indef != "" && c.isRead():
		op.Type, op.Error = history.Fail, res.Indef
		return op, nil
	case res.Indef != "":
		return op, fmt.Errorf("memdb: %s outcome unknown: %s", op.F, res.Indef)
	}
	op.Type = history.OK
	ints := func() []any {
		out := make([]any, len(res.Ints))
		for i, v := range res.Ints {
			out[i] = v
		}
		return out
	}
	switch c.Op {
	case opRegRead:
		op.Value = nil
		if !res.Nil {
			op.Value = res.Int
		}
	case opSetRead, opQueueDrain:
		op.Value = ints()
	case opCtrRead, opGenID, opQueueDeq:
		op.Value = res.Int
	case opBankRead:
		m := make(history.Map, len(res.Ints))
		for i, a := range res.Ints {
			var bal int64
			if i < len(res.Vals) {
				bal = res.Vals[i]
			}
			m[i] = history.Entry{Key: a, Val: bal}
		}
		op.Value = m
	case opTxn:
		op.Value = txnValue(workload, op.Value.([]any), res.Reads)
	}
	return op, nil
}

// txnValue is a completed transaction's value: the invocation's micro-ops
// with each read's result filled in, a list for append (empty when the key
// was never appended to), a value or nil for wr.
func txnValue(workload string, mops []any, reads [][]int64) []any {
	out := make([]any, len(mops))
	for i, x := range mops {
		m := x.([]any) // toCommand checked the shape
		if m[0] != mopRead {
			out[i] = slices.Clone(m)
			continue
		}
		var seen []int64
		if i < len(reads) {
			seen = reads[i]
		}
		var v any
		if workload == WorkloadAppend {
			l := make([]any, len(seen))
			for j, e := range seen {
				l[j] = e
			}
			v = l
		} else if len(seen) > 0 {
			v = seen[len(seen)-1]
		}
		out[i] = []any{m[0], m[1], v}
	}
	return out
}

// invoker sends one command to one node.
type invoker func(ctx context.Context, c command) result

func invoke(ctx context.Context, cc *ClientConfig, call invoker, op history.Op) (history.Op, error) {
	c, err := toCommand(cc.Workload, &op)
	if err != nil {
		return op, err
	}
	return complete(cc.Workload, op, &c, call(ctx, c))
}

// setup waits until the node knows a leader, then creates what the workload
// needs (the bank's accounts), retrying until ctx ends.
func setup(ctx context.Context, cc *ClientConfig, call invoker) error {
	if _, err := waitLeader(ctx, func(ctx context.Context) (Status, error) {
		res := call(ctx, command{Op: opStatus})
		if res.Status == nil {
			return Status{}, fmt.Errorf("%s%s", res.Err, res.Indef)
		}
		return *res.Status, nil
	}); err != nil {
		return err
	}
	if cc.Workload != WorkloadBank {
		return nil
	}
	init := command{Op: opBankInit, Key: keyName(WorkloadBank, nil), Ints: cc.Accounts, A: cc.TotalAmount}
	for {
		res := call(ctx, init)
		if res.Err == "" && res.Indef == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("memdb: creating bank accounts: %s%s: %w", res.Err, res.Indef, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ClusterSource gives an InProcessClient its cluster when it opens: a
// *Cluster or an *InProcessDB.
type ClusterSource interface {
	Cluster() (*Cluster, error)
}

// Cluster returns c itself, making *Cluster a ClusterSource.
func (c *Cluster) Cluster() (*Cluster, error) { return c, nil }

// InProcessClient is a client.Client for one node of an in-process
// Cluster.
type InProcessClient struct {
	src  ClusterSource
	cfg  ClientConfig
	cl   *Cluster
	node string
}

// NewInProcessClient returns a prototype client; Open binds it to a node.
func NewInProcessClient(src ClusterSource, cfg ClientConfig) *InProcessClient {
	return &InProcessClient{src: src, cfg: cfg}
}

// Open returns a client bound to node.
func (c *InProcessClient) Open(_ context.Context, _ *control.Env, node string) (client.Client, error) {
	cfg, err := c.cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	cl, err := c.src.Cluster()
	if err != nil {
		return nil, err
	}
	if _, err := cl.slot(node); err != nil {
		return nil, err
	}
	return &InProcessClient{src: c.src, cfg: cfg, cl: cl, node: node}, nil
}

func (c *InProcessClient) call(ctx context.Context, cmd command) result {
	return c.cl.submit(ctx, c.node, cmd)
}

// Setup waits for a leader and creates the bank's accounts.
func (c *InProcessClient) Setup(ctx context.Context, _ *control.Env) error {
	if c.cl == nil {
		return fmt.Errorf("memdb: Setup on a client that is not open")
	}
	return setup(ctx, &c.cfg, c.call)
}

// Invoke performs op on the node.
func (c *InProcessClient) Invoke(ctx context.Context, _ *control.Env, op history.Op) (history.Op, error) {
	if c.cl == nil {
		return op, fmt.Errorf("memdb: Invoke on a client that is not open")
	}
	return invoke(ctx, &c.cfg, c.call, op)
}

// Teardown does nothing: the DB's teardown wipes the data.
func (c *InProcessClient) Teardown(context.Context, *control.Env) error { return nil }

// Close does nothing.
func (c *InProcessClient) Close(context.Context, *control.Env) error { return nil }

// Reusable reports true: the client holds no connection an Info could break.
func (c *InProcessClient) Reusable() bool { return true }
