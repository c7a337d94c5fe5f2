package elle

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// This file holds the consistency models and anomalies and how they relate,
// after Elle's elle.consistency-model (the facts: which anomaly implies
// which, which model implies which, which model forbids which anomalies,
// and the canonical and friendly names of models). The data are literal
// tables; lattice builds the derived relations once per checker.

// impliedAnomalies: an anomaly implies each anomaly it maps to (if a
// history has a G0 it also has a G1c, since every G0 cycle is a G1c cycle).
func impliedAnomalies() map[string][]string {
	return map[string][]string{
		"G0":                          {"G1c", "G0-process"},
		"G0-process":                  {"G1c-process", "G0-realtime"},
		"G0-realtime":                 {"G1c-realtime"},
		"G1a":                         {"G1"},
		"G1b":                         {"G1"},
		"G1c":                         {"G1", "G1c-process"},
		"G1c-process":                 {"G1c-realtime", "G1-process"},
		"G1c-realtime":                {"G1-realtime"},
		"G1":                          {"G1-process"},
		"G1-process":                  {"G1-realtime"},
		"G-single-item":               {"G-single", "G-single-item-process", "G-nonadjacent-item"},
		"G-single-item-process":       {"G-single-process", "G-single-item-realtime", "G-nonadjacent-item-process"},
		"G-single-item-realtime":      {"G-single-realtime", "G-nonadjacent-item-realtime"},
		"G-single":                    {"G-nonadjacent", "GSIb", "G-single-process"},
		"G-single-process":            {"G-nonadjacent-process", "G-single-realtime"},
		"G-single-realtime":           {"G-nonadjacent-realtime"},
		"G-nonadjacent-item":          {"G-nonadjacent", "G2-item", "G-nonadjacent-item-process"},
		"G-nonadjacent-item-process":  {"G-nonadjacent-process", "G2-item-process", "G-nonadjacent-item-realtime"},
		"G-nonadjacent-item-realtime": {"G2-item-realtime", "G-nonadjacent-realtime"},
		"G-nonadjacent":               {"G2", "G-nonadjacent-process"},
		"G-nonadjacent-process":       {"G2-process", "G-nonadjacent-realtime"},
		"G-nonadjacent-realtime":      {"G2-realtime"},
		"G2":                          {"G2-process"},
		"G2-item":                     {"G2", "G2-item-process"},
		"G2-item-process":             {"G2-process", "G2-item-realtime"},
		"G2-item-realtime":            {"G2-realtime"},
		"G2-process":                  {"G2-realtime"},
		"GSIa":                        {"GSI"},
		"GSIb":                        {"GSI"},
		"incompatible-order":          {"G1a"},
		"future-read":                 {"G1c"},
		"dirty-update":                {"G1a"},
		"lost-update":                 {"write-skew", "G2-item"},
		"write-skew":                  {"G2"},
	}
}

// anomalySeverity orders anomalies that do not imply each other by how bad
// they are; it only affects the order in which cycles are searched.
func anomalySeverity() map[string][]string {
	return map[string][]string{
		"G0":           {"G1c"},
		"G0-process":   {"G1c-process"},
		"G0-realtime":  {"G1c-realtime"},
		"G1c":          {"G-single", "G2-item"},
		"G1c-process":  {"G-single-process", "G2-item-process"},
		"G1c-realtime": {"G-single-realtime", "G2-item-realtime"},
		"G2":           {"G0-process"},
		"G2-process":   {"G0-realtime"},
	}
}

// canonicalModelNames maps friendly model names to Adya's (canonical) ones.
func canonicalModelNames() map[string]string {
	return map[string]string{
		"consistent-view":                 "PL-2+",
		"conflict-serializable":           "PL-3",
		"cursor-stability":                "PL-CS",
		"forward-consistent-view":         "PL-FCV",
		"monotonic-snapshot-read":         "PL-MSR",
		"monotonic-view":                  "PL-2L",
		"read-committed":                  "PL-2",
		"read-uncommitted":                "PL-1",
		"repeatable-read":                 "PL-2.99",
		"serializable":                    "PL-3",
		"snapshot-isolation":              "PL-SI",
		"strict-serializable":             "PL-SS",
		"strong-serializable":             "PL-SS",
		"update-serializable":             "PL-3U",
		"strong-session-read-uncommitted": "strong-session-PL-1",
		"strong-session-read-committed":   "strong-session-PL-2",
		"strong-read-uncommitted":         "strong-PL-1",
		"strong-read-committed":           "strong-PL-2",
	}
}

// friendlyOverrides picks the friendly name where several map to one
// canonical name, as Elle's output does.
func friendlyOverrides() map[string]string {
	return map[string]string{"PL-3": "serializable", "PL-SS": "strong-serializable"}
}

