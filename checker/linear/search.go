package linear

import (
	"math"
	"slices"
	"sync/atomic"

	"github.com/faultline/faultline/model"
)

// The search (Wing & Gong, with Lowe's just-in-time linearization): a depth
// first search over configurations (set of linearized ops, model state).
// At a configuration, the op R with the earliest completion among the
// unlinearized ok ops bounds what may happen next: only ops invoked before R
// completed may be linearized now. The search
//
//   - linearizes a read-only op that is legal now without trying anything
//     else (it can always be moved to the front of a linearization);
//   - otherwise tries the other ok ops in order of completion (earliest
//     deadline first), then crashed ops; of several identical crashed ops it
//     tries only the first not yet linearized (they are interchangeable);
//   - succeeds once every ok op is linearized: crashed ops may take effect
//     or not, so they never have to be placed;
//   - memoises every configuration it enters, so each is explored once.
//
// Ops are numbered for the search: ok ops 0..nOK-1 in completion order (so
// the linearized ok ops are a prefix plus a few), crashed ops nOK.. in
// invocation order.

const (
	phaseNew uint8 = iota
	phaseOK
	phaseInfo
	phaseDone
)

type frame struct {
	state   uint64
	hash    uint64
	op      int32 // op linearized to reach this configuration; -1 at the root
	cursor  int32 // next candidate to try
	phase   uint8
	okMax   int32 // largest linearized ok op, -1 when none
	infoMin int32 // smallest and largest linearized crashed op (local numbers), -1 when none
	infoMax int32
}

// stopper is shared by the searches of one check.
type stopper struct {
	cause atomic.Int32 // 0 while running, else a cause*
	used  atomic.Int64 // bytes held by all searches
	limit int64
}

const (
	causeNone int32 = iota
	causeTimeout
	causeMemory
	causeCanceled
	causeSkipped // another key was invalid and FirstFailure is set
)

var causeNames = [...]string{causeNone: "", causeTimeout: "timeout", causeMemory: "memory", causeCanceled: "canceled", causeSkipped: "skipped"}

func (s *stopper) halt(cause int32) { s.cause.CompareAndSwap(causeNone, cause) }

// deadEnd is a configuration from which nothing could be linearized, kept as
// evidence: the furthest ones reached.
type deadEnd struct {
	state   uint64
	depth   int        // ops linearized
	path    []pathStep // the last ops linearized, oldest first
	pending []int32    // calls that could have been linearized next
	more    int        // pending calls left out
}

type pathStep struct {
	call  int32
	state uint64
}

const (
	maxDeadEnds = 8
	maxPath     = 12
	maxPending  = 24
)

type search struct {
	m     model.Machine
	nOK   int32
	nInfo int32

	callOf    []int32 // op -> call index (and machine op index)
	inv       []int32 // op -> invocation position
	ret       []int32 // ok op -> completion position
	ro        []bool  // ok op -> read-only
	sufMinInv []int32 // ok op j -> min inv of ok ops >= j
	prevSame  []int32 // crashed op (local) -> previous identical crashed op, or -1
	zob       []uint64

	// Unlinearized ops, in doubly linked lists with sentinels:
	//   ret: every ok op in completion order (sentinel nOK): its head is
	//        the op that bounds the next step;
	//   w:   ok ops that are not read-only, in invocation order (sentinel nOK);
	//   r:   read-only ok ops in invocation order, one list per guard state
	//        (sentinel nOK+g) and one for ops without a guard (sentinel rFree);
	//   info: crashed ops in invocation order (sentinel nInfo).
	retNext, retPrev   []int32
	wNext, wPrev       []int32
	rNext, rPrev       []int32
	infoNext, infoPrev []int32
	rList              []int32 // ro op -> sentinel of its list
	rFree              int32
	guards             map[uint64]int32 // guard state -> sentinel of its list
	okBits, infoBits   []uint64

	memo  *memo
	stack []frame

	stop     *stopper
	reported int64 // bytes this search added to stop.used
	iter     uint64
	explored int64
	maxDepth int

	bestR int32
	ends  []deadEnd
}

