package report

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
)

// outcomeOrder is the order the latency plot draws outcomes in (later ones
// on top).
func outcomeOrder() [3]history.Type { return [3]history.Type{history.OK, history.Info, history.Fail} }

// timeAxis is the x axis of every plot: seconds from 0 to the history's end.
func (d *runData) timeAxis() axis {
	return linearAxis(0, float64(d.tmax)/1e9, plotLeft, plotRight, 10, "time (s)")
}

// drawNemesis shades the nemesis intervals and marks the other nemesis ops.
func (d *runData) drawNemesis(p *svgPlot) {
	for _, iv := range d.intervals {
		li, ok := d.laneOf[iv.Name]
		if !ok {
			continue
		}
		x0 := p.x.pos(float64(iv.Start) / 1e9)
		x1 := p.x.pos(float64(d.intervalEnd(iv)) / 1e9)
		p.shade(li, x0, x1, intervalTip(iv))
	}
	for _, m := range d.marks {
		if m.time < 0 {
			continue
		}
		p.mark(d.markLane[m.f], p.x.pos(float64(m.time)/1e9), markTip(m))
	}
}

// nemesisLegend is the legend's part for the nemesis lanes.
func (d *runData) nemesisLegend() []legendItem {
	var items []legendItem
	for _, l := range d.lanes {
		items = append(items, legendItem{label: l.name, colour: l.colour, marker: "band"})
	}
	return items
}

func (d *runData) fLegend() []legendItem {
	items := make([]legendItem, 0, len(d.fs))
	for i, f := range d.fs {
		items = append(items, legendItem{label: f, colour: fColour(i), marker: "line", width: 3})
	}
	return items
}

// latencyRange is the range of latencies in ms (positive).
func latencyRange(ms []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), 0
	for _, v := range ms {
		v = math.Max(v, minLatencyMS)
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if math.IsInf(lo, 1) {
		return 0.1, 1000
	}
	return lo, hi
}

// minLatencyMS is the lowest latency drawn on the log scale (1 µs).
const minLatencyMS = 0.001

// latencyRawSVG draws every completed client op: its latency over its
// invocation time, coloured by f, shaped by outcome.
func latencyRawSVG(d *runData) []byte {
	ms := make([]float64, len(d.lat))
	for i, p := range d.lat {
		ms[i] = float64(p.Latency) / 1e6
	}
	p := newPlot(d.title("latency of every op"), d.lanes)
	p.x = d.timeAxis()
	lo, hi := latencyRange(ms)
	p.y = logAxis(lo, hi, p.bottom(), p.top, "latency (ms)")
	p.begin()
	d.drawNemesis(p)
	if len(d.lat) == 0 {
		p.note(d.emptyNote())
	}
	// One path per f and outcome; points that fall on the same pixel are
	// drawn once, so the picture's size is bounded by its area.
	type key struct {
		f int
		t history.Type
	}
	paths := map[key]*strings.Builder{}
	seen := map[key]map[uint32]bool{}
	for i, pt := range d.lat {
		k := key{d.fIndex[pt.F], pt.Type}
		x := int(math.Round(p.x.pos(float64(pt.Time) / 1e9)))
		y := int(math.Round(p.y.pos(ms[i])))
		s := seen[k]
		if s == nil {
			s = map[uint32]bool{}
			seen[k] = s
			paths[k] = &strings.Builder{}
		}
		pix := uint32(x)<<16 | uint32(y)&0xffff
		if s[pix] {
			continue
		}
		s[pix] = true
		b := paths[k]
		if pt.Type == history.Info {
			fmt.Fprintf(b, "M%d %dm-2.5 -2.5l5 5m0 -5l-5 5", x, y)
		} else {
			fmt.Fprintf(b, "M%d %dh0", x, y)
		}
	}
	for _, t := range outcomeOrder() {
		for fi := range d.fs {
			b := paths[key{fi, t}]
			if b == nil {
				continue
			}
			var style string
			switch t {
			case history.OK:
				style = `stroke-width="3.2" stroke-linecap="round"`
			case history.Fail:
				style = `stroke-width="3.2" stroke-linecap="square"`
			default:
				style = `stroke-width="1.4"`
			}
			fmt.Fprintf(&p.b, `<path fill="none" stroke="%s" %s d="%s"><title>%s %s</title></path>`+"\n",
				fColour(fi), style, b.String(), esc(d.fs[fi]), t)
		}
	}
	items := d.fLegend()
	items = append(items,
		legendItem{label: "ok", colour: "#555", marker: "dot"},
		legendItem{label: "fail", colour: "#555", marker: "square"},
		legendItem{label: "info", colour: "#555", marker: "cross"})
	items = append(items, d.nemesisLegend()...)
	p.legend(items)
	return p.end()
}

