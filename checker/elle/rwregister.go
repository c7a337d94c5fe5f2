package elle

import (
	"fmt"
	"sort"

	"github.com/faultline/faultline/internal/graph"
)

// kv is an external read or write of one key: the value's id.
type kv struct{ key, val int32 }

// registerIndex is what the rw-register analysis knows; the explainer
// uses it to justify edges.
type registerIndex struct {
	p        *parsed
	extR     [][]kv // per txn: external reads (ok txns only)
	extW     [][]kv // per txn: external writes (ok and info txns)
	versions *graph.Graph
	writers  map[int32][]int32 // value -> ok txns that externally wrote it
	readers  map[int32][]int32 // value -> ok txns that externally read it
	sources  []string
}

// extOf computes a transaction's external reads (the first access of a key
// is a read) and external writes (the last write of each key).
func extOf(ms []mop) (reads, writes []kv) {
	seen := func(list []kv, k int32) int {
		for i, x := range list {
			if x.key == k {
				return i
			}
		}
		return -1
	}
	var touched []int32
	for _, m := range ms {
		first := true
		for _, k := range touched {
			if k == m.key {
				first = false
				break
			}
		}
		if first {
			touched = append(touched, m.key)
		}
		switch m.kind {
		case mopRead:
			if first {
				reads = append(reads, kv{m.key, m.v})
			}
		case mopWrite:
			if i := seen(writes, m.key); i >= 0 {
				writes[i].val = m.v
			} else {
				writes = append(writes, kv{m.key, m.v})
			}
		}
	}
	return reads, writes
}

func lookup(list []kv, k int32) (int32, bool) {
	for _, x := range list {
		if x.key == k {
			return x.val, true
		}
	}
	return -1, false
}

