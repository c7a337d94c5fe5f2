package etcd

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/history"
)

// microOp is one step of a list-append transaction: ["append", k, v] or
// ["r", k, nil] (the read's result replaces nil in the completion).
type microOp struct {
	read bool
	key  any
	val  int64
}

// parseTxn reads a txn op's value: a list of micro-ops.
func parseTxn(v any) ([]microOp, error) {
	ops, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("txn value %s is not a list of micro-ops", history.Format(v))
	}
	out := make([]microOp, 0, len(ops))
	for i, m := range ops {
		mop, ok := m.([]any)
		if !ok || len(mop) != 3 {
			return nil, fmt.Errorf("micro-op %d %s: want [f key value]", i, history.Format(m))
		}
		f, _ := mop[0].(string)
		switch f {
		case "r":
			out = append(out, microOp{read: true, key: mop[1]})
		case "append":
			x, ok := history.Int(mop[2])
			if !ok {
				return nil, fmt.Errorf("micro-op %d %s: append wants an integer", i, history.Format(m))
			}
			out = append(out, microOp{key: mop[1], val: x})
		default:
			return nil, fmt.Errorf("micro-op %d %s: unknown function %q (want r or append)", i, history.Format(m), f)
		}
	}
	return out, nil
}

// encodeList and decodeList store a list of integers as "1,2,3".
func encodeList(xs []int64) string {
	var b strings.Builder
	for i, x := range xs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(x, 10))
	}
	return b.String()
}

func decodeList(s []byte) ([]int64, error) {
	if len(s) == 0 {
		return nil, nil
	}
	parts := strings.Split(string(s), ",")
	out := make([]int64, len(parts))
	for i, p := range parts {
		x, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("list %q: element %q is not an integer", s, p)
		}
		out[i] = x
	}
	return out, nil
}

func (c *Client) appendKey(k any) string { return c.cfg.Prefix + "append/" + history.Format(k) }

// append runs a list-append transaction. It reads every key the txn
// touches in one etcd transaction (in the read mode), applies the
// micro-ops to those lists locally, and, when the txn appends, commits the
// new lists in a second etcd transaction guarded by every touched key's
// mod revision: if any key changed in between, nothing is written and the
// op fails. A read-only txn completes from the first read alone, so with
// serializable reads it may be stale (allowed for serializable, not for
// strict serializable).
func (c *Client) append(ctx context.Context, op history.Op) (history.Op, error) {
	if op.F != "txn" {
		return op, fmt.Errorf("etcd append: unknown op %q", op.F)
	}
	mops, err := parseTxn(op.Value)
	if err != nil {
		return op, fmt.Errorf("etcd append: %w", err)
	}
	// Distinct keys, in first-use order.
	var keys []string
	index := map[string]int{}
	writes := false
	for _, m := range mops {
		k := c.appendKey(m.key)
		if _, ok := index[k]; !ok {
			index[k] = len(keys)
			keys = append(keys, k)
		}
		writes = writes || !m.read
	}
	rctx := reqCtx(ctx)
	gets := make([]clientv3.Op, len(keys))
	for i, k := range keys {
		gets[i] = clientv3.OpGet(k, c.readOpts()...)
	}
	resp, err := c.cli.Txn(c.readCtx(ctx)).Then(gets...).Commit()
	if err != nil {
		return failRead(op, err)
	}
	lists := make([][]int64, len(keys))
	revs := make([]int64, len(keys))
	for i, r := range resp.Responses {
		rr := r.GetResponseRange()
		if rr == nil || len(rr.Kvs) == 0 {
			continue
		}
		revs[i] = rr.Kvs[0].ModRevision
		if lists[i], err = decodeList(rr.Kvs[0].Value); err != nil {
			return op, fmt.Errorf("etcd append: key %s: %w", keys[i], err)
		}
	}
	// Apply the micro-ops.
	out := make([]any, len(mops))
	dirty := make([]bool, len(keys))
	for j, m := range mops {
		i := index[c.appendKey(m.key)]
		if m.read {
			l := make([]any, len(lists[i]))
			for x, v := range lists[i] {
				l[x] = v
			}
			out[j] = []any{"r", m.key, l}
			continue
		}
		lists[i] = append(lists[i], m.val)
		dirty[i] = true
		out[j] = []any{"append", m.key, m.val}
	}
	if writes {
		cmps := make([]clientv3.Cmp, len(keys))
		var puts []clientv3.Op
		for i, k := range keys {
			cmps[i] = clientv3.Compare(clientv3.ModRevision(k), "=", revs[i])
			if dirty[i] {
				puts = append(puts, clientv3.OpPut(k, encodeList(lists[i])))
			}
		}
		tr, err := c.cli.Txn(rctx).If(cmps...).Then(puts...).Commit()
		if err != nil {
			return failWrite(op, err)
		}
		if !tr.Succeeded {
			op.Type, op.Error = history.Fail, "compare-failed"
			return op, nil
		}
	}
	op.Type, op.Value = history.OK, out
	return op, nil
}
