package graph

import (
	"context"
	"errors"
	"time"
)

// RWMode says how many anti-dependency (RW) edges a cycle has, and where.
type RWMode uint8

const (
	// NoRW: no RW edge (G0, G1c).
	NoRW RWMode = iota
	// OneRW: exactly one RW edge (G-single).
	OneRW
	// NonadjacentRW: two or more RW edges, no two of them in a row, also
	// counting the last edge followed by the first (G-nonadjacent).
	NonadjacentRW
	// AdjacentRW: two or more RW edges, at least two of them in a row
	// (G2-item that is not G-nonadjacent).
	AdjacentRW
)

// CycleSpec describes the cycles of one anomaly class, as Elle's cycle
// anomaly specifications do: which relations the cycle may use, how its RW
// edges are arranged, and which relations it must contain.
type CycleSpec struct {
	// Allowed are the relations other than RW the cycle may use.
	Allowed Rel
	// RW arranges the cycle's RW edges.
	RW RWMode
	// Required relations must each appear on at least one edge (e.g. WR for
	// G1c, Realtime for the -realtime variants). At most four.
	Required []Rel
}

// Cycle is a simple cycle: edge i leads from Nodes[i] to
// Nodes[(i+1)%len(Nodes)] and is taken as relation Rels[i] (one relation).
type Cycle struct {
	Nodes []int32
	Rels  []Rel
}

// Len returns the number of edges (and nodes) of the cycle.
func (c Cycle) Len() int { return len(c.Nodes) }

