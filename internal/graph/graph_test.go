package graph

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func randomGraph(rng *rand.Rand, n, m int, rels []Rel) (*Graph, map[[2]int32]Rel) {
	b := NewBuilder(n)
	want := map[[2]int32]Rel{}
	for range m {
		x, y := int32(rng.IntN(n)), int32(rng.IntN(n))
		r := rels[rng.IntN(len(rels))]
		b.Link(x, y, r)
		if x != y {
			want[[2]int32{x, y}] |= r
		}
	}
	return b.Build(), want
}

func TestBuildMergesAndSorts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 200; iter++ {
		n := 1 + rng.IntN(30)
		g, want := randomGraph(rng, n, rng.IntN(200), []Rel{WW, WR, RW, Process, Realtime})
		if g.EdgeCount() != len(want) {
			t.Fatalf("edges: got %d want %d", g.EdgeCount(), len(want))
		}
		for v := int32(0); v < int32(n); v++ {
			dst, rel := g.Out(v)
			if !slices.IsSorted(dst) {
				t.Fatalf("adjacency of %d not sorted: %v", v, dst)
			}
			for i, w := range dst {
				if want[[2]int32{v, w}] != rel[i] {
					t.Fatalf("edge %d->%d: got %v want %v", v, w, rel[i], want[[2]int32{v, w}])
				}
				if g.Edge(v, w) != rel[i] {
					t.Fatalf("Edge(%d,%d) disagrees", v, w)
				}
			}
		}
		tr := g.Transpose()
		for k, r := range want {
			if tr.Edge(k[1], k[0]) != r {
				t.Fatalf("transpose misses %v", k)
			}
		}
	}
}

func TestRelString(t *testing.T) {
	for _, c := range []struct {
		r    Rel
		want string
	}{{0, "none"}, {WW, "ww"}, {WR | RW, "wr|rw"}, {Process | Realtime, "process|realtime"}} {
		if got := c.r.String(); got != c.want {
			t.Errorf("%d: got %q want %q", c.r, got, c.want)
		}
	}
}

// reach computes the transitive closure by repeated BFS.
func reach(n int, edge func(a, b int32) bool) [][]bool {
	r := make([][]bool, n)
	for s := 0; s < n; s++ {
		r[s] = make([]bool, n)
		q := []int32{int32(s)}
		r[s][s] = true
		for i := 0; i < len(q); i++ {
			for w := int32(0); w < int32(n); w++ {
				if !r[s][w] && edge(q[i], w) {
					r[s][w] = true
					q = append(q, w)
				}
			}
		}
	}
	return r
}

func TestSCCAgainstClosure(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := 0; iter < 300; iter++ {
		n := 1 + rng.IntN(25)
		g, _ := randomGraph(rng, n, rng.IntN(3*n), []Rel{WW, WR, RW})
		mask := []Rel{WW, WW | WR, AllRels}[rng.IntN(3)]
		c := g.SCC(mask)
		r := reach(n, func(a, b int32) bool { return g.Edge(a, b)&mask != 0 })
		for a := 0; a < n; a++ {
			for b := 0; b < n; b++ {
				same := r[a][b] && r[b][a]
				if same != (c.Of[a] == c.Of[b]) {
					t.Fatalf("iter %d: nodes %d,%d: closure says same=%v, SCC says %d,%d", iter, a, b, same, c.Of[a], c.Of[b])
				}
				// Reverse topological numbering.
				if g.Edge(int32(a), int32(b))&mask != 0 && c.Of[b] > c.Of[a] {
					t.Fatalf("edge %d->%d goes from component %d up to %d", a, b, c.Of[a], c.Of[b])
				}
			}
		}
		total := 0
		for _, m := range c.Nontrivial() {
			total += len(m)
			if len(m) < 2 || !slices.IsSorted(m) {
				t.Fatalf("bad component %v", m)
			}
		}
		_ = total
	}
}

func TestSCCDeepChain(t *testing.T) {
	// A ring of a million nodes: one component, no recursion blow-up.
	n := 1_000_000
	b := NewBuilder(n)
	for i := 0; i < n; i++ {
		b.Link(int32(i), int32((i+1)%n), WW)
	}
	cs := b.Build().NontrivialSCCs(WW)
	if len(cs) != 1 || len(cs[0]) != n {
		t.Fatalf("got %d components", len(cs))
	}
}

