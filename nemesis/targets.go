package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/db"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/netfault"
)

// Node specs, after jepsen.nemesis.combined/db-nodes: which nodes a fault
// acts on. A spec may also be an explicit list ("n2,n3" or a list value).
const (
	SpecOne           = "one"            // one random node
	SpecMinority      = "minority"       // a random minority (majority - 1 nodes)
	SpecMajority      = "majority"       // a random majority
	SpecMinorityThird = "minority-third" // fewer than a third of the nodes
	SpecPrimaries     = "primaries"      // a random nonempty subset of the primaries
	SpecAll           = "all"            // every node
	SpecSome          = "some"           // a random nonempty subset (Jepsen's nil spec)
)

// Specs lists the named node specs.
var Specs = []string{SpecOne, SpecMinority, SpecMajority, SpecMinorityThird, SpecPrimaries, SpecAll, SpecSome}

// IsNamedSpec reports whether s is one of Specs.
func IsNamedSpec(s string) bool { return slices.Contains(Specs, s) }

// ResolveSpec picks the nodes a spec names among nodes, drawing random
// choices from rng. primaries are the DB's primaries (used only by
// SpecPrimaries; ask NeedsPrimaries first). spec is a string (a named spec,
// or nodes separated by commas), a []string or a list value of strings
// (an empty list chooses no node); nil is SpecSome. Explicit nodes must be among nodes. The result keeps
// the order of nodes.
func ResolveSpec(spec any, nodes, primaries []string, rng *rand.Rand) ([]string, error) {
	n := len(nodes)
	if n == 0 {
		return nil, fmt.Errorf("node spec %s: no nodes to choose from", history.Format(spec))
	}
	pick := func(k int) []string {
		s := netfault.Shuffled(nodes, rng)[:max(0, min(k, n))]
		return inOrder(nodes, s)
	}
	switch s := spec.(type) {
	case nil:
		return inOrder(nodes, someOf(nodes, rng)), nil
	case string:
		switch s {
		case SpecOne:
			return pick(1), nil
		case SpecMinority:
			return pick(netfault.Majority(n) - 1), nil
		case SpecMajority:
			return pick(netfault.Majority(n)), nil
		case SpecMinorityThird:
			return pick(netfault.MinorityThird(n)), nil
		case SpecAll:
			return slices.Clone(nodes), nil
		case SpecSome, "":
			return inOrder(nodes, someOf(nodes, rng)), nil
		case SpecPrimaries:
			var prim []string
			for _, p := range primaries {
				if slices.Contains(nodes, p) && !slices.Contains(prim, p) {
					prim = append(prim, p)
				}
			}
			if len(prim) == 0 {
				// No primary right now (an election is under way, or a
				// majority is down): no target, as in Jepsen.
				return nil, nil
			}
			return inOrder(nodes, someOf(prim, rng)), nil
		}
		var list []string
		for _, x := range strings.Split(s, ",") {
			if x = strings.TrimSpace(x); x != "" {
				list = append(list, x)
			}
		}
		return explicit(list, nodes)
	case []string:
		return explicit(s, nodes)
	case []any:
		list := make([]string, len(s))
		for i, x := range s {
			str, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("node spec %s: want node names", history.Format(spec))
			}
			list[i] = str
		}
		return explicit(list, nodes)
	}
	return nil, fmt.Errorf("node spec %s: want one of %s, or node names", history.Format(spec), strings.Join(Specs, ", "))
}

// NeedsPrimaries reports whether resolving spec asks the DB for primaries.
func NeedsPrimaries(spec any) bool { s, ok := spec.(string); return ok && s == SpecPrimaries }

func explicit(list, nodes []string) ([]string, error) {
	for _, x := range list {
		if !slices.Contains(nodes, x) {
			return nil, fmt.Errorf("node %q is not one of %s", x, strings.Join(nodes, ", "))
		}
	}
	return inOrder(nodes, list), nil
}

// someOf is a random nonempty subset of nodes (Jepsen's
// random-nonempty-subset), or nil when there are no nodes.
func someOf(nodes []string, rng *rand.Rand) []string {
	if len(nodes) == 0 {
		return nil
	}
	k := 1 + rng.IntN(len(nodes))
	return netfault.Shuffled(nodes, rng)[:k]
}

// inOrder returns the members of pick, deduplicated, in the order of nodes.
func inOrder(nodes, pick []string) []string {
	var out []string
	for _, n := range nodes {
		if slices.Contains(pick, n) {
			out = append(out, n)
		}
	}
	return out
}

