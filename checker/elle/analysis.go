package elle

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/internal/graph"
)

// analysis is one check of one history.
type analysis struct {
	ctx  context.Context
	opts Options
	lat  *lattice
	w    workload
	p    *parsed
	wb   *graph.Builder
	g    *graph.Graph

	laIndex *appendIndex
	rwIndex *registerIndex

	anoms map[string]*anomalyList
	// lost updates of list-append: groups of txns by (key, value read).
	lu       map[luKey][]int32
	lostKeys []luKey
	lostRead map[luKey]*mop

	realtime, process bool // which order graphs were added
	prohib            map[string]bool
	sccCount          int
	names             map[int32]string // txn -> T1, T2... within one explanation
}

// anomalyList holds the first anomalies of one type and how many there were.
type anomalyList struct {
	items []Anomaly
	count int
}

// add records an anomaly of type typ; mk builds its evidence, and is only
// called for the first MaxAnomalies of each type.
func (a *analysis) add(typ string, mk func() Anomaly) {
	l := a.anoms[typ]
	if l == nil {
		l = &anomalyList{}
		a.anoms[typ] = l
	}
	l.count++
	if len(l.items) < a.opts.MaxAnomalies {
		an := mk()
		if an.Type == "" && isCycleType(typ) {
			an.Type = typ
		}
		l.items = append(l.items, an)
	}
}

func isCycleType(t string) bool {
	return strings.HasPrefix(t, "G0") || strings.HasPrefix(t, "G1c") || strings.HasPrefix(t, "G-") || strings.HasPrefix(t, "G2")
}

// priority is the order in which an edge's relations explain it, as
// Elle's explainers are combined: data dependencies before process and
// real-time order; for lists ww, wr, rw; for registers wr, ww, rw.
func (a *analysis) priority() []graph.Rel {
	if a.w == listAppend {
		return []graph.Rel{graph.WW, graph.WR, graph.RW, graph.Realtime, graph.Process}
	}
	return []graph.Rel{graph.WR, graph.WW, graph.RW, graph.Realtime, graph.Process}
}

func (a *analysis) effective(r graph.Rel) graph.Rel {
	for _, x := range a.priority() {
		if r&x != 0 {
			return x
		}
	}
	return graph.NoRels
}

// prohibited returns the anomaly types that make the history invalid.
func (a *analysis) prohibited() map[string]bool {
	if a.prohib == nil {
		a.prohib = a.lat.prohibitedBy(a.opts.ConsistencyModels)
		for x := range a.lat.anomaliesImplying(a.opts.Anomalies) {
			a.prohib[x] = true
		}
	}
	return a.prohib
}

// reportable returns the anomaly types worth reporting.
func (a *analysis) reportable() map[string]bool {
	out := map[string]bool{}
	for x := range a.prohibited() {
		out[x] = true
	}
	out["empty-transaction-graph"] = true
	out["cycle-search-timeout"] = true
	return out
}

func (a *analysis) run() (*Result, error) {
	p := a.p
	rep := a.reportable()
	for _, ct := range cycleTypes(a.lat) {
		if !rep[ct.name] {
			continue
		}
		if strings.HasSuffix(ct.name, "-realtime") {
			a.realtime = true
		} else if strings.HasSuffix(ct.name, "-process") {
			a.process = true
		}
	}
	if a.realtime {
		a.process = false // real-time order covers process order
	}
	a.wb = graph.NewBuilder(len(p.txns))
	// About two dependency edges per micro-op (measured: 1.6 on Jepsen-like
	// list-append histories), plus the order edges.
	edges := 2 * len(p.mops)
	if a.realtime || a.process {
		edges += 2 * len(p.txns)
	}
	a.wb.Grow(edges)
	a.lu = map[luKey][]int32{}
	a.lostRead = map[luKey]*mop{}
	// Real-time order depends only on the ops: find it on another core
	// while the data dependencies are worked out.
	var order chan [][2]int32
	if a.realtime || a.process {
		order = make(chan [][2]int32, 1)
		go func() {
			if a.realtime {
				order <- a.realtimeEdges()
			} else {
				order <- a.processEdges()
			}
		}()
	}
	var err error
	if a.w == listAppend {
		err = a.analyzeListAppend()
		a.lostUpdatesListAppend()
	} else {
		err = a.analyzeRWRegister()
	}
	if order != nil {
		rel := graph.Process
		if a.realtime {
			rel = graph.Realtime
		}
		for _, e := range <-order {
			a.wb.Link(e[0], e[1], rel)
		}
	}
	if err != nil {
		return nil, err
	}
	a.g = a.wb.Build()
	a.wb = nil
	if a.g.EdgeCount() == 0 {
		a.add("empty-transaction-graph", func() Anomaly {
			return Anomaly{Explanation: "no dependency between transactions could be inferred, so no cycle can show; the history may be too small, or its reads may observe nothing written"}
		})
	}
	if err := a.searchCycles(); err != nil {
		return nil, err
	}
	return a.result(), nil
}

