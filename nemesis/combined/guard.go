package combined

import (
	"maps"
	"slices"

	"github.com/faultline/faultline/generator"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/nemesis"
)

// conflicts lists, for the f that starts a node fault, the node faults it
// must not overlap with on one node: a killed node is not paused, a paused
// node is not killed.
var conflicts = map[string][]string{
	nemesis.FKill:  {nemesis.FPause},
	nemesis.FPause: {nemesis.FKill},
}

// stops maps the f that ends a node fault to the f that started it.
var stops = map[string]string{
	nemesis.FStart:  nemesis.FKill,
	nemesis.FResume: nemesis.FPause,
}

// guard wraps the faults' generators: it resolves the node specs of kill
// and pause ops itself (with the context's seeded random source), leaving
// out the nodes that another fault holds, and tracks which nodes each
// fault holds from the ops it sees. It is a value: Op and Update return
// new guards.
type guard struct {
	g     generator.Generator
	nodes map[string][]string // start f → nodes its specs choose among
	held  map[string][]string // start f → nodes currently held (sorted)
}

func newGuard(g generator.Generator, nodes map[string][]string) generator.Generator {
	if g == nil {
		return nil
	}
	return &guard{g: g, nodes: nodes, held: map[string][]string{}}
}

func (gd *guard) with(g generator.Generator, held map[string][]string) *guard {
	return &guard{g: g, nodes: gd.nodes, held: held}
}

// busy is the set of nodes a start of f must avoid.
func (gd *guard) busy(f string) []string {
	var out []string
	for _, other := range conflicts[f] {
		for _, n := range gd.held[other] {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out
}

func (gd *guard) Op(ctx *generator.Context) (history.Op, generator.Generator, generator.Status) {
	op, next, st := gd.g.Op(ctx)
	if st != generator.Ready {
		return op, nil, st
	}
	if _, ok := conflicts[op.F]; ok {
		op.Value = gd.resolve(ctx, op.F, op.Value)
	}
	if next == nil {
		return op, nil, st
	}
	return op, gd.with(next, gd.held), st
}

// resolve turns a spec into the nodes to act on, among those no
// conflicting fault holds. The primaries spec needs the DB, so it goes to
// the nemesis with the busy nodes as "except".
func (gd *guard) resolve(ctx *generator.Context, f string, v any) any {
	busy := gd.busy(f)
	if s, ok := v.(string); ok && s == nemesis.SpecPrimaries {
		if len(busy) == 0 {
			return v
		}
		return history.Map{{Key: "targets", Val: v}, {Key: "except", Val: toAny(busy)}}
	}
	if _, ok := v.(history.Map); ok {
		return v
	}
	free := slices.DeleteFunc(slices.Clone(gd.nodes[f]), func(n string) bool { return slices.Contains(busy, n) })
	if len(free) == 0 {
		return []any{}
	}
	nodes, err := nemesis.ResolveSpec(v, free, nil, ctx.Rand())
	if err != nil {
		// Explicit nodes that are busy, or a bad spec: let the nemesis
		// report it.
		return v
	}
	return toAny(nodes)
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

func (gd *guard) Update(ctx *generator.Context, event history.Op) generator.Generator {
	g := gd.g.Update(ctx, event)
	held := gd.held
	if event.Process == history.NemesisProcess {
		held = gd.track(ctx, event)
	}
	if g == nil {
		return nil
	}
	return gd.with(g, held)
}

// track returns the held nodes after event.
func (gd *guard) track(ctx *generator.Context, event history.Op) map[string][]string {
	invocation := !ctx.IsFree(generator.NemesisThread)
	start, isStart := conflicts[event.F]
	_ = start
	startF, isStop := stops[event.F]
	if !isStart && !isStop {
		return gd.held
	}
	held := maps.Clone(gd.held)
	nodes := nodesOf(event.Value)
	switch {
	case isStart:
		// Invocations carry the nodes chosen; completions (for specs the
		// nemesis resolved, like primaries) name them as keys.
		held[event.F] = union(held[event.F], nodes)
	case isStop && invocation:
		if s, ok := event.Value.(string); ok && s == nemesis.SpecAll || event.Value == nil {
			delete(held, startF)
		} else {
			held[startF] = slices.DeleteFunc(slices.Clone(held[startF]), func(n string) bool { return slices.Contains(nodes, n) })
		}
	case isStop:
		// A stop's completion changes nothing more: a failed stop leaves
		// the nodes as unknown, and Teardown heals them in any case.
	}
	return held
}

// nodesOf reads node names from an op value: a list of names, or the keys
// of a node → result Map.
func nodesOf(v any) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	case history.Map:
		for _, e := range x {
			if s, ok := e.Key.(string); ok && s != "targets" && s != "except" {
				out = append(out, s)
			}
		}
	}
	return out
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}
