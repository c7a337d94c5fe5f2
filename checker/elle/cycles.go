package elle

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/internal/graph"
)

// cycleType is one class of cycle the search looks for, after Elle's
// cycle anomaly specifications. Typed classes only accept a cycle whose
// edges classify it as exactly that type; the others (G0, G1c and their
// variants) accept whatever their cycle classifies as.
type cycleType struct {
	name  string
	spec  graph.CycleSpec
	typed bool
}

// cycleTypes returns the cycle classes in the order they are searched (by
// Elle's anomaly depth, then name). The predicate classes (G-single,
// G-nonadjacent, G2 without -item) need predicate dependencies, which
// list-append and rw-register histories never have, so they are left out.
func cycleTypes(l *lattice) []cycleType {
	base := []cycleType{
		{name: "G0", spec: graph.CycleSpec{Allowed: graph.WW}},
		{name: "G1c", spec: graph.CycleSpec{Allowed: graph.WW | graph.WR, Required: []graph.Rel{graph.WR}}},
		{name: "G-single-item", spec: graph.CycleSpec{Allowed: graph.WW | graph.WR, RW: graph.OneRW}, typed: true},
		{name: "G-nonadjacent-item", spec: graph.CycleSpec{Allowed: graph.WW | graph.WR, RW: graph.NonadjacentRW}, typed: true},
		{name: "G2-item", spec: graph.CycleSpec{Allowed: graph.WW | graph.WR, RW: graph.AdjacentRW}, typed: true},
	}
	var out []cycleType
	for _, b := range base {
		out = append(out, b)
		for _, v := range []struct {
			suffix string
			rel    graph.Rel
		}{{"-process", graph.Process}, {"-realtime", graph.Realtime}} {
			c := b
			c.name = b.name + v.suffix
			c.spec.Allowed |= v.rel
			c.spec.Required = append(slices.Clone(b.spec.Required), v.rel)
			out = append(out, c)
		}
	}
	names := make([]string, len(out))
	for i, c := range out {
		names[i] = c.name
	}
	l.sortAnomalies(names)
	sorted := make([]cycleType, 0, len(out))
	for _, n := range names {
		for _, c := range out {
			if c.name == n {
				sorted = append(sorted, c)
			}
		}
	}
	return sorted
}

// classify names a cycle by its edges, as Elle's cycle explainer does:
// one rw edge is G-single-item; more, G2-item when two are adjacent, else
// G-nonadjacent-item; no rw but a wr, G1c; only ww, G0; with a -realtime
// suffix when a real-time edge is used, else -process when a process edge
// is. A cycle of order edges only has no name.
func classify(rels []graph.Rel) string {
	var rw, wr, ww, pr, rt int
	adjacent := false
	for i, r := range rels {
		switch r {
		case graph.RW:
			rw++
			if rels[(i+1)%len(rels)] == graph.RW {
				adjacent = true
			}
		case graph.WR:
			wr++
		case graph.WW:
			ww++
		case graph.Process:
			pr++
		case graph.Realtime:
			rt++
		}
	}
	var base string
	switch {
	case rw == 1:
		base = "G-single-item"
	case rw > 1 && adjacent:
		base = "G2-item"
	case rw > 1:
		base = "G-nonadjacent-item"
	case wr > 0:
		base = "G1c"
	case ww > 0:
		base = "G0"
	default:
		return ""
	}
	switch {
	case rt > 0:
		return base + "-realtime"
	case pr > 0:
		return base + "-process"
	}
	return base
}

// existsSpec is one of Elle's cycle-existence checks: if the subgraph of
// some relations has a cycle, the (canonical) model cannot hold.
type existsSpec struct {
	model    string
	union    graph.Rel // plain union of relations, or
	ext      bool      // the sequential extension of a by b
	a, b     graph.Rel
	subgraph []any // described as Elle does
}

func relNames(r graph.Rel) []any {
	out := []any{"union"}
	for _, x := range []graph.Rel{graph.WW, graph.WR, graph.RW, graph.Process, graph.Realtime} {
		if r&x != 0 {
			out = append(out, x.String())
		}
	}
	return out
}