// quantileStyle is how one quantile is drawn.
type quantileStyle struct {
	q     float64
	label string
	dash  string
	width float64
}

func quantileStyles() []quantileStyle {
	return []quantileStyle{
		{0.5, "median", "", 2},
		{0.95, "0.95", "7 3", 1.6},
		{0.99, "0.99", "3 2", 1.6},
		{1, "max", "1 2", 1.2},
	}
}

// window returns the width of the time windows of the quantile and rate
// plots: a round duration giving about n windows over the history.
func (d *runData) window(n int) int64 {
	w := int64(niceStep(float64(d.tmax), n))
	return max(w, int64(time.Millisecond))
}

// latencyQuantilesSVG draws, per f, the median, 0.95, 0.99 and maximum
// latency of the ops invoked in each time window (all outcomes).
func latencyQuantilesSVG(d *runData) []byte {
	dt := d.window(60)
	nw := int(d.tmax/dt) + 1
	// per f, per window: latencies in ms
	byF := make([][][]float64, len(d.fs))
	var all []float64
	for _, pt := range d.lat {
		fi := d.fIndex[pt.F]
		if byF[fi] == nil {
			byF[fi] = make([][]float64, nw)
		}
		w := int(max(pt.Time, 0) / dt)
		if w >= nw {
			w = nw - 1
		}
		v := float64(pt.Latency) / 1e6
		byF[fi][w] = append(byF[fi][w], v)
		all = append(all, v)
	}
	p := newPlot(d.title(fmt.Sprintf("latency quantiles per %s window", durationText(dt))), d.lanes)
	p.x = d.timeAxis()
	lo, hi := latencyRange(all)
	p.y = logAxis(lo, hi, p.bottom(), p.top, "latency (ms)")
	p.begin()
	d.drawNemesis(p)
	if len(d.lat) == 0 {
		p.note(d.emptyNote())
	}
	for fi := range d.fs {
		if byF[fi] == nil {
			continue
		}
		qs := make([][]float64, nw) // window -> quantile values
		for w, ls := range byF[fi] {
			if len(ls) == 0 {
				continue
			}
			slices.Sort(ls)
			for _, st := range quantileStyles() {
				qs[w] = append(qs[w], ls[quantileIndex(len(ls), st.q)])
			}
		}
		for qi, st := range quantileStyles() {
			var b strings.Builder
			prev := false
			for w := range nw {
				if qs[w] == nil {
					prev = false
					continue
				}
				t := float64(int64(w)*dt+dt/2) / 1e9
				x, y := p.x.pos(math.Min(t, p.x.hi)), p.y.pos(math.Max(qs[w][qi], minLatencyMS))
				if prev {
					fmt.Fprintf(&b, "L%s %s", num(x), num(y))
				} else {
					fmt.Fprintf(&b, "M%s %s", num(x), num(y))
					// a lone window still shows as a dot
					b.WriteString("h0")
				}
				prev = true
			}
			dash := ""
			if st.dash != "" {
				dash = ` stroke-dasharray="` + st.dash + `"`
			}
			fmt.Fprintf(&p.b, `<path fill="none" stroke="%s" stroke-width="%s" stroke-linecap="round"%s d="%s"><title>%s %s</title></path>`+"\n",
				fColour(fi), num(st.width), dash, b.String(), esc(d.fs[fi]), st.label)
		}
	}
	items := d.fLegend()
	for _, st := range quantileStyles() {
		items = append(items, legendItem{label: st.label, colour: "#555", marker: "line", dash: st.dash, width: st.width})
	}
	items = append(items, d.nemesisLegend()...)
	p.legend(items)
	return p.end()
}