// lostUpdatesListAppend turns the groups of txns that read the same value of
// a key and then appended to it into lost-update anomalies.
func (a *analysis) lostUpdatesListAppend() {
	p := a.p
	for _, k := range a.lostKeys {
		txns := a.lu[k]
		m := a.lostRead[k]
		key := k.key
		a.add("lost-update", func() Anomaly {
			ops := make([]OpJSON, len(txns))
			for i, t := range txns {
				ops[i] = a.opOf(t)
			}
			read := a.elemList(p.read(m))
			return Anomaly{Key: a.val(p.in.keyVals[key]), Value: a.val(read), Txns: ops,
				Explanation: fmt.Sprintf("%d transactions read key %s = %s and then each appended to it: all but one of those updates was lost",
					len(txns), fmtVal(p.in.keyVals[key]), fmtVal(read))}
		})
	}
}

// result applies Elle's result map: which anomalies are reported, the
// verdict, and the models ruled out.
func (a *analysis) result() *Result {
	prohibited := a.prohibited()
	reportable := a.reportable()
	var all []string
	for t := range a.anoms {
		all = append(all, t)
	}
	sort.Strings(all)
	bad := false
	var rep []string
	for _, t := range all {
		if prohibited[t] {
			bad = true
		}
		if reportable[t] {
			rep = append(rep, t)
		}
	}
	// Cycle-exists anomalies add nothing when another reported anomaly
	// already rules their model out.
	var others []string
	for _, t := range rep {
		if !strings.HasSuffix(t, "-cycle-exists") {
			others = append(others, t)
		}
	}
	imp := a.lat.impossibleModels(others)
	kept := rep[:0]
	for _, t := range rep {
		if m, ok := strings.CutSuffix(t, "-cycle-exists"); ok && imp[a.lat.canon(m)] {
			continue
		}
		kept = append(kept, t)
	}
	rep = kept
	res := &Result{AnomalyTypes: []string{}, Not: []string{}, AlsoNot: []string{}, ConsistencyModels: a.opts.ConsistencyModels,
		TxnCount: len(a.p.txns), SCCCount: a.sccCount}
	if len(a.opts.Anomalies) > 0 {
		res.CheckedAnomalies = a.opts.Anomalies
	}
	if len(rep) == 0 {
		res.Valid = checker.Valid
	} else {
		res.Valid = checker.Unknown
		if bad {
			res.Valid = checker.Invalid
		}
		res.AnomalyTypes = rep
		res.Anomalies = map[string][]Anomaly{}
		for _, t := range rep {
			l := a.anoms[t]
			res.Anomalies[t] = l.items
			if l.count > len(l.items) {
				if res.AnomalyCounts == nil {
					res.AnomalyCounts = map[string]int{}
				}
				res.AnomalyCounts[t] = l.count
			}
		}
		res.Not, res.AlsoNot = a.lat.boundary(all)
		if res.Not == nil {
			res.Not = []string{}
		}
		if res.AlsoNot == nil {
			res.AlsoNot = []string{}
		}
	}
	impossible := a.lat.impossibleModels(all)
	res.Models = map[string]checker.Validity{}
	for _, m := range a.opts.ConsistencyModels {
		switch {
		case impossible[a.lat.canon(m)]:
			res.Models[m] = checker.Invalid
		case res.Valid == checker.Unknown:
			res.Models[m] = checker.Unknown
		default:
			res.Models[m] = checker.Valid
		}
	}
	return res
}