// modelImplications: a history satisfying a model satisfies each model it
// maps to. Names are friendly or canonical; they are canonicalised.
func modelImplications() map[string][]string {
	return map[string][]string{
		"causal-cerone":                     {"read-atomic"},
		"consistent-view":                   {"cursor-stability", "monotonic-view"},
		"conflict-serializable":             {"view-serializable"},
		"cursor-stability":                  {"read-committed", "PL-2"},
		"forward-consistent-view":           {"consistent-view"},
		"PL-2":                              {"PL-1"},
		"PL-3":                              {"repeatable-read", "update-serializable"},
		"update-serializable":               {"forward-consistent-view"},
		"monotonic-atomic-view":             {"read-committed"},
		"monotonic-view":                    {"PL-2"},
		"monotonic-snapshot-read":           {"PL-2"},
		"parallel-snapshot-isolation":       {"causal-cerone", "update-atomic"},
		"prefix":                            {"causal-cerone"},
		"read-atomic":                       {"monotonic-atomic-view"},
		"read-committed":                    {"read-uncommitted"},
		"repeatable-read":                   {"cursor-stability", "monotonic-atomic-view"},
		"update-atomic":                     {"read-atomic"},
		"serializable":                      {"repeatable-read", "snapshot-isolation", "view-serializable"},
		"session-serializable":              {"1SR"},
		"snapshot-isolation":                {"forward-consistent-view", "monotonic-atomic-view", "monotonic-snapshot-read", "parallel-snapshot-isolation", "prefix"},
		"strict-serializable":               {"PL-3", "serializable", "linearizable", "snapshot-isolation", "strong-snapshot-isolation", "strong-session-serializable"},
		"strong-session-PL-1":               {"PL-1"},
		"strong-session-PL-2":               {"PL-2", "strong-session-PL-1"},
		"strong-PL-1":                       {"strong-session-PL-1"},
		"strong-PL-2":                       {"strong-session-PL-2", "strong-PL-1"},
		"strong-session-serializable":       {"serializable", "strong-session-snapshot-isolation"},
		"strong-session-snapshot-isolation": {"snapshot-isolation", "strong-session-PL-2"},
		"strong-serializable":               {"session-serializable"},
		"strong-snapshot-isolation":         {"strong-session-snapshot-isolation", "strong-PL-2"},
		"linearizable":                      {"sequential"},
		"sequential":                        {"causal"},
		"causal":                            {"writes-follow-reads", "PRAM"},
		"PRAM":                              {"monotonic-reads", "monotonic-writes", "read-your-writes"},
	}
}

// directlyProscribed: the anomalies each model forbids on top of those its
// weaker models forbid.
func directlyProscribed() map[string][]string {
	return map[string][]string{
		"causal-cerone":                     {"internal", "G1a"},
		"cursor-stability":                  {"G1", "G-cursor", "lost-update"},
		"monotonic-view":                    {"G1", "G-monotonic"},
		"monotonic-snapshot-read":           {"G1", "G-MSR"},
		"consistent-view":                   {"G1", "G-single"},
		"forward-consistent-view":           {"G1", "G-SIb"},
		"parallel-snapshot-isolation":       {"internal", "G1a"},
		"PL-3":                              {"G1", "G2", "predicate-read-miss", "PL-3-cycle-exists"},
		"PL-2":                              {"G1", "PL-2-cycle-exists"},
		"PL-1":                              {"G0", "duplicate-elements", "cyclic-versions", "PL-1-cycle-exists"},
		"prefix":                            {"internal", "G1a"},
		"serializable":                      {"internal"},
		"snapshot-isolation":                {"internal", "G1", "G-SI", "G-nonadjacent", "PL-SI-cycle-exists"},
		"read-atomic":                       {"internal", "G1a", "future-read"},
		"repeatable-read":                   {"G1", "G2-item", "PL-2.99-cycle-exists", "lost-update"},
		"update-atomic":                     {"lost-update"},
		"strict-serializable":               {"G1", "G1c-realtime", "G2-realtime", "PL-SS-cycle-exists"},
		"strong-session-PL-1":               {"strong-session-PL-1-cycle-exists", "G0-process"},
		"strong-session-PL-2":               {"strong-session-PL-2-cycle-exists", "G1c-process"},
		"strong-PL-1":                       {"strong-PL-1-cycle-exists", "G0-realtime"},
		"strong-PL-2":                       {"strong-PL-2-cycle-exists", "G1c-realtime"},
		"strong-session-snapshot-isolation": {"internal", "G1-process", "G-nonadjacent-process", "strong-session-snapshot-isolation-cycle-exists"},
		"strong-snapshot-isolation":         {"internal", "G1-realtime", "G-nonadjacent-realtime", "strong-snapshot-isolation-cycle-exists"},
		"strong-session-serializable":       {"G1-process", "G2-process", "strong-session-serializable-cycle-exists"},
		"update-serializable":               {"G1", "G-update"},
	}
}