func existsSpecs() []existsSpec {
	u := func(m string, r graph.Rel) existsSpec {
		return existsSpec{model: m, union: r, subgraph: relNames(r)}
	}
	e := func(m string, a, b graph.Rel) existsSpec {
		return existsSpec{model: m, ext: true, a: a, b: b, subgraph: []any{"extension", relNames(a), relNames(b)}}
	}
	ww, wr, rw, pr, rt := graph.WW, graph.WR, graph.RW, graph.Process, graph.Realtime
	return []existsSpec{
		u("PL-1", ww),
		u("PL-2", ww|wr),
		e("PL-SI", ww|wr, rw),
		u("PL-2.99", ww|wr|rw),
		u("PL-3", ww|wr|rw),
		u("strong-session-PL-1", ww|pr),
		u("strong-session-PL-2", ww|wr|pr),
		e("strong-session-snapshot-isolation", ww|wr|pr, rw),
		u("strong-session-serializable", ww|wr|rw|pr),
		u("strong-PL-1", ww|rt),
		u("strong-PL-2", ww|wr|rt),
		e("strong-snapshot-isolation", ww|wr|rt, rw),
		u("PL-SS", ww|wr|rw|rt),
	}
}

// pending collects the anomalies of one component, to be added (and
// explained) in order once the components searched in parallel are done.
type pending struct {
	types []string
	mks   []func() Anomaly
}

func (p *pending) add(typ string, mk func() Anomaly) {
	p.types = append(p.types, typ)
	p.mks = append(p.mks, mk)
}

// searchCycles analyses each strongly connected component of the
// dependency graph, on up to GOMAXPROCS goroutines.
func (a *analysis) searchCycles() error {
	sccs := a.g.SCC(graph.AllRels)
	comps := sccs.Nontrivial()
	a.sccCount = len(comps)
	if len(comps) == 0 {
		return nil
	}
	types := cycleTypes(a.lat)
	specs := existsSpecs()
	deadline := time.Now().Add(a.opts.SearchTimeout)
	results := make([]pending, len(comps))
	errs := make([]error, len(comps))
	workers := min(runtime.GOMAXPROCS(0), len(comps), 8)
	// Components of one node set are disjoint, so each node's position in
	// its component can live in one shared array.
	pos := make([]int32, a.g.Len())
	for _, members := range comps {
		for j, v := range members {
			pos[v] = int32(j)
		}
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				members := comps[i]
				local := a.g.InducedComponent(members, pos, sccs.Of, sccs.Of[members[0]])
				budget := min(a.opts.CycleSearchTimeout, time.Until(deadline))
				errs[i] = a.searchSCC(&results[i], members, local, types, specs, budget)
			}
		}()
	}
	for i := range comps {
		if a.ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := a.ctx.Err(); err != nil {
		return err
	}
	for i := range comps {
		if errs[i] != nil {
			return errs[i]
		}
		for j, t := range results[i].types {
			a.add(t, results[i].mks[j])
		}
	}
	return nil
}

