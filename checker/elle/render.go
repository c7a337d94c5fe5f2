package elle

import (
	"encoding/json"
	"fmt"
	"html"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// EvidenceDir is the folder, under checker.Options.Dir, where the checkers
// write their evidence: <type>.txt for each reported anomaly type,
// <type>-<n>.svg drawings of cycles, and index.html with all of them.
const EvidenceDir = "elle"

// writeFiles writes the evidence of res under dir/elle.
func (a *analysis) writeFiles(dir string, res *Result) error {
	if len(res.AnomalyTypes) == 0 {
		return nil
	}
	d := filepath.Join(dir, EvidenceDir)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	var idx strings.Builder
	idx.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html.EscapeString(a.w.String()) + " anomalies</title>\n")
	idx.WriteString("<style>body{font-family:sans-serif;margin:2em;max-width:70em} pre{background:#f6f6f6;padding:.6em;white-space:pre-wrap} h2{border-bottom:1px solid #ccc}</style></head><body>\n")
	fmt.Fprintf(&idx, "<h1>%s: %s</h1>\n", html.EscapeString(a.w.String()), html.EscapeString(res.Valid.String()))
	fmt.Fprintf(&idx, "<p>Models checked: %s. Not: %s. Also not: %s.</p>\n",
		html.EscapeString(strings.Join(res.ConsistencyModels, ", ")), html.EscapeString(strings.Join(res.Not, ", ")), html.EscapeString(strings.Join(res.AlsoNot, ", ")))
	for _, t := range res.AnomalyTypes {
		list := res.Anomalies[t]
		var txt strings.Builder
		fmt.Fprintf(&idx, "<h2 id=\"%s\">%s</h2>\n", html.EscapeString(t), html.EscapeString(t))
		if c, ok := res.AnomalyCounts[t]; ok {
			fmt.Fprintf(&txt, "%d anomalies of type %s; the first %d follow.\n\n", c, t, len(list))
			fmt.Fprintf(&idx, "<p>%d in all; the first %d follow.</p>\n", c, len(list))
		}
		for i, an := range list {
			fmt.Fprintf(&txt, "%s #%d\n%s\n\n\n", t, i, anomalyText(an))
			fmt.Fprintf(&idx, "<h3>%s #%d</h3>\n", html.EscapeString(t), i)
			if len(an.Steps) > 0 && i < a.opts.MaxFiles {
				name := fmt.Sprintf("%s-%d.svg", t, i)
				if err := os.WriteFile(filepath.Join(d, name), []byte(cycleSVG(t, i, an)), 0o644); err != nil {
					return err
				}
				fmt.Fprintf(&idx, "<p><img src=\"%s\" alt=\"%s cycle\"></p>\n", html.EscapeString(name), html.EscapeString(t))
			}
			fmt.Fprintf(&idx, "<pre>%s</pre>\n", html.EscapeString(anomalyText(an)))
		}
		if err := os.WriteFile(filepath.Join(d, t+".txt"), []byte(txt.String()), 0o644); err != nil {
			return err
		}
	}
	idx.WriteString("</body></html>\n")
	return os.WriteFile(filepath.Join(d, "index.html"), []byte(idx.String()), 0o644)
}

// anomalyText renders one anomaly for people: its explanation, then (for
// anomalies that are not cycles) its data.
func anomalyText(an Anomaly) string {
	s := an.Explanation
	if len(an.Steps) > 0 {
		return s
	}
	data := an
	data.Explanation = ""
	b, err := json.Marshal(data)
	if err != nil {
		return s
	}
	if s != "" {
		s += "\n"
	}
	return s + string(b)
}

// cycleSVG draws a cycle: its transactions on a circle, an arrow per
// dependency labelled with its relation.
func cycleSVG(typ string, n int, an Anomaly) string {
	k := len(an.Steps)
	const w, h = 520.0, 440.0
	cx, cy, r := w/2, h/2+10, 150.0
	if k == 2 {
		r = 110
	}
	pts := make([][2]float64, k)
	for i := range pts {
		ang := -math.Pi/2 + 2*math.Pi*float64(i)/float64(k)
		pts[i] = [2]float64{cx + r*math.Cos(ang), cy + r*math.Sin(ang)}
	}
	colors := map[string]string{"ww": "#1f77b4", "wr": "#2ca02c", "rw": "#d62728", "process": "#9467bd", "realtime": "#ff7f0e"}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="13">`+"\n", w, h, w, h)
	b.WriteString(`<defs>`)
	for name, c := range colors {
		fmt.Fprintf(&b, `<marker id="arrow-%s" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="%s"/></marker>`, name, c)
	}
	b.WriteString("</defs>\n")
	fmt.Fprintf(&b, `<text x="10" y="22" font-size="16" font-weight="bold">%s #%d</text>`+"\n", html.EscapeString(typ), n)
	const nodeR = 26.0
	for i, st := range an.Steps {
		p, q := pts[i], pts[(i+1)%k]
		dx, dy := q[0]-p[0], q[1]-p[1]
		d := math.Hypot(dx, dy)
		ux, uy := dx/d, dy/d
		// Bend each edge outward so that 2-cycles show two arrows.
		mx, my := (p[0]+q[0])/2-uy*40, (p[1]+q[1])/2+ux*40
		sx, sy := towards(p, mx, my, nodeR)
		ex, ey := towards(q, mx, my, nodeR+2)
		c := colors[st.Type]
		if c == "" {
			c = "#555"
		}
		marker := st.Type
		if _, ok := colors[marker]; !ok {
			marker = "ww"
		}
		fmt.Fprintf(&b, `<path d="M%.1f,%.1f Q%.1f,%.1f %.1f,%.1f" fill="none" stroke="%s" stroke-width="2" marker-end="url(#arrow-%s)"><title>%s</title></path>`+"\n",
			sx, sy, mx, my, ex, ey, c, marker, html.EscapeString(st.Explanation))
		lx, ly := (p[0]+q[0])/4+mx/2, (p[1]+q[1])/4+my/2
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="%s" text-anchor="middle" font-weight="bold">%s</text>`+"\n", lx, ly, c, html.EscapeString(st.Type))
	}
	for i, pt := range pts {
		label := fmt.Sprintf("T%d", i+1)
		sub := ""
		if i < len(an.Cycle) {
			sub = fmt.Sprintf("op %d", an.Cycle[i].Index)
		}
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="%.0f" fill="#fff" stroke="#333" stroke-width="1.5"/>`+"\n", pt[0], pt[1], nodeR)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-weight="bold">%s</text>`+"\n", pt[0], pt[1]-2, label)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10">%s</text>`+"\n", pt[0], pt[1]+12, html.EscapeString(sub))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// towards returns the point at distance d from p in the direction of (x, y).
func towards(p [2]float64, x, y, d float64) (float64, float64) {
	dx, dy := x-p[0], y-p[1]
	l := math.Hypot(dx, dy)
	if l == 0 {
		return p[0], p[1]
	}
	return p[0] + dx/l*d, p[1] + dy/l*d
}