// opOf returns the completion op of txn t (its invocation when pending).
func (a *analysis) opOf(t int32) OpJSON {
	return OpJSON(a.p.ops[a.p.txns[t].pos])
}

func (a *analysis) opPtr(t int32) *OpJSON {
	o := a.opOf(t)
	return &o
}

// txnName names a txn in explanations: T1, T2... when a cycle is being
// explained, else "op <index>".
func (a *analysis) txnName(t int32) string {
	if n, ok := a.names[t]; ok {
		return n
	}
	return fmt.Sprintf("op %d", a.p.ops[a.p.txns[t].pos].Index)
}

// val wraps a history value for a result.
func (a *analysis) val(v any) *checker.Value { return &checker.Value{V: v} }

// opAnomaly builds the evidence of an anomaly in one micro-op of txn t:
// G1a, G1b (writer w and element/value e), internal (expected),
// future-read (element e).
func (a *analysis) opAnomaly(t int32, mi int, w int32, e int32, expected any) Anomaly {
	p := a.p
	var mopv any
	if raw := p.rawOf(t); mi < len(raw) {
		mopv = raw[mi]
	}
	an := Anomaly{Op: a.opPtr(t), Mop: a.val(mopv)}
	desc := fmtVal(mopv)
	switch {
	case expected != nil:
		an.Expected = a.val(expected)
		an.Explanation = fmt.Sprintf("%s read %s, but its own earlier reads and writes of that key lead to %s",
			a.txnName(t), desc, fmtVal(expected))
	case w >= 0:
		an.Writer = a.opPtr(w)
		if a.w == listAppend {
			an.Element = a.val(p.in.valVals[e])
		}
		how := "appended to that key again later in the same transaction"
		if a.w == rwRegister {
			how = "wrote that key again later in the same transaction"
		}
		if p.txns[w].kind == kindFail {
			an.Explanation = fmt.Sprintf("%s read %s, which includes %s written by %s, a transaction that failed (aborted read)",
				a.txnName(t), desc, fmtVal(p.in.valVals[e]), a.txnName(w))
		} else {
			an.Explanation = fmt.Sprintf("%s read %s: %s is an intermediate state, written by %s, which %s (intermediate read)",
				a.txnName(t), desc, fmtVal(p.in.valVals[e]), a.txnName(w), how)
		}
	case e >= 0:
		an.Element = a.val(p.in.valVals[e])
		an.Explanation = fmt.Sprintf("%s read %s, which includes %s, a value the same transaction appends only afterwards (future read)",
			a.txnName(t), desc, fmtVal(p.in.valVals[e]))
	}
	return an
}

// addDuplicates records a read that saw an element more than once.
func (a *analysis) addDuplicates(t int32, mi int, dups map[int32]int) {
	a.add("duplicate-elements", func() Anomaly {
		es := make([]int32, 0, len(dups))
		for e := range dups {
			es = append(es, e)
		}
		sort.Slice(es, func(i, j int) bool { return es[i] < es[j] })
		m := make(history.Map, 0, len(es))
		var parts []string
		for _, e := range es {
			v := a.p.in.valVals[e]
			m = append(m, history.Entry{Key: v, Val: int64(dups[e])})
			parts = append(parts, fmt.Sprintf("%s %d times", fmtVal(v), dups[e]))
		}
		an := a.opAnomaly(t, mi, -1, -1, nil)
		an.Duplicates = a.val(m)
		an.Explanation = fmt.Sprintf("%s read %s, which holds %s; every value is appended once",
			a.txnName(t), fmtVal(an.Mop.V), strings.Join(parts, ", "))
		return an
	})
}

// fmtVal renders a value in explanations: strings (EDN keywords, mostly)
// bare, everything else as history.Format does.
func fmtVal(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return history.Format(v)
}

// fmtOp renders an op in explanations.
func fmtOp(op history.Op) string {
	return fmt.Sprintf("op %d (process %s, %s): %s", op.Index, history.ProcessString(op.Process), op.Type, history.Format(op.Value))
}
