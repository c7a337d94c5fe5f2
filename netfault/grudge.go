package netfault

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
)

// Grudge says who must not hear whom: Grudge[n] lists the nodes whose
// packets node n drops (Jepsen's grudge, a map from a node to the nodes it
// hates). A symmetric cut lists each side in the other's entry. Nodes
// absent from the map hear everyone.
//
// Its underlying type is map[string][]string, so it converts to and from
// the maps in-process clusters take (memdb.Cluster.Partition).
type Grudge map[string][]string

// Shape names, after jepsen.nemesis and jepsen.nemesis.combined.
const (
	// ShapeHalves cuts the nodes, in the order given, into two halves; the
	// first is the smaller (Jepsen's partition-halves).
	ShapeHalves = "halves"
	// ShapeRandomHalves cuts a random permutation of the nodes into two
	// halves (partition-random-halves).
	ShapeRandomHalves = "random-halves"
	// ShapeMajority cuts the nodes at random into a majority and a minority
	// (combined's :majority; the same cut as random halves).
	ShapeMajority = "majority"
	// ShapeOne isolates one random node from all others
	// (partition-random-node; combined's :one).
	ShapeOne = "one"
	// ShapeMinorityThird isolates a random group of fewer than a third of
	// the nodes (combined's :minority-third).
	ShapeMinorityThird = "minority-third"
	// ShapeMajoritiesRing lets every node see a majority, but no two nodes
	// the same majority (partition-majorities-ring).
	ShapeMajoritiesRing = "majorities-ring"
	// ShapeBridge cuts a random permutation in half but keeps one node
	// that sees both halves (Jepsen's bridge).
	ShapeBridge = "bridge"
	// ShapePrimaries isolates every primary from every other node
	// (combined's :primaries).
	ShapePrimaries = "primaries"
)

// Shapes lists the shape names MakeGrudge knows, in a stable order.
var Shapes = []string{ShapeOne, ShapeMajority, ShapeMajoritiesRing, ShapeMinorityThird,
	ShapeBridge, ShapeHalves, ShapeRandomHalves, ShapePrimaries}

// ErrUnknownShape is wrapped by MakeGrudge for a name it does not know.
var ErrUnknownShape = errors.New("unknown partition shape")

// Majority is the smallest majority of n nodes (Jepsen's util/majority).
func Majority(n int) int { return n/2 + 1 }

// MinorityThird is the largest number of nodes that is less than a third
// of n (Jepsen's util/minority-third): 1 of 4 or 5, 2 of 7.
func MinorityThird(n int) int {
	if n < 1 {
		return 0
	}
	return (n - 1) / 3
}

// Complete is the grudge in which every node hears only the nodes of its
// own component (Jepsen's complete-grudge). Nodes in no component are left
// alone.
func Complete(components ...[]string) Grudge {
	g := Grudge{}
	for i, comp := range components {
		var others []string
		for j, c := range components {
			if j != i {
				others = append(others, c...)
			}
		}
		for _, n := range comp {
			if len(others) > 0 {
				g[n] = append(g[n], others...)
			}
		}
	}
	return g.Normalize()
}

// Bisect splits nodes into two halves, the first one the smaller when the
// count is odd (Jepsen's bisect).
func Bisect(nodes []string) [][]string {
	k := len(nodes) / 2
	return [][]string{slices.Clone(nodes[:k]), slices.Clone(nodes[k:])}
}

// SplitOne splits nodes into loner and the rest (Jepsen's split-one).
func SplitOne(loner string, nodes []string) [][]string {
	var rest []string
	for _, n := range nodes {
		if n != loner {
			rest = append(rest, n)
		}
	}
	return [][]string{{loner}, rest}
}

// Bridge cuts nodes in half (Bisect) but keeps the first node of the second
// half connected to everyone (Jepsen's bridge): with n1..n5, n3 is the
// bridge between {n1, n2} and {n4, n5}.
func Bridge(nodes []string) Grudge {
	halves := Bisect(nodes)
	if len(halves[1]) == 0 {
		return Grudge{}
	}
	bridge := halves[1][0]
	g := Complete(halves...)
	delete(g, bridge)
	for n, hated := range g {
		g[n] = slices.DeleteFunc(hated, func(h string) bool { return h == bridge })
	}
	return g.Normalize()
}

// MajoritiesRing is the grudge in which every node sees a majority of the
// nodes, itself in the middle of it, along a ring made of nodes in the
// order given (Jepsen's majorities-ring-perfect; shuffle nodes for a random
// ring). With five nodes each one sees its two neighbours on the ring.
func MajoritiesRing(nodes []string) Grudge {
	n := len(nodes)
	m := Majority(n)
	g := Grudge{}
	if n < 3 {
		return g
	}
	for i := range n {
		// The window of m nodes starting at i; its middle node sees it.
		seen := map[string]bool{}
		for k := range m {
			seen[nodes[(i+k)%n]] = true
		}
		center := nodes[(i+m/2)%n]
		for _, o := range nodes {
			if !seen[o] {
				g[center] = append(g[center], o)
			}
		}
	}
	return g.Normalize()
}