// newSearch builds the search over calls with machine m, whose op i is
// calls[i]. Ops with flags that make them irrelevant are left out: ok ops
// that are legal everywhere and change nothing, crashed ops that change
// nothing.
func newSearch(m model.Machine, calls []call, stop *stopper, mem *memo) *search {
	s := &search{m: m, stop: stop, bestR: -1, memo: mem}
	var oks, infos []int32
	for i := range calls {
		f := m.Flags(i)
		switch {
		case calls[i].crashed():
			if f&model.ReadOnly == 0 {
				infos = append(infos, int32(i))
			}
		case f&(model.ReadOnly|model.AlwaysLegal) != model.ReadOnly|model.AlwaysLegal:
			oks = append(oks, int32(i))
		}
	}
	// ok ops in completion order; calls are in invocation order already.
	slices.SortFunc(oks, func(a, b int32) int { return calls[a].ret - calls[b].ret })
	nOK := int32(len(oks))
	s.nOK, s.nInfo = nOK, int32(len(infos))
	n := len(oks) + len(infos)
	s.callOf = append(oks, infos...)
	s.inv = make([]int32, n)
	s.ret = make([]int32, nOK)
	s.ro = make([]bool, nOK)
	s.zob = make([]uint64, n)
	seed := uint64(0x5EED)
	for id, c := range s.callOf {
		s.inv[id] = int32(calls[c].inv)
		if id < len(oks) {
			s.ret[id] = int32(calls[c].ret)
			s.ro[id] = m.Flags(int(c))&model.ReadOnly != 0
		}
		s.zob[id] = splitmix(&seed)
	}
	s.sufMinInv = make([]int32, nOK+1)
	s.sufMinInv[nOK] = math.MaxInt32
	for j := nOK - 1; j >= 0; j-- {
		s.sufMinInv[j] = min(s.inv[j], s.sufMinInv[j+1])
	}
	s.prevSame = make([]int32, len(infos))
	last := map[uint64]int32{}
	for x, c := range infos {
		cl := m.Class(int(c))
		if p, ok := last[cl]; ok {
			s.prevSame[x] = p
		} else {
			s.prevSame[x] = -1
		}
		last[cl] = int32(x)
	}

	s.retNext, s.retPrev = ring(int(nOK))
	byInv := make([]int32, nOK)
	for i := range byInv {
		byInv[i] = int32(i)
	}
	slices.SortFunc(byInv, func(a, b int32) int { return int(s.inv[a] - s.inv[b]) })
	// Read-only ops: group those with a guard state.
	gm, _ := m.(model.Guarded)
	s.rList = make([]int32, nOK)
	var groups []uint64
	s.guards = map[uint64]int32{}
	for _, j := range byInv {
		if !s.ro[j] {
			continue
		}
		if gm != nil {
			if st, ok := gm.Guard(int(s.callOf[j])); ok {
				g, seen := s.guards[st]
				if !seen {
					g = nOK + int32(len(groups))
					s.guards[st] = g
					groups = append(groups, st)
				}
				s.rList[j] = g
				continue
			}
		}
		s.rList[j] = -1
	}
	s.rFree = nOK + int32(len(groups))
	s.wNext, s.wPrev = make([]int32, nOK+1), make([]int32, nOK+1)
	s.rNext, s.rPrev = make([]int32, s.rFree+1), make([]int32, s.rFree+1)
	for i := nOK; i <= s.rFree; i++ {
		s.rNext[i], s.rPrev[i] = i, i
	}
	s.wNext[nOK], s.wPrev[nOK] = nOK, nOK
	for _, j := range byInv { // append at the tail of each list
		if !s.ro[j] {
			t := s.wPrev[nOK]
			s.wNext[t], s.wPrev[j], s.wNext[j], s.wPrev[nOK] = j, t, nOK, j
			continue
		}
		if s.rList[j] < 0 {
			s.rList[j] = s.rFree
		}
		l := s.rList[j]
		t := s.rPrev[l]
		s.rNext[t], s.rPrev[j], s.rNext[j], s.rPrev[l] = j, t, l, j
	}
	s.infoNext, s.infoPrev = ring(len(infos))
	s.okBits = make([]uint64, (nOK+63)/64)
	s.infoBits = make([]uint64, (len(infos)+63)/64)
	return s
}

