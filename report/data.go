package report

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
)

// runData is what the plots and the timeline share, computed once per run.
type runData struct {
	name string
	h    *history.History
	// tmax is the latest op time in ns (0 for a history without times).
	tmax int64
	// fs are the client fs in name order; fIndex maps them to their place.
	fs     []string
	fIndex map[string]int
	lat    []checker.LatencyPoint
	// intervals are the nemesis intervals of specs; marks the nemesis ops
	// that belong to no spec (instantaneous faults such as a clock strobe).
	specs     []checker.NemesisSpec
	intervals []checker.Interval
	marks     []nemesisMark
	// lanes are the nemesis rows of the plots: the specs with intervals,
	// then the fs of the marks.
	lanes    []lane
	laneOf   map[string]int // spec name -> lane
	markLane map[string]int // mark f -> lane
}

// nemesisMark is a nemesis op that starts or stops no interval.
type nemesisMark struct {
	f     string
	time  int64 // invocation time, ns
	index int   // invocation index
	value any   // completion value
}

func newRunData(name string, h *history.History, specs []checker.NemesisSpec) *runData {
	d := &runData{name: name, h: h, fIndex: map[string]int{}, laneOf: map[string]int{}, markLane: map[string]int{}}
	nemFs := map[string]bool{}
	for i := range h.Ops {
		op := &h.Ops[i]
		d.tmax = max(d.tmax, op.Time)
		switch {
		case op.IsClient():
			if _, ok := d.fIndex[op.F]; !ok {
				d.fIndex[op.F] = 0
				d.fs = append(d.fs, op.F)
			}
		case op.IsNemesis():
			nemFs[op.F] = true
		}
	}
	sort.Strings(d.fs)
	for i, f := range d.fs {
		d.fIndex[f] = i
	}
	d.lat = checker.Latencies(h)
	if specs == nil {
		specs = defaultSpecs(nemFs)
	}
	d.specs = specs
	d.intervals = checker.NemesisIntervals(h, specs...)
	inSpec := map[string]bool{}
	for _, s := range specs {
		for _, f := range s.Start {
			inSpec[f] = true
		}
		for _, f := range s.Stop {
			inSpec[f] = true
		}
	}
	for i := range h.Ops {
		op := &h.Ops[i]
		if !op.IsNemesis() || inSpec[op.F] {
			continue
		}
		j := h.Pair(i)
		if j >= 0 && j < i {
			continue // a completion; its invocation made the mark
		}
		m := nemesisMark{f: op.F, time: op.Time, index: op.Index, value: op.Value}
		if j > i {
			m.value = h.Ops[j].Value
		}
		d.marks = append(d.marks, m)
	}
	// Lanes: specs that have intervals (in spec order), then marked fs (at
	// most 6 lanes of them, the rest in "other").
	used := map[string]bool{}
	for _, iv := range d.intervals {
		used[iv.Name] = true
	}
	for _, s := range specs {
		if used[s.Name] {
			if _, dup := d.laneOf[s.Name]; !dup {
				d.laneOf[s.Name] = len(d.lanes)
				d.lanes = append(d.lanes, lane{name: s.Name})
			}
		}
	}
	var markFs []string
	for _, m := range d.marks {
		if !slices.Contains(markFs, m.f) {
			markFs = append(markFs, m.f)
		}
	}
	sort.Strings(markFs)
	otherLane := -1
	for i, f := range markFs {
		if i >= 6 {
			if otherLane < 0 {
				otherLane = len(d.lanes)
				d.lanes = append(d.lanes, lane{name: "other"})
			}
			d.markLane[f] = otherLane
			continue
		}
		d.markLane[f] = len(d.lanes)
		d.lanes = append(d.lanes, lane{name: f})
	}
	for i := range d.lanes {
		d.lanes[i].colour = nemesisColour(i)
	}
	return d
}

// defaultSpecs names the faults of Jepsen's usual nemesis fs: kill/start
// and pause/resume (the DB nemesis), bump-clock/reset-clock, start-X/stop-X
// for any X (partition, packet, ...), and start/stop as "nemesis" when no
// kill takes "start".
func defaultSpecs(fs map[string]bool) []checker.NemesisSpec {
	var specs []checker.NemesisSpec
	if fs["kill"] {
		specs = append(specs, checker.NemesisSpec{Name: "kill", Start: []string{"kill"}, Stop: []string{"start"}})
	} else if fs["start"] || fs["stop"] {
		specs = append(specs, checker.NemesisSpec{Name: "nemesis", Start: []string{"start"}, Stop: []string{"stop"}})
	}
	if fs["pause"] {
		specs = append(specs, checker.NemesisSpec{Name: "pause", Start: []string{"pause"}, Stop: []string{"resume"}})
	}
	if fs["bump-clock"] {
		specs = append(specs, checker.NemesisSpec{Name: "clock", Start: []string{"bump-clock"}, Stop: []string{"reset-clock"}})
	}
	names := map[string]bool{}
	for f := range fs {
		for _, pre := range []string{"start-", "stop-"} {
			if x, ok := strings.CutPrefix(f, pre); ok && x != "" {
				names[x] = true
			}
		}
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		specs = append(specs, checker.NemesisSpec{Name: n, Start: []string{"start-" + n}, Stop: []string{"stop-" + n}})
	}
	return specs
}

// intervalEnd is the end of an interval in ns: its stop's completion, or
// the end of the history when it was never stopped.
func (d *runData) intervalEnd(iv checker.Interval) int64 {
	if iv.End >= 0 {
		return iv.End
	}
	if iv.Stop >= 0 {
		return iv.Stop
	}
	return d.tmax
}

// intervalTip describes an interval for a tooltip.
func intervalTip(iv checker.Interval) string {
	s := fmt.Sprintf("%s: %s at %s", iv.Name, iv.F, seconds(iv.Start))
	if v := history.Format(iv.StartValue.V); iv.StartValue.V != nil {
		s += " (" + clip(v, 200) + ")"
	}
	if iv.End >= 0 {
		s += fmt.Sprintf(", %s at %s", iv.StopF, seconds(iv.Stop))
		if iv.StopValue.V != nil {
			s += " (" + clip(history.Format(iv.StopValue.V), 200) + ")"
		}
	} else {
		s += ", never stopped"
	}
	return s
}

func markTip(m nemesisMark) string {
	s := fmt.Sprintf("%s at %s (op %d)", m.f, seconds(m.time), m.index)
	if m.value != nil {
		s += ": " + clip(history.Format(m.value), 200)
	}
	return s
}

// seconds formats ns as seconds with millisecond precision.
func seconds(ns int64) string {
	if ns < 0 {
		return "?"
	}
	return fmt.Sprintf("%.3f s", float64(ns)/1e9)
}

// clip shortens s to at most n bytes (on a rune boundary), marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