// searchSCC looks for cycles in one component: first which models a cycle
// exists against (cheap: components of subgraphs), then cycles of each
// class not already ruled out or implied, under the time budget.
func (a *analysis) searchSCC(out *pending, members []int32, local *graph.Graph, types []cycleType, specs []existsSpec, budget time.Duration) error {
	l := a.lat
	n := int32(local.Len())
	redundant := map[string]bool{}
	var notModels []string
	for _, sp := range specs {
		if redundant[sp.model] {
			continue
		}
		var best []int32
		if sp.ext {
			for _, c := range local.Extension(sp.a, sp.b).SCC(graph.AllRels).Nontrivial() {
				orig := c[:0:0]
				for _, v := range c {
					if v < n {
						orig = append(orig, v)
					}
				}
				if best == nil || len(orig) < len(best) {
					best = orig
				}
			}
		} else {
			for _, c := range local.SCC(sp.union).Nontrivial() {
				if best == nil || len(c) < len(best) {
					best = c
				}
			}
		}
		if best == nil {
			continue
		}
		sp, best := sp, best
		out.add(sp.model+"-cycle-exists", func() Anomaly {
			idx := make([]any, len(best))
			for i, v := range best {
				idx[i] = int64(a.p.ops[a.p.txns[members[v]].pos].Index)
			}
			return Anomaly{Type: sp.model + "-cycle-exists", Not: l.friendlyName(sp.model), Subgraph: a.val(sp.subgraph),
				SCCSize: len(best), SCC: a.val(idx),
				Explanation: fmt.Sprintf("the transactions %s form %s, so the history is not %s",
					fmtIndexList(idx), subgraphWords(sp), l.friendlyName(sp.model))}
		})
		notModels = append(notModels, sp.model)
		for m := range l.modelsImplying([]string{sp.model}) {
			redundant[m] = true
		}
	}
	// Cycle classes no model left standing would forbid cannot be there.
	impossible := l.modelsImplying(notModels)
	var possible []string
	for _, sp := range specs {
		if !impossible[sp.model] {
			possible = append(possible, sp.model)
		}
	}
	skip := map[string]bool{}
	for x := range l.prohibitedBy(possible) {
		skip[x] = true
	}
	eff := local.MapRels(a.effective)
	s := graph.NewSearcher(eff)
	b := graph.NewBudget(a.ctx, budget)
	var tried, found []string
	for _, ct := range types {
		if skip[ct.name] {
			continue
		}
		tried = append(tried, ct.name)
		var got string
		cy, ok, err := s.Find(ct.spec, b, func(c graph.Cycle) bool {
			got = classify(c.Rels)
			if ct.typed {
				return got == ct.name
			}
			return got != ""
		})
		if errors.Is(err, graph.ErrBudget) {
			if err := a.ctx.Err(); err != nil {
				return err
			}
			a.timeout(out, members, eff, ct.name, tried[:len(tried)-1], found)
			return nil
		}
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		a.addCycle(out, got, members, cy)
		found = append(found, got)
		for x := range l.impliedBy([]string{ct.name}) {
			skip[x] = true
		}
	}
	return nil
}

// timeout records a search that ran out of time, and a fallback cycle
// (a shortest one through the component's first transaction) so there is
// something to show.
func (a *analysis) timeout(out *pending, members []int32, eff *graph.Graph, spec string, done, found []string) {
	var dnc []string
	for _, t := range done {
		if !slices.Contains(found, t) {
			dnc = append(dnc, t)
		}
	}
	if dnc == nil {
		dnc = []string{}
	}
	out.add("cycle-search-timeout", func() Anomaly {
		return Anomaly{Type: "cycle-search-timeout", AnomalySpecType: spec, DoesNotContain: &dnc, SCCSize: len(members),
			Explanation: fmt.Sprintf("the search for a %s cycle among %d transactions ran out of time (searched without finding: %s); a cycle exists there, see the -cycle-exists anomalies",
				spec, len(members), strings.Join(dnc, ", "))}
	})
	if cy, ok := eff.AnyCycle(0, graph.AllRels); ok {
		if t := classify(cy.Rels); t != "" {
			a.addCycle(out, t, members, cy)
		}
	}
}

// addCycle records a cycle anomaly, explained step by step.
func (a *analysis) addCycle(out *pending, typ string, members []int32, cy graph.Cycle) {
	nodes := make([]int32, len(cy.Nodes))
	for i, v := range cy.Nodes {
		nodes[i] = members[v]
	}
	rels := slices.Clone(cy.Rels)
	out.add(typ, func() Anomaly { return a.explainCycle(typ, nodes, rels) })
}

// explainCycle builds the evidence of a cycle: its ops and, for each edge,
// why the first transaction precedes the next.
func (a *analysis) explainCycle(typ string, nodes []int32, rels []graph.Rel) Anomaly {
	a.names = map[int32]string{}
	for i, t := range nodes {
		a.names[t] = fmt.Sprintf("T%d", i+1)
	}
	defer func() { a.names = nil }()
	an := Anomaly{Type: typ}
	var b strings.Builder
	b.WriteString("Let:\n")
	var chain []string
	for i, t := range nodes {
		an.Cycle = append(an.Cycle, a.opOf(t))
		fmt.Fprintf(&b, "  T%d = %s\n", i+1, fmtOp(a.p.ops[a.p.txns[t].pos]))
		chain = append(chain, fmt.Sprintf("op %d", a.p.ops[a.p.txns[t].pos].Index))
	}
	an.Cycle = append(an.Cycle, a.opOf(nodes[0]))
	b.WriteString("\nThen:\n")
	var sum strings.Builder
	sum.WriteString(typ + ": " + chain[0])
	for i, t := range nodes {
		u := nodes[(i+1)%len(nodes)]
		st := a.explainStep(t, u, rels[i])
		an.Steps = append(an.Steps, st)
		if i == len(nodes)-1 {
			fmt.Fprintf(&b, "  - However, %s < %s, because %s: a contradiction!", a.names[t], a.names[u], st.Explanation)
		} else {
			fmt.Fprintf(&b, "  - %s < %s, because %s.\n", a.names[t], a.names[u], st.Explanation)
		}
		fmt.Fprintf(&sum, " -%s-> %s", rels[i], chain[(i+1)%len(nodes)])
	}
	an.Explanation = b.String()
	an.Summary = sum.String()
	return an
}