// targets is what every node-acting nemesis shares: the nodes it may touch,
// how to ask for primaries, and a random source seeded from the run.
type targets struct {
	// nodes; nil until setup, then the configured nodes or env.Nodes.
	nodes []string
	prim  db.Primaries
	mu    sync.Mutex
	rng   *rand.Rand
}

func newTargets(env *control.Env, nodes []string, prim db.Primaries, salt uint64) *targets {
	if len(nodes) == 0 {
		nodes = env.Nodes
	}
	return &targets{nodes: slices.Clone(nodes), prim: prim, rng: rand.New(rand.NewPCG(uint64(env.Seed), salt))}
}

// resolve turns an op value (a spec, or a Map {"targets": spec, "except":
// [nodes]}) into nodes.
func (t *targets) resolve(ctx context.Context, env *control.Env, v any, dflt any) ([]string, error) {
	spec, except := v, []string(nil)
	if m, ok := v.(history.Map); ok {
		spec, _ = m.Get("targets")
		if e, ok := m.Get("except"); ok {
			l, err := stringList(e)
			if err != nil {
				return nil, fmt.Errorf("except: %w", err)
			}
			except = l
		}
	}
	if spec == nil && dflt != nil {
		spec = dflt
	}
	var prim []string
	if NeedsPrimaries(spec) {
		if t.prim == nil {
			return nil, fmt.Errorf("node spec primaries: the DB cannot tell its primaries (db.Primaries)")
		}
		p, err := t.prim.Primaries(ctx, env)
		if err != nil {
			return nil, fmt.Errorf("asking the DB for primaries: %w", err)
		}
		prim = p
	}
	nodes := t.nodes
	if len(except) > 0 {
		nodes = slices.DeleteFunc(slices.Clone(nodes), func(n string) bool { return slices.Contains(except, n) })
		if len(nodes) == 0 {
			return nil, nil
		}
	}
	if NeedsPrimaries(spec) && len(except) > 0 && !slices.ContainsFunc(prim, func(p string) bool { return slices.Contains(nodes, p) }) {
		return nil, nil // every primary is held by another fault
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return ResolveSpec(spec, nodes, prim, t.rng)
}

func stringList(v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []string:
		return x, nil
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("want strings, got %s", history.Format(v))
			}
			out[i] = s
		}
		return out, nil
	case string:
		if x == "" {
			return nil, nil
		}
		return strings.Split(x, ","), nil
	}
	return nil, fmt.Errorf("want a list of nodes, got %s", history.Format(v))
}

// NodeValue builds the completion value of a per-node action: a Map from
// node to what happened there, sorted by node.
func NodeValue(m map[string]any) history.Map {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(history.Map, len(keys))
	for i, k := range keys {
		out[i] = history.Entry{Key: k, Val: history.Normalize(m[k])}
	}
	return out
}

// GrudgeValue is a grudge as a history value: node → sorted list of the
// nodes it drops.
func GrudgeValue(g netfault.Grudge) history.Map {
	g = g.Normalize()
	m := map[string]any{}
	for n, l := range g {
		m[n] = l
	}
	return NodeValue(m)
}

// GrudgeFromValue reads an explicit grudge from a history value: a Map
// from node to a list of nodes, or a string ParseGrudge reads.
func GrudgeFromValue(v any) (netfault.Grudge, error) {
	switch x := v.(type) {
	case string:
		return netfault.ParseGrudge(x)
	case history.Map:
		g := netfault.Grudge{}
		for _, e := range x {
			k, ok := e.Key.(string)
			if !ok {
				return nil, fmt.Errorf("grudge key %s is not a node name", history.Format(e.Key))
			}
			l, err := stringList(e.Val)
			if err != nil {
				return nil, fmt.Errorf("grudge of %s: %w", k, err)
			}
			g[k] = append(g[k], l...)
		}
		return g.Normalize(), nil
	}
	return nil, fmt.Errorf("want a grudge (a map from node to nodes), got %s", history.Format(v))
}

// onNodes runs f on nodes in parallel and collects per-node results for
// the completion value: ok gives the value for a node that succeeded; a
// failure is recorded as the string "error: ...". The error joins the
// failures.
func onNodes(ctx context.Context, nodes []string, ok any, f func(ctx context.Context, node string) error) (history.Map, error) {
	var mu sync.Mutex
	res := map[string]any{}
	err := control.OnNodes(ctx, nodes, func(ctx context.Context, node string) error {
		err := f(ctx, node)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			res[node] = "error: " + err.Error()
		} else {
			res[node] = ok
		}
		return err
	})
	return NodeValue(res), err
}

// info returns op as its completion with value v.
func info(op history.Op, v any) history.Op {
	op.Type = history.Info
	op.Value = v
	return op
}