// dag is a small directed graph over names.
type dag struct {
	out, in map[string][]string
}

func newDAG() *dag { return &dag{out: map[string][]string{}, in: map[string][]string{}} }

func (d *dag) link(a, b string) {
	if slices.Contains(d.out[a], b) {
		return
	}
	d.out[a] = append(d.out[a], b)
	d.in[b] = append(d.in[b], a)
	if _, ok := d.in[a]; !ok {
		d.in[a] = nil
	}
	if _, ok := d.out[b]; !ok {
		d.out[b] = nil
	}
}

func (d *dag) vertices() []string {
	vs := make([]string, 0, len(d.out))
	for v := range d.out {
		vs = append(vs, v)
	}
	sort.Strings(vs)
	return vs
}

// reach returns start and everything reachable from it along next.
func reach(next map[string][]string, start []string) map[string]bool {
	seen := map[string]bool{}
	stack := slices.Clone(start)
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[v] {
			continue
		}
		seen[v] = true
		stack = append(stack, next[v]...)
	}
	return seen
}

// lattice is the derived view of the tables above.
type lattice struct {
	implied    *dag // anomaly -> implied anomaly
	models     *dag // model -> weaker model (canonical names)
	proscribed *dag // canonical model -> anomaly
	canonical  map[string]string
	friendly   map[string]string
	allModels  map[string]bool
	depth      map[string]int
	anomalies  []string // every known anomaly, by depth then name
}

func newLattice() *lattice {
	l := &lattice{implied: newDAG(), models: newDAG(), proscribed: newDAG(), canonical: canonicalModelNames(), friendly: map[string]string{}}
	for a, bs := range impliedAnomalies() {
		for _, b := range bs {
			l.implied.link(a, b)
		}
	}
	for f, c := range l.canonical {
		if cur, ok := l.friendly[c]; !ok || f < cur {
			l.friendly[c] = f
		}
	}
	for c, f := range friendlyOverrides() {
		l.friendly[c] = f
	}
	for a, bs := range modelImplications() {
		for _, b := range bs {
			l.models.link(l.canon(a), l.canon(b))
		}
	}
	for m, as := range directlyProscribed() {
		for _, a := range as {
			l.proscribed.link(l.canon(m), a)
		}
	}
	l.allModels = map[string]bool{}
	for v := range l.models.out {
		l.allModels[v] = true
	}
	for f, c := range l.canonical {
		l.allModels[f], l.allModels[c] = true, true
	}
	// Depths: topological depth in implied plus severity; anomalies that a
	// model forbids directly are at least depth 0.
	merged := newDAG()
	for a, bs := range l.implied.out {
		for _, b := range bs {
			merged.link(a, b)
		}
	}
	for a, bs := range anomalySeverity() {
		for _, b := range bs {
			merged.link(a, b)
		}
	}
	l.depth = topoDepths(merged)
	for _, m := range l.proscribed.vertices() {
		for _, a := range l.proscribed.out[m] {
			if _, ok := l.depth[a]; !ok {
				l.depth[a] = 0
			}
		}
	}
	for a := range l.depth {
		l.anomalies = append(l.anomalies, a)
	}
	l.sortAnomalies(l.anomalies)
	return l
}

// topoDepths gives each vertex its depth: sources 0, and otherwise one more
// than the deepest predecessor (removing sources layer by layer).
func topoDepths(d *dag) map[string]int {
	indeg := map[string]int{}
	for v := range d.out {
		indeg[v] += 0
		for _, w := range d.out[v] {
			indeg[w]++
		}
	}
	depth := map[string]int{}
	var layer []string
	for v, n := range indeg {
		if n == 0 {
			layer = append(layer, v)
		}
	}
	for k := 0; len(layer) > 0; k++ {
		var next []string
		for _, v := range layer {
			depth[v] = k
			for _, w := range d.out[v] {
				indeg[w]--
				if indeg[w] == 0 {
					next = append(next, w)
				}
			}
		}
		layer = next
	}
	return depth
}

// sortAnomalies orders anomaly names as Elle's anomaly-depth-compare: by
// depth, then by name.
func (l *lattice) sortAnomalies(as []string) {
	sort.Slice(as, func(i, j int) bool {
		di, dj := l.depth[as[i]], l.depth[as[j]]
		if di != dj {
			return di < dj
		}
		return as[i] < as[j]
	})
}

func (l *lattice) canon(m string) string {
	if c, ok := l.canonical[m]; ok {
		return c
	}
	return m
}

func (l *lattice) friendlyName(m string) string {
	if f, ok := l.friendly[m]; ok {
		return f
	}
	return m
}

