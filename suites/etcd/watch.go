package etcd

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/faultline/faultline/history"
)

// watchKeys is how many keys the watch workload's writes spread over.
const watchKeys = 4

// watchMargin is kept free before an op's deadline so that a watch returns
// what it saw instead of timing out.
const watchMargin = 500 * time.Millisecond

// watchState is one process's position in the revision stream.
type watchState struct {
	next int64 // next revision to watch from; 0 before the first watch
}

func (c *Client) watchPrefix() string { return c.cfg.Prefix + "watch/" }
func (c *Client) watchMarker() string { return c.cfg.Prefix + "watch-start" }

// watchSetup writes the start marker: watchers begin at the revision after
// it, and every revision after it is a write of the workload.
func (c *Client) watchSetup(ctx context.Context) error {
	_, err := c.cli.Put(reqCtx(ctx), c.watchMarker(), "start")
	return err
}

// watchOp performs the watch workload's ops:
//
//	write v            put v under one of a few keys; the completion
//	                   carries the write's revision in Extra "revision"
//	watch nil          watch from this process's next revision for about
//	                   WatchWindow; ok value {"from" r, "to" r', "events"
//	                   [[rev value] ...]}
//	watch "final"      as watch, but first read the current revision
//	                   ("target") and watch until it is reached or the op's
//	                   time runs out
func (c *Client) watchOp(ctx context.Context, op history.Op) (history.Op, error) {
	rctx := reqCtx(ctx)
	switch op.F {
	case "write":
		v, ok := history.Int(op.Value)
		if !ok {
			return op, fmt.Errorf("etcd watch: write wants an integer, got %s", history.Format(op.Value))
		}
		key := c.watchPrefix() + strconv.FormatInt(((v%watchKeys)+watchKeys)%watchKeys, 10)
		resp, err := c.cli.Put(rctx, key, strconv.FormatInt(v, 10))
		if err != nil {
			return failWrite(op, err)
		}
		op.Type = history.OK
		op.Extra = append(op.Extra, history.Entry{Key: "revision", Val: resp.Header.Revision})
		return op, nil
	case "watch":
		return c.watch1(ctx, op)
	}
	return op, fmt.Errorf("etcd watch: unknown op %q", op.F)
}

func (c *Client) watch1(ctx context.Context, op history.Op) (history.Op, error) {
	rctx := reqCtx(ctx)
	st := c.watch
	if st.next == 0 {
		resp, err := c.cli.Get(rctx, c.watchMarker())
		if err != nil {
			return failRead(op, err)
		}
		if len(resp.Kvs) == 0 {
			op.Type, op.Error = history.Fail, "no start marker"
			return op, nil
		}
		st.next = resp.Kvs[0].ModRevision + 1
	}
	final := op.Value == "final"
	var target int64
	if final {
		resp, err := c.cli.Get(rctx, c.watchPrefix(), clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			return failRead(op, err)
		}
		target = resp.Header.Revision
	}
	window := c.cfg.WatchWindow
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl) - watchMargin
		if final || left < window {
			window = left
		}
	}
	if window <= 0 {
		op.Type, op.Error = history.Fail, "no time left to watch"
		return op, nil
	}
	from := st.next
	// Watches need no leader: a cut-off member delivers what it has, which
	// is what the checker judges.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := c.cli.Watch(wctx, c.watchPrefix(), clientv3.WithPrefix(), clientv3.WithRev(from))
	timer := time.NewTimer(window)
	defer timer.Stop()
	events := []any{}
	var werr error
loop:
	for !final || st.next <= target {
		select {
		case resp, ok := <-ch:
			if !ok {
				werr = errors.New("watch channel closed")
				break loop
			}
			if err := resp.Err(); err != nil {
				werr = err
				break loop
			}
			for _, ev := range resp.Events {
				var val any
				if ev.Type == clientv3.EventTypePut {
					x, err := parseInt(ev.Kv.Value)
					if err != nil {
						val = string(ev.Kv.Value)
					} else {
						val = x
					}
				}
				events = append(events, []any{ev.Kv.ModRevision, val})
				st.next = max(st.next, ev.Kv.ModRevision+1)
			}
		case <-timer.C:
			break loop
		}
	}
	if len(events) == 0 && werr != nil {
		return failRead(op, werr)
	}
	val := history.Map{{Key: "from", Val: from}, {Key: "to", Val: st.next - 1}, {Key: "events", Val: events}}
	if final {
		val = append(val, history.Entry{Key: "target", Val: target})
	}
	if werr != nil {
		val = append(val, history.Entry{Key: "ended", Val: errText(werr)})
	}
	op.Type, op.Value = history.OK, val
	return op, nil
}
