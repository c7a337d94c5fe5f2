package memdb

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/faultline/faultline/client"
	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/history"
)

// netConn is one client connection to a node; it dials on first use and
// after any failure.
type netConn struct {
	addr        string
	dialTimeout time.Duration
	conn        net.Conn
	dec         *json.Decoder
	id          uint64
}

func (c *netConn) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// call sends cmd and waits for its answer. Failing to connect or to send a
// single byte is a definite failure; losing the connection or the deadline
// after sending leaves the outcome unknown.
func (c *netConn) call(ctx context.Context, cmd command) result {
	if c.conn == nil {
		d := net.Dialer{Timeout: c.dialTimeout}
		conn, err := d.DialContext(ctx, "tcp", c.addr)
		if err != nil {
			return result{Err: errNodeDown + ": " + err.Error()}
		}
		hello, _ := json.Marshal(wireHello{Role: "client"})
		conn.SetWriteDeadline(time.Now().Add(c.dialTimeout))
		if _, err := conn.Write(append(hello, '\n')); err != nil {
			conn.Close()
			return result{Err: errNodeDown + ": " + err.Error()}
		}
		c.conn, c.dec = conn, json.NewDecoder(bufio.NewReader(conn))
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(10 * time.Second)
	}
	c.conn.SetDeadline(deadline)
	conn := c.conn
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer func() {
		if !stop() && c.conn == conn {
			c.close() // ctx ended meanwhile and may have spoiled the deadline
		}
	}()
	c.id++
	b, _ := json.Marshal(wireReq{ID: c.id, Cmd: cmd})
	if n, err := c.conn.Write(append(b, '\n')); err != nil {
		c.close()
		if n == 0 {
			return result{Err: errNodeDown + ": " + err.Error()}
		}
		return result{Indef: indefConnLost + ": " + err.Error()}
	}
	for {
		var res wireRes
		if err := c.dec.Decode(&res); err != nil {
			c.close()
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return result{Indef: indefTimeout}
			}
			return result{Indef: indefConnLost + ": " + err.Error()}
		}
		if res.ID == c.id {
			return res.Res
		}
		// an answer to an earlier request that timed out: skip it
	}
}

// NetClient is a client.Client talking to one networked node over TCP.
type NetClient struct {
	cfg  ClientConfig
	node string
	mu   sync.Mutex
	nc   *netConn
}

// NewNetClient returns a prototype client; Open binds it to a node.
func NewNetClient(cfg ClientConfig) *NetClient { return &NetClient{cfg: cfg} }

// Open returns a client for node; it connects on its first operation.
func (c *NetClient) Open(_ context.Context, _ *control.Env, node string) (client.Client, error) {
	cfg, err := c.cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	addr := cfg.Addrs[node]
	if addr == "" {
		addr = net.JoinHostPort(node, DefaultPort)
	}
	return &NetClient{cfg: cfg, node: node, nc: &netConn{addr: addr, dialTimeout: cfg.DialTimeout}}, nil
}

func (c *NetClient) call(ctx context.Context, cmd command) result {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nc.call(ctx, cmd)
}

// Setup waits for a leader and creates the bank's accounts.
func (c *NetClient) Setup(ctx context.Context, _ *control.Env) error {
	if c.nc == nil {
		return fmt.Errorf("memdb: Setup on a client that is not open")
	}
	return setup(ctx, &c.cfg, c.call)
}

// Invoke performs op on the node.
func (c *NetClient) Invoke(ctx context.Context, _ *control.Env, op history.Op) (history.Op, error) {
	if c.nc == nil {
		return op, fmt.Errorf("memdb: Invoke on a client that is not open")
	}
	return invoke(ctx, &c.cfg, c.call, op)
}

// Teardown does nothing: the DB's teardown wipes the data.
func (c *NetClient) Teardown(context.Context, *control.Env) error { return nil }

// Close closes the connection.
func (c *NetClient) Close(context.Context, *control.Env) error {
	if c.nc != nil {
		c.mu.Lock()
		c.nc.close()
		c.mu.Unlock()
	}
	return nil
}

// Reusable reports true: after a failure the client reconnects by itself.
func (c *NetClient) Reusable() bool { return true }

// QueryStatus asks the node at addr for its status.
func QueryStatus(ctx context.Context, addr string) (Status, error) {
	nc := &netConn{addr: addr, dialTimeout: time.Second}
	defer nc.close()
	res := nc.call(ctx, command{Op: opStatus})
	if res.Status == nil {
		return Status{}, fmt.Errorf("memdb: status of %s: %s%s", addr, res.Err, res.Indef)
	}
	return *res.Status, nil
}

// AwaitLeader waits until the node at addr knows a leader and returns its
// name: a readiness check for networked DB setups.
func AwaitLeader(ctx context.Context, addr string) (string, error) {
	return waitLeader(ctx, func(ctx context.Context) (Status, error) {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		return QueryStatus(ctx, addr)
	})
}
