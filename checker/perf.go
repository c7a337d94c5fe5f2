package checker

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/faultline/faultline/history"
)

// LatencyPoint is one client op that completed: when it was invoked, how
// long it took, and how it ended.
type LatencyPoint struct {
	// Time is the invocation time in ns since the test started.
	Time int64
	// Latency is completion time minus invocation time, in ns.
	Latency int64
	F       string
	// Type is the completion's type: ok, fail or info.
	Type history.Type
	// Index is the invocation's index.
	Index int
}

// Latencies returns a point for every client invocation that has a
// completion, in history order, like Jepsen's util/history->latencies.
// Invocations that never completed (or without times) have no latency and
// are left out.
func Latencies(h *history.History) []LatencyPoint {
	out := make([]LatencyPoint, 0, len(h.Ops)/2)
	for i := range h.Ops {
		op := &h.Ops[i]
		if !op.IsClient() || op.Type != history.Invoke {
			continue
		}
		c, ok := h.Completion(i)
		if !ok || op.Time < 0 || c.Time < 0 {
			continue // no completion, or times unknown
		}
		out = append(out, LatencyPoint{Time: op.Time, Latency: c.Time - op.Time, F: op.F, Type: c.Type, Index: op.Index})
	}
	return out
}

// RatePoint is the throughput in one time bucket.
type RatePoint struct {
	// Time is the middle of the bucket, in ns since the test started.
	Time int64 `json:"time"`
	// Rate is completions per second in the bucket.
	Rate float64 `json:"rate"`
}

// RateSeries is the throughput over time of the client ops with one f and
// one outcome.
type RateSeries struct {
	F      string       `json:"f"`
	Type   history.Type `json:"-"`
	Points []RatePoint  `json:"points"`
}

// MarshalJSON writes {"f": ..., "type": "ok", "points": [...]}.
func (s RateSeries) MarshalJSON() ([]byte, error) {
	type plain struct {
		F      string      `json:"f"`
		Type   string      `json:"type"`
		Points []RatePoint `json:"points"`
	}
	return json.Marshal(plain{s.F, s.Type.String(), s.Points})
}

// Rates returns the throughput of client completions over time, by f and
// outcome, like the data behind Jepsen's rate graph: completions are
// counted in buckets of the given width by their completion time, and
// every series has a point (possibly 0) for every bucket from time 0 to the
// bucket of the history's last time. Series are ordered by f, then ok,
// info, fail. A bucket of 0 or less means 10 s, Jepsen's default.
func Rates(h *history.History, bucket time.Duration) []RateSeries {
	if bucket <= 0 {
		bucket = 10 * time.Second
	}
	dt := int64(bucket)
	var tmax int64
	for i := range h.Ops {
		tmax = max(tmax, h.Ops[i].Time)
	}
	nb := int(tmax/dt) + 1
	type key struct {
		f string
		t history.Type
	}
	counts := map[key][]int{}
	for i := range h.Ops {
		op := &h.Ops[i]
		if !op.IsClient() || !op.Type.IsCompletion() || op.Time < 0 {
			continue
		}
		k := key{op.F, op.Type}
		c := counts[k]
		if c == nil {
			c = make([]int, nb)
			counts[k] = c
		}
		c[op.Time/dt]++
	}
	out := make([]RateSeries, 0, len(counts))
	perSec := float64(time.Second) / float64(dt)
	for k, c := range counts {
		s := RateSeries{F: k.f, Type: k.t, Points: make([]RatePoint, nb)}
		for b, n := range c {
			s.Points[b] = RatePoint{Time: int64(b)*dt + dt/2, Rate: float64(n) * perSec}
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].F != out[j].F {
			return out[i].F < out[j].F
		}
		return typeOrder(out[i].Type) < typeOrder(out[j].Type)
	})
	return out
}

// typeOrder is the order Jepsen draws outcomes in: ok, info, fail.
func typeOrder(t history.Type) int {
	switch t {
	case history.OK:
		return 0
	case history.Info:
		return 1
	case history.Fail:
		return 2
	}
	return 3
}

// PerfOptions configure Perf.
type PerfOptions struct {
	// Nemeses say which nemesis fs start and stop which fault; nil derives
	// them from the history (see NemesisIntervals).
	Nemeses []NemesisSpec
}

