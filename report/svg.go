package report

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// The SVG plots share one layout: a title, one lane per nemesis above the
// plot area, the plot area with axes, and the legend on the right.
const (
	plotWidth   = 1000 // whole picture
	plotLeft    = 78   // x of the plot area
	plotRight   = 790  // x of the plot area's right edge
	legendLeft  = 808  // x of the legend
	plotHeight  = 380  // height of the plot area
	titleHeight = 34   // title above the lanes
	laneHeight  = 15   // one nemesis lane
	axisBottom  = 46   // x axis ticks and label below the plot area
)

// Colours. Client outcomes use the same colours in every output; fs take
// their colours from a palette in name order.
const (
	colourOK      = "#3b82c4"
	colourFail    = "#e0507a"
	colourInfo    = "#f29d1b"
	colourPending = "#9e9e9e"
)

// fColour is the colour of the i-th f in name order.
func fColour(i int) string {
	p := [...]string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"}
	return p[i%len(p)]
}

// nemesisColour is the colour of the i-th nemesis lane.
func nemesisColour(i int) string {
	p := [...]string{"#a0522d", "#6a5acd", "#2e8b57", "#b8860b", "#4682b4", "#8b008b", "#556b2f", "#cd5c5c"}
	return p[i%len(p)]
}

// esc escapes text for XML and HTML content and attributes.
func esc(s string) string { return html.EscapeString(s) }

// num formats a coordinate with at most one decimal.
func num(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "0"
	}
	return strconv.FormatFloat(math.Round(x*10)/10, 'f', -1, 64)
}

// axis maps data values to pixels, linearly or on a log10 scale.
type axis struct {
	lo, hi   float64 // data range (for log, the values themselves, > 0)
	p0, p1   float64 // pixel range
	log      bool
	label    string
	ticks    []float64
	minor    []float64
	tickText func(float64) string
}

func (a *axis) pos(v float64) float64 {
	lo, hi := a.lo, a.hi
	if a.log {
		v = math.Log10(math.Max(v, a.lo))
		lo, hi = math.Log10(lo), math.Log10(hi)
	}
	if hi == lo {
		return a.p0
	}
	return a.p0 + (v-lo)/(hi-lo)*(a.p1-a.p0)
}