func TestExtensionMatchesComposition(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for iter := 0; iter < 300; iter++ {
		n := 2 + rng.IntN(15)
		g, _ := randomGraph(rng, n, rng.IntN(3*n), []Rel{WW, WR, RW, RW | WW})
		a, bb := WW|WR, RW
		ext := g.Extension(a, bb)
		sc := ext.SCC(AllRels)
		// Explicit extension: a-edges plus a;b compositions (self-loops kept).
		edge := func(x, z int32) bool {
			if g.Edge(x, z)&a != 0 {
				return true
			}
			for y := int32(0); y < int32(n); y++ {
				if g.Edge(x, y)&a != 0 && g.Edge(y, z)&bb != 0 {
					return true
				}
			}
			return false
		}
		r := reach(n, edge)
		for x := 0; x < n; x++ {
			for z := 0; z < n; z++ {
				same := r[x][z] && r[z][x]
				if x != z && same != (sc.Of[x] == sc.Of[z]) {
					t.Fatalf("iter %d: %d,%d same=%v", iter, x, z, same)
				}
			}
			onCycle := edge(int32(x), int32(x))
			for z := 0; z < n && !onCycle; z++ {
				onCycle = z != x && r[x][z] && r[z][x]
			}
			if onCycle != (sc.Size[sc.Of[x]] >= 2) {
				t.Fatalf("iter %d: node %d on cycle=%v but component size %d", iter, x, onCycle, sc.Size[sc.Of[x]])
			}
		}
	}
}

// simpleCycles enumerates every simple cycle (as node sequences starting at
// their smallest node) with every choice of relation per edge.
func simpleCycles(g *Graph, maxLen int, f func(Cycle)) {
	n := g.Len()
	var path []int32
	var rels []Rel
	on := make([]bool, n)
	var dfs func(start, v int32)
	dfs = func(start, v int32) {
		dst, rel := g.Out(v)
		for i, w := range dst {
			for m := rel[i]; m != 0; m &= m - 1 {
				r := m.Lowest()
				if w == start {
					f(Cycle{Nodes: slices.Clone(path), Rels: append(slices.Clone(rels), r)})
					continue
				}
				if w < start || on[w] || len(path) >= maxLen {
					continue
				}
				on[w] = true
				path = append(path, w)
				rels = append(rels, r)
				dfs(start, w)
				path = path[:len(path)-1]
				rels = rels[:len(rels)-1]
				on[w] = false
			}
		}
	}
	for s := int32(0); s < int32(n); s++ {
		path = []int32{s}
		rels = nil
		on[s] = true
		dfs(s, s)
		on[s] = false
	}
}

var testSpecs = []CycleSpec{
	{Allowed: WW},
	{Allowed: WW | WR, Required: []Rel{WR}},
	{Allowed: WW | WR, RW: OneRW},
	{Allowed: WW | WR, RW: NonadjacentRW},
	{Allowed: WW | WR, RW: AdjacentRW},
	{Allowed: WW | Realtime, Required: []Rel{Realtime}},
	{Allowed: WW | WR | Realtime, Required: []Rel{WR, Realtime}},
	{Allowed: WW | WR | Realtime, RW: OneRW, Required: []Rel{Realtime}},
	{Allowed: WW | WR | Process, RW: NonadjacentRW, Required: []Rel{Process}},
	{Allowed: WW | WR | Realtime, RW: AdjacentRW, Required: []Rel{Realtime}},
}

func TestFindAgainstEnumeration(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	found, exist, missed := 0, 0, 0
	for iter := 0; iter < 1500; iter++ {
		n := 2 + rng.IntN(9)
		g, _ := randomGraph(rng, n, rng.IntN(3*n), []Rel{WW, WR, RW, RW, Realtime, Process})
		for si, spec := range testSpecs {
			any := false
			simpleCycles(g, n, func(c Cycle) {
				if spec.Matches(c) {
					any = true
				}
			})
			s := NewSearcher(g)
			cy, ok, err := s.Find(spec, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				found++
				if !spec.Matches(cy) {
					t.Fatalf("iter %d spec %d: found %v which does not match", iter, si, cy)
				}
				for i, v := range cy.Nodes {
					w := cy.Nodes[(i+1)%len(cy.Nodes)]
					if g.Edge(v, w)&cy.Rels[i] == 0 {
						t.Fatalf("iter %d spec %d: cycle %v uses missing edge %d->%d %v", iter, si, cy, v, w, cy.Rels[i])
					}
				}
				if !any {
					t.Fatalf("iter %d spec %d: found %v but enumeration finds none", iter, si, cy)
				}
			}
			if any {
				exist++
				if !ok {
					missed++
					// Without required relations and with at most one RW edge
					// the search is complete.
					if len(spec.Required) == 0 && (spec.RW == NoRW || spec.RW == OneRW) {
						t.Fatalf("iter %d spec %d: missed a cycle", iter, si)
					}
				}
			}
		}
	}
	t.Logf("found %d; %d specs had cycles, %d missed", found, exist, missed)
	if missed*50 > exist {
		t.Errorf("search missed %d of %d", missed, exist)
	}
}

