package graph

import (
	"slices"
	"strings"
)

// Rel is a set of dependency relations between two transactions, as a
// bitmask: an edge a -> b carries every relation that orders a before b.
type Rel uint8

const (
	// WW: b overwrote (or appended after) a version a wrote.
	WW Rel = 1 << iota
	// WR: b read a version a wrote.
	WR
	// RW: a read a version that b overwrote (an anti-dependency).
	RW
	// Process: the same process ran a, then b.
	Process
	// Realtime: a completed before b was invoked.
	Realtime

	// NoRels is the empty set.
	NoRels Rel = 0
	// AllRels is every relation.
	AllRels = WW | WR | RW | Process | Realtime
)

var relNames = [...]string{"ww", "wr", "rw", "process", "realtime"}

// String renders r as Elle names its relations, joined by "|": "ww",
// "wr|rw", or "none" for the empty set.
func (r Rel) String() string {
	if r == 0 {
		return "none"
	}
	var parts []string
	for i, n := range relNames {
		if r&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if rest := r &^ AllRels; rest != 0 {
		parts = append(parts, "rel("+itoa(int(rest))+")")
	}
	return strings.Join(parts, "|")
}

// Has reports whether r and s share a relation.
func (r Rel) Has(s Rel) bool { return r&s != 0 }

// Lowest returns the lowest relation in r (in the order WW, WR, RW,
// Process, Realtime), or NoRels.
func (r Rel) Lowest() Rel { return r & -r }

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// Graph is a directed graph over nodes 0..Len()-1 whose edges carry Rel
// sets, stored as compressed adjacency lists (each node's out-edges sorted
// by target, one edge per ordered pair). It is immutable once built.
type Graph struct {
	off []int32 // off[v]..off[v+1] are v's edges
	dst []int32
	rel []Rel
}

// Len returns the number of nodes.
func (g *Graph) Len() int { return len(g.off) - 1 }

// EdgeCount returns the number of edges.
func (g *Graph) EdgeCount() int { return len(g.dst) }

// Out returns v's out-neighbours and the relations of each edge. The slices
// belong to the graph and must not be modified.
func (g *Graph) Out(v int32) ([]int32, []Rel) {
	a, b := g.off[v], g.off[v+1]
	return g.dst[a:b], g.rel[a:b]
}

// Edge returns the relations of the edge a -> b, or NoRels.
func (g *Graph) Edge(a, b int32) Rel {
	dst, rel := g.Out(a)
	if i, ok := slices.BinarySearch(dst, b); ok {
		return rel[i]
	}
	return NoRels
}

// Rels returns the union of the relations of every edge.
func (g *Graph) Rels() Rel {
	var r Rel
	for _, x := range g.rel {
		r |= x
		if r == AllRels {
			break
		}
	}
	return r
}

// Builder accumulates edges for a Graph. Self-edges and empty relation sets
// are dropped; several edges between the same ordered pair merge into one
// carrying the union of their relations.
type Builder struct {
	n        int
	from, to []int32
	rel      []Rel
}

// NewBuilder returns a Builder for a graph of n nodes.
func NewBuilder(n int) *Builder { return &Builder{n: n} }

// Len returns the number of nodes.
func (b *Builder) Len() int { return b.n }

// Grow makes room for m more edges, so that a caller that knows about how
// many it will add saves the copies of growing.
func (b *Builder) Grow(m int) {
	b.from = slices.Grow(b.from, m)
	b.to = slices.Grow(b.to, m)
	b.rel = slices.Grow(b.rel, m)
}

// Link adds the edge from -> to with relations r. Both nodes must be in
// [0, Len()).
func (b *Builder) Link(from, to int32, r Rel) {
	if from == to || r == 0 {
		return
	}
	b.from = append(b.from, from)
	b.to = append(b.to, to)
	b.rel = append(b.rel, r)
}

// Build returns the graph. The builder may be reused afterwards (it is
// emptied). Building is linear in nodes plus edges.
func (b *Builder) Build() *Graph {
	g := build(b.n, b.from, b.to, b.rel)
	b.from, b.to, b.rel = nil, nil, nil
	return g
}

// build makes a graph from parallel edge arrays with a counting sort by
// source, then merges duplicate targets and sorts each adjacency list.
func build(n int, from, to []int32, rels []Rel) *Graph {
	off := make([]int32, n+1)
	for _, f := range from {
		off[f+1]++
	}
	for i := 1; i <= n; i++ {
		off[i] += off[i-1]
	}
	m := len(from)
	dst := make([]int32, m)
	rel := make([]Rel, m)
	next := make([]int32, n)
	copy(next, off[:n])
	for i, f := range from {
		j := next[f]
		next[f]++
		dst[j] = to[i]
		rel[j] = rels[i]
	}
	// Sort and merge each list; compact in place.
	w := int32(0)
	var tmp adjSorter
	for v := 0; v < n; v++ {
		a, e := off[v], off[v+1]
		off[v] = w
		if e-a > 1 {
			tmp.dst, tmp.rel = dst[a:e], rel[a:e]
			if !tmp.sorted() {
				tmp.sort()
			}
		}
		for i := a; i < e; i++ {
			if w > off[v] && dst[w-1] == dst[i] {
				rel[w-1] |= rel[i]
				continue
			}
			dst[w], rel[w] = dst[i], rel[i]
			w++
		}
	}
	off[n] = w
	return &Graph{off: off, dst: slices.Clip(dst[:w]), rel: slices.Clip(rel[:w])}
}

// adjSorter sorts one adjacency list by target.
type adjSorter struct {
	dst []int32
	rel []Rel
}

func (s *adjSorter) sorted() bool {
	for i := 1; i < len(s.dst); i++ {
		if s.dst[i] < s.dst[i-1] {
			return false
		}
	}
	return true
}

func (s *adjSorter) sort() {
	if len(s.dst) <= 12 {
		for i := 1; i < len(s.dst); i++ {
			for j := i; j > 0 && s.dst[j] < s.dst[j-1]; j-- {
				s.dst[j], s.dst[j-1] = s.dst[j-1], s.dst[j]
				s.rel[j], s.rel[j-1] = s.rel[j-1], s.rel[j]
			}
		}
		return
	}
	idx := make([]int, len(s.dst))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return int(s.dst[a]) - int(s.dst[b]) })
	d := make([]int32, len(idx))
	r := make([]Rel, len(idx))
	for i, j := range idx {
		d[i], r[i] = s.dst[j], s.rel[j]
	}
	copy(s.dst, d)
	copy(s.rel, r)
}