// analyzeRWRegister finds the non-cycle anomalies of a read-write register
// history, infers version orders, and adds the dependency edges.
func (a *analysis) analyzeRWRegister() error {
	p := a.p
	n := len(p.txns)
	x := &registerIndex{p: p, extR: make([][]kv, n), extW: make([][]kv, n), writers: map[int32][]int32{}, readers: map[int32][]int32{}}
	a.rwIndex = x
	failed := map[int32]int32{}       // value -> failed txn that wrote it
	intermediate := map[int32]int32{} // value -> txn that overwrote it itself
	for t := range p.txns {
		tx := &p.txns[t]
		ms := p.mops[tx.m0:tx.m1]
		for i, m := range ms {
			if m.kind != mopWrite {
				continue
			}
			if tx.kind == kindFail {
				failed[m.v] = int32(t)
			}
			for _, m2 := range ms[i+1:] {
				if m2.kind == mopWrite && m2.key == m.key {
					intermediate[m.v] = int32(t)
					break
				}
			}
		}
		if tx.kind == kindFail {
			continue
		}
		r, w := extOf(ms)
		if tx.kind == kindOK {
			x.extR[t] = r
		}
		x.extW[t] = w
	}
	var st txnScratch
	lu := map[kv][]int32{}
	var luOrder []kv
	for t := range p.txns {
		if t&0xfff == 0 && a.ctx.Err() != nil {
			return a.ctx.Err()
		}
		tx := &p.txns[t]
		if tx.kind != kindOK {
			continue
		}
		ms := p.mops[tx.m0:tx.m1]
		a.internalRegister(int32(t), ms, &st)
		for i, m := range ms {
			if m.kind != mopRead {
				continue
			}
			if w, ok := failed[m.v]; ok {
				mi, v := i, m.v
				a.add("G1a", func() Anomaly { return a.opAnomaly(int32(t), mi, w, v, nil) })
			}
			if w, ok := intermediate[m.v]; ok && w != int32(t) {
				mi, v := i, m.v
				a.add("G1b", func() Anomaly { return a.opAnomaly(int32(t), mi, w, v, nil) })
			}
		}
		// Lost updates: read k, then wrote k.
		var reads, wrote []kv
		for _, m := range ms {
			v, read := lookup(reads, m.key)
			if m.kind == mopWrite {
				if _, done := lookup(wrote, m.key); done || !read {
					continue
				}
				wrote = append(wrote, kv{m.key, v})
				k := kv{m.key, v}
				lu[k] = append(lu[k], int32(t))
				if len(lu[k]) == 2 {
					luOrder = append(luOrder, k)
				}
				continue
			}
			if !read {
				reads = append(reads, kv{m.key, m.v})
			}
		}
		for _, r := range x.extR[t] {
			x.readers[r.val] = append(x.readers[r.val], int32(t))
		}
		for _, w := range x.extW[t] {
			x.writers[w.val] = append(x.writers[w.val], int32(t))
		}
	}
	for _, k := range luOrder {
		txns := lu[k]
		key, val := k.key, k.val
		a.add("lost-update", func() Anomaly {
			ops := make([]OpJSON, len(txns))
			for i, t := range txns {
				ops[i] = a.opOf(t)
			}
			return Anomaly{Key: a.val(p.in.keyVals[key]), Value: a.val(p.in.valVals[val]), Txns: ops,
				Explanation: fmt.Sprintf("%d transactions read key %s = %s and then each wrote it: all but one update was lost",
					len(txns), fmtVal(p.in.keyVals[key]), fmtVal(p.in.valVals[val]))}
		})
	}
	// Write-read edges: a unique external writer of each value read.
	vals := make([]int32, 0, len(x.readers))
	for v := range x.readers {
		vals = append(vals, v)
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
	for _, v := range vals {
		ws := x.writers[v]
		if len(ws) > 1 {
			w0 := p.txns[ws[0]]
			return &errShape{op: p.ops[p.txns[ws[1]].pos], pos: int(p.txns[ws[1]].pos), what: fmt.Sprintf(
				"key %s was set to %s by more than one transaction (also op %d); rw-register needs unique writes",
				fmtVal(p.in.keyVals[p.in.valKeyOf[v]]), fmtVal(p.in.valVals[v]), p.ops[w0.pos].Index)}
		}
		if len(ws) == 1 {
			for _, r := range x.readers[v] {
				if r != ws[0] {
					a.wb.Link(ws[0], r, graph.WR)
				}
			}
		}
	}
	if err := a.versionGraphs(); err != nil {
		return err
	}
	// Write-write and read-write edges along the version order.
	vg := x.versions
	for v := int32(0); v < int32(vg.Len()); v++ {
		dst, _ := vg.Out(v)
		if len(dst) == 0 {
			continue
		}
		w1, r1 := x.writers[v], x.readers[v]
		for _, v2 := range dst {
			for _, w2 := range x.writers[v2] {
				for _, w := range w1 {
					if w != w2 {
						a.wb.Link(w, w2, graph.WW)
					}
				}
				for _, r := range r1 {
					if r != w2 {
						a.wb.Link(r, w2, graph.RW)
					}
				}
			}
		}
	}
	return nil
}

// internalRegister checks that each read of a transaction returns what the
// transaction last read or wrote to that key.
func (a *analysis) internalRegister(t int32, ms []mop, st *txnScratch) {
	st.keys = st.keys[:0]
	st.state = st.state[:0]
	for i, m := range ms {
		j := -1
		for x, k := range st.keys {
			if k == m.key {
				j = x
				break
			}
		}
		if m.kind == mopRead && j >= 0 && st.state[j][0] != m.v {
			exp := a.p.in.valVals[st.state[j][0]]
			mi := i
			a.add("internal", func() Anomaly { return a.opAnomaly(t, mi, -1, -1, exp) })
			return
		}
		if j < 0 {
			st.keys = append(st.keys, m.key)
			st.state = append(st.state, []int32{m.v})
		} else {
			st.state[j][0] = m.v
		}
	}
}

// versionGraphs infers the version order of each key from the sources the
// options allow, in Elle's order: the initial state (nil precedes every
// value), an explicit transaction order, writes-follow-reads within a
// transaction, process order (sequential keys) and real-time order
// (linearizable keys). A source that would make some version order cyclic
// is left out, and the cycles are reported as cyclic-versions.
func (a *analysis) versionGraphs() error {
	p, x := a.p, a.rwIndex
	nV := int32(len(p.in.valVals))
	nilOf := func(k int32) int32 {
		id, _ := p.in.val(k, nil)
		return id
	}
	// Values may be added (nil of a key never read as nil): size later.
	type source struct {
		name  string
		edges func() [][2]int32
	}
	var sources []source
	sources = append(sources, source{"initial-state", func() [][2]int32 {
		var es [][2]int32
		for t := range p.txns {
			tx := &p.txns[t]
			if tx.kind == kindFail {
				continue
			}
			for _, w := range x.extW[t] {
				if p.in.valVals[w.val] != nil {
					es = append(es, [2]int32{nilOf(w.key), w.val})
				}
			}
			for _, r := range x.extR[t] {
				if p.in.valVals[r.val] != nil {
					es = append(es, [2]int32{nilOf(r.key), r.val})
				}
			}
		}
		return es
	}})
	if len(a.opts.TransactionOrder) > 0 {
		sources = append(sources, source{"transaction-order-keys", a.transactionOrderEdges})
	}
	if a.opts.WFRKeys {
		sources = append(sources, source{"wfr-keys", func() [][2]int32 {
			var es [][2]int32
			for t := range p.txns {
				if p.txns[t].kind != kindOK {
					continue
				}
				for _, r := range x.extR[t] {
					if p.in.valVals[r.val] == nil {
						continue
					}
					if w, ok := lookup(x.extW[t], r.key); ok {
						es = append(es, [2]int32{r.val, w})
					}
				}
			}
			return es
		}})
	}
	if a.opts.SequentialKeys {
		sources = append(sources, source{"sequential-keys", func() [][2]int32 { return a.orderEdges(a.processEdges()) }})
	}
	if a.opts.LinearizableKeys {
		sources = append(sources, source{"linearizable-keys", func() [][2]int32 { return a.orderEdges(a.realtimeEdges()) }})
	}
	var adopted [][2]int32
	var names []string
	for _, src := range sources {
		if err := a.ctx.Err(); err != nil {
			return err
		}
		es := src.edges()
		cand := append(append([][2]int32(nil), adopted...), es...)
		nV = int32(len(p.in.valVals))
		b := graph.NewBuilder(int(nV))
		for _, e := range cand {
			b.Link(e[0], e[1], graph.WW)
		}
		g := b.Build()
		cycles := g.SCC(graph.WW).Nontrivial()
		if len(cycles) == 0 {
			adopted = cand
			names = append(names, src.name)
			continue
		}
		srcs := append(append([]string(nil), names...), src.name)
		for _, c := range cycles {
			members := append([]int32(nil), c...)
			key := p.in.valKeyOf[members[0]]
			a.add("cyclic-versions", func() Anomaly {
				vs := make([]any, len(members))
				for i, v := range members {
					vs[i] = p.in.valVals[v]
				}
				return Anomaly{Key: a.val(p.in.keyVals[key]), SCC: a.val(vs), Sources: srcs,
					Explanation: fmt.Sprintf("the version order of key %s inferred from %v has a cycle among the values %s",
						fmtVal(p.in.keyVals[key]), srcs, fmtVal(vs))}
			})
		}
	}
	x.sources = names
	b := graph.NewBuilder(len(p.in.valVals))
	for _, e := range adopted {
		b.Link(e[0], e[1], graph.WW)
	}
	x.versions = b.Build()
	return nil
}

// transactionOrderEdges orders each key's externally written values by the
// transaction order the options give (txns without one first, latest
// first, as Elle does).
func (a *analysis) transactionOrderEdges() [][2]int32 {
	p, x := a.p, a.rwIndex
	type wv struct {
		val     int32
		version int64
		has     bool
	}
	byKey := map[int32][]wv{}
	var keys []int32
	for t := range p.txns {
		tx := &p.txns[t]
		if tx.kind == kindFail {
			continue
		}
		ver, has := a.opts.TransactionOrder[p.ops[tx.pos].Index]
		for _, w := range x.extW[t] {
			if _, ok := byKey[w.key]; !ok {
				keys = append(keys, w.key)
			}
			byKey[w.key] = append(byKey[w.key], wv{w.val, ver, has})
		}
	}
	var es [][2]int32
	for _, k := range keys {
		vs := byKey[k]
		for i, j := 0, len(vs)-1; i < j; i, j = i+1, j-1 {
			vs[i], vs[j] = vs[j], vs[i]
		}
		sort.SliceStable(vs, func(i, j int) bool {
			if vs[i].has != vs[j].has {
				return !vs[i].has
			}
			return vs[i].version < vs[j].version
		})
		for i := 0; i+1 < len(vs); i++ {
			if vs[i].val != vs[i+1].val {
				es = append(es, [2]int32{vs[i].val, vs[i+1].val})
			}
		}
	}
	return es
}

// orderEdges turns an order between transactions (process or real-time
// edges, which always point forward in the history) into version order
// edges, assuming each key alone is sequential or linearizable: the value a
// transaction left a key at precedes the first value of that key seen by
// each next transaction (the first on each path) touching the key.
func (a *analysis) orderEdges(edges [][2]int32) [][2]int32 {
	p, x := a.p, a.rwIndex
	n := len(p.txns)
	b := graph.NewBuilder(n)
	for _, e := range edges {
		b.Link(e[0], e[1], graph.Process)
	}
	g := b.Build()
	// Keys each txn touches externally: ok txns read or write, info txns write.
	touches := func(t int32, k int32) bool {
		if _, ok := lookup(x.extW[t], k); ok {
			return true
		}
		_, ok := lookup(x.extR[t], k)
		return ok
	}
	byKey := map[int32][]int32{}
	var keys []int32
	for t := range p.txns {
		seen := map[int32]bool{}
		for _, lst := range [][]kv{x.extR[t], x.extW[t]} {
			for _, e := range lst {
				if !seen[e.key] {
					seen[e.key] = true
					if _, ok := byKey[e.key]; !ok {
						keys = append(keys, e.key)
					}
					byKey[e.key] = append(byKey[e.key], int32(t))
				}
			}
		}
	}
	var out [][2]int32
	down := make([][]int32, n) // per key, reused: first touching txns downstream
	for _, k := range keys {
		ts := byKey[k] // ascending txn ids = completion order
		lo, hi := ts[0], ts[len(ts)-1]
		for t := hi; t >= lo; t-- {
			var d []int32
			dst, _ := g.Out(t)
			for _, y := range dst {
				if y > hi {
					continue
				}
				if touches(y, k) {
					d = appendUnique(d, y)
				} else {
					for _, z := range down[y] {
						d = appendUnique(d, z)
					}
				}
			}
			down[t] = d
		}
		for _, t := range ts {
			v1, ok := a.lastValue(t, k)
			if !ok {
				continue
			}
			for _, u := range down[t] {
				if v2, ok := a.firstValue(u, k); ok && v2 != v1 {
					out = append(out, [2]int32{v1, v2})
				}
			}
		}
		for t := lo; t <= hi; t++ {
			down[t] = nil
		}
	}
	return out
}

func appendUnique(s []int32, v int32) []int32 {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// lastValue is the value a transaction left key k at: its external write,
// else (ok txns) its external read.
func (a *analysis) lastValue(t, k int32) (int32, bool) {
	x := a.rwIndex
	if v, ok := lookup(x.extW[t], k); ok {
		return v, true
	}
	if a.p.txns[t].kind == kindOK {
		return lookup(x.extR[t], k)
	}
	return -1, false
}

// firstValue is the first value of key k a transaction saw: its external
// read (ok txns), else its external write.
func (a *analysis) firstValue(t, k int32) (int32, bool) {
	x := a.rwIndex
	if a.p.txns[t].kind == kindOK {
		if v, ok := lookup(x.extR[t], k); ok {
			return v, true
		}
	}
	return lookup(x.extW[t], k)
}