// Shuffled returns a random permutation of nodes drawn from rng.
func Shuffled(nodes []string, rng *rand.Rand) []string {
	out := slices.Clone(nodes)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// MakeGrudge builds the grudge of a named shape over nodes, drawing random
// choices from rng. primaries is only used by ShapePrimaries (the nodes the
// DB reports as primaries, in any order). Shapes that need more nodes than
// given (a ring needs three) are an error, as is ShapePrimaries without
// primaries.
func MakeGrudge(shape string, nodes []string, primaries []string, rng *rand.Rand) (Grudge, error) {
	if len(nodes) < 2 {
		return nil, fmt.Errorf("partition %s: need at least 2 nodes, have %d", shape, len(nodes))
	}
	switch shape {
	case ShapeHalves:
		return Complete(Bisect(nodes)...), nil
	case ShapeRandomHalves, ShapeMajority:
		return Complete(Bisect(Shuffled(nodes, rng))...), nil
	case ShapeOne:
		return Complete(SplitOne(nodes[rng.IntN(len(nodes))], nodes)...), nil
	case ShapeMinorityThird:
		k := max(MinorityThird(len(nodes)), 1)
		s := Shuffled(nodes, rng)
		return Complete(s[:k], s[k:]), nil
	case ShapeMajoritiesRing:
		if len(nodes) < 3 {
			return nil, fmt.Errorf("partition %s: need at least 3 nodes, have %d", shape, len(nodes))
		}
		return MajoritiesRing(Shuffled(nodes, rng)), nil
	case ShapeBridge:
		if len(nodes) < 3 {
			return nil, fmt.Errorf("partition %s: need at least 3 nodes, have %d", shape, len(nodes))
		}
		return Bridge(Shuffled(nodes, rng)), nil
	case ShapePrimaries:
		var prim []string
		for _, p := range primaries {
			if slices.Contains(nodes, p) && !slices.Contains(prim, p) {
				prim = append(prim, p)
			}
		}
		if len(prim) == 0 {
			return nil, fmt.Errorf("partition %s: no primary among %s (the DB reported %v)", shape, strings.Join(nodes, ", "), primaries)
		}
		var rest []string
		for _, n := range nodes {
			if !slices.Contains(prim, n) {
				rest = append(rest, n)
			}
		}
		comps := [][]string{rest}
		for _, p := range prim {
			comps = append(comps, []string{p})
		}
		return Complete(comps...), nil
	}
	return nil, fmt.Errorf("%w %q (have %s)", ErrUnknownShape, shape, strings.Join(Shapes, ", "))
}

// Normalize returns g with each list sorted and free of duplicates and of
// the node itself, and without empty entries.
func (g Grudge) Normalize() Grudge {
	out := Grudge{}
	for n, hated := range g {
		var l []string
		for _, h := range hated {
			if h != n && !slices.Contains(l, h) {
				l = append(l, h)
			}
		}
		if len(l) > 0 {
			sort.Strings(l)
			out[n] = l
		}
	}
	return out
}

// Validate checks that g names only nodes of nodes.
func (g Grudge) Validate(nodes []string) error {
	known := map[string]bool{}
	for _, n := range nodes {
		known[n] = true
	}
	for _, n := range g.Nodes() {
		if !known[n] {
			return fmt.Errorf("grudge names %q, which is not a node of the test (%s)", n, strings.Join(nodes, ", "))
		}
		for _, h := range g[n] {
			if !known[h] {
				return fmt.Errorf("grudge of %s names %q, which is not a node of the test (%s)", n, h, strings.Join(nodes, ", "))
			}
		}
	}
	return nil
}

// Cut reports whether to drops the packets of from.
func (g Grudge) Cut(from, to string) bool { return slices.Contains(g[to], from) }

// Nodes returns the nodes that drop something, sorted.
func (g Grudge) Nodes() []string {
	var out []string
	for n, l := range g {
		if len(l) > 0 {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Equal reports whether two grudges cut the same links.
func (g Grudge) Equal(o Grudge) bool {
	a, b := g.Normalize(), o.Normalize()
	if len(a) != len(b) {
		return false
	}
	for n, l := range a {
		if !slices.Equal(l, b[n]) {
			return false
		}
	}
	return true
}

// String renders g as "n1 drops n3,n4; n2 drops n3,n4; ..." ("no cut"
// when empty).
func (g Grudge) String() string {
	n := g.Normalize()
	if len(n) == 0 {
		return "no cut"
	}
	var parts []string
	for _, node := range n.Nodes() {
		parts = append(parts, node+" drops "+strings.Join(n[node], ","))
	}
	return strings.Join(parts, "; ")
}

// ParseGrudge reads a grudge written on a command line, in one of two
// forms:
//
//   - components separated by "|", nodes by ",": "n1,n2|n3,n4,n5" is the
//     complete grudge between {n1, n2} and {n3, n4, n5};
//   - explicit entries separated by ";": "n1:n2,n3;n2:n1" (n1 drops n2 and
//     n3, n2 drops n1).
func ParseGrudge(s string) (Grudge, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty grudge")
	}
	if strings.Contains(s, ":") {
		g := Grudge{}
		for _, entry := range strings.Split(s, ";") {
			node, hated, ok := strings.Cut(entry, ":")
			node = strings.TrimSpace(node)
			if !ok || node == "" {
				return nil, fmt.Errorf("grudge entry %q: want NODE:PEER,PEER", entry)
			}
			peers, err := splitNodes(hated)
			if err != nil {
				return nil, fmt.Errorf("grudge entry %q: %w", entry, err)
			}
			g[node] = append(g[node], peers...)
		}
		return g.Normalize(), nil
	}
	var comps [][]string
	for _, c := range strings.Split(s, "|") {
		nodes, err := splitNodes(c)
		if err != nil {
			return nil, fmt.Errorf("grudge component %q: %w", c, err)
		}
		comps = append(comps, nodes)
	}
	if len(comps) < 2 {
		return nil, fmt.Errorf("grudge %q: want two or more components separated by |, or NODE:PEER,... entries", s)
	}
	return Complete(comps...), nil
}

func splitNodes(s string) ([]string, error) {
	var out []string
	for _, n := range strings.Split(s, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no nodes")
	}
	return out, nil
}