// Transpose returns the graph with every edge reversed.
func (g *Graph) Transpose() *Graph {
	n := g.Len()
	from := make([]int32, 0, len(g.dst))
	for v := 0; v < n; v++ {
		for range g.off[v+1] - g.off[v] {
			from = append(from, int32(v))
		}
	}
	return build(n, g.dst, from, g.rel)
}

// Project returns the graph keeping only the relations in keep (edges left
// with none are dropped).
func (g *Graph) Project(keep Rel) *Graph {
	return g.MapRels(func(r Rel) Rel { return r & keep })
}

// MapRels returns the graph with every edge's relations replaced by f of
// them; edges mapped to NoRels are dropped.
func (g *Graph) MapRels(f func(Rel) Rel) *Graph {
	n := g.Len()
	off := make([]int32, n+1)
	dst := make([]int32, 0, len(g.dst))
	rel := make([]Rel, 0, len(g.rel))
	var memo [256]Rel
	var known [256]bool
	for v := 0; v < n; v++ {
		off[v] = int32(len(dst))
		for i := g.off[v]; i < g.off[v+1]; i++ {
			r := g.rel[i]
			if !known[r] {
				memo[r], known[r] = f(r), true
			}
			if m := memo[r]; m != 0 {
				dst = append(dst, g.dst[i])
				rel = append(rel, m)
			}
		}
	}
	off[n] = int32(len(dst))
	return &Graph{off: off, dst: dst, rel: rel}
}

// Extension returns Elle's sequential extension of the relations a by b:
// the graph of a-edges plus, for every a-edge x -> y followed by a b-edge
// y -> z, an edge x -> z. It is built without materialising the composed
// edges: the result has 2*Len() nodes, where node Len()+y is a relay for y
// (x -> relay(y) for every a-edge x -> y, relay(y) -> z for every b-edge
// y -> z). Paths between original nodes, and so their strongly connected
// components, are the same as in the extension; relays never form a
// component of their own. A self-loop x -> x of the extension shows as a
// two-node component {x, relay(y)}.
func (g *Graph) Extension(a, b Rel) *Graph {
	n := g.Len()
	bld := NewBuilder(2 * n)
	hasB := make([]bool, n)
	for v := 0; v < n; v++ {
		_, rel := g.Out(int32(v))
		for _, r := range rel {
			if r&b != 0 {
				hasB[v] = true
				break
			}
		}
	}
	for v := 0; v < n; v++ {
		dst, rel := g.Out(int32(v))
		for i, w := range dst {
			r := rel[i]
			if r&a != 0 {
				bld.Link(int32(v), w, r&a)
				if hasB[w] {
					bld.Link(int32(v), int32(n)+w, r&a)
				}
			}
			if r&b != 0 {
				bld.Link(int32(n+v), w, r&b)
			}
		}
	}
	return bld.Build()
}

// Induced returns the subgraph induced by nodes (sorted ascending, without
// duplicates): node i of the result is nodes[i]. pos must map every node of
// g to its position in nodes, or to -1 (or any negative value) when it is
// not in nodes.
func (g *Graph) Induced(nodes []int32, pos []int32) *Graph {
	off := make([]int32, len(nodes)+1)
	var dst []int32
	var rel []Rel
	for i, v := range nodes {
		off[i] = int32(len(dst))
		d, r := g.Out(v)
		for j, w := range d {
			if p := pos[w]; p >= 0 {
				dst = append(dst, p)
				rel = append(rel, r[j])
			}
		}
	}
	off[len(nodes)] = int32(len(dst))
	// Positions follow nodes' order, so each list stays sorted.
	return &Graph{off: off, dst: dst, rel: rel}
}

// InducedComponent returns the subgraph induced by the nodes of one
// component: nodes (sorted ascending) are the members of component c in
// comp (comp[v] is v's component), and pos[v] is v's position in its own
// component's member list. Node i of the result is nodes[i]. Because only
// comp is consulted for membership, one pos array can serve every
// component at once, and components can be extracted concurrently.
func (g *Graph) InducedComponent(nodes []int32, pos, comp []int32, c int32) *Graph {
	off := make([]int32, len(nodes)+1)
	var dst []int32
	var rel []Rel
	for i, v := range nodes {
		off[i] = int32(len(dst))
		d, r := g.Out(v)
		for j, w := range d {
			if comp[w] == c {
				dst = append(dst, pos[w])
				rel = append(rel, r[j])
			}
		}
	}
	off[len(nodes)] = int32(len(dst))
	return &Graph{off: off, dst: dst, rel: rel}
}
