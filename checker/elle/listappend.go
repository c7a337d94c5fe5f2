package elle

import (
	"fmt"
	"slices"
	"sort"

	"github.com/faultline/faultline/internal/graph"
)

// appendIndex is what the list-append analysis knows about elements and
// their version orders; the explainer uses it to justify edges.
type appendIndex struct {
	p        *parsed
	writer   []int32 // element -> txn that appended it, or -1
	interm   []bool  // element was an intermediate append (its txn appended the key again)
	order    [][]int32
	pos      []int32 // element -> position in its key's order, or -1
	readOff  []int32 // readers CSR: target -> readers (targets: elements, then nE+key for the empty state)
	readTxn  []int32
	nE       int32
	appMop   []int32 // element -> index of its append micro-op within the writer's micro-ops
	possible func(t int32) bool
}

// initOf is the read-index target standing for key k's empty state.
func (x *appendIndex) initOf(k int32) int32 { return x.nE + k }

// readers returns the txns that read target (an element: the last one
// they saw; or initOf(key): they saw the key empty).
func (x *appendIndex) readers(target int32) []int32 {
	return x.readTxn[x.readOff[target]:x.readOff[target+1]]
}

// prev returns the element appended right before e in its key's version
// order, or -1 for the empty state. An element never read comes after the
// last one read.
func (x *appendIndex) prev(key, e int32) int32 {
	if p := x.pos[e]; p >= 0 {
		if p == 0 {
			return -1
		}
		return x.order[key][p-1]
	}
	o := x.order[key]
	if len(o) == 0 {
		return -1
	}
	return o[len(o)-1]
}

// possibleWriter returns the ok or info txn that appended e, or -1.
func (x *appendIndex) possibleWriter(e int32) int32 {
	if e < 0 {
		return -1
	}
	w := x.writer[e]
	if w >= 0 && !x.possible(w) {
		return -1
	}
	return w
}

