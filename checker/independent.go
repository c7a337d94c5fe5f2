package checker

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/faultline/faultline/history"
)

// IndependentResult is the result of Independent: one result per key.
type IndependentResult struct {
	Valid Validity `json:"valid"`
	// Results maps each key (rendered as a string) to the inner checker's
	// result on that key's subhistory.
	Results map[string]Result `json:"results"`
	// Failures are the keys whose result is invalid, in key order.
	Failures []string `json:"failures"`
	// Error says why there is nothing to check, when that is the case.
	Error string `json:"error,omitempty"`

	keys []string // all keys in key order
}

// Verdict implements Result.
func (r *IndependentResult) Verdict() Validity { return r.Valid }

// Summary names the failing keys with their own summaries.
func (r *IndependentResult) Summary() string {
	if r.Error != "" {
		return r.Error
	}
	var unknown []string
	for _, k := range r.keys {
		if r.Results[k].Verdict() == Unknown {
			unknown = append(unknown, k)
		}
	}
	if len(r.Failures) == 0 && len(unknown) == 0 {
		return fmt.Sprintf("all %d keys valid", len(r.keys))
	}
	var parts []string
	for i, k := range r.Failures {
		if i == 3 {
			parts = append(parts, "...")
			break
		}
		s := "key " + k
		if sm, ok := r.Results[k].(Summarizer); ok && sm.Summary() != "" {
			s += ": " + sm.Summary()
		}
		parts = append(parts, s)
	}
	out := fmt.Sprintf("%d of %d keys invalid", len(r.Failures), len(r.keys))
	if len(unknown) > 0 {
		out += fmt.Sprintf(", %d unknown", len(unknown))
	}
	if len(parts) > 0 {
		out += ": " + strings.Join(parts, "; ")
	}
	return out
}

type independent struct{ inner Checker }

// Independent lifts a checker to a history of independent keys, like
// Jepsen's independent/checker: the history is split by Op.Key into one
// subhistory per key, the inner checker runs on each (in parallel, at most
// GOMAXPROCS at a time, each through Check so that a failing key is unknown
// rather than fatal), and the verdict is the merge of the keys' verdicts.
//
// As in Jepsen, ops without a key (the nemesis's, and any client op without
// one) go into every subhistory, so checkers see the faults. A completion
// without a key follows its invocation's key (and the other way round).
// Each key's checker gets Options.Dir/independent/<key> as its folder
// (not created) when Dir is set. The inner checker's Check must be safe to
// call concurrently (every checker of this package is). Unlike Jepsen, no
// per-key results.edn or history.edn is written.
//
// Histories read from Jepsen's EDN carry the key in the value, as a
// [key value] tuple: when no op has a Key, the tuples are unwrapped
// (history.SplitIndependent). A history with client ops but neither a key
// nor tuples is unknown: Jepsen would call it valid with no results, which
// proves nothing. An empty history is valid.
func Independent(c Checker) Checker { return &independent{inner: c} }

func (c *independent) Name() string { return c.inner.Name() }

func (c *independent) Check(ctx context.Context, h *history.History, opts Options) (Result, error) {
	h, err := keyedHistory(h)
	if err != nil {
		return &IndependentResult{Valid: Unknown, Results: map[string]Result{}, Failures: []string{}, Error: err.Error()}, nil
	}
	type sub struct {
		key  any
		name string
		ops  []history.Op
	}
	keyAt := func(i int) any {
		if k := h.Ops[i].Key; k != nil {
			return k
		}
		if j := h.Pair(i); j >= 0 {
			return h.Ops[j].Key
		}
		return nil
	}
	// First pass: the key of every op (-1 for none) and the size of every
	// subhistory; the second copies the ops into subhistories of that size.
	byKey := map[vkey]int32{}
	var subs []*sub
	var sizes []int
	which := make([]int32, len(h.Ops))
	unkeyed := 0
	clientOps := false
	for i := range h.Ops {
		if h.Ops[i].IsClient() {
			clientOps = true
		}
		k := keyAt(i)
		if k == nil {
			which[i] = -1
			unkeyed++
			continue
		}
		vk := keyOf(k)
		id, seen := byKey[vk]
		if !seen {
			id = int32(len(subs))
			byKey[vk] = id
			subs = append(subs, &sub{key: k, name: keyString(k)})
			sizes = append(sizes, 0)
		}
		which[i] = id
		sizes[id]++
	}
	for id, s := range subs {
		s.ops = make([]history.Op, 0, sizes[id]+unkeyed)
	}
	for i := range h.Ops {
		if id := which[i]; id >= 0 {
			subs[id].ops = append(subs[id].ops, h.Ops[i])
			continue
		}
		// Every key gets every unkeyed op, in history order.
		for _, s := range subs {
			s.ops = append(s.ops, h.Ops[i])
		}
	}
	r := &IndependentResult{Results: map[string]Result{}, Failures: []string{}}
	if len(subs) == 0 {
		if clientOps {
			r.Valid = Unknown
			r.Error = "no client op has an independent key"
		}
		return r, nil
	}
	order := make([]int, len(subs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return compareValues(subs[order[a]].key, subs[order[b]].key) < 0 })

	results := make([]Result, len(subs))
	sem := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	var wg sync.WaitGroup
	for i, s := range subs {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			sh, probs := history.NewLenient(s.ops)
			o := opts
			if len(probs) > 0 {
				o.Partial = true
				if o.Log != nil {
					o.Log.Warn("independent: subhistory breaks the rules of a history", "key", s.name, "problems", len(probs), "first", probs[0].Error())
				}
			}
			if opts.Dir != "" {
				o.Dir = filepath.Join(opts.Dir, "independent", safeName(s.name))
			}
			results[i] = Check(ctx, c.inner, sh, o)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	vs := make([]Validity, 0, len(subs))
	for _, i := range order {
		name := subs[i].name
		if _, dup := r.Results[name]; dup {
			return nil, fmt.Errorf("independent: two keys render as %q", name)
		}
		r.Results[name] = results[i]
		r.keys = append(r.keys, name)
		vs = append(vs, results[i].Verdict())
		if results[i].Verdict() == Invalid {
			r.Failures = append(r.Failures, name)
		}
	}
	r.Valid = Merge(vs...)
	return r, nil
}

// safeName turns a key into a folder name.
func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '/' || r == '\\' || r == 0 || r == ':':
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	out := b.String()
	if out == "" || out == "." || out == ".." {
		out = "_" + out
	}
	return out
}

// keyedHistory returns h when some op has a Key; otherwise, when every
// client op carries a Jepsen independent [key value] tuple, h with the keys
// moved to Op.Key (history.SplitIndependent), as Jepsen histories read from
// EDN have them. A history with client ops but neither is an error.
func keyedHistory(h *history.History) (*history.History, error) {
	clients := false
	for i := range h.Ops {
		if h.Ops[i].Key != nil {
			return h, nil
		}
		if h.Ops[i].IsClient() {
			clients = true
		}
	}
	if !clients {
		return h, nil
	}
	ops, err := history.SplitIndependent(h.Ops)
	if err != nil {
		return nil, fmt.Errorf("the history is not keyed: no op has a key, and not every client op is a [key value] tuple: %w", err)
	}
	kh, probs := history.NewLenient(ops)
	if len(probs) > 0 {
		return nil, fmt.Errorf("the history is not keyed: %w", probs[0])
	}
	return kh, nil
}
