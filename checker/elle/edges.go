package elle

import "github.com/faultline/faultline/history"

// processEdges orders each process's committed transactions: an edge from
// each ok transaction to the process's next ok transaction.
func (a *analysis) processEdges() [][2]int32 {
	p := a.p
	last := map[int32]int32{}
	var es [][2]int32
	for t := range p.txns {
		tx := &p.txns[t]
		if tx.kind != kindOK {
			continue
		}
		if prev, ok := last[tx.proc]; ok {
			es = append(es, [2]int32{prev, int32(t)})
		}
		last[tx.proc] = int32(t)
	}
	return es
}

// realtimeEdges orders transactions in real time, as a transitive
// reduction: when a transaction is invoked, every committed transaction
// that completed before and is not already known to precede another such
// one gets an edge to it. Failed and unknown transactions are targets
// only (nothing follows an op that did not, or may not, happen).
func (a *analysis) realtimeEdges() [][2]int32 {
	p := a.p
	ops := p.ops
	txnAt := make([]int32, len(ops)) // position of invocation or completion -> txn + 1
	for t := range p.txns {
		tx := &p.txns[t]
		txnAt[tx.pos] = int32(t) + 1
		if tx.inv >= 0 {
			txnAt[tx.inv] = int32(t) + 1
		}
	}
	es := make([][2]int32, 0, 2*len(p.txns)) // about two per txn with several processes
	var buf []int32                          // completed ok txns not yet covered by a later one
	// The edges into txn t made at its invocation are es[from[t]:from[t]+cnt[t]].
	from := make([]int32, len(p.txns))
	cnt := make([]int32, len(p.txns))
	for i := range ops {
		op := &ops[i]
		if op.Process < 0 || txnAt[i] == 0 {
			continue
		}
		t := txnAt[i] - 1
		switch op.Type {
		case history.Invoke:
			from[t], cnt[t] = int32(len(es)), int32(len(buf))
			for _, b := range buf {
				es = append(es, [2]int32{b, t})
			}
		case history.OK:
			if c := cnt[t]; c > 0 {
				buf = dropAll(buf, es[from[t]:from[t]+c])
			}
			buf = append(buf, t)
		}
	}
	return es
}

// dropAll removes from s the sources of the edges drop.
func dropAll(s []int32, drop [][2]int32) []int32 {
	out := s[:0]
	for _, x := range s {
		keep := true
		for _, d := range drop {
			if x == d[0] {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, x)
		}
	}
	return out
}
