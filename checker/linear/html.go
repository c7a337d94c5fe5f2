package linear

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"slices"
	"strings"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
)

// Limits that keep linear.html small whatever the history.
const (
	htmlMaxFailures = 5
	htmlMaxOps      = 240 // ops drawn per timeline
	htmlMaxRows     = 60  // processes drawn per timeline
)

// RenderHTML writes a self-contained HTML page (inline CSS and SVG, no
// scripts or external assets) that shows r for history h: for each failing
// key (at most five), the ops around the failure on a timeline per process,
// from invocation to completion, coloured by outcome (ok, fail, info,
// never completed); the op that could not be linearized, the ops pending
// at that point and the linearized prefix that led there, with the model
// states. For a valid or unknown result it shows the summary and the start
// of the history. h must be the history r was computed from.
func RenderHTML(w io.Writer, h *history.History, r *Result) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	p("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Linearizability: %s</title>\n<style>%s</style></head><body>\n",
		esc(r.Valid.String()), htmlStyle)
	p("<h1>Linearizability (%s model): <span class=\"v-%s\">%s</span></h1>\n", esc(r.Model), r.Valid.String(), esc(r.Valid.String()))
	p("<p class=\"summary\">%s</p>\n", esc(r.Summary()))
	p("<p class=\"meta\">%d ops checked, %d failed ops dropped, %d crashed, %d part(s), %d configurations explored.</p>\n",
		r.Ops, r.Failed, r.Crashed, r.Keys, r.Explored)
	p("%s", htmlLegend)
	if h == nil {
		p("<p>No history.</p>")
	} else if r.Valid == checker.Invalid {
		for i := range r.Failures {
			if i == htmlMaxFailures {
				p("<p>%d more failing keys are not drawn; see results.json.</p>\n", len(r.Failures)-i)
				break
			}
			renderFailure(p, h, r, &r.Failures[i])
		}
	} else {
		tl := newTimeline(h, r, nil)
		tl.pickStart(0)
		p("<h2>First ops of the history</h2>\n")
		tl.render(p)
	}
	p("</body></html>\n")
	return bw.Flush()
}

func esc(s string) string { return html.EscapeString(s) }

func renderFailure(p func(string, ...any), h *history.History, r *Result, f *Failure) {
	title := "Failure"
	if f.keyed {
		title = "Key " + formatJSONValue(f.Key)
	}
	p("<section><h2>%s</h2>\n<p class=\"summary\">%s</p>\n", esc(title), esc(f.Summary()))
	tl := newTimeline(h, r, f)
	tl.pickAround()
	tl.render(p)
	if len(f.FinalPaths) > 0 {
		p("<h3>Furthest linearizations</h3>\n")
		for k, path := range f.FinalPaths {
			if k == 3 {
				p("<p>%d more.</p>\n", len(f.FinalPaths)-k)
				break
			}
			p("<table class=\"path\"><tr><th>#</th><th>op</th><th>model after it</th></tr>\n")
			for i, st := range path {
				state := esc(st.Model)
				cls := ""
				if st.Error != "" {
					state, cls = "<b>"+esc(st.Error)+"</b>", " class=\"bad\""
				}
				p("<tr%s><td>%d</td><td>%s</td><td>%s</td></tr>\n", cls, i+1, esc(st.Op.describe()), state)
			}
			if k < len(f.Configs) && len(f.Configs[k].Pending) > 0 {
				var pend []string
				for _, o := range f.Configs[k].Pending {
					pend = append(pend, o.describe())
				}
				more := ""
				if n := f.Configs[k].PendingMore; n > 0 {
					more = fmt.Sprintf(" and %d more", n)
				}
				p("<tr><td></td><td colspan=\"2\">pending: %s%s</td></tr>\n", esc(strings.Join(pend, "; ")), more)
			}
			p("</table>\n")
		}
	}
	p("</section>\n")
}

// timeline is the set of ops drawn for one failure (or for the start of a
// history).
type timeline struct {
	h   *history.History
	f   *Failure
	key any
	// invocation positions of the ops of this key (all, including failed
	// and nemesis-free client ops), in history order
	all  []int
	pick []int // the ones drawn
	// evidence: invocation position -> label
	step    map[int]string // linearized prefix: "#3→2"
	pending map[int]bool
	failing int // invocation position of the failing op, or -1
}