// analyzeListAppend finds the non-cycle anomalies of a list-append history
// and the data dependency edges between its transactions.
func (a *analysis) analyzeListAppend() error {
	p := a.p
	nE := int32(len(p.in.valVals))
	nK := int32(len(p.in.keyVals))
	x := &appendIndex{p: p, writer: make([]int32, nE), interm: make([]bool, nE), appMop: make([]int32, nE), nE: nE}
	x.possible = func(t int32) bool { return p.txns[t].kind != kindFail }
	a.laIndex = x
	for i := range x.writer {
		x.writer[i] = -1
	}
	appendCount := make([]int32, nK) // appends per key by ok/info txns
	singleElem := make([]int32, nK)
	failedAppend := make([]bool, nE) // appended by a failed txn
	// Pass A: who appended what; unique appends.
	for t := range p.txns {
		tx := &p.txns[t]
		ms := p.mops[tx.m0:tx.m1]
		for i := range ms {
			m := &ms[i]
			if m.kind != mopAppend {
				continue
			}
			if w := x.writer[m.v]; w >= 0 {
				return &errShape{op: p.ops[tx.pos], pos: int(tx.pos), what: fmt.Sprintf(
					"value %s appended to key %s more than once (also by op %d); list-append needs unique appends",
					fmtVal(p.in.valVals[m.v]), fmtVal(p.in.keyVals[m.key]), p.ops[p.txns[w].pos].Index)}
			}
			x.writer[m.v] = int32(t)
			x.appMop[m.v] = int32(i)
			failedAppend[m.v] = tx.kind == kindFail
			for j := i + 1; j < len(ms); j++ {
				if ms[j].kind == mopAppend && ms[j].key == m.key {
					x.interm[m.v] = true
					break
				}
			}
			if tx.kind != kindFail {
				appendCount[m.key]++
				singleElem[m.key] = m.v
			}
		}
	}
	if err := a.ctx.Err(); err != nil {
		return err
	}

	// Pass B: reads.
	type span struct{ off, n int32 }
	longest := make([]span, nK)    // possible reads
	longestAll := make([]span, nK) // every read, for dirty updates
	badKey := make([]bool, nK)
	var readPairs [][2]int32 // (target, reader)
	stamp := make([]int32, nE)
	for i := range stamp {
		stamp[i] = -1
	}
	serial := int32(0)
	prefixOf := func(a, b span) bool { // a is a prefix of b
		if a.n > b.n {
			return false
		}
		for i := int32(0); i < a.n; i++ {
			if p.elems[a.off+i] != p.elems[b.off+i] {
				return false
			}
		}
		return true
	}
	// extend keeps the longest read of a key in cur (the first of the
	// longest, when reads disagree), and reports whether s agrees with it.
	extend := func(cur *span, s span) bool {
		switch {
		case prefixOf(s, *cur):
		case prefixOf(*cur, s):
			*cur = s
		default:
			if s.n > cur.n {
				*cur = s
			}
			return false
		}
		return true
	}
	wb := a.wb
	seed := uint64(0x2545f4914f6cdd1d)
	var st txnScratch
	for t := range p.txns {
		if t&0xfff == 0 && a.ctx.Err() != nil {
			return a.ctx.Err()
		}
		tx := &p.txns[t]
		ms := p.mops[tx.m0:tx.m1]
		for i := range ms {
			m := &ms[i]
			if m.kind != mopRead {
				continue
			}
			if m.n < 0 && tx.kind != kindOK {
				continue // an unknown read
			}
			s := span{m.v, max(m.n, 0)}
			if tx.kind == kindFail {
				if s.n > 0 {
					extend(&longestAll[m.key], s) // incompatibilities are reported from possible reads
				}
				continue
			}
			if s.n > 0 {
				// Both longest reads are the same span unless failed txns
				// read more: compare once while they are.
				shared := longest[m.key] == longestAll[m.key]
				if !extend(&longest[m.key], s) {
					badKey[m.key] = true
				}
				if shared {
					longestAll[m.key] = longest[m.key]
				} else {
					extend(&longestAll[m.key], s)
				}
			}
			elems := p.read(m)
			// Duplicate elements, and elements of failed appends.
			serial++
			var dups map[int32]int
			aborted := false
			for _, e := range elems {
				if stamp[e] == serial {
					if dups == nil {
						dups = map[int32]int{}
					}
					if dups[e] == 0 {
						dups[e] = 1
					}
					dups[e]++
				}
				stamp[e] = serial
				aborted = aborted || failedAppend[e]
			}
			if dups != nil {
				a.addDuplicates(int32(t), i, dups)
			}
			// Read index and write-read edges.
			if len(elems) == 0 {
				readPairs = append(readPairs, [2]int32{x.initOf(m.key), int32(t)})
			} else {
				last := elems[len(elems)-1]
				readPairs = append(readPairs, [2]int32{last, int32(t)})
				if w := x.possibleWriter(last); w >= 0 && w != int32(t) {
					wb.Link(w, int32(t), graph.WR)
				}
			}
			if tx.kind != kindOK {
				continue
			}
			// Aborted reads: elements appended by failed txns.
			if aborted {
				for _, e := range elems {
					if w := x.writer[e]; failedAppend[e] {
						a.add("G1a", func() Anomaly { return a.opAnomaly(int32(t), i, w, e, nil) })
					}
				}
			}
			// Intermediate reads: the last element was not its writer's final append.
			if len(elems) > 0 {
				last := elems[len(elems)-1]
				if w := x.writer[last]; w >= 0 && w != int32(t) && x.interm[last] {
					a.add("G1b", func() Anomaly { return a.opAnomaly(int32(t), i, w, last, nil) })
				}
			}
		}
		if tx.kind == kindOK {
			a.internalListAppend(int32(t), ms, &st)
			a.luListAppend(int32(t), ms, seed)
		}
	}
	// Incompatible orders, reported like Elle: the first adjacent pair, by
	// length, of the distinct reads of a key that is not a prefix of the next.
	var bad []int32
	for k := int32(0); k < nK; k++ {
		if badKey[k] {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		a.incompatibleOrders(bad)
	}
	// Version orders.
	x.order = make([][]int32, nK)
	x.pos = make([]int32, nE)
	for i := range x.pos {
		x.pos[i] = -1
	}
	for k := int32(0); k < nK; k++ {
		s := longest[k]
		var o []int32
		if s.n > 0 {
			o = make([]int32, 0, s.n)
			for _, e := range p.elems[s.off : s.off+s.n] {
				if x.pos[e] < 0 {
					x.pos[e] = int32(len(o))
					o = append(o, e)
				}
			}
		} else if appendCount[k] == 1 {
			o = []int32{singleElem[k]}
			x.pos[singleElem[k]] = 0
		}
		x.order[k] = o
	}
	// A transaction's appends to one key must show in the order it made
	// them; a read showing them the other way round makes the key's version
	// order cyclic (observed order against the transaction's own order).
	for t := range p.txns {
		tx := &p.txns[t]
		if tx.kind == kindFail {
			continue
		}
		ms := p.mops[tx.m0:tx.m1]
		for i := range ms {
			m := &ms[i]
			if m.kind != mopAppend || x.pos[m.v] < 0 {
				continue
			}
			for j := i + 1; j < len(ms); j++ {
				m2 := &ms[j]
				if m2.kind != mopAppend || m2.key != m.key || x.pos[m2.v] < 0 || x.pos[m2.v] > x.pos[m.v] {
					continue
				}
				first, second, key, tt := m.v, m2.v, m.key, int32(t)
				a.add("cyclic-versions", func() Anomaly {
					vs := []any{p.in.valVals[first], p.in.valVals[second]}
					return Anomaly{Key: a.val(p.in.keyVals[key]), SCC: a.val(vs), Sources: []string{"observed-order", "transaction-order"}, Op: a.opPtr(tt),
						Explanation: fmt.Sprintf("%s appended %s and then %s to key %s, but reads of the key show %s before %s",
							a.txnName(tt), fmtVal(vs[0]), fmtVal(vs[1]), fmtVal(p.in.keyVals[key]), fmtVal(vs[1]), fmtVal(vs[0]))}
				})
				break
			}
		}
	}
	// Readers CSR.
	x.readOff = make([]int32, nE+nK+1)
	for _, rp := range readPairs {
		x.readOff[rp[0]+1]++
	}
	for i := int32(1); i <= nE+nK; i++ {
		x.readOff[i] += x.readOff[i-1]
	}
	x.readTxn = make([]int32, len(readPairs))
	fill := make([]int32, nE+nK)
	copy(fill, x.readOff[:nE+nK])
	for _, rp := range readPairs {
		x.readTxn[fill[rp[0]]] = rp[1]
		fill[rp[0]]++
	}
	readPairs = nil
	// Write-write and read-write edges.
	for t := range p.txns {
		tx := &p.txns[t]
		if tx.kind == kindFail {
			continue
		}
		for _, m := range p.mops[tx.m0:tx.m1] {
			if m.kind != mopAppend {
				continue
			}
			prev := x.prev(m.key, m.v)
			target := x.initOf(m.key)
			if prev >= 0 {
				target = prev
				if w := x.possibleWriter(prev); w >= 0 && w != int32(t) {
					wb.Link(w, int32(t), graph.WW)
				}
			}
			for _, r := range x.readers(target) {
				if r != int32(t) {
					wb.Link(r, int32(t), graph.RW)
				}
			}
		}
	}
	// Dirty updates, along every read's version order (failed txns' too),
	// for keys with a failed append.
	hasFailed := make([]bool, nK)
	for e, w := range x.writer {
		if w >= 0 && p.txns[w].kind == kindFail {
			hasFailed[p.in.valKeyOf[e]] = true
		}
	}
	seen := stamp // reuse: element -> key+1 already seen
	clear(seen)
	for k := int32(0); k < nK; k++ {
		s := longestAll[k]
		if s.n > 0 && hasFailed[k] {
			a.dirtyUpdates(k, p.elems[s.off:s.off+s.n], seen)
		}
	}
	return nil
}

// txnScratch is reused per transaction by the in-transaction checks.
type txnScratch struct {
	keys  []int32
	state [][]int32
	known []bool
	// seen[e] == serial: element e was read earlier in the current
	// transaction, by micro-op seenAt[e].
	seen, seenAt []int32
	serial       int32
}

// internalListAppend checks that a transaction's reads agree with its own
// earlier reads and appends, and that it never reads what it appends only
// later (future read).
func (a *analysis) internalListAppend(t int32, ms []mop, st *txnScratch) {
	p := a.p
	st.keys = st.keys[:0]
	st.state = st.state[:0]
	st.known = st.known[:0]
	if len(st.seen) < len(p.in.valVals) {
		st.seen = make([]int32, len(p.in.valVals))
		st.seenAt = make([]int32, len(p.in.valVals))
	}
	st.serial++
	find := func(k int32) int {
		for i, x := range st.keys {
			if x == k {
				return i
			}
		}
		return -1
	}
	internalDone, futureDone := false, false
	for i := range ms {
		m := &ms[i]
		j := find(m.key)
		switch m.kind {
		case mopAppend:
			if !futureDone && st.seen[m.v] == st.serial {
				futureDone = true
				e, ri := m.v, int(st.seenAt[m.v])
				a.add("future-read", func() Anomaly { return a.opAnomaly(t, ri, -1, e, nil) })
			}
			if j < 0 {
				st.keys = append(st.keys, m.key)
				st.state = append(st.state, []int32{m.v})
				st.known = append(st.known, false)
			} else {
				s := st.state[j]
				st.state[j] = append(s[:len(s):len(s)], m.v) // s may alias a read: copy
			}
		case mopRead:
			elems := p.read(m)
			for _, e := range elems {
				if st.seen[e] != st.serial {
					st.seen[e], st.seenAt[e] = st.serial, int32(i)
				}
			}
			if j >= 0 && !internalDone {
				s, known := st.state[j], st.known[j]
				bad := false
				if known {
					bad = !slices.Equal(s, elems)
				} else {
					k := len(elems) - len(s)
					bad = k < 0 || !slices.Equal(s, elems[k:])
				}
				if bad {
					internalDone = true
					exp := make([]any, 0, len(s)+1)
					if !known {
						exp = append(exp, "...")
					}
					for _, e := range s {
						exp = append(exp, p.in.valVals[e])
					}
					mi := i
					a.add("internal", func() Anomaly { return a.opAnomaly(t, mi, -1, -1, exp) })
				}
			}
			if j < 0 {
				st.keys = append(st.keys, m.key)
				st.state = append(st.state, elems)
				st.known = append(st.known, true)
			} else {
				st.state[j], st.known[j] = elems, true
			}
		}
	}
}

// luKey identifies a (key, value read) pair for lost updates.
type luKey struct {
	key, n, last int32
	h            uint64
}

// luListAppend records the transactions that read a key and then appended
// to it, grouped by the value read; two or more in a group lost an update.
func (a *analysis) luListAppend(t int32, ms []mop, seed uint64) {
	p, lu := a.p, a.lu
	type rd struct {
		key   int32
		m     *mop
		wrote bool
	}
	var reads [8]rd
	rs := reads[:0]
	for i := range ms {
		m := &ms[i]
		j := -1
		for x := range rs {
			if rs[x].key == m.key {
				j = x
				break
			}
		}
		if m.kind == mopRead {
			if j < 0 {
				rs = append(rs, rd{key: m.key, m: m})
			}
			continue
		}
		if j < 0 || rs[j].wrote {
			continue
		}
		rs[j].wrote = true
		elems := p.read(rs[j].m)
		k := luKey{key: m.key, n: int32(len(elems)), last: -1}
		if len(elems) > 0 {
			k.last = elems[len(elems)-1]
			h := uint64(seed)
			for _, e := range elems {
				h = (h ^ uint64(uint32(e))) * 0x9e3779b97f4a7c15
			}
			k.h = h
		}
		lu[k] = append(lu[k], t)
		if len(lu[k]) == 2 {
			a.lostKeys = append(a.lostKeys, k)
		}
		// Remember where the value read came from, to report it.
		a.lostRead[k] = rs[j].m
	}
}

// incompatibleOrders reports, for each key whose reads do not all lie on
// one sequence of appends, the first two reads (ordered by length) of
// which the shorter is not a prefix of the longer.
func (a *analysis) incompatibleOrders(keys []int32) {
	p := a.p
	want := map[int32][][]int32{}
	seen := map[int32]map[string]bool{}
	for _, k := range keys {
		want[k] = nil
		seen[k] = map[string]bool{}
	}
	for t := range p.txns {
		tx := &p.txns[t]
		if tx.kind == kindFail {
			continue
		}
		for i := tx.m0; i < tx.m1; i++ {
			m := &p.mops[i]
			if m.kind != mopRead || m.n <= 0 {
				continue
			}
			if _, ok := want[m.key]; !ok {
				continue
			}
			elems := p.read(m)
			id := fmt.Sprint(elems)
			if seen[m.key][id] {
				continue
			}
			seen[m.key][id] = true
			want[m.key] = append(want[m.key], elems)
		}
	}
	for _, k := range keys {
		vs := want[k]
		sort.SliceStable(vs, func(i, j int) bool { return len(vs[i]) < len(vs[j]) })
		for i := 0; i+1 < len(vs); i++ {
			x, y := vs[i], vs[i+1]
			if len(x) <= len(y) && slices.Equal(x, y[:len(x)]) {
				continue
			}
			key := k
			a.add("incompatible-order", func() Anomaly {
				return Anomaly{Key: a.val(p.in.keyVals[key]), Values: a.val([]any{a.elemList(x), a.elemList(y)}),
					Explanation: fmt.Sprintf("reads of key %s saw %s and %s: neither is a prefix of the other, so no single order of appends explains both",
						fmtVal(p.in.keyVals[key]), fmtVal(a.elemList(x)), fmtVal(a.elemList(y)))}
			})
			break
		}
	}
}

// dirtyUpdates walks a key's version order looking for a committed append
// right after (only failed or unknown appends between) a failed one.
func (a *analysis) dirtyUpdates(k int32, order []int32, seen []int32) {
	p, x := a.p, a.laIndex
	t1 := int32(-1) // -1: the initial state, committed
	kind1 := kindOK
	var vs []int32
	for _, e := range order {
		if seen[e] == k+1 {
			continue // a duplicate element
		}
		seen[e] = k + 1
		vs = append(vs, e)
		t2 := x.writer[e]
		kind2 := kindInfo
		if t2 >= 0 {
			kind2 = p.txns[t2].kind
		}
		switch {
		case kind2 == kindOK && kind1 == kindFail:
			from, to, vals := t1, t2, append([]int32(nil), vs...)
			a.add("dirty-update", func() Anomaly {
				return Anomaly{Key: a.val(p.in.keyVals[k]), Values: a.val(a.elemList(vals)), Txns: []OpJSON{a.opOf(from), a.opOf(to)},
					Explanation: fmt.Sprintf("on key %s, %s appended %s after the failed %s appended %s: a committed write over an aborted one",
						fmtVal(p.in.keyVals[k]), a.txnName(to), fmtVal(p.in.valVals[vals[len(vals)-1]]), a.txnName(from), fmtVal(p.in.valVals[vals[0]]))}
			})
			t1, kind1, vs = t2, kind2, vs[len(vs)-1:]
		case kind2 == kindOK || (kind2 == kindFail && kind1 != kindFail):
			t1, kind1, vs = t2, kind2, vs[len(vs)-1:]
		}
		// info after anything, or fail after fail: keep t1 and the range.
	}
}

// elemList renders elements as a list of history values.
func (a *analysis) elemList(es []int32) []any {
	out := make([]any, len(es))
	for i, e := range es {
		out[i] = a.p.in.valVals[e]
	}
	return out
}