// Matches reports whether c is a simple cycle of at least two nodes whose
// edges follow the spec: each edge one relation, RW edges arranged as
// spec.RW says, every other edge allowed, every required relation present.
func (spec CycleSpec) Matches(c Cycle) bool {
	k := len(c.Nodes)
	if k < 2 || len(c.Rels) != k {
		return false
	}
	seen := make(map[int32]bool, k)
	for _, v := range c.Nodes {
		if seen[v] {
			return false
		}
		seen[v] = true
	}
	rws, adjacent := 0, false
	for i, r := range c.Rels {
		if r == 0 || r&(r-1) != 0 {
			return false
		}
		if r == RW {
			rws++
			if c.Rels[(i+1)%k] == RW {
				adjacent = true
			}
			continue
		}
		if r&spec.Allowed == 0 {
			return false
		}
	}
	switch spec.RW {
	case NoRW:
		if rws != 0 {
			return false
		}
	case OneRW:
		if rws != 1 {
			return false
		}
	case NonadjacentRW:
		if rws < 2 || adjacent {
			return false
		}
	case AdjacentRW:
		if rws < 2 || !adjacent {
			return false
		}
	}
	for _, req := range spec.Required {
		ok := false
		for _, r := range c.Rels {
			if r&req != 0 {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// ErrBudget is returned by searches that ran out of time (their Budget's
// deadline passed or its context was cancelled).
var ErrBudget = errors.New("cycle search budget exhausted")

// Budget bounds a search in time. The zero value, and a nil *Budget, never
// run out.
type Budget struct {
	ctx      context.Context
	deadline time.Time
	ticks    uint32
	spent    bool
}

// NewBudget returns a budget that runs out after d (d <= 0: at once), or
// when ctx is done (ctx may be nil).
func NewBudget(ctx context.Context, d time.Duration) *Budget {
	return &Budget{ctx: ctx, deadline: time.Now().Add(d)}
}

// Spent reports whether the budget ran out. It looks at the clock once
// every 256 calls, so it is cheap to call in inner loops.
func (b *Budget) Spent() bool {
	if b == nil {
		return false
	}
	if b.spent {
		return true
	}
	b.ticks++
	if b.ticks&255 != 1 {
		return false
	}
	return b.Check()
}

// Check looks at the clock and the context now.
func (b *Budget) Check() bool {
	if b == nil {
		return false
	}
	if b.spent {
		return true
	}
	if b.ctx != nil && b.ctx.Err() != nil {
		b.spent = true
	} else if !b.deadline.IsZero() && !time.Now().Before(b.deadline) {
		b.spent = true
	}
	return b.spent
}

// Searcher finds cycles of given shapes in one graph. It keeps scratch
// space between searches; it is not safe for concurrent use.
type Searcher struct {
	g, t   *Graph
	comps  map[Rel]*Components
	stamp  []uint32
	parent []int32
	via    []Rel
	mark   []uint32
	epoch  uint32
	queue  []int32
}

// NewSearcher returns a searcher over g. Edges should carry the relation
// they are to be taken as (one each, e.g. after MapRels); an edge carrying
// several may be taken as any of them.
func NewSearcher(g *Graph) *Searcher {
	return &Searcher{g: g, comps: map[Rel]*Components{}, mark: make([]uint32, g.Len())}
}

func (s *Searcher) scc(mask Rel) *Components {
	if c, ok := s.comps[mask]; ok {
		return c
	}
	c := s.g.SCC(mask)
	s.comps[mask] = c
	return c
}

func (s *Searcher) transpose() *Graph {
	if s.t == nil {
		s.t = s.g.Transpose()
	}
	return s.t
}

// search state: product of a node and the spec's automaton state.
type automaton struct {
	spec    CycleSpec
	nreq    int
	states  int32 // automaton states per node
	full    uint8 // every required relation seen
	naShift uint  // where the nonadjacent bits start
}

const (
	naMany = 1 // two or more RW edges so far
	naLast = 2 // the last edge was RW
)

func newAutomaton(spec CycleSpec) automaton {
	a := automaton{spec: spec, nreq: len(spec.Required)}
	a.full = uint8(1)<<a.nreq - 1
	a.states = int32(1) << a.nreq
	a.naShift = uint(a.nreq)
	if spec.RW == NonadjacentRW {
		a.states *= 4
	}
	return a
}

func (a *automaton) got(r Rel) uint8 {
	var g uint8
	for i, req := range a.spec.Required {
		if r&req != 0 {
			g |= 1 << i
		}
	}
	return g
}

func (a *automaton) accepting(st uint8) bool {
	if st&a.full != a.full {
		return false
	}
	if a.spec.RW == NonadjacentRW {
		na := st >> a.naShift
		return na&naMany != 0 && na&naLast == 0
	}
	return true
}

// step returns the state after taking an edge as relation r, or false when
// the spec does not allow it.
func (a *automaton) step(st uint8, r Rel) (uint8, bool) {
	g := st & a.full
	if r == RW {
		switch a.spec.RW {
		case NonadjacentRW:
			na := st >> a.naShift
			if na&naLast != 0 {
				return 0, false
			}
			return g | a.got(r) | (naMany|naLast)<<a.naShift, true
		case AdjacentRW:
			return g | a.got(r), true
		}
		return 0, false
	}
	if r&a.spec.Allowed == 0 {
		return 0, false
	}
	ng := g | a.got(r)
	if a.spec.RW == NonadjacentRW {
		na := (st >> a.naShift) &^ naLast
		return ng | na<<a.naShift, true
	}
	return ng, true
}

// Find looks for a cycle of the given shape, shortest first among those
// through each anchor edge (an RW edge, a pair of RW edges in a row, or an
// edge of the first required relation, by the spec), anchors taken in order
// of their head node. For each candidate it calls accept (nil accepts
// all); a candidate accept rejects does not end the search. It returns the
// accepted cycle and true, or false when there is none (the search is
// complete for cycles whose shortest closed walks through an anchor are
// simple), or ErrBudget when b ran out first.
func (s *Searcher) Find(spec CycleSpec, b *Budget, accept func(Cycle) bool) (Cycle, bool, error) {
	if len(spec.Required) > 4 {
		return Cycle{}, false, errors.New("graph: a cycle spec may require at most four relations")
	}
	g := s.g
	n := g.Len()
	spec.Allowed &^= RW
	have := g.Rels()
	for _, req := range spec.Required {
		if have&req == 0 {
			return Cycle{}, false, nil
		}
	}
	if spec.RW != NoRW && have&RW == 0 {
		return Cycle{}, false, nil
	}
	usable := spec.Allowed
	if spec.RW != NoRW {
		usable |= RW
	}
	comps := s.scc(usable)
	a := newAutomaton(spec)
	total := int(a.states) * n
	if len(s.stamp) < total {
		s.stamp = make([]uint32, total)
		s.parent = make([]int32, total)
		s.via = make([]Rel, total)
	}
	var hOf []int32
	if spec.RW == OneRW {
		hOf = s.scc(spec.Allowed).Of
	}
	t := s.transpose()
	anchor := RW
	if spec.RW == NoRW {
		if len(spec.Required) > 0 {
			anchor = spec.Required[0]
		} else {
			anchor = spec.Allowed
		}
	}
	var seeds []int32
	for v := int32(0); v < int32(n); v++ {
		c := comps.Of[v]
		if comps.Size[c] < 2 {
			continue
		}
		if b.Spent() {
			return Cycle{}, false, ErrBudget
		}
		s.nextEpoch()
		tails, trels := t.Out(v)
		targets := 0
		hMin := int32(-1)
		var anchorRel Rel
		for i, u := range tails {
			r := trels[i] & anchor
			if r == 0 || comps.Of[u] != c {
				continue
			}
			if hOf != nil {
				if hOf[u] > hOf[v] {
					continue // v cannot reach u without another RW edge
				}
				if hMin < 0 || hOf[u] < hMin {
					hMin = hOf[u]
				}
			}
			s.mark[u] = s.epoch
			targets++
			anchorRel = r.Lowest()
		}
		if targets == 0 {
			continue
		}
		seeds = seeds[:0]
		blocked := int32(-1)
		switch spec.RW {
		case AdjacentRW:
			blocked = v
			heads, hrels := g.Out(v)
			for i, w := range heads {
				if hrels[i]&RW == 0 || comps.Of[w] != c {
					continue
				}
				st := a.got(RW)
				seeds = append(seeds, w*a.states+int32(st))
			}
		case NonadjacentRW:
			st := a.got(RW) | naLast<<a.naShift
			seeds = append(seeds, v*a.states+int32(st))
		case OneRW:
			seeds = append(seeds, v*a.states+int32(a.got(RW)))
		default:
			if len(spec.Required) == 0 {
				anchorRel = 0 // any allowed relation; chosen per tail below
			}
			seeds = append(seeds, v*a.states+int32(a.got(anchorRel)))
		}
		if len(seeds) == 0 {
			continue
		}
		cy, ok, err := s.bfs(&a, seeds, c, comps.Of, blocked, hOf, hMin, v, anchor, accept, b)
		if err != nil || ok {
			return cy, ok, err
		}
	}
	return Cycle{}, false, nil
}

func (s *Searcher) nextEpoch() {
	s.epoch++
	if s.epoch == 0 { // wrapped: clear
		clear(s.stamp)
		clear(s.mark)
		s.epoch = 1
	}
}

// bfs runs one breadth-first search over product states from seeds inside
// component c, looking for marked target nodes in accepting states.
func (s *Searcher) bfs(a *automaton, seeds []int32, c int32, compOf []int32, blocked int32,
	hOf []int32, hMin int32, head int32, anchor Rel, accept func(Cycle) bool, b *Budget) (Cycle, bool, error) {
	g := s.g
	q := s.queue[:0]
	for _, sd := range seeds {
		if s.stamp[sd] == s.epoch {
			continue
		}
		s.stamp[sd] = s.epoch
		s.parent[sd] = -1
		s.via[sd] = 0
		q = append(q, sd)
	}
	defer func() { s.queue = q[:0] }()
	for i := 0; i < len(q); i++ {
		if b.Spent() {
			return Cycle{}, false, ErrBudget
		}
		ps := q[i]
		x := ps / a.states
		st := uint8(ps % a.states)
		if s.mark[x] == s.epoch && a.accepting(st) {
			if cy, ok := s.candidate(a, ps, head, anchor, accept); ok {
				return cy, true, nil
			}
		}
		dst, rel := g.Out(x)
		for j, y := range dst {
			if y == blocked || compOf[y] != c {
				continue
			}
			if hOf != nil && hOf[y] < hMin {
				continue
			}
			for m := rel[j]; m != 0; m &= m - 1 {
				r := m.Lowest()
				ns, ok := a.step(st, r)
				if !ok {
					continue
				}
				p := y*a.states + int32(ns)
				if s.stamp[p] == s.epoch {
					continue
				}
				s.stamp[p] = s.epoch
				s.parent[p] = ps
				s.via[p] = r
				q = append(q, p)
			}
		}
	}
	return Cycle{}, false, nil
}

// candidate rebuilds the closed walk ending in product state ps, turns it
// into a simple cycle and offers it to accept.
func (s *Searcher) candidate(a *automaton, ps int32, head int32, anchor Rel, accept func(Cycle) bool) (Cycle, bool) {
	var nodes []int32
	var rels []Rel // rels[i] is the edge into nodes[i]
	for p := ps; p >= 0; p = s.parent[p] {
		nodes = append(nodes, p/a.states)
		rels = append(rels, s.via[p])
	}
	// nodes runs target ... start; reverse it.
	for i, j := 0, len(nodes)-1; i < j; i, j = i+1, j-1 {
		nodes[i], nodes[j] = nodes[j], nodes[i]
		rels[i], rels[j] = rels[j], rels[i]
	}
	u := nodes[len(nodes)-1]
	var cy Cycle
	switch a.spec.RW {
	case AdjacentRW:
		// u -rw-> head -rw-> nodes[0] ... -> u
		cy.Nodes = append([]int32{u, head}, nodes[:len(nodes)-1]...)
		cy.Rels = append([]Rel{RW, RW}, rels[1:]...)
	default:
		first := anchor
		if a.spec.RW == NoRW {
			first = (s.g.Edge(u, head) & anchor).Lowest()
			if len(a.spec.Required) > 0 {
				first = (s.g.Edge(u, head) & a.spec.Required[0]).Lowest()
			}
		} else {
			first = RW
		}
		cy.Nodes = append([]int32{u}, nodes[:len(nodes)-1]...)
		cy.Rels = append([]Rel{first}, rels[1:]...)
	}
	if !a.spec.Matches(cy) {
		cy = eraseLoops(cy)
		if !a.spec.Matches(cy) {
			return Cycle{}, false
		}
	}
	if accept != nil && !accept(cy) {
		return Cycle{}, false
	}
	return cy, true
}

// eraseLoops turns a closed walk into a simple cycle by cutting out the
// loops it makes (chronological loop erasure from its first node).
func eraseLoops(c Cycle) Cycle {
	k := len(c.Nodes)
	if k == 0 {
		return c
	}
	pos := make(map[int32]int, k)
	nodes := make([]int32, 0, k)
	in := make([]Rel, 0, k) // in[i]: the edge into nodes[i]
	for i, v := range c.Nodes {
		var r Rel
		if i > 0 {
			r = c.Rels[i-1]
		}
		if p, ok := pos[v]; ok {
			for _, w := range nodes[p+1:] {
				delete(pos, w)
			}
			nodes = nodes[:p+1]
			in = in[:p+1]
			if p == 0 {
				in[0] = 0
			}
			continue
		}
		pos[v] = len(nodes)
		nodes = append(nodes, v)
		in = append(in, r)
	}
	out := Cycle{Nodes: nodes, Rels: make([]Rel, len(nodes))}
	for i := 1; i < len(nodes); i++ {
		out.Rels[i-1] = in[i]
	}
	out.Rels[len(nodes)-1] = c.Rels[k-1]
	return out
}

// AnyCycle returns a shortest cycle through node start, over edges with
// relations in mask (taken as their lowest relation in mask), or false
// when start is on no cycle.
func (g *Graph) AnyCycle(start int32, mask Rel) (Cycle, bool) {
	n := g.Len()
	parent := make([]int32, n)
	for i := range parent {
		parent[i] = -2
	}
	q := []int32{start}
	parent[start] = -1
	for i := 0; i < len(q); i++ {
		x := q[i]
		dst, rel := g.Out(x)
		for j, y := range dst {
			if rel[j]&mask == 0 {
				continue
			}
			if y == start {
				var nodes []int32
				for p := x; p >= 0; p = parent[p] {
					nodes = append(nodes, p)
				}
				for a, b := 0, len(nodes)-1; a < b; a, b = a+1, b-1 {
					nodes[a], nodes[b] = nodes[b], nodes[a]
				}
				cy := Cycle{Nodes: nodes, Rels: make([]Rel, len(nodes))}
				for k := range nodes {
					cy.Rels[k] = (g.Edge(nodes[k], nodes[(k+1)%len(nodes)]) & mask).Lowest()
				}
				return cy, true
			}
			if parent[y] == -2 {
				parent[y] = x
				q = append(q, y)
			}
		}
	}
	return Cycle{}, false
}