func newTimeline(h *history.History, r *Result, f *Failure) *timeline {
	t := &timeline{h: h, f: f, failing: -1, step: map[int]string{}, pending: map[int]bool{}}
	if f != nil {
		t.key = f.Key
		t.failing = f.Op.inv
		if len(f.FinalPaths) > 0 {
			path := f.FinalPaths[0]
			for i, st := range path[:len(path)-1] {
				t.step[st.Op.inv] = fmt.Sprintf("#%d→%s", i+1, st.Model)
			}
		}
		if len(f.Configs) > 0 {
			for _, o := range f.Configs[0].Pending {
				t.pending[o.inv] = true
			}
		}
	}
	for i := range h.Ops {
		op := &h.Ops[i]
		if op.Type != history.Invoke || op.Process < 0 {
			continue
		}
		if f != nil && f.keyed && !history.Equal(opKey(op, h, i, r.independent), f.rawKey) {
			continue
		}
		t.all = append(t.all, i)
	}
	return t
}

// opKey is the independent key of the invocation at position i, as Check
// saw it.
func opKey(op *history.Op, h *history.History, i int, independent bool) any {
	if independent {
		if v, ok := op.Value.([]any); ok && len(v) == 2 {
			return v[0]
		}
		return nil
	}
	if op.Key == nil {
		if j := h.Pair(i); j > i {
			return h.Ops[j].Key
		}
	}
	return op.Key
}

// pickStart draws the first ops from position from.
func (t *timeline) pickStart(from int) {
	i, _ := slices.BinarySearch(t.all, from)
	t.pick = t.all[i:min(len(t.all), i+htmlMaxOps)]
}

// pickAround draws the ops around the failure: from a little before the
// first op of the final path (or the failing op) to just after the
// failing op's completion.
func (t *timeline) pickAround() {
	start := t.failing
	for pos := range t.step {
		start = min(start, pos)
	}
	for pos := range t.pending {
		start = min(start, pos)
	}
	end := t.failing
	if t.f.Op.comp > end {
		end = t.f.Op.comp
	}
	lo, _ := slices.BinarySearch(t.all, start)
	hi, _ := slices.BinarySearch(t.all, end+1)
	lo = max(0, lo-8)
	hi = min(len(t.all), hi+4)
	// Keep the failing op in view when the window is too wide.
	if hi-lo > htmlMaxOps {
		fi, _ := slices.BinarySearch(t.all, t.failing)
		lo = max(lo, fi-htmlMaxOps+20)
		hi = min(hi, lo+htmlMaxOps)
	}
	t.pick = t.all[lo:hi]
}

type bar struct {
	inv, comp int // positions; comp -1 when never completed
	op        *history.Op
	outcome   string // ok, fail, info, open
	value     any
}

