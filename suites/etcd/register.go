package etcd

import (
	"context"
	"fmt"
	"strconv"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/history"
)

// registerKey is the etcd key of register key k.
func (c *Client) registerKey(k any) string {
	return c.cfg.Prefix + "register/" + history.Format(k)
}

// register performs read, write and cas on one key (op.Key), with values
// stored as decimal strings; a missing key reads as nil.
func (c *Client) register(ctx context.Context, op history.Op) (history.Op, error) {
	key := c.registerKey(op.Key)
	rctx := reqCtx(ctx)
	switch op.F {
	case "read":
		resp, err := c.cli.Get(c.readCtx(ctx), key, c.readOpts()...)
		if err != nil {
			return failRead(op, err)
		}
		op.Type, op.Value = history.OK, nil
		if len(resp.Kvs) > 0 {
			v, err := parseInt(resp.Kvs[0].Value)
			if err != nil {
				return op, fmt.Errorf("etcd: key %s: %w", key, err)
			}
			op.Value = v
		}
		return op, nil
	case "write":
		v, ok := history.Int(op.Value)
		if !ok {
			return op, fmt.Errorf("etcd register: write wants an integer, got %s", history.Format(op.Value))
		}
		if _, err := c.cli.Put(rctx, key, strconv.FormatInt(v, 10)); err != nil {
			return failWrite(op, err)
		}
		op.Type = history.OK
		return op, nil
	case "cas":
		pair, _ := op.Value.([]any)
		var old, nw int64
		var ok1, ok2 bool
		if len(pair) == 2 {
			old, ok1 = history.Int(pair[0])
			nw, ok2 = history.Int(pair[1])
		}
		if !ok1 || !ok2 {
			return op, fmt.Errorf("etcd register: cas wants [old new] integers, got %s", history.Format(op.Value))
		}
		resp, err := c.cli.Txn(rctx).
			If(clientv3.Compare(clientv3.Value(key), "=", strconv.FormatInt(old, 10))).
			Then(clientv3.OpPut(key, strconv.FormatInt(nw, 10))).
			Commit()
		if err != nil {
			return failWrite(op, err)
		}
		if !resp.Succeeded {
			op.Type, op.Error = history.Fail, "compare-failed"
			return op, nil
		}
		op.Type = history.OK
		return op, nil
	}
	return op, fmt.Errorf("etcd register: unknown op %q", op.F)
}

func parseInt(b []byte) (int64, error) {
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("value %q is not an integer", b)
	}
	return v, nil
}
