package memdb

import (
	"cmp"
	"context"
	"math/rand/v2"
	"sync"
)

// nonAtomicAbortRate is the share of transactions with writes that the
// non-atomic bug gives up on part-way.
const nonAtomicAbortRate = 0.2

// coordinator runs the transactions of a replica's clients under the
// isolation bugs: each transaction becomes several commands, submitted to
// the replica one after another like any client's, so other transactions'
// commands land in between. Without such a bug a transaction is one
// command and the coordinator is not involved.
type coordinator struct {
	bug       Bug
	abortRate float64 // non-atomic: the share of transactions given up
	mu        sync.Mutex
	rng       *rand.Rand
}

func newCoordinator(bug Bug, seed, stream uint64) *coordinator {
	co := &coordinator{bug: bug, rng: rand.New(rand.NewPCG(seed, stream))}
	if bug == BugNonAtomic {
		co.abortRate = nonAtomicAbortRate
	}
	return co
}

// submitter sends one command to the replica and waits for its answer.
type submitter func(ctx context.Context, c command) result

// run performs the transaction c.
func (co *coordinator) run(ctx context.Context, c command, do submitter) result {
	for i := range c.Txn {
		if f := c.Txn[i].F; f != mopRead && !c.Txn[i].writes() {
			return result{Err: errUnknownOp}
		}
	}
	if co.bug == BugNonAtomic {
		return co.nonAtomic(ctx, c, do)
	}
	return co.buffered(ctx, c, do)
}

// failed reports whether a step's answer is a failure of any kind.
func failed(res result) bool { return res.Err != "" || res.Indef != "" }

// readStep reads one key, at index at (0: the latest committed state),
// through the read index.
func readStep(ctx context.Context, do submitter, key string, at uint64) ([]int64, uint64, result) {
	res := do(ctx, command{Op: opTxn, Txn: []micro{{F: mopRead, K: key}}, At: at})
	if !failed(res) && len(res.Reads) != 1 {
		res = result{Err: errUnknownOp}
	}
	if failed(res) {
		// A read changes nothing: whatever happened to it, the
		// transaction has written nothing yet and certainly did not commit.
		return nil, 0, result{Err: cmp.Or(res.Err, res.Indef)}
	}
	return res.Reads[0], res.At, result{}
}

// buffered runs c under read-committed, snapshot-isolation or lost-update:
// reads one at a time (from the latest state, or from a snapshot taken
// first), writes buffered until a commit command that applies them all at
// once, guarded by checks that fail it when a key was written meanwhile.
func (co *coordinator) buffered(ctx context.Context, c command, do submitter) result {
	var ts uint64 // snapshot index; 0 reads the latest state
	if co.bug != BugReadCommitted {
		res := do(ctx, command{Op: opTxn}) // an empty read: where the snapshot is
		if failed(res) {
			return result{Err: cmp.Or(res.Err, res.Indef)}
		}
		ts = res.At
	}
	out := result{Reads: make([][]int64, len(c.Txn)), At: ts}
	var writes, checks []micro
	var keys []string            // keys written, in order
	own := map[string][]int64{}  // values written to each key, in order
	isList := map[string]bool{}  // the key is a list (written by appends)
	checked := map[string]bool{} // a check guards the key's read
	for i, m := range c.Txn {
		if m.writes() {
			if own[m.K] == nil {
				keys = append(keys, m.K)
			}
			writes = append(writes, m)
			own[m.K] = append(own[m.K], m.V)
			isList[m.K] = m.F == mopAppend
			continue
		}
		mine := own[m.K]
		if len(mine) > 0 && !isList[m.K] {
			out.Reads[i] = []int64{mine[len(mine)-1]} // a register reads its own write
			continue
		}
		seen, at, fail := readStep(ctx, do, m.K, ts)
		if failed(fail) {
			return fail
		}
		if len(mine) > 0 {
			// The list as committed, then this transaction's appends: the
			// commit must find the list as it was read, or the order the
			// read showed would never exist.
			seen = append(seen, mine...)
			if co.bug != BugSnapshotIsolation && !checked[m.K] {
				checked[m.K] = true
				checks = append(checks, micro{F: mopCheck, K: m.K, At: at})
			}
		}
		out.Reads[i] = seen
	}
	if len(writes) == 0 {
		return out
	}
	if co.bug == BugSnapshotIsolation {
		// First committer wins: no key written may have changed since
		// the snapshot.
		checks = checks[:0]
		for _, k := range keys {
			checks = append(checks, micro{F: mopCheck, K: k, At: ts})
		}
	}
	res := do(ctx, command{Op: opTxn, Txn: append(checks, writes...)})
	if failed(res) {
		return result{Err: res.Err, Indef: res.Indef}
	}
	return out
}

// nonAtomic runs c under the non-atomic bug: every micro-op is a command
// of its own, executed as the transaction reaches it, and some
// transactions give up after one of their writes. Nothing is undone.
func (co *coordinator) nonAtomic(ctx context.Context, c command, do submitter) result {
	nw := 0
	for i := range c.Txn {
		if c.Txn[i].writes() {
			nw++
		}
	}
	abortAfter := 0 // give up after this many writes; 0: never
	co.mu.Lock()
	if nw > 0 && co.rng.Float64() < co.abortRate {
		abortAfter = 1 + co.rng.IntN(nw)
	}
	co.mu.Unlock()
	out := result{Reads: make([][]int64, len(c.Txn))}
	wrote := 0
	for i, m := range c.Txn {
		if m.F == mopRead {
			seen, _, fail := readStep(ctx, do, m.K, 0)
			if failed(fail) {
				return fail // the writes made so far stay: the bug
			}
			out.Reads[i] = seen
			continue
		}
		res := do(ctx, command{Op: opTxn, Txn: []micro{m}})
		if failed(res) {
			return result{Err: res.Err, Indef: res.Indef}
		}
		if wrote++; wrote == abortAfter {
			return result{Err: errAborted}
		}
	}
	return out
}
