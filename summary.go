package faultline

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
)

// Summary is the short human paragraph printed at the end of a run: what ran,
// how many operations completed and how, the verdict, and for anything not
// valid, what each checker found.
func (r *Result) Summary() string {
	var b strings.Builder
	c := r.Counts
	fmt.Fprintf(&b, "%s: %d client ops completed (%d ok, %d fail, %d info", r.Name, c.Completed(), c.OK, c.Fail, c.Info)
	if len(c.Errors) > 0 {
		fmt.Fprintf(&b, "; errors: %s", c.topErrors(3))
	}
	b.WriteString(")")
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

// ErrorName names an op's error for counting: a string as it is, a
// Jepsen-style vector such as [:duplicate-key "..."] by its leading
// string, anything else in history's notation, cut at 60 bytes.
func ErrorName(e any) string {
	e = history.Expand(e)
	if v, ok := e.([]any); ok && len(v) > 0 {
		if s, ok := v[0].(string); ok {
			e = s
		}
	}
	s, ok := e.(string)
	if !ok {
		s = history.Format(e)
	}
	if len(s) > 60 {
		cut := 60
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// topErrors renders the n most common errors, most common first:
// "no-leader 20, timeout 3".
func (c Counts) topErrors(n int) string {
	names := make([]string, 0, len(c.Errors))
	for e := range c.Errors {
		names = append(names, e)
	}
	sort.Slice(names, func(i, j int) bool {
		if a, b := c.Errors[names[i]], c.Errors[names[j]]; a != b {
			return a > b
		}
		return names[i] < names[j]
	})
	parts := make([]string, 0, n+1)
	for i, e := range names {
		if i == n {
			parts = append(parts, fmt.Sprintf("%d more kinds", len(names)-n))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %d", e, c.Errors[e]))
	}
	return strings.Join(parts, ", ")
}