// quantileIndex is the nearest-rank position of quantile q among n sorted
// values.
func quantileIndex(n int, q float64) int {
	i := int(math.Ceil(q*float64(n))) - 1
	return min(max(i, 0), n-1)
}

// rateSVG draws the throughput of client completions per f and outcome.
func rateSVG(d *runData) []byte {
	dt := d.window(80)
	series := checker.Rates(d.h, time.Duration(dt))
	hi := 0.0
	for _, s := range series {
		for _, pt := range s.Points {
			hi = math.Max(hi, pt.Rate)
		}
	}
	p := newPlot(d.title(fmt.Sprintf("throughput per %s window", durationText(dt))), d.lanes)
	p.x = d.timeAxis()
	p.y = linearAxis(0, math.Max(hi*1.05, 1), p.bottom(), p.top, 6, "throughput (ops/s)")
	p.begin()
	d.drawNemesis(p)
	if len(series) == 0 {
		p.note(d.emptyNote())
	}
	var items []legendItem
	for _, s := range series {
		fi := d.fIndex[s.F]
		dash, width := outcomeDash(s.Type)
		var b strings.Builder
		for i, pt := range s.Points {
			t := math.Min(float64(pt.Time)/1e9, p.x.hi)
			if i == 0 {
				fmt.Fprintf(&b, "M%s %s", num(p.x.pos(t)), num(p.y.pos(pt.Rate)))
			} else {
				fmt.Fprintf(&b, "L%s %s", num(p.x.pos(t)), num(p.y.pos(pt.Rate)))
			}
		}
		attr := ""
		if dash != "" {
			attr = ` stroke-dasharray="` + dash + `"`
		}
		fmt.Fprintf(&p.b, `<path fill="none" stroke="%s" stroke-width="%s" stroke-linejoin="round"%s d="%s"><title>%s %s</title></path>`+"\n",
			fColour(fi), num(width), attr, b.String(), esc(s.F), s.Type)
		items = append(items, legendItem{label: s.F + " " + s.Type.String(), colour: fColour(fi), marker: "line", dash: dash, width: width})
	}
	items = append(items, d.nemesisLegend()...)
	p.legend(items)
	return p.end()
}

// outcomeDash is how a line of an outcome is drawn in the rate plot.
func outcomeDash(t history.Type) (dash string, width float64) {
	switch t {
	case history.Info:
		return "6 3", 1.6
	case history.Fail:
		return "2 2", 1.6
	}
	return "", 2
}

// emptyNote says why a plot has nothing to draw.
func (d *runData) emptyNote() string {
	for i := range d.h.Ops {
		if op := &d.h.Ops[i]; op.IsClient() && op.Type.IsCompletion() {
			return "the history has no op times to plot"
		}
	}
	return "no completed client operations"
}

func (d *runData) title(what string) string {
	if d.name == "" {
		return what
	}
	return d.name + ": " + what
}

// durationText renders a window width compactly: "10 ms", "2 s", "1 min".
func durationText(ns int64) string {
	switch {
	case ns >= int64(time.Minute) && ns%int64(time.Minute) == 0:
		return fmt.Sprintf("%d min", ns/int64(time.Minute))
	case ns >= int64(time.Second):
		return trimFloat(float64(ns)/1e9) + " s"
	case ns >= int64(time.Millisecond):
		return trimFloat(float64(ns)/1e6) + " ms"
	}
	return trimFloat(float64(ns)/1e3) + " µs"
}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.3f", f)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
