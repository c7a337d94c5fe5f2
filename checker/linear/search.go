package linear

import (
	"context"
	"errors"
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
//   - succeeds once every ok op is linearized: crashed ops may take effect
//     or not, so they never have to be placed;
//   - linearizes a read-only op that is legal now without trying anything
//     else: it can always be moved to the front of a linearization (the
//     model's guard states find such a read without stepping each one);
//   - otherwise tries, in phases: the ok ops that lead to the state the
//     earliest waiting read needs, the other ok ops, the crashed ops that
//     lead to that state, the other crashed ops. Ok ops go earliest deadline
//     first (or by invocation when the model prefers);
//   - of identical crashed ops tries only the first not yet linearized
//     (they are interchangeable); of identical ok ops skips one while an
//     identical op invoked no later and completing earlier waits (swapping
//     the two always gives another linearization);
//   - with a model.Prefixed machine (kv), drops a configuration, or a
//     candidate, from which the earliest waiting read can no longer see
//     its state: the state is not a prefix of it, and no setting op that
//     may still run before the read sets one that may be;
//   - memoises the configurations where it branches; a configuration is
//     ruled out when one with the same ok ops and state, and a subset of
//     its crashed ops, was seen (see memo).
//
// All of these only prune or order; the differential tests check the
// verdicts against a brute force and against Porcupine.
//
// Ops are numbered for the search: ok ops 0..nOK-1 in completion order (so
// the linearized ok ops are a prefix plus a few), crashed ops nOK.. in
// invocation order.

const (
	phaseNew        uint8 = iota
	phaseTarget           // ok ops that lead to the target state
	phaseTargetInfo       // crashed ops that lead to the target state
	phaseOK               // the other ok ops
	phaseInfo             // the other crashed ops
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
	// target is the state the earliest-deadline read waiting here needs;
	// ops that lead to it are tried first (hasTarget).
	target    uint64
	targetRet int32 // the completion of the read that needs target
	hasTarget bool
}

// stopper is shared by the searches of one check.
type stopper struct {
	cause atomic.Int32 // 0 while running, else a cause*
	used  atomic.Int64 // bytes held by all searches
	limit int64
	ctx   context.Context // its end stops the searches; may be nil
}

// poll checks the context and reports whether the searches must stop.
func (s *stopper) poll() bool {
	if s.ctx != nil {
		switch err := s.ctx.Err(); {
		case errors.Is(err, context.DeadlineExceeded):
			s.halt(causeTimeout)
		case err != nil:
			s.halt(causeCanceled)
		}
	}
	return s.cause.Load() != causeNone
}

const (
	causeNone int32 = iota
	causeTimeout
	causeMemory
	causeCanceled
	causeSkipped // another key was invalid (and Options.AllKeys is not set)
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
	dom       []int32 // ok op -> an identical ok op invoked no later that completed earlier, or -1
	zob       []uint64

	// Unlinearized ops, in doubly linked lists with sentinels:
	//   ret: every ok op in completion order (sentinel nOK): its head is
	//        the op that bounds the next step;
	//   w:   ok ops that are not read-only, in the order they are tried
	//        (sentinel nOK; wBound[j] is the earliest invocation from j on);
	//   r:   read-only ok ops in invocation order, one list per guard state
	//        (sentinel nOK+g) and one for ops without a guard (sentinel rFree);
	//   info: crashed ops in invocation order (sentinel nInfo).
	retNext, retPrev   []int32
	wNext, wPrev       []int32
	wBound             []int32
	rNext, rPrev       []int32
	infoNext, infoPrev []int32
	rList              []int32  // ro op -> sentinel of its list
	guard              []uint64 // ro op -> its guard state (see rList)
	rFree              int32
	guardDense         []int32          // guard state -> sentinel of its list, for small states
	guardMap           map[uint64]int32 // the same for other states
	hasGuards          bool
	byInvocation       bool // try ops in invocation order (model.OrderHint)
	// With a model.Prefixed machine, the unlinearized ops that set the
	// state, in invocation order (sentinel nOK+nInfo), and the state each
	// sets.
	pre              model.Prefixed
	setNext, setPrev []int32
	setState         []uint64
	sets             []bool // op -> sets the state
	okBits, infoBits []uint64

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
	ids := make([]int32, len(calls)) // ok ops from the front, crashed ops from the back
	nOK, nInfo := int32(0), int32(0)
	for i := range calls {
		f := m.Flags(i)
		switch {
		case calls[i].crashed():
			if f&model.ReadOnly == 0 {
				nInfo++
				ids[len(calls)-int(nInfo)] = int32(i)
			}
		case f&(model.ReadOnly|model.AlwaysLegal) != model.ReadOnly|model.AlwaysLegal:
			ids[nOK] = int32(i)
			nOK++
		}
	}
	oks := ids[:nOK]
	infos := ids[len(calls)-int(nInfo):]
	slices.Reverse(infos)
	// ok ops in completion order; calls are in invocation order already.
	slices.SortFunc(oks, func(a, b int32) int { return calls[a].ret - calls[b].ret })
	s.nOK, s.nInfo = nOK, nInfo
	n := int(nOK + nInfo)
	// One slab for the int32 arrays.
	slab := make([]int32, 2*n+8*int(nOK)+5+3*int(nInfo)+2)
	take := func(k int) []int32 {
		out := slab[:k:k]
		slab = slab[k:]
		return out
	}
	s.callOf = take(n)
	copy(s.callOf, oks)
	copy(s.callOf[nOK:], infos)
	s.inv = take(n)
	s.ret = take(int(nOK))
	s.sufMinInv = take(int(nOK) + 1)
	s.rList = take(int(nOK))
	s.guard = make([]uint64, nOK)
	byInv := take(int(nOK))
	s.retNext, s.retPrev = take(int(nOK)+1), take(int(nOK)+1)
	s.wNext, s.wPrev = take(int(nOK)+1), take(int(nOK)+1)
	s.prevSame = take(int(nInfo))
	s.infoNext, s.infoPrev = take(int(nInfo)+1), take(int(nInfo)+1)
	words := make([]uint64, n+int(nOK+63)/64+int(nInfo+63)/64)
	s.zob, words = words[:n:n], words[n:]
	s.okBits, s.infoBits = words[:(nOK+63)/64:(nOK+63)/64], words[(nOK+63)/64:]
	s.ro = make([]bool, nOK)

	seed := uint64(0x5EED)
	for id, c := range s.callOf {
		s.inv[id] = int32(calls[c].inv)
		if int32(id) < nOK {
			s.ret[id] = int32(calls[c].ret)
			s.ro[id] = m.Flags(int(c))&model.ReadOnly != 0
		}
		s.zob[id] = splitmix(&seed)
	}
	s.sufMinInv[nOK] = math.MaxInt32
	for j := nOK - 1; j >= 0; j-- {
		s.sufMinInv[j] = min(s.inv[j], s.sufMinInv[j+1])
	}
	if nInfo > 0 {
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
	}
	s.dominators(m, calls)
	ringInto(s.retNext, s.retPrev)
	ringInto(s.infoNext, s.infoPrev)
	for i := range byInv {
		byInv[i] = int32(i)
	}
	if !slices.IsSortedFunc(byInv, func(a, b int32) int { return int(s.inv[a] - s.inv[b]) }) {
		slices.SortFunc(byInv, func(a, b int32) int { return int(s.inv[a] - s.inv[b]) })
	}
	// Read-only ops: group those with a guard state.
	gm, _ := m.(model.Guarded)
	ngroups := int32(0)
	for _, j := range byInv {
		s.rList[j] = -1
		if !s.ro[j] || gm == nil {
			continue
		}
		st, ok := gm.Guard(int(s.callOf[j]))
		if !ok {
			continue
		}
		s.guard[j] = st
		g := s.guardOf(st)
		if g < 0 {
			g = nOK + ngroups
			ngroups++
			s.setGuard(st, g)
		}
		s.rList[j] = g
	}
	s.hasGuards = ngroups > 0
	s.rFree = nOK + ngroups
	s.rNext, s.rPrev = make([]int32, s.rFree+1), make([]int32, s.rFree+1)
	for i := nOK; i <= s.rFree; i++ {
		s.rNext[i], s.rPrev[i] = i, i
	}
	s.wNext[nOK], s.wPrev[nOK] = nOK, nOK
	// The w list is in the order candidates are tried (see wKey), with
	// wBound[j] the smallest invocation from j to the end of the list, so
	// that a scan can stop once nothing further was invoked in time.
	if h, ok := m.(model.OrderHint); ok {
		s.byInvocation = h.PreferInvocationOrder()
	}
	wOrder := make([]int32, 0, nOK)
	for j := int32(0); j < nOK; j++ {
		if !s.ro[j] {
			wOrder = append(wOrder, j)
		}
	}
	slices.SortStableFunc(wOrder, func(a, b int32) int { return int(s.wKey(a) - s.wKey(b)) })
	s.wBound = make([]int32, nOK+1)
	s.wBound[nOK] = math.MaxInt32
	bound := int32(math.MaxInt32)
	for k := len(wOrder) - 1; k >= 0; k-- {
		bound = min(bound, s.inv[wOrder[k]])
		s.wBound[wOrder[k]] = bound
	}
	for _, j := range wOrder {
		t := s.wPrev[nOK]
		s.wNext[t], s.wPrev[j], s.wNext[j], s.wPrev[nOK] = j, t, nOK, j
	}
	s.prefixed(m)
	for _, j := range byInv { // read-only ops, in invocation order
		if !s.ro[j] {
			continue
		}
		if s.rList[j] < 0 {
			s.rList[j] = s.rFree
		}
		l := s.rList[j]
		t := s.rPrev[l]
		s.rNext[t], s.rPrev[j], s.rNext[j], s.rPrev[l] = j, t, l, j
	}
	return s
}

// prefixed lists the ops that set the state, when m is model.Prefixed.
func (s *search) prefixed(m model.Machine) {
	pre, ok := m.(model.Prefixed)
	if !ok {
		return
	}
	n := s.nOK + s.nInfo
	var ids []int32
	for id := int32(0); id < n; id++ {
		if _, ok := pre.Sets(int(s.callOf[id])); ok {
			ids = append(ids, id)
		}
	}
	s.pre = pre
	s.sets = make([]bool, n)
	s.setState = make([]uint64, n)
	s.setNext, s.setPrev = make([]int32, n+1), make([]int32, n+1)
	slices.SortStableFunc(ids, func(a, b int32) int { return int(s.inv[a] - s.inv[b]) })
	s.setNext[n], s.setPrev[n] = n, n
	for _, id := range ids {
		s.sets[id] = true
		s.setState[id], _ = pre.Sets(int(s.callOf[id]))
		t := s.setPrev[n]
		s.setNext[t], s.setPrev[id], s.setNext[id], s.setPrev[n] = id, t, n, id
	}
}

// mayReach reports whether, from state st, the read that completes at ret
// may still see state t (model.Prefixed): st may be a prefix of t, or an
// unlinearized op other than skip that sets a state that may be one was
// invoked before ret.
func (s *search) mayReach(st, t uint64, ret, skip int32) bool {
	if s.pre.MayExtend(st, t) {
		return true
	}
	n := s.nOK + s.nInfo
	for x := s.setNext[n]; x != n && s.inv[x] < ret; x = s.setNext[x] {
		if x != skip && s.pre.MayExtend(s.setState[x], t) {
			return true
		}
	}
	return false
}

// dominators finds, for each ok op b that changes state, an identical op a
// (same class) invoked no later and completed earlier. While a is not
// linearized, b need not be tried: in any linearization that puts b before
// a, swapping them gives another one (a fits wherever b did, b wherever a
// did), so a can always go first.
func (s *search) dominators(m model.Machine, calls []call) {
	s.dom = make([]int32, s.nOK)
	if s.nOK < 2 {
		for j := range s.dom {
			s.dom[j] = -1
		}
		return
	}
	const scan = 8 // how far back to look among identical ops
	byClass := map[uint64][]int32{}
	for j := int32(0); j < s.nOK; j++ {
		s.dom[j] = -1
		if s.ro[j] {
			continue
		}
		cl := m.Class(int(s.callOf[j]))
		prev := byClass[cl]
		for k := len(prev) - 1; k >= 0 && k >= len(prev)-scan; k-- {
			if s.inv[prev[k]] <= s.inv[j] {
				s.dom[j] = prev[k]
				break
			}
		}
		byClass[cl] = append(prev, j)
	}
}

// guardOf returns the list sentinel of read-only ops guarded by state st,
// or -1. Small states index an array, others a map.
func (s *search) guardOf(st uint64) int32 {
	if st < uint64(len(s.guardDense)) {
		return s.guardDense[st]
	}
	if g, ok := s.guardMap[st]; ok {
		return g
	}
	return -1
}

func (s *search) setGuard(st uint64, g int32) {
	if st < 4096 {
		if st >= uint64(len(s.guardDense)) {
			n := len(s.guardDense)
			s.guardDense = append(s.guardDense, make([]int32, int(st)+1-n)...)
			for i := n; i < len(s.guardDense); i++ {
				s.guardDense[i] = -1
			}
		}
		s.guardDense[st] = g
		return
	}
	if s.guardMap == nil {
		s.guardMap = map[uint64]int32{}
	}
	s.guardMap[st] = g
}

// ringInto makes next/prev a doubly linked list 0..n-1 with sentinel n.
func ringInto(next, prev []int32) {
	n := len(next) - 1
	for i := 0; i <= n; i++ {
		next[i] = int32((i + 1) % (n + 1))
		prev[i] = int32((i + n) % (n + 1))
	}
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
		if j&1023 == 0 && s.stop.poll() {
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
		if f.phase == phaseNew {
			if top > s.maxDepth {
				s.maxDepth = top
			}
			// Set before pushing: a push may move the stack (and f).
			f.phase = phaseDone
			if s.greedy(top, head, deadline) {
				continue outer
			}
			f.target, f.targetRet, f.hasTarget = s.targetState(head, deadline)
			f.phase, f.cursor = phaseOK, s.wNext[nOK]
			if f.hasTarget {
				f.phase = phaseTarget
			}
			if f.hasTarget && s.pre != nil && !s.mayReach(f.state, f.target, f.targetRet, -1) {
				f.phase = phaseDone // the waiting read can no longer see its state
			}
		}
		// Candidates, in phases: the ok ops that lead to the state a
		// waiting read needs, the other ok ops, the crashed ops that lead
		// to that state, the other crashed ops. The cursor is saved before
		// each push, which may move the stack.
		for f.phase != phaseDone {
			target := f.phase == phaseTarget || f.phase == phaseTargetInfo
			if f.phase == phaseTarget || f.phase == phaseOK {
				for j := f.cursor; j != nOK && s.wBound[j] < deadline; j = s.wNext[j] {
					if s.inv[j] >= deadline {
						continue
					}
					if d := s.dom[j]; d >= 0 && s.okBits[d>>6]&(1<<(d&63)) == 0 {
						continue // an identical op that fits everywhere this one does is still waiting
					}
					ns, ok := s.m.Step(f.state, int(s.callOf[j]))
					if !ok || f.hasTarget && (ns == f.target) != target {
						continue
					}
					if f.hasTarget && s.pre != nil && !s.mayReach(ns, f.target, f.targetRet, j) {
						continue
					}
					f.cursor = s.wNext[j]
					// The only op that may go next need not be memoised:
					// the search cannot reach this configuration another
					// way without passing a memoised one first.
					if s.push(top, j, ns, head, !s.only(j, deadline)) {
						continue outer
					}
				}
			} else {
				for x := f.cursor; x != nInfo && s.inv[nOK+x] < deadline; x = s.infoNext[x] {
					if p := s.prevSame[x]; p >= 0 && s.infoBits[p>>6]&(1<<(p&63)) == 0 {
						continue // an identical earlier crashed op is still available
					}
					id := nOK + x
					ns, ok := s.m.Step(f.state, int(s.callOf[id]))
					if !ok || f.hasTarget && (ns == f.target) != target {
						continue
					}
					if f.hasTarget && s.pre != nil && !s.mayReach(ns, f.target, f.targetRet, id) {
						continue
					}
					f.cursor = s.infoNext[x]
					if s.push(top, id, ns, head, true) {
						continue outer
					}
				}
			}
			switch f.phase {
			case phaseTarget:
				f.phase, f.cursor = phaseOK, s.wNext[nOK]
			case phaseOK:
				f.phase, f.cursor = phaseTargetInfo, s.infoNext[nInfo]
				if !f.hasTarget {
					f.phase = phaseInfo
				}
			case phaseTargetInfo:
				f.phase, f.cursor = phaseInfo, s.infoNext[nInfo]
			default:
				f.phase = phaseDone
			}
		}
		// Exhausted: record the dead end and backtrack.
		s.deadEnd(head)
		if top == 0 {
			return runInvalid
		}
		s.pop()
	}
}

// greedy linearizes a read-only ok op that is legal now, alone: it can be
// moved to the front of any linearization, so no other choice is needed
// (and the configuration it leads to need not be memoised). It tries first
// the ops whose guard is the current state, then the read-only ops without
// a guard.
func (s *search) greedy(top int, head, deadline int32) bool {
	st := s.stack[top].state
	if s.hasGuards {
		if g := s.guardOf(st); g >= 0 {
			if j := s.rNext[g]; j < s.nOK && s.inv[j] < deadline {
				return s.push(top, j, st, head, false)
			}
		}
	}
	for j := s.rNext[s.rFree]; j != s.rFree && s.inv[j] < deadline; j = s.rNext[j] {
		if ns, ok := s.m.Step(st, int(s.callOf[j])); ok {
			return s.push(top, j, ns, head, false)
		}
	}
	return false
}

// wKey orders the ok ops that change state for trying: earliest deadline
// first, or by invocation when the machine prefers that.
func (s *search) wKey(j int32) int64 {
	if s.byInvocation {
		return int64(s.inv[j])
	}
	return int64(s.ret[j])
}

// only reports whether ok op j is the only op that may be linearized next
// (then its configuration need not be memoised).
func (s *search) only(j, deadline int32) bool {
	if x := s.infoNext[s.nInfo]; x != s.nInfo && s.inv[s.nOK+x] < deadline {
		return false
	}
	for k := s.wNext[s.nOK]; k != s.nOK && s.wBound[k] < deadline; k = s.wNext[k] {
		if k != j && s.inv[k] < deadline {
			return false
		}
	}
	return true
}

// targetState returns the state that the unlinearized read-only op with
// the earliest deadline (and a guard) needs, when it may go next: ops that
// lead to it are the likeliest next steps.
func (s *search) targetState(head, deadline int32) (uint64, int32, bool) {
	if !s.hasGuards {
		return 0, 0, false
	}
	for j := head; j != s.nOK && s.sufMinInv[j] < deadline; j = s.retNext[j] {
		if s.ro[j] && s.rList[j] != s.rFree && s.inv[j] < deadline {
			return s.guard[j], s.ret[j], true
		}
	}
	return 0, 0, false
}

// push enters the configuration reached from the frame at top by
// linearizing op id into state ns. With memoize it first checks and records
// it in the memo, and refuses a configuration seen before. Skipping the memo
// is always sound (the memo only prunes); push does so for forced steps.
func (s *search) push(top int, id int32, ns uint64, head int32, memoize bool) bool {
	p := s.stack[top]
	h := p.hash // the hash covers ok ops only (see memo)
	if id < s.nOK {
		h ^= s.zob[id]
	}
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
	if memoize && !s.memo.insert(h, ns, uint32(okLo), okw, uint32(infoLo), infow) {
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
	if s.sets != nil && s.sets[id] {
		s.setNext[s.setPrev[id]] = s.setNext[id]
		s.setPrev[s.setNext[id]] = s.setPrev[id]
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
	if s.sets != nil && s.sets[id] {
		s.setNext[s.setPrev[id]] = id
		s.setPrev[s.setNext[id]] = id
	}
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
	return s.stop.poll()
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