// niceStep returns a step of 1, 2 or 5 times a power of ten close to
// span/n.
func niceStep(span float64, n int) float64 {
	if span <= 0 || n <= 0 {
		return 1
	}
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// linearAxis makes an axis over [0, hi] (or [lo, hi]) with about n ticks.
func linearAxis(lo, hi float64, p0, p1 float64, n int, label string) axis {
	if !(hi > lo) {
		hi = lo + 1
	}
	step := niceStep(hi-lo, n)
	hi = math.Ceil(hi/step-1e-9) * step
	a := axis{lo: lo, hi: hi, p0: p0, p1: p1, label: label}
	for i := math.Ceil(lo/step - 1e-9); i*step <= hi+step*1e-9; i++ {
		v := i * step
		if v == 0 {
			v = 0 // not -0
		}
		a.ticks = append(a.ticks, v)
	}
	decimals := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	a.tickText = func(v float64) string { return strconv.FormatFloat(v, 'f', decimals, 64) }
	return a
}

// logAxis makes a log10 axis covering [lo, hi] (both > 0) in whole decades.
func logAxis(lo, hi float64, p0, p1 float64, label string) axis {
	if !(lo > 0) {
		lo = 1
	}
	if !(hi > lo) {
		hi = lo * 10
	}
	d0, d1 := math.Floor(math.Log10(lo)+1e-9), math.Ceil(math.Log10(hi)-1e-9)
	if d1 <= d0 {
		d1 = d0 + 1
	}
	a := axis{lo: math.Pow(10, d0), hi: math.Pow(10, d1), p0: p0, p1: p1, log: true, label: label}
	for d := d0; d <= d1; d++ {
		v := math.Pow(10, d)
		a.ticks = append(a.ticks, v)
		if d < d1 {
			for m := 2.0; m < 10; m++ {
				a.minor = append(a.minor, m*v)
			}
		}
	}
	a.tickText = func(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }
	return a
}

// legendItem is one line of a legend: a marker or line sample and a label.
type legendItem struct {
	label  string
	colour string
	// marker is "dot", "square", "cross", "line" or "band"; dash is the
	// stroke-dasharray of a line sample.
	marker string
	dash   string
	width  float64
}

// svgPlot accumulates one SVG picture.
type svgPlot struct {
	b      strings.Builder
	title  string
	x, y   axis
	top    float64 // y of the plot area's top edge
	height float64 // whole picture
	lanes  []lane
}

// lane is one nemesis row above the plot area.
type lane struct {
	name   string
	colour string
}

// newPlot lays out a picture with the given nemesis lanes.
func newPlot(title string, lanes []lane) *svgPlot {
	p := &svgPlot{title: title, lanes: lanes}
	p.top = titleHeight + float64(len(lanes))*laneHeight + 6
	p.height = p.top + plotHeight + axisBottom
	return p
}

func (p *svgPlot) bottom() float64 { return p.top + plotHeight }

// begin writes the header, background and axes; x and y must be set.
func (p *svgPlot) begin() {
	b := &p.b
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%s" viewBox="0 0 %d %s" font-family="sans-serif" font-size="11">`+"\n",
		plotWidth, num(p.height), plotWidth, num(p.height))
	fmt.Fprintf(b, `<title>%s</title>`+"\n", esc(p.title))
	fmt.Fprintf(b, `<rect width="%d" height="%s" fill="#fff"/>`+"\n", plotWidth, num(p.height))
	fmt.Fprintf(b, `<text x="%d" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", plotLeft, esc(p.title))
	// Grid and ticks.
	b.WriteString(`<g stroke="#e3e3e3" stroke-width="1">` + "\n")
	for _, v := range p.x.ticks {
		x := p.x.pos(v)
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s"/>`+"\n", num(x), num(p.top), num(x), num(p.bottom()))
	}
	for _, v := range p.y.ticks {
		y := p.y.pos(v)
		fmt.Fprintf(b, `<line x1="%d" y1="%s" x2="%d" y2="%s"/>`+"\n", plotLeft, num(y), plotRight, num(y))
	}
	b.WriteString("</g>\n")
	if len(p.y.minor) > 0 {
		b.WriteString(`<g stroke="#888" stroke-width="1">` + "\n")
		for _, v := range p.y.minor {
			y := p.y.pos(v)
			fmt.Fprintf(b, `<line x1="%d" y1="%s" x2="%d" y2="%s"/>`+"\n", plotLeft-3, num(y), plotLeft, num(y))
		}
		b.WriteString("</g>\n")
	}
	// Axes.
	fmt.Fprintf(b, `<g stroke="#333" stroke-width="1" fill="none"><rect x="%d" y="%s" width="%d" height="%d"/></g>`+"\n",
		plotLeft, num(p.top), plotRight-plotLeft, plotHeight)
	b.WriteString(`<g fill="#333" text-anchor="middle">` + "\n")
	for _, v := range p.x.ticks {
		x := p.x.pos(v)
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#333"/><text x="%s" y="%s">%s</text>`+"\n",
			num(x), num(p.bottom()), num(x), num(p.bottom()+5), num(x), num(p.bottom()+17), esc(p.x.tickText(v)))
	}
	fmt.Fprintf(b, `<text x="%s" y="%s">%s</text>`+"\n", num((plotLeft+plotRight)/2.0), num(p.bottom()+36), esc(p.x.label))
	b.WriteString("</g>\n")
	b.WriteString(`<g fill="#333" text-anchor="end">` + "\n")
	for _, v := range p.y.ticks {
		y := p.y.pos(v)
		fmt.Fprintf(b, `<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="#333"/><text x="%d" y="%s">%s</text>`+"\n",
			plotLeft-6, num(y), plotLeft, num(y), plotLeft-8, num(y+4), esc(p.y.tickText(v)))
	}
	b.WriteString("</g>\n")
	fmt.Fprintf(b, `<text transform="translate(16 %s) rotate(-90)" text-anchor="middle" fill="#333">%s</text>`+"\n",
		num(p.top+plotHeight/2), esc(p.y.label))
	// Lane labels.
	for i, l := range p.lanes {
		y := titleHeight + float64(i)*laneHeight
		fmt.Fprintf(b, `<text x="%d" y="%s" text-anchor="end" fill="%s">%s</text>`+"\n", plotLeft-6, num(y+10), l.colour, esc(l.name))
	}
}

