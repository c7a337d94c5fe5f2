package checker

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/faultline/faultline/history"
)

// Counts are the completions of some client ops by outcome.
type Counts struct {
	Valid     Validity `json:"valid"`
	Count     int      `json:"count"`
	OKCount   int      `json:"ok-count"`
	FailCount int      `json:"fail-count"`
	InfoCount int      `json:"info-count"`
}

func (c *Counts) add(t history.Type) {
	switch t {
	case history.OK:
		c.OKCount++
	case history.Fail:
		c.FailCount++
	case history.Info:
		c.InfoCount++
	default:
		return
	}
	c.Count++
}

func (c *Counts) settle() {
	c.Valid = Invalid
	if c.OKCount > 0 {
		c.Valid = Valid
	}
}

// StatsResult is the result of Stats: counts over all client completions
// and by f.
type StatsResult struct {
	Counts
	ByF map[string]*Counts `json:"by-f"`
}

// Verdict implements Result.
func (r *StatsResult) Verdict() Validity { return r.Valid }

// Summary names the fs that never succeeded.
func (r *StatsResult) Summary() string {
	var bad []string
	fs := make([]string, 0, len(r.ByF))
	for f := range r.ByF {
		fs = append(fs, f)
	}
	sort.Strings(fs)
	for _, f := range fs {
		c := r.ByF[f]
		if c.OKCount == 0 {
			bad = append(bad, fmt.Sprintf("%s (%d ops: %d fail, %d info)", f, c.Count, c.FailCount, c.InfoCount))
		}
	}
	if len(bad) == 0 {
		return fmt.Sprintf("%d client ops completed: %d ok, %d fail, %d info", r.Count, r.OKCount, r.FailCount, r.InfoCount)
	}
	return "no op ever succeeded for f " + strings.Join(bad, ", ")
}

type stats struct{}

// Stats counts client completions (ok, fail, info) overall and by f, like
// Jepsen's checker/stats. Invocations and nemesis ops are not counted. Each
// f is valid when it has at least one ok completion, and the result is the
// merge of the fs (Jepsen's rule: one f that never succeeded makes the
// result invalid; a history without client completions is valid).
func Stats() Checker { return stats{} }

func (stats) Name() string { return "stats" }

func (stats) Check(_ context.Context, h *history.History, _ Options) (Result, error) {
	r := &StatsResult{ByF: map[string]*Counts{}}
	for i := range h.Ops {
		op := &h.Ops[i]
		if !op.IsClient() || !op.Type.IsCompletion() {
			continue
		}
		c := r.ByF[op.F]
		if c == nil {
			c = &Counts{}
			r.ByF[op.F] = c
		}
		c.add(op.Type)
		r.Counts.add(op.Type)
	}
	vs := make([]Validity, 0, len(r.ByF))
	for _, c := range r.ByF {
		c.settle()
		vs = append(vs, c.Valid)
	}
	r.Valid = Merge(vs...)
	return r, nil
}
