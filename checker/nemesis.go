package checker

import (
	"sort"
	"strings"

	"github.com/faultline/faultline/history"
)

// NemesisSpec names one fault and the nemesis fs that start and stop it,
// like the nemesis specs of Jepsen's perf plots ({:name :start :stop}).
type NemesisSpec struct {
	Name  string
	Start []string
	Stop  []string
}

// Interval is one period during which a fault was (possibly) active.
type Interval struct {
	// Name is the NemesisSpec's name.
	Name string `json:"name"`
	// F and StopF are the fs of the start and stop ops (StopF "" when the
	// fault was never stopped).
	F     string `json:"f"`
	StopF string `json:"stop-f,omitempty"`
	// Start is when the start op was invoked, Started when it completed;
	// Stop is when the stop op was invoked, End when it completed; all in
	// ns since the test started, Stop and End -1 when never stopped.
	Start   int64 `json:"start"`
	Started int64 `json:"started"`
	Stop    int64 `json:"stop"`
	End     int64 `json:"end"`
	// StartValue and StopValue are the completions' values (what the
	// nemesis did, e.g. the partition).
	StartValue Value `json:"start-value"`
	StopValue  Value `json:"stop-value"`
	// StartIndex and EndIndex are the indexes of the start's invocation and
	// the stop's completion (EndIndex -1 when never stopped).
	StartIndex int `json:"start-index"`
	EndIndex   int `json:"end-index"`
}

// NemesisIntervals pairs nemesis start and stop ops into intervals, like
// Jepsen's util/nemesis-intervals: nemesis ops come in pairs (invocation
// and completion, with the same f); every start pair stays open until the
// next stop pair of the same spec, which closes all open starts at once; a
// start never stopped gives an interval with End -1. Where Jepsen returns
// two intervals per start (invocation to invocation, completion to
// completion), an Interval holds all four times.
//
// Without specs, they are derived from the fs in the history: "start" and
// "stop" form the spec "nemesis", and each "start-X" with "stop-X" the spec
// "X" (e.g. start-partition / stop-partition). Intervals are ordered by
// start.
func NemesisIntervals(h *history.History, specs ...NemesisSpec) []Interval {
	type pair struct{ a, b int } // positions of invocation and completion
	var pairs []pair
	for i := range h.Ops {
		if !h.Ops[i].IsNemesis() {
			continue
		}
		j := h.Pair(i)
		switch {
		case j < 0:
			pairs = append(pairs, pair{i, i})
		case j > i:
			if h.Ops[j].F == h.Ops[i].F {
				pairs = append(pairs, pair{i, j})
			}
		}
	}
	if specs == nil {
		fs := map[string]bool{}
		for _, p := range pairs {
			fs[h.Ops[p.a].F] = true
		}
		specs = defaultNemesisSpecs(fs)
	}
	var out []Interval
	for _, spec := range specs {
		isStart, isStop := toSet(spec.Start), toSet(spec.Stop)
		var open []pair
		for _, p := range pairs {
			f := h.Ops[p.a].F
			switch {
			case isStart[f]:
				open = append(open, p)
			case isStop[f]:
				for _, s := range open {
					out = append(out, interval(h, spec.Name, s.a, s.b, p.a, p.b))
				}
				open = open[:0]
			}
		}
		for _, s := range open {
			out = append(out, interval(h, spec.Name, s.a, s.b, -1, -1))
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartIndex < out[j].StartIndex })
	return out
}

func interval(h *history.History, name string, sa, sb, ea, eb int) Interval {
	iv := Interval{
		Name:       name,
		F:          h.Ops[sa].F,
		Start:      h.Ops[sa].Time,
		Started:    h.Ops[sb].Time,
		StartValue: Value{h.Ops[sb].Value},
		StartIndex: h.Ops[sa].Index,
		Stop:       -1,
		End:        -1,
		EndIndex:   -1,
	}
	if ea >= 0 {
		iv.StopF = h.Ops[ea].F
		iv.Stop = h.Ops[ea].Time
		iv.End = h.Ops[eb].Time
		iv.StopValue = Value{h.Ops[eb].Value}
		iv.EndIndex = h.Ops[eb].Index
	}
	return iv
}

func toSet(ss []string) map[string]bool {
	m := make(map[string]bool, len(ss))
	for _, s := range ss {
		m[s] = true
	}
	return m
}

// defaultNemesisSpecs derives specs from the nemesis fs of a history.
func defaultNemesisSpecs(fs map[string]bool) []NemesisSpec {
	var specs []NemesisSpec
	if fs["start"] || fs["stop"] {
		specs = append(specs, NemesisSpec{Name: "nemesis", Start: []string{"start"}, Stop: []string{"stop"}})
	}
	names := map[string]bool{}
	for f := range fs {
		if x, ok := strings.CutPrefix(f, "start-"); ok && x != "" {
			names[x] = true
		}
		if x, ok := strings.CutPrefix(f, "stop-"); ok && x != "" {
			names[x] = true
		}
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		specs = append(specs, NemesisSpec{Name: n, Start: []string{"start-" + n}, Stop: []string{"stop-" + n}})
	}
	return specs
}