// PerfResult is the result of Perf: numbers only (plots are drawn from
// Latencies, Rates and NemesisIntervals by another package).
type PerfResult struct {
	Valid Validity `json:"valid"`
	// Latencies maps f, then outcome ("ok", "info", "fail"), to latency
	// quantiles (0, 0.5, 0.95, 0.99, 1) in milliseconds.
	Latencies map[string]map[string]Quantiles `json:"latencies"`
	// Rates maps f, then outcome, to the mean throughput in ops/s over the
	// run.
	Rates map[string]map[string]float64 `json:"rates"`
	// Counts maps f, then outcome, to the number of completions.
	Counts map[string]map[string]int `json:"counts"`
	// Rate is the mean throughput of all client completions, in ops/s.
	Rate float64 `json:"rate"`
	// Duration is the time from the first to the last op, in seconds.
	Duration         float64    `json:"duration"`
	NemesisIntervals []Interval `json:"nemesis-intervals"`
}

// Verdict implements Result.
func (r *PerfResult) Verdict() Validity { return r.Valid }

// Summary gives the overall throughput and the highest median latency of
// ok ops over the fs.
func (r *PerfResult) Summary() string {
	var lat []float64
	for _, byType := range r.Latencies {
		if q, ok := byType["ok"]; ok {
			lat = append(lat, q["0.5"])
		}
	}
	s := fmt.Sprintf("%.1f ops/s over %.1f s", r.Rate, r.Duration)
	if len(lat) > 0 {
		s += fmt.Sprintf(", median ok latency up to %.2f ms", slices.Max(lat))
	}
	if n := len(r.NemesisIntervals); n > 0 {
		s += fmt.Sprintf(", %d nemesis intervals", n)
	}
	return s
}

type perf struct{ opts PerfOptions }

// Perf computes performance numbers, like the data behind Jepsen's
// checker/perf graphs: latency quantiles by f and outcome, mean throughput
// by f and outcome, and the nemesis intervals. It is always valid.
func Perf(opts PerfOptions) Checker { return &perf{opts: opts} }

func (c *perf) Name() string { return "perf" }

func (c *perf) Check(ctx context.Context, h *history.History, _ Options) (Result, error) {
	r := &PerfResult{
		Valid:     Valid,
		Latencies: map[string]map[string]Quantiles{},
		Rates:     map[string]map[string]float64{},
		Counts:    map[string]map[string]int{},
	}
	type key struct {
		f string
		t history.Type
	}
	lats := map[key][]int64{}
	for _, p := range Latencies(h) {
		k := key{p.F, p.Type}
		lats[k] = append(lats[k], p.Latency)
	}
	for k, ls := range lats {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		slices.Sort(ls)
		ms := make([]float64, len(ls))
		for i, l := range ls {
			ms[i] = float64(l) / 1e6
		}
		if r.Latencies[k.f] == nil {
			r.Latencies[k.f] = map[string]Quantiles{}
		}
		r.Latencies[k.f][k.t.String()] = quantilesOf(ms)
	}
	tmin, tmax := int64(math.MaxInt64), int64(math.MinInt64)
	total := 0
	for i := range h.Ops {
		op := &h.Ops[i]
		if op.Time >= 0 {
			tmin, tmax = min(tmin, op.Time), max(tmax, op.Time)
		}
		if !op.IsClient() || !op.Type.IsCompletion() {
			continue
		}
		m := r.Counts[op.F]
		if m == nil {
			m = map[string]int{}
			r.Counts[op.F] = m
		}
		m[op.Type.String()]++
		total++
	}
	if tmax > tmin {
		r.Duration = float64(tmax-tmin) / 1e9
		for f, byType := range r.Counts {
			r.Rates[f] = map[string]float64{}
			for t, n := range byType {
				r.Rates[f][t] = float64(n) / r.Duration
			}
		}
		r.Rate = float64(total) / r.Duration
	}
	r.NemesisIntervals = NemesisIntervals(h, c.opts.Nemeses...)
	if r.NemesisIntervals == nil {
		r.NemesisIntervals = []Interval{}
	}
	return r, nil
}