// ring returns a doubly linked list 0..n-1 with sentinel n.
func ring(n int) (next, prev []int32) {
	next = make([]int32, n+1)
	prev = make([]int32, n+1)
	for i := 0; i <= n; i++ {
		next[i] = int32((i + 1) % (n + 1))
		prev[i] = int32((i + n) % (n + 1))
	}
	return next, prev
}

func splitmix(x *uint64) uint64 {
	*x += 0x9E3779B97F4A7C15
	z := *x
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// sequential reports whether no two ops overlap in time and none crashed:
// then the only linearization is the history order.
func (s *search) sequential() bool {
	if s.nInfo > 0 {
		return false
	}
	for j := int32(1); j < s.nOK; j++ {
		if s.inv[j] < s.ret[j-1] {
			return false
		}
	}
	return true
}

// runSequential steps through a history without concurrency.
func (s *search) runSequential() int {
	state := s.m.Init()
	s.stack = append(s.stack[:0], frame{state: state, op: -1})
	for j := int32(0); j < s.nOK; j++ {
		if j&1023 == 0 && s.stop.cause.Load() != causeNone {
			return runAborted
		}
		ns, ok := s.m.Step(state, int(s.callOf[j]))
		if !ok {
			s.bestR = j
			s.ends = []deadEnd{s.snapshot(j)}
			return runInvalid
		}
		state = ns
		s.stack = append(s.stack, frame{state: state, op: j})
		if len(s.stack) > 2*maxPath {
			// Only the last steps are evidence; keep the stack short.
			copy(s.stack[1:], s.stack[len(s.stack)-maxPath:])
			s.stack = s.stack[:1+maxPath]
		}
		s.explored++
	}
	s.maxDepth = int(s.nOK)
	return runValid
}

// Outcomes of run.
const (
	runValid = iota
	runInvalid
	runAborted // the stopper stopped it
	runYield   // the quantum is used up; call run again to go on
)

// run searches for a linearization for about quantum iterations (0: no
// limit) and reports how it ended. A yielded search resumes where it was.
func (s *search) run(quantum uint64) int {
	if s.iter == 0 {
		if s.sequential() {
			return s.runSequential()
		}
		if s.memo == nil {
			s.memo = newMemo()
		} else {
			s.memo.reset()
		}
		s.stack = append(s.stack[:0], frame{state: s.m.Init(), op: -1, okMax: -1, infoMin: -1, infoMax: -1})
	}
	until := uint64(0)
	if quantum > 0 {
		until = s.iter + quantum
	}
	r := s.loop(until)
	if r != runYield {
		s.release()
	}
	return r
}

func (s *search) loop(until uint64) int {
	nOK, nInfo := s.nOK, s.nInfo
outer:
	for {
		s.iter++
		if s.iter&1023 == 0 {
			if s.check() {
				return runAborted
			}
			if until != 0 && s.iter >= until {
				return runYield
			}
		}
		top := len(s.stack) - 1
		f := &s.stack[top]
		head := s.retNext[nOK]
		if head == nOK {
			return runValid
		}
		deadline := s.ret[head]
		switch f.phase {
		case phaseNew:
			if top > s.maxDepth {
				s.maxDepth = top
			}
			switch s.greedy(top, head, deadline) {
			case greedyPushed:
				continue outer
			case greedyBlocked:
				f.phase = phaseDone
			default:
				f.phase, f.cursor = phaseOK, s.wNext[nOK]
			}
			if f.phase == phaseDone {
				break
			}
			fallthrough
		case phaseOK:
			for j := f.cursor; j != nOK && s.inv[j] < deadline; j = s.wNext[j] {
				ns, ok := s.m.Step(f.state, int(s.callOf[j]))
				if !ok {
					continue
				}
				f.cursor = s.wNext[j]
				if s.push(top, j, ns, head) {
					continue outer
				}
			}
			f.phase, f.cursor = phaseInfo, s.infoNext[nInfo]
			fallthrough
		case phaseInfo:
			for x := f.cursor; x != nInfo; x = s.infoNext[x] {
				id := nOK + x
				if s.inv[id] >= deadline {
					break
				}
				if p := s.prevSame[x]; p >= 0 && s.infoBits[p>>6]&(1<<(p&63)) == 0 {
					continue // an identical earlier crashed op is still available
				}
				ns, ok := s.m.Step(f.state, int(s.callOf[id]))
				if !ok {
					continue
				}
				f.cursor = s.infoNext[x]
				if s.push(top, id, ns, head) {
					continue outer
				}
			}
			f.phase = phaseDone
		}
		// Exhausted: record the dead end and backtrack.
		s.deadEnd(head)
		if top == 0 {
			return runInvalid
		}
		s.pop()
	}
}

const (
	greedyNone = iota
	greedyPushed
	greedyBlocked
)

// greedy linearizes a read-only ok op that is legal now, alone: it can be
// moved to the front of any linearization, so no other choice is needed.
// It tries first the ops whose guard is the current state, then the
// read-only ops without a guard. greedyBlocked means the configuration it
// leads to was seen before, so this one is a dead end too.
func (s *search) greedy(top int, head, deadline int32) int {
	st := s.stack[top].state
	if len(s.guards) > 0 {
		if g, ok := s.guards[st]; ok {
			if j := s.rNext[g]; j < s.nOK && s.inv[j] < deadline {
				if s.push(top, j, st, head) {
					return greedyPushed
				}
				return greedyBlocked
			}
		}
	}
	for j := s.rNext[s.rFree]; j != s.rFree && s.inv[j] < deadline; j = s.rNext[j] {
		if ns, ok := s.m.Step(st, int(s.callOf[j])); ok {
			if s.push(top, j, ns, head) {
				return greedyPushed
			}
			return greedyBlocked
		}
	}
	return greedyNone
}

// push enters the configuration reached from the frame at top by
// linearizing op id into state ns, unless the memo has seen it.
func (s *search) push(top int, id int32, ns uint64, head int32) bool {
	p := s.stack[top]
	h := p.hash ^ s.zob[id]
	okMax, infoMin, infoMax := p.okMax, p.infoMin, p.infoMax
	front := head
	if id < s.nOK {
		s.okBits[id>>6] |= 1 << (id & 63)
		okMax = max(okMax, id)
		if id == head {
			front = s.retNext[head]
		}
	} else {
		x := id - s.nOK
		s.infoBits[x>>6] |= 1 << (x & 63)
		if infoMin < 0 || x < infoMin {
			infoMin = x
		}
		infoMax = max(infoMax, x)
	}
	okLo := front >> 6
	var okw, infow []uint64
	if okMax >= 0 && okMax>>6 >= okLo {
		okw = s.okBits[okLo : okMax>>6+1]
	}
	infoLo := int32(0)
	if infoMax >= 0 {
		infoLo = infoMin >> 6
		infow = s.infoBits[infoLo : infoMax>>6+1]
	}
	if !s.memo.insert(h, ns, uint32(okLo), okw, uint32(infoLo), infow) {
		s.clearBit(id)
		return false
	}
	if id < s.nOK {
		s.retNext[s.retPrev[id]] = s.retNext[id]
		s.retPrev[s.retNext[id]] = s.retPrev[id]
		if s.ro[id] {
			s.rNext[s.rPrev[id]] = s.rNext[id]
			s.rPrev[s.rNext[id]] = s.rPrev[id]
		} else {
			s.wNext[s.wPrev[id]] = s.wNext[id]
			s.wPrev[s.wNext[id]] = s.wPrev[id]
		}
	} else {
		x := id - s.nOK
		s.infoNext[s.infoPrev[x]] = s.infoNext[x]
		s.infoPrev[s.infoNext[x]] = s.infoPrev[x]
	}
	s.stack = append(s.stack, frame{state: ns, hash: h, op: id, okMax: okMax, infoMin: infoMin, infoMax: infoMax})
	s.explored++
	return true
}

func (s *search) clearBit(id int32) {
	if id < s.nOK {
		s.okBits[id>>6] &^= 1 << (id & 63)
	} else {
		x := id - s.nOK
		s.infoBits[x>>6] &^= 1 << (x & 63)
	}
}

// pop leaves the top configuration, putting its op back.
func (s *search) pop() {
	id := s.stack[len(s.stack)-1].op
	s.stack = s.stack[:len(s.stack)-1]
	s.clearBit(id)
	if id < s.nOK {
		if s.ro[id] {
			s.rNext[s.rPrev[id]] = id
			s.rPrev[s.rNext[id]] = id
		} else {
			s.wNext[s.wPrev[id]] = id
			s.wPrev[s.wNext[id]] = id
		}
		s.retNext[s.retPrev[id]] = id
		s.retPrev[s.retNext[id]] = id
	} else {
		x := id - s.nOK
		s.infoNext[s.infoPrev[x]] = x
		s.infoPrev[s.infoNext[x]] = x
	}
}

// check accounts memory and reports whether the search must stop.
func (s *search) check() bool {
	used := s.memo.bytes() + s.m.MemoryBytes() + int64(cap(s.stack))*32
	if d := used - s.reported; d != 0 {
		s.reported = used
		if s.stop.used.Add(d) > s.stop.limit {
			s.stop.halt(causeMemory)
		}
	}
	return s.stop.cause.Load() != causeNone
}

// release gives back the memory this search reported, once it is done.
func (s *search) release() {
	s.stop.used.Add(-s.reported)
	s.reported = 0
}

// deadEnd records the top configuration as evidence when it is among the
// furthest reached (by the op that could not be linearized).
func (s *search) deadEnd(head int32) {
	if head < s.bestR {
		return
	}
	if head > s.bestR {
		s.bestR = head
		s.ends = s.ends[:0]
	}
	if len(s.ends) >= maxDeadEnds {
		return
	}
	st := s.stack[len(s.stack)-1].state
	for _, e := range s.ends {
		if e.state == st {
			return
		}
	}
	s.ends = append(s.ends, s.snapshot(head))
}

// snapshot describes the top configuration, blocked on op head.
func (s *search) snapshot(head int32) deadEnd {
	top := len(s.stack) - 1
	e := deadEnd{state: s.stack[top].state, depth: top}
	if s.sequential() {
		e.depth = int(head)
	}
	from := max(1, len(s.stack)-maxPath)
	for _, f := range s.stack[from:] {
		e.path = append(e.path, pathStep{call: s.callOf[f.op], state: f.state})
	}
	deadline := s.ret[head]
	add := func(id int32) {
		if len(e.pending) < maxPending {
			e.pending = append(e.pending, s.callOf[id])
		} else {
			e.more++
		}
	}
	if s.sequential() {
		return e // nothing else was pending
	}
	for j := head; j != s.nOK && s.sufMinInv[j] < deadline; j = s.retNext[j] {
		if s.inv[j] < deadline {
			add(j)
		}
	}
	for x := s.infoNext[s.nInfo]; x != s.nInfo && s.inv[s.nOK+x] < deadline; x = s.infoNext[x] {
		add(s.nOK + x)
	}
	return e
}