func TestFindAcceptRejects(t *testing.T) {
	// Two G0 cycles: 0<->1 and 2<->3; rejecting the first finds the second.
	b := NewBuilder(4)
	b.Link(0, 1, WW)
	b.Link(1, 0, WW)
	b.Link(2, 3, WW)
	b.Link(3, 2, WW)
	s := NewSearcher(b.Build())
	cy, ok, err := s.Find(CycleSpec{Allowed: WW}, nil, func(c Cycle) bool { return !slices.Contains(c.Nodes, 0) })
	if err != nil || !ok || !slices.Contains(cy.Nodes, 2) {
		t.Fatalf("got %v %v %v", cy, ok, err)
	}
}

func TestFindBudget(t *testing.T) {
	// A big ring with a single RW edge: a search with a spent budget stops.
	n := 200_000
	b := NewBuilder(n)
	for i := 0; i < n-1; i++ {
		b.Link(int32(i), int32(i+1), WW)
	}
	b.Link(int32(n-1), 0, RW)
	g := b.Build()
	_, _, err := NewSearcher(g).Find(CycleSpec{Allowed: WW | WR, RW: OneRW}, NewBudget(context.Background(), 0), nil)
	if err != ErrBudget {
		t.Fatalf("want ErrBudget, got %v", err)
	}
	cy, ok, err := NewSearcher(g).Find(CycleSpec{Allowed: WW | WR, RW: OneRW}, NewBudget(context.Background(), time.Minute), nil)
	if err != nil || !ok || cy.Len() != n {
		t.Fatalf("got len %d ok %v err %v", cy.Len(), ok, err)
	}
}

func TestAnyCycle(t *testing.T) {
	b := NewBuilder(5)
	b.Link(0, 1, WW)
	b.Link(1, 2, RW)
	b.Link(2, 0, WR)
	b.Link(1, 0, Realtime)
	g := b.Build()
	cy, ok := g.AnyCycle(0, AllRels)
	if !ok || cy.Len() != 2 || cy.Rels[1] != Realtime {
		t.Fatalf("got %v %v", cy, ok)
	}
	if _, ok := g.AnyCycle(4, AllRels); ok {
		t.Fatal("node 4 is on no cycle")
	}
}

func TestEraseLoops(t *testing.T) {
	// walk 0 -> 1 -> 2 -> 1 -> 3 -> (0)
	c := eraseLoops(Cycle{Nodes: []int32{0, 1, 2, 1, 3}, Rels: []Rel{WW, RW, WR, Process, Realtime}})
	if !slices.Equal(c.Nodes, []int32{0, 1, 3}) || !slices.Equal(c.Rels, []Rel{WW, Process, Realtime}) {
		t.Fatalf("got %v", c)
	}
}

func BenchmarkSCC(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 9))
	n := 1_000_000
	bld := NewBuilder(n)
	for i := 0; i < n; i++ {
		for k := 0; k < 4; k++ {
			j := i + 1 + rng.IntN(10)
			if j < n {
				bld.Link(int32(i), int32(j), WW)
			}
		}
	}
	g := bld.Build()
	b.ResetTimer()
	for b.Loop() {
		g.SCC(AllRels)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "nodes/s")
}

func TestInduced(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for iter := 0; iter < 100; iter++ {
		n := 2 + rng.IntN(20)
		g, _ := randomGraph(rng, n, 3*n, []Rel{WW, RW, Realtime})
		cs := g.SCC(AllRels)
		pos := make([]int32, n)
		for _, m := range cs.Nontrivial() {
			for i, v := range m {
				pos[v] = int32(i)
			}
		}
		for _, m := range cs.Nontrivial() {
			sub := g.InducedComponent(m, pos, cs.Of, cs.Of[m[0]])
			only := make([]int32, n)
			for i := range only {
				only[i] = -1
			}
			for i, v := range m {
				only[v] = int32(i)
			}
			sub2 := g.Induced(m, only)
			if sub.Len() != len(m) || sub2.Len() != len(m) {
				t.Fatal("sizes")
			}
			for i, v := range m {
				for j, w := range m {
					want := g.Edge(v, w)
					if sub.Edge(int32(i), int32(j)) != want || sub2.Edge(int32(i), int32(j)) != want {
						t.Fatalf("edge %d->%d", v, w)
					}
				}
			}
			if len(sub.SCC(AllRels).Nontrivial()) != 1 {
				t.Fatal("a component's subgraph is not strongly connected")
			}
		}
	}
}