func intp(i int) *int { return &i }

// explainStep says why txn x precedes txn y by relation r.
func (a *analysis) explainStep(x, y int32, r graph.Rel) Step {
	p := a.p
	switch r {
	case graph.Process:
		pr := int(p.ops[p.txns[x].pos].Process)
		return Step{Type: "process", Process: intp(pr),
			Explanation: fmt.Sprintf("process %d ran %s before %s", pr, a.txnName(x), a.txnName(y))}
	case graph.Realtime:
		cx := p.ops[p.txns[x].pos]
		st := Step{Type: "realtime", Completed: intp(cx.Index)}
		ex := fmt.Sprintf("%s completed (op %d) before %s was invoked", a.txnName(x), cx.Index, a.txnName(y))
		if inv := p.txns[y].inv; inv >= 0 {
			iy := p.ops[inv]
			st.Invoked = intp(iy.Index)
			ex += fmt.Sprintf(" (op %d)", iy.Index)
			if cx.Time >= 0 && iy.Time >= 0 && iy.Time > cx.Time {
				ex += fmt.Sprintf(", %.3f s later", float64(iy.Time-cx.Time)/1e9)
			}
		}
		st.Explanation = ex
		return st
	}
	if a.w == listAppend {
		if st, ok := a.explainListAppend(x, y, r); ok {
			return st
		}
	} else if st, ok := a.explainRegister(x, y, r); ok {
		return st
	}
	return Step{Type: r.String(), Explanation: fmt.Sprintf("%s %s %s", a.txnName(x), r, a.txnName(y))}
}

func (a *analysis) explainListAppend(x, y int32, r graph.Rel) (Step, bool) {
	p, ix := a.p, a.laIndex
	key := func(k int32) string { return fmtVal(p.in.keyVals[k]) }
	elem := func(e int32) string { return fmtVal(p.in.valVals[e]) }
	ty := p.txns[y]
	for j := ty.m0; j < ty.m1; j++ {
		m := &p.mops[j]
		bi := int(j - ty.m0)
		switch {
		case r == graph.WW && m.kind == mopAppend:
			prev := ix.prev(m.key, m.v)
			if prev < 0 || ix.possibleWriter(prev) != x {
				continue
			}
			return Step{Type: "ww", Key: a.val(p.in.keyVals[m.key]), Value: a.val(p.in.valVals[prev]), Value2: a.val(p.in.valVals[m.v]),
				AMopIndex: intp(int(ix.appMop[prev])), BMopIndex: intp(bi),
				Explanation: fmt.Sprintf("%s appended %s to key %s after %s appended %s", a.txnName(y), elem(m.v), key(m.key), a.txnName(x), elem(prev))}, true
		case r == graph.WR && m.kind == mopRead && m.n > 0:
			es := p.read(m)
			last := es[len(es)-1]
			if ix.possibleWriter(last) != x {
				continue
			}
			return Step{Type: "wr", Key: a.val(p.in.keyVals[m.key]), Value: a.val(p.in.valVals[last]),
				AMopIndex: intp(int(ix.appMop[last])), BMopIndex: intp(bi),
				Explanation: fmt.Sprintf("%s read key %s and saw %s's append of %s last", a.txnName(y), key(m.key), a.txnName(x), elem(last))}, true
		case r == graph.RW && m.kind == mopAppend:
			prev := ix.prev(m.key, m.v)
			target := ix.initOf(m.key)
			if prev >= 0 {
				target = prev
			}
			if !slices.Contains(ix.readers(target), x) {
				continue
			}
			st := Step{Type: "rw", Key: a.val(p.in.keyVals[m.key]), Value2: a.val(p.in.valVals[m.v]), BMopIndex: intp(bi)}
			tx := p.txns[x]
			for k := tx.m0; k < tx.m1; k++ {
				mk := &p.mops[k]
				if mk.kind != mopRead || mk.key != m.key {
					continue
				}
				es := p.read(mk)
				if (prev < 0 && len(es) == 0) || (prev >= 0 && len(es) > 0 && es[len(es)-1] == prev) {
					st.AMopIndex = intp(int(k - tx.m0))
					break
				}
			}
			if prev < 0 {
				st.Value = a.val(nil)
				st.Explanation = fmt.Sprintf("%s appended %s to key %s, the first append to it, after %s read key %s empty, without it",
					a.txnName(y), elem(m.v), key(m.key), a.txnName(x), key(m.key))
			} else {
				st.Value = a.val(p.in.valVals[prev])
				st.Explanation = fmt.Sprintf("%s appended %s to key %s after %s read key %s up to %s, without it",
					a.txnName(y), elem(m.v), key(m.key), a.txnName(x), key(m.key), elem(prev))
			}
			return st, true
		}
	}
	return Step{}, false
}