// shade draws a nemesis interval: a labelled bar in its lane and a light
// band over the plot area, from pixel x0 to x1.
func (p *svgPlot) shade(laneIdx int, x0, x1 float64, tip string) {
	x0, x1 = math.Max(x0, plotLeft), math.Min(math.Max(x1, x0+1), plotRight)
	if x1 <= x0 {
		return
	}
	l := p.lanes[laneIdx]
	y := titleHeight + float64(laneIdx)*laneHeight
	fmt.Fprintf(&p.b, `<g><title>%s</title><rect x="%s" y="%s" width="%s" height="%d" fill="%s" fill-opacity="0.75"/>`+
		`<rect x="%s" y="%s" width="%s" height="%d" fill="%s" fill-opacity="0.1"/></g>`+"\n",
		esc(tip), num(x0), num(y+2), num(x1-x0), laneHeight-4, l.colour,
		num(x0), num(p.top), num(x1-x0), plotHeight, l.colour)
}

// mark draws an instantaneous nemesis op: a tick in its lane and a thin
// line over the plot area.
func (p *svgPlot) mark(laneIdx int, x float64, tip string) {
	if x < plotLeft || x > plotRight {
		return
	}
	l := p.lanes[laneIdx]
	y := titleHeight + float64(laneIdx)*laneHeight
	fmt.Fprintf(&p.b, `<g stroke="%s"><title>%s</title><line x1="%s" y1="%s" x2="%s" y2="%s" stroke-width="3"/>`+
		`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke-opacity="0.35"/></g>`+"\n",
		l.colour, esc(tip), num(x), num(y+2), num(x), num(y+laneHeight-2), num(x), num(p.top), num(x), num(p.bottom()))
}

// note writes a centred message over the plot area (for empty plots).
func (p *svgPlot) note(msg string) {
	fmt.Fprintf(&p.b, `<text x="%s" y="%s" text-anchor="middle" fill="#777" font-size="13">%s</text>`+"\n",
		num((plotLeft+plotRight)/2.0), num(p.top+plotHeight/2), esc(msg))
}

// legend writes the legend items on the right, from the top of the plot
// area down.
func (p *svgPlot) legend(items []legendItem) {
	b := &p.b
	y := p.top + 6
	for _, it := range items {
		cx, cy := float64(legendLeft+8), y+4
		switch it.marker {
		case "dot":
			fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="3.5" fill="%s"/>`, num(cx), num(cy), it.colour)
		case "square":
			fmt.Fprintf(b, `<rect x="%s" y="%s" width="7" height="7" fill="%s"/>`, num(cx-3.5), num(cy-3.5), it.colour)
		case "cross":
			fmt.Fprintf(b, `<path d="M%s %sl7 7m0 -7l-7 7" stroke="%s" stroke-width="1.6"/>`, num(cx-3.5), num(cy-3.5), it.colour)
		case "band":
			fmt.Fprintf(b, `<rect x="%s" y="%s" width="16" height="9" fill="%s" fill-opacity="0.6"/>`, num(cx-8), num(cy-4.5), it.colour)
		case "line":
			w := it.width
			if w == 0 {
				w = 2
			}
			dash := ""
			if it.dash != "" {
				dash = ` stroke-dasharray="` + it.dash + `"`
			}
			fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="%s"%s/>`, num(cx-8), num(cy), num(cx+10), num(cy), it.colour, num(w), dash)
		}
		fmt.Fprintf(b, `<text x="%d" y="%s">%s</text>`+"\n", legendLeft+24, num(cy+4), esc(it.label))
		y += 16
	}
}

// end closes the picture and returns it.
func (p *svgPlot) end() []byte {
	p.b.WriteString("</svg>\n")
	return []byte(p.b.String())
}
