package graph

import "slices"

// Components are the strongly connected components of a graph (restricted
// to some relations), found by Tarjan's algorithm without recursion.
type Components struct {
	// Of maps each node to its component. Every node has one, trivial
	// (single-node) components included.
	Of []int32
	// Size is the number of nodes of each component.
	Size []int32
	// Components are numbered in Tarjan's emission order, which is a
	// reverse topological order of the condensation: if an edge leads from
	// component c to component d != c, then d < c.
}

// Count returns the number of components.
func (c *Components) Count() int { return len(c.Size) }

// Nontrivial returns the members of every component with two or more
// nodes, each sorted ascending, the components ordered by their smallest
// member.
func (c *Components) Nontrivial() [][]int32 {
	idx := make([]int32, len(c.Size)) // component -> position in out, plus one
	var out [][]int32
	for v, k := range c.Of {
		if c.Size[k] < 2 {
			continue
		}
		if idx[k] == 0 {
			out = append(out, make([]int32, 0, c.Size[k]))
			idx[k] = int32(len(out))
		}
		out[idx[k]-1] = append(out[idx[k]-1], int32(v))
	}
	return out
}

// SCC returns the strongly connected components of the graph made of the
// edges whose relations intersect mask. It runs in time linear in nodes
// plus edges and uses an explicit stack, so million-node components are
// fine.
func (g *Graph) SCC(mask Rel) *Components {
	n := g.Len()
	const unvisited = -1
	index := make([]int32, n)
	low := make([]int32, n)
	for i := range index {
		index[i] = unvisited
	}
	onStack := make([]bool, n)
	comp := &Components{Of: make([]int32, n)}
	var stack []int32
	type frame struct {
		v int32
		e int32 // next edge to look at
	}
	var call []frame
	next := int32(0)
	for s := 0; s < n; s++ {
		if index[s] != unvisited {
			continue
		}
		call = append(call, frame{int32(s), g.off[s]})
		index[s], low[s] = next, next
		next++
		stack = append(stack, int32(s))
		onStack[s] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			v := f.v
			end := g.off[v+1]
			descended := false
			for f.e < end {
				e := f.e
				f.e++
				if g.rel[e]&mask == 0 {
					continue
				}
				w := g.dst[e]
				if index[w] == unvisited {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{w, g.off[w]})
					descended = true
					break
				}
				if onStack[w] && index[w] < low[v] {
					low[v] = index[w]
				}
			}
			if descended {
				continue
			}
			// v is finished.
			call = call[:len(call)-1]
			if len(call) > 0 {
				p := call[len(call)-1].v
				if low[v] < low[p] {
					low[p] = low[v]
				}
			}
			if low[v] == index[v] {
				id := int32(len(comp.Size))
				size := int32(0)
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp.Of[w] = id
					size++
					if w == v {
						break
					}
				}
				comp.Size = append(comp.Size, size)
			}
		}
	}
	return comp
}

// NontrivialSCCs returns the members (sorted) of each strongly connected
// component with two or more nodes of the graph restricted to mask,
// smallest first (ties by smallest member).
func (g *Graph) NontrivialSCCs(mask Rel) [][]int32 {
	cs := g.SCC(mask).Nontrivial()
	slices.SortStableFunc(cs, func(a, b []int32) int { return len(a) - len(b) })
	return cs
}