func (a *analysis) explainRegister(x, y int32, r graph.Rel) (Step, bool) {
	p, ix := a.p, a.rwIndex
	key := func(k int32) string { return fmtVal(p.in.keyVals[k]) }
	val := func(v int32) string { return fmtVal(p.in.valVals[v]) }
	mopIndex := func(t int32, kind mopKind, k, v int32, last bool) *int {
		tx := p.txns[t]
		found := -1
		for j := tx.m0; j < tx.m1; j++ {
			m := &p.mops[j]
			if m.kind == kind && m.key == k && m.v == v {
				found = int(j - tx.m0)
				if !last {
					break
				}
			}
		}
		if found < 0 {
			return nil
		}
		return intp(found)
	}
	switch r {
	case graph.WR:
		for _, w := range ix.extW[x] {
			if v, ok := lookup(ix.extR[y], w.key); ok && v == w.val {
				return Step{Type: "wr", Key: a.val(p.in.keyVals[w.key]), Value: a.val(p.in.valVals[v]),
					AMopIndex: mopIndex(x, mopWrite, w.key, v, true), BMopIndex: mopIndex(y, mopRead, w.key, v, false),
					Explanation: fmt.Sprintf("%s read key %s = %s, which %s wrote", a.txnName(y), key(w.key), val(v), a.txnName(x))}, true
			}
		}
	case graph.WW, graph.RW:
		from := ix.extW[x]
		kind := mopWrite
		if r == graph.RW {
			from, kind = ix.extR[x], mopRead
		}
		for _, e := range from {
			v2, ok := lookup(ix.extW[y], e.key)
			if !ok || ix.versions.Edge(e.val, v2) == 0 {
				continue
			}
			st := Step{Type: r.String(), Key: a.val(p.in.keyVals[e.key]), Value: a.val(p.in.valVals[e.val]), Value2: a.val(p.in.valVals[v2]),
				AMopIndex: mopIndex(x, kind, e.key, e.val, kind == mopWrite), BMopIndex: mopIndex(y, mopWrite, e.key, v2, true)}
			verb := "wrote"
			if r == graph.RW {
				verb = "read"
			}
			st.Explanation = fmt.Sprintf("%s wrote key %s = %s after %s %s it as %s (%s precedes %s in the version order)",
				a.txnName(y), key(e.key), val(v2), a.txnName(x), verb, val(e.val), val(e.val), val(v2))
			return st, true
		}
	}
	return Step{}, false
}

func fmtIndexList(idx []any) string {
	const max = 12
	parts := make([]string, 0, min(len(idx), max))
	for i, v := range idx {
		if i == max {
			parts = append(parts, fmt.Sprintf("... (%d in all)", len(idx)))
			break
		}
		parts = append(parts, fmtVal(v))
	}
	return "(op indices) " + strings.Join(parts, ", ")
}

func subgraphWords(sp existsSpec) string {
	if sp.ext {
		return fmt.Sprintf("a cycle of %s edges and rw edges, each rw edge right after a %s edge", sp.a, sp.a)
	}
	return fmt.Sprintf("a cycle of %s edges", sp.union)
}
