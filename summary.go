package faultline

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/faultline/faultline/checker"
)

// Summary is the short human paragraph printed at the end of a run: what ran,
// how many operations completed and how, the verdict, and for anything not
// valid, what each checker found.
func (r *Result) Summary() string {
	var b strings.Builder
	c := r.Counts
	fmt.Fprintf(&b, "%s: %d client ops completed (%d ok, %d fail, %d info)", r.Name, c.Completed(), c.OK, c.Fail, c.Info)
	if r.Duration > 0 {
		fmt.Fprintf(&b, " in %s", r.Duration.Round(100*time.Millisecond))
	}
	if r.Concurrency > 0 {
		fmt.Fprintf(&b, " at concurrency %d", r.Concurrency)
	}
	if r.Faults != "" {
		fmt.Fprintf(&b, " with %s", r.Faults)
	}
	if c.Nemesis > 0 {
		fmt.Fprintf(&b, " (%d nemesis ops)", c.Nemesis)
	}
	b.WriteString(".")
	if r.Interrupted {
		b.WriteString(" The run was interrupted; the ops recorded until then were analysed.")
	}
	fmt.Fprintf(&b, " Verdict: %s.", r.Valid)
	if r.Results != nil {
		names := make([]string, 0, len(r.Results.Checkers))
		for n := range r.Results.Checkers {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			sub := r.Results.Checkers[n]
			if sub == nil || sub.Verdict() == checker.Valid {
				continue
			}
			fmt.Fprintf(&b, " %s: %s", n, sub.Verdict())
			if s, ok := sub.(checker.Summarizer); ok && s.Summary() != "" {
				fmt.Fprintf(&b, ": %s", s.Summary())
			}
			b.WriteString(".")
		}
		for _, n := range r.Results.Notes {
			fmt.Fprintf(&b, " Note: %s.", n)
		}
	}
	if r.Dir != "" {
		fmt.Fprintf(&b, " Stored in %s.", r.Dir)
	}
	return b.String()
}

// StatusLine is the stable last line of stdout of `faultline test` and
// `faultline analyze`: "faultline: <test-name> <valid|invalid|unknown> <run folder>".
func (r *Result) StatusLine() string {
	dir := r.Dir
	if dir == "" {
		dir = "-"
	}
	return fmt.Sprintf("faultline: %s %s %s", r.Name, r.Valid, dir)
}
