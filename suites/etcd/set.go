package etcd

import (
	"context"
	"fmt"
	"strconv"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/history"
)

func (c *Client) setPrefix() string { return c.cfg.Prefix + "set/" }

// set adds an element as its own key under the set's prefix and reads the
// whole prefix.
func (c *Client) set(ctx context.Context, op history.Op) (history.Op, error) {
	rctx := reqCtx(ctx)
	switch op.F {
	case "add":
		v, ok := history.Int(op.Value)
		if !ok {
			return op, fmt.Errorf("etcd set: add wants an integer, got %s", history.Format(op.Value))
		}
		s := strconv.FormatInt(v, 10)
		if _, err := c.cli.Put(rctx, c.setPrefix()+s, s); err != nil {
			return failWrite(op, err)
		}
		op.Type = history.OK
		return op, nil
	case "read":
		resp, err := c.cli.Get(c.readCtx(ctx), c.setPrefix(), c.readOpts(clientv3.WithPrefix())...)
		if err != nil {
			return failRead(op, err)
		}
		out := make([]any, 0, len(resp.Kvs))
		for _, kv := range resp.Kvs {
			v, err := parseInt(kv.Value)
			if err != nil {
				return op, fmt.Errorf("etcd set: key %s: %w", kv.Key, err)
			}
			out = append(out, v)
		}
		op.Type, op.Value = history.OK, out
		return op, nil
	}
	return op, fmt.Errorf("etcd set: unknown op %q", op.F)
}
