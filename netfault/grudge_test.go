package netfault

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

var five = []string{"n1", "n2", "n3", "n4", "n5"}

func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }

func TestBuildingBlocks(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  Grudge
		want string
	}{
		{"halves", Complete(Bisect(five)...), "n1 drops n3,n4,n5; n2 drops n3,n4,n5; n3 drops n1,n2; n4 drops n1,n2; n5 drops n1,n2"},
		{"split-one", Complete(SplitOne("n3", five)...), "n1 drops n3; n2 drops n3; n3 drops n1,n2,n4,n5; n4 drops n3; n5 drops n3"},
		// Jepsen's bridge: n3 (first of the second half) sees everyone.
		{"bridge", Bridge(five), "n1 drops n4,n5; n2 drops n4,n5; n4 drops n1,n2; n5 drops n1,n2"},
		// Ring n1..n5: each node sees itself and its two neighbours.
		{"ring", MajoritiesRing(five), "n1 drops n3,n4; n2 drops n4,n5; n3 drops n1,n5; n4 drops n1,n2; n5 drops n2,n3"},
		{"three components", Complete([]string{"n1"}, []string{"n2"}, []string{"n3", "n4"}), "n1 drops n2,n3,n4; n2 drops n1,n3,n4; n3 drops n1,n2; n4 drops n1,n2"},
		{"one component", Complete(five), "no cut"},
	} {
		if s := tc.got.String(); s != tc.want {
			t.Errorf("%s: %s\nwant %s", tc.name, s, tc.want)
		}
	}
	if got := Bisect([]string{"a", "b", "c", "d"}); !slices.Equal(got[0], []string{"a", "b"}) || !slices.Equal(got[1], []string{"c", "d"}) {
		t.Errorf("Bisect even: %v", got)
	}
	for n, want := range map[int]int{1: 0, 3: 0, 4: 1, 5: 1, 7: 2, 9: 2, 10: 3} {
		if got := MinorityThird(n); got != want {
			t.Errorf("MinorityThird(%d) = %d, want %d", n, got, want)
		}
	}
}

// reach is the set of nodes each node hears (itself included).
func hears(g Grudge, nodes []string, n string) []string {
	var out []string
	for _, o := range nodes {
		if o == n || !g.Cut(o, n) {
			out = append(out, o)
		}
	}
	return out
}