// knownModel reports whether m names a model.
func (l *lattice) knownModel(m string) bool { return l.allModels[m] }

// knownAnomaly reports whether a names an anomaly.
func (l *lattice) knownAnomaly(a string) bool {
	_, ok := l.depth[a]
	return ok || a == "empty-transaction-graph" || a == "cycle-search-timeout"
}

func (l *lattice) modelNames() []string {
	ms := make([]string, 0, len(l.allModels))
	for m := range l.allModels {
		ms = append(ms, m)
	}
	sort.Strings(ms)
	return ms
}

// anomaliesImplying returns the anomalies that imply any of as (as
// included).
func (l *lattice) anomaliesImplying(as []string) map[string]bool {
	return reach(l.implied.in, as)
}

// impliedBy returns the anomalies any of as implies (as included).
func (l *lattice) impliedBy(as []string) map[string]bool {
	return reach(l.implied.out, as)
}

// prohibitedBy returns the anomalies that cannot be present if every one
// of models holds.
func (l *lattice) prohibitedBy(models []string) map[string]bool {
	cs := make([]string, len(models))
	for i, m := range models {
		cs[i] = l.canon(m)
	}
	var direct []string
	for m := range reach(l.models.out, cs) {
		direct = append(direct, l.proscribed.out[m]...)
	}
	return l.anomaliesImplying(direct)
}

// impossibleModels returns the (canonical) models that cannot hold given
// the anomalies as.
func (l *lattice) impossibleModels(as []string) map[string]bool {
	var ms []string
	for a := range l.impliedBy(as) {
		ms = append(ms, l.proscribed.in[a]...)
	}
	return reach(l.models.in, ms)
}

// modelsImplying returns the models implying any of ms, ms included
// (canonical names).
func (l *lattice) modelsImplying(ms []string) map[string]bool {
	cs := make([]string, len(ms))
	for i, m := range ms {
		cs[i] = l.canon(m)
	}
	return reach(l.models.in, cs)
}

// weakest returns the models of ms that no other model of ms is weaker than.
func (l *lattice) weakest(ms map[string]bool) []string {
	var out []string
	for m := range ms {
		covered := false
		for w := range reach(l.models.out, []string{m}) {
			if w != m && ms[w] {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, m)
		}
	}
	return out
}

// boundary returns the weakest models the anomalies rule out (not) and the
// other models they rule out (also-not), with friendly names, sorted.
func (l *lattice) boundary(as []string) (not, alsoNot []string) {
	imp := l.impossibleModels(as)
	weak := l.weakest(imp)
	isWeak := map[string]bool{}
	for _, m := range weak {
		isWeak[m] = true
		not = append(not, l.friendlyName(m))
	}
	seen := map[string]bool{}
	for m := range imp {
		if !isWeak[m] {
			f := l.friendlyName(m)
			if !seen[f] {
				seen[f] = true
				alsoNot = append(alsoNot, f)
			}
		}
	}
	sort.Strings(not)
	sort.Strings(alsoNot)
	return uniq(not), alsoNot
}

func uniq(ss []string) []string {
	out := ss[:0]
	for i, s := range ss {
		if i == 0 || s != ss[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// Models returns every consistency model name the checkers know (Elle's
// names, friendly and canonical), sorted.
func Models() []string { return newLattice().modelNames() }

// Anomalies returns every anomaly type the checkers know, in Elle's order
// (by implication depth, then name), plus the two that make a result
// unknown: empty-transaction-graph and cycle-search-timeout.
func Anomalies() []string {
	l := newLattice()
	return append(slices.Clone(l.anomalies), "empty-transaction-graph", "cycle-search-timeout")
}

// ParseModels reads a comma-separated list of consistency model names
// (Elle's, e.g. "serializable,snapshot-isolation"; a leading colon is
// allowed) and checks each is known.
func ParseModels(csv string) ([]string, error) {
	l := newLattice()
	ms := splitNames(csv)
	for _, m := range ms {
		if !l.knownModel(m) {
			return nil, fmt.Errorf("unknown consistency model %q; known models: %s", m, strings.Join(l.modelNames(), ", "))
		}
	}
	return ms, nil
}

// ParseAnomalies reads a comma-separated list of anomaly types (e.g.
// "G1,G2-item") and checks each is known.
func ParseAnomalies(csv string) ([]string, error) {
	l := newLattice()
	as := splitNames(csv)
	for _, a := range as {
		if !l.knownAnomaly(a) {
			return nil, fmt.Errorf("unknown anomaly %q; known anomalies: %s", a, strings.Join(Anomalies(), ", "))
		}
	}
	return as, nil
}

func splitNames(csv string) []string {
	var out []string
	for _, p := range strings.Split(csv, ",") {
		p = strings.TrimPrefix(strings.TrimSpace(p), ":")
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}
