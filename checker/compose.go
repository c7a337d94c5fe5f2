package checker

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/faultline/faultline/history"
)

// Composed is the result of Compose: one result per named checker and the
// merged verdict. It marshals as {"valid": ..., "checkers": {name: result}}.
type Composed struct {
	Valid    Validity          `json:"valid"`
	Checkers map[string]Result `json:"checkers"`
}

// Verdict implements Result.
func (r *Composed) Verdict() Validity { return r.Valid }

// Summary lists the non-valid checkers with their own summaries.
func (r *Composed) Summary() string {
	var parts []string
	for _, name := range r.names() {
		sub := r.Checkers[name]
		if sub.Verdict() == Valid {
			continue
		}
		s := name + ": " + sub.Verdict().String()
		if sm, ok := sub.(Summarizer); ok && sm.Summary() != "" {
			s += " (" + sm.Summary() + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func (r *Composed) names() []string {
	names := make([]string, 0, len(r.Checkers))
	for n := range r.Checkers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// MarshalJSON writes checkers in name order.
func (r *Composed) MarshalJSON() ([]byte, error) {
	type alias Composed
	return json.Marshal((*alias)(r))
}

type composed struct {
	name     string
	checkers []Checker
}

// Compose runs several checkers (in parallel) and merges their verdicts.
// Names must be unique.
func Compose(name string, cs ...Checker) Checker {
	return &composed{name: name, checkers: cs}
}

func (c *composed) Name() string { return c.name }

func (c *composed) Check(ctx context.Context, h *history.History, opts Options) (Result, error) {
	out := &Composed{Checkers: make(map[string]Result, len(c.checkers))}
	results := make([]Result, len(c.checkers))
	var wg sync.WaitGroup
	for i, sub := range c.checkers {
		if _, dup := out.Checkers[sub.Name()]; dup {
			return nil, fmt.Errorf("compose %s: two checkers named %q", c.name, sub.Name())
		}
		out.Checkers[sub.Name()] = nil
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Sub-checkers share the folder and pick distinct file names.
			results[i] = Check(ctx, sub, h, opts)
		}()
	}
	wg.Wait()
	vs := make([]Validity, len(results))
	for i, r := range results {
		out.Checkers[c.checkers[i].Name()] = r
		vs[i] = r.Verdict()
	}
	out.Valid = Merge(vs...)
	return out, nil
}