// components returns the connected groups of a symmetric grudge, as
// sorted, joined strings.
func sides(g Grudge, nodes []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range nodes {
		h := strings.Join(hears(g, nodes, n), ",")
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return out
}

func symmetric(g Grudge) bool {
	for n, l := range g {
		for _, o := range l {
			if !g.Cut(n, o) {
				return false
			}
		}
	}
	return true
}

func TestShapes(t *testing.T) {
	for _, size := range []int{3, 4, 5, 7, 9} {
		nodes := make([]string, size)
		for i := range nodes {
			nodes[i] = "n" + string(rune('1'+i))
		}
		for seed := range uint64(20) {
			for _, shape := range Shapes {
				g, err := MakeGrudge(shape, nodes, []string{nodes[1], nodes[2]}, rng(seed))
				if err != nil {
					t.Fatalf("%s on %d nodes: %v", shape, size, err)
				}
				if err := g.Validate(nodes); err != nil {
					t.Fatal(err)
				}
				again, _ := MakeGrudge(shape, nodes, []string{nodes[1], nodes[2]}, rng(seed))
				if !g.Equal(again) {
					t.Fatalf("%s: same seed, different grudges: %v / %v", shape, g, again)
				}
				maj := Majority(size)
				switch shape {
				case ShapeOne:
					s := sides(g, nodes)
					if len(s) != 2 || !symmetric(g) || (strings.Count(s[0], ",") != 0 && strings.Count(s[1], ",") != 0) {
						t.Errorf("one on %d: %v", size, s)
					}
				case ShapeMajority, ShapeHalves, ShapeRandomHalves, ShapeMinorityThird:
					s := sides(g, nodes)
					if len(s) != 2 || !symmetric(g) {
						t.Fatalf("%s on %d: sides %v", shape, size, s)
					}
					small := min(strings.Count(s[0], ",")+1, strings.Count(s[1], ",")+1)
					want := size / 2
					if shape == ShapeMinorityThird {
						want = max(MinorityThird(size), 1)
					}
					if small != want {
						t.Errorf("%s on %d: smaller side %d, want %d (%v)", shape, size, small, want, s)
					}
				case ShapeMajoritiesRing:
					seen := map[string]bool{}
					for _, n := range nodes {
						h := hears(g, nodes, n)
						if len(h) < maj {
							t.Errorf("ring on %d: %s hears %v, not a majority", size, n, h)
						}
						key := strings.Join(h, ",")
						if seen[key] {
							t.Errorf("ring on %d: two nodes hear the same majority %s", size, key)
						}
						seen[key] = true
					}
				case ShapeBridge:
					bridges := 0
					for _, n := range nodes {
						if len(hears(g, nodes, n)) == size {
							bridges++
						}
					}
					if bridges != 1 || !symmetric(g) {
						t.Errorf("bridge on %d: %d nodes hear all: %v", size, bridges, g)
					}
				case ShapePrimaries:
					for _, p := range []string{nodes[1], nodes[2]} {
						if h := hears(g, nodes, p); len(h) != 1 {
							t.Errorf("primaries on %d: primary %s hears %v", size, p, h)
						}
					}
				}
			}
		}
	}
}

func TestMakeGrudgeErrors(t *testing.T) {
	if _, err := MakeGrudge("triangle", five, nil, rng(1)); !errors.Is(err, ErrUnknownShape) || !strings.Contains(err.Error(), "majorities-ring") {
		t.Errorf("unknown shape: %v", err)
	}
	if _, err := MakeGrudge(ShapePrimaries, five, []string{"n9"}, rng(1)); err == nil || !strings.Contains(err.Error(), "no primary") {
		t.Errorf("primaries without primaries: %v", err)
	}
	if _, err := MakeGrudge(ShapeOne, []string{"n1"}, nil, rng(1)); err == nil {
		t.Error("one node accepted")
	}
	if _, err := MakeGrudge(ShapeMajoritiesRing, []string{"a", "b"}, nil, rng(1)); err == nil {
		t.Error("ring of two accepted")
	}
}

func TestParseGrudge(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"n1,n2|n3,n4,n5", "n1 drops n3,n4,n5; n2 drops n3,n4,n5; n3 drops n1,n2; n4 drops n1,n2; n5 drops n1,n2", ""},
		{"n1:n2,n3; n2:n1", "n1 drops n2,n3; n2 drops n1", ""},
		{"n1:n1", "no cut", ""},
		{"", "", "empty"},
		{"n1,n2", "", "two or more components"},
		{"n1|", "", "no nodes"},
		{":n2", "", "NODE:PEER"},
	} {
		g, err := ParseGrudge(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseGrudge(%q) = %v, %v; want error %q", tc.in, g, err, tc.err)
			}
			continue
		}
		if err != nil || g.String() != tc.want {
			t.Errorf("ParseGrudge(%q) = %s, %v; want %s", tc.in, g, err, tc.want)
		}
	}
	g := Grudge{"n1": {"n7"}}
	if err := g.Validate(five); err == nil || !strings.Contains(err.Error(), `"n7"`) {
		t.Errorf("Validate: %v", err)
	}
}

func FuzzParseGrudge(f *testing.F) {
	for _, s := range []string{"n1,n2|n3", "n1:n2,n3;n2:n1", "|", ";:", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := ParseGrudge(s)
		if err != nil {
			return
		}
		// A parsed grudge is normalized: no self-cuts, no duplicates.
		for n, l := range g {
			if len(l) == 0 || slices.Contains(l, n) || !slices.IsSorted(l) || len(slices.Compact(slices.Clone(l))) != len(l) {
				t.Fatalf("%q gave %v", s, g)
			}
		}
	})
}