func (t *timeline) render(p func(string, ...any)) {
	if len(t.pick) == 0 {
		p("<p>No ops to draw.</p>\n")
		return
	}
	var bars []bar
	var coords []int
	for _, i := range t.pick {
		b := bar{inv: i, comp: -1, op: &t.h.Ops[i], outcome: "open", value: t.h.Ops[i].Value}
		if j := t.h.Pair(i); j > i {
			b.comp = j
			c := &t.h.Ops[j]
			b.outcome = c.Type.String()
			if c.Type == history.OK {
				b.value = c.Value
			}
			coords = append(coords, j)
		}
		coords = append(coords, i)
		bars = append(bars, b)
	}
	slices.Sort(coords)
	coords = slices.Compact(coords)
	x := func(pos int) int {
		k, _ := slices.BinarySearch(coords, pos)
		return 90 + 14*k
	}
	right := x(coords[len(coords)-1]) + 40
	// rows: processes in order
	var procs []int
	for _, b := range bars {
		procs = append(procs, b.op.Process)
	}
	slices.Sort(procs)
	procs = slices.Compact(procs)
	if len(procs) > htmlMaxRows {
		procs = procs[:htmlMaxRows]
	}
	row := map[int]int{}
	for k, pr := range procs {
		row[pr] = k
	}
	const rh = 26
	height := 30 + rh*len(procs)
	p("<div class=\"tl\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">\n", right+10, height)
	p("<text x=\"4\" y=\"14\" class=\"axis\">history index %d … %d</text>\n", t.h.Ops[t.pick[0]].Index, t.h.Ops[coords[len(coords)-1]].Index)
	for k, pr := range procs {
		y := 24 + rh*k
		p("<text x=\"4\" y=\"%d\" class=\"proc\">p%d</text><line x1=\"86\" x2=\"%d\" y1=\"%d\" y2=\"%d\" class=\"lane\"/>\n", y+14, pr, right, y+rh-2, y+rh-2)
	}
	for _, b := range bars {
		k, ok := row[b.op.Process]
		if !ok {
			continue
		}
		y := 24 + rh*k
		x1 := x(b.inv)
		x2 := right - 4
		if b.comp >= 0 {
			x2 = x(b.comp)
		}
		if x2-x1 < 8 {
			x2 = x1 + 8
		}
		cls := "op " + b.outcome
		switch {
		case b.inv == t.failing:
			cls += " failing"
		case t.pending[b.inv]:
			cls += " pending"
		}
		if _, ok := t.step[b.inv]; ok {
			cls += " lin"
		}
		tip := fmt.Sprintf("process %d %s %s → %s (index %d", b.op.Process, b.op.F, history.Format(b.op.Value), b.outcome, b.op.Index)
		if b.comp >= 0 {
			tip += fmt.Sprintf("…%d", t.h.Ops[b.comp].Index)
		}
		tip += ")"
		if b.outcome == history.OK.String() {
			tip += " value " + history.Format(b.value)
		}
		label := b.op.F + " " + history.Format(b.value)
		if s, ok := t.step[b.inv]; ok {
			n, _, _ := strings.Cut(s, "→")
			label = n + " " + label
			tip += "; linearized " + s
		}
		// Only what fits in the bar (about 7 px a character).
		if fit := max(1, (x2-x1-4)/7); len([]rune(label)) > fit {
			label = string([]rune(label)[:fit])
		}
		p("<g class=\"%s\"><title>%s</title><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"3\"/><text x=\"%d\" y=\"%d\">%s</text></g>\n",
			cls, esc(tip), x1, y+2, x2-x1, rh-6, x1+3, y+15, esc(label))
	}
	p("</svg></div>\n")
}

const htmlStyle = `
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
h1 .v-invalid{color:#b00020} h1 .v-valid{color:#1b7f3b} h1 .v-unknown{color:#a66b00}
.summary{font-size:1.05em;max-width:70em}
.meta{color:#555}
.tl{overflow-x:auto;border:1px solid #ddd;margin:.5em 0;background:#fcfcfc}
.tl text{font-size:11px;font-family:ui-monospace,monospace}
.axis{fill:#666}
.proc{fill:#333;font-weight:bold}
.lane{stroke:#eee}
.op rect{stroke:#555;stroke-width:1}
.op.ok rect{fill:#b7e4c7}
.op.fail rect{fill:#eeeeee;stroke-dasharray:3 2}
.op.info rect{fill:#ffe8a3}
.op.open rect{fill:#ffe8a3;stroke-dasharray:4 2}
.op.lin rect{stroke:#1b5e20;stroke-width:2}
.op.pending rect{stroke:#e07b00;stroke-width:2.5}
.op.failing rect{fill:#ffb3b3;stroke:#b00020;stroke-width:3}
.op text{fill:#111;pointer-events:none}
table.path{border-collapse:collapse;margin:.5em 0}
table.path td,table.path th{border:1px solid #ccc;padding:2px 6px;font-family:ui-monospace,monospace;font-size:12px}
table.path tr.bad td{background:#ffe0e0}
.legend span{display:inline-block;padding:1px 6px;margin-right:6px;border:1px solid #555;font-size:12px}
`

const htmlLegend = `<p class="legend"><span style="background:#b7e4c7">ok</span><span style="background:#eee;border-style:dashed">fail (did not happen)</span><span style="background:#ffe8a3">info (crashed: may happen later or never)</span><span style="background:#ffe8a3;border-style:dashed">never completed</span><span style="border:2px solid #1b5e20">#n→s: linearized n-th, state s after it</span><span style="border:2px solid #e07b00">pending at the failure</span><span style="background:#ffb3b3;border:3px solid #b00020">could not be linearized</span></p>
`
