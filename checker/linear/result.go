package linear

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
)

// Analyzer names this checker's algorithm in results, as Knossos names its
// own ("wgl", "linear").
const Analyzer = "faultline-linear"

// Result is the linearizability checker's verdict with its evidence. For an
// invalid history the top-level op, previous-ok, reason, configs and
// final-paths describe the first failure (the one completing earliest);
// failures lists every key that failed when the history was split.
type Result struct {
	Valid    checker.Validity `json:"valid"`
	Analyzer string           `json:"analyzer"`
	Model    string           `json:"model"`
	// Ops is the number of client operations checked (failed ops excluded).
	Ops int `json:"ops"`
	// Failed is the number of failed ops dropped (they did not happen).
	Failed int `json:"failed-ops"`
	// Crashed is the number of ops that crashed (info or never completed).
	Crashed int `json:"crashed-ops"`
	// Keys is the number of independent parts checked.
	Keys int `json:"keys"`
	// Explored is the number of configurations the search entered.
	Explored int64 `json:"explored"`
	// Cause says why the verdict is unknown: "timeout", "memory",
	// "canceled", or "error".
	Cause string `json:"cause,omitempty"`
	// Error is set when the history could not be checked at all (an op the
	// model does not understand).
	Error string `json:"error,omitempty"`

	Key        any      `json:"key,omitempty"`
	Op         *OpRef   `json:"op,omitempty"`
	PreviousOK *OpRef   `json:"previous-ok,omitempty"`
	Reason     string   `json:"reason,omitempty"`
	Configs    []Config `json:"configs,omitempty"`
	FinalPaths [][]Step `json:"final-paths,omitempty"`

	// Failures holds one entry per key that is not linearizable.
	Failures []Failure `json:"failures,omitempty"`
	// Unfinished lists the keys whose search stopped on a budget, with
	// how far they got (at most 20).
	Unfinished []Progress `json:"unfinished,omitempty"`
	// Unchecked counts the keys not checked to the end because another key
	// was already found not linearizable (see Options.AllKeys).
	Unchecked int `json:"unchecked-keys,omitempty"`

	keyed       bool
	independent bool // keys came from [k v] tuples
}

// Failure is the evidence that one key's history is not linearizable.
type Failure struct {
	Key any `json:"key,omitempty"`
	// Op is the completion of the op that could not be linearized.
	Op *OpRef `json:"op"`
	// PreviousOK is the last ok completion (of this key) before Op.
	PreviousOK *OpRef `json:"previous-ok,omitempty"`
	// Reason is the model's explanation, e.g. "can't read 3 from register 4".
	Reason string `json:"reason"`
	// Configs are the furthest configurations the search reached: the
	// model state, the last op linearized and the ops still pending.
	Configs []Config `json:"configs,omitempty"`
	// FinalPaths are the last steps of those linearizations, each op with
	// the state it led to, ending with the op that could not be applied.
	FinalPaths [][]Step `json:"final-paths,omitempty"`

	keyed  bool
	rawKey any // the key as in the history
}

// Config is a configuration the search could not extend.
type Config struct {
	Model       string   `json:"model"`
	Linearized  int      `json:"linearized"`
	LastOp      *OpRef   `json:"last-op,omitempty"`
	Pending     []*OpRef `json:"pending"`
	PendingMore int      `json:"pending-more,omitempty"`
}

// Step is one op of a final path with the model state after it, or with the
// error that made it illegal.
type Step struct {
	Op    *OpRef `json:"op"`
	Model string `json:"model,omitempty"`
	Error string `json:"error,omitempty"`
}

// Progress tells how far an unfinished key got.
type Progress struct {
	Key        any   `json:"key,omitempty"`
	Linearized int   `json:"linearized"`
	OKOps      int   `json:"ok-ops"`
	Explored   int64 `json:"explored"`
}

// OpRef identifies an op of the history in evidence. Type is the op's
// outcome ("ok", "info", or "invoke" when it never completed), Value its
// effective value (the completion's for ok ops), Index the index of its
// completion (of its invocation when it has none).
type OpRef struct {
	Process     any    `json:"process"`
	Type        string `json:"type"`
	F           string `json:"f"`
	Value       any    `json:"value"`
	Index       int    `json:"index"`
	InvokeIndex int    `json:"invoke-index"`
	Time        int64  `json:"time,omitempty"`

	inv, comp int // positions in the history; comp -1 when none
	key       any
	value     any // the history value (Value is its JSON form)
}

// Verdict implements checker.Result.
func (r *Result) Verdict() checker.Validity { return r.Valid }

// Summary implements checker.Summarizer: one sentence.
func (r *Result) Summary() string {
	switch r.Valid {
	case checker.Valid:
		return fmt.Sprintf("linearizable as a %s: %d ops over %d part(s), %d configurations explored", r.Model, r.Ops, r.Keys, r.Explored)
	case checker.Invalid:
		if len(r.Failures) == 0 {
			return "not linearizable"
		}
		s := r.Failures[0].Summary()
		if n := len(r.Failures); n > 1 {
			s = fmt.Sprintf("%d keys not linearizable; first: %s", n, s)
		}
		return s
	}
	if r.Error != "" {
		return "could not check linearizability: " + r.Error
	}
	s := fmt.Sprintf("linearizability unknown (%s) after exploring %d configurations", r.Cause, r.Explored)
	if len(r.Unfinished) > 0 {
		u := r.Unfinished[0]
		k := ""
		if u.Key != nil {
			k = fmt.Sprintf("key %s: ", formatJSONValue(u.Key))
		}
		s += fmt.Sprintf("; %s%d of %d ok ops linearized", k, u.Linearized, u.OKOps)
	}
	return s
}

// Summary says in one sentence why the key is not linearizable.
func (f *Failure) Summary() string {
	var b strings.Builder
	if f.keyed {
		fmt.Fprintf(&b, "key %s: ", formatJSONValue(f.Key))
	}
	fmt.Fprintf(&b, "%s cannot be linearized: ", f.Op.describe())
	if len(f.FinalPaths) > 0 {
		// The last op that changed the state explains it best.
		path := f.FinalPaths[0]
		steps := path[:len(path)-1]
		last := -1
		for i := range steps {
			if i == 0 || steps[i].Model != steps[i-1].Model {
				last = i
			}
		}
		switch {
		case last >= 0:
			fmt.Fprintf(&b, "after %s the state is %s; ", steps[last].Op.describe(), clip(steps[len(steps)-1].Model, 120))
		case len(f.Configs) > 0:
			fmt.Fprintf(&b, "in the initial state %s, ", clip(f.Configs[0].Model, 120))
		}
	}
	b.WriteString(clip(f.Reason, 240))
	return b.String()
}

// clip shortens s to about n bytes for one-line summaries.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// describe renders an op as "read 4 by process 7 (op 1234)".
func (o *OpRef) describe() string {
	if o == nil {
		return "?"
	}
	return fmt.Sprintf("%s %s by process %s (op %d)", o.F, clip(history.Format(o.value), 80), formatJSONValue(o.Process), o.Index)
}

func formatJSONValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "nil"
	}
	return fmt.Sprint(v)
}

// jsonValue converts a history value into something encoding/json writes
// the way the shared JSONL format does: sets as arrays, maps as objects.
func jsonValue(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	case history.Set:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	case history.Map:
		out := make(map[string]any, len(x))
		for _, e := range x {
			k, ok := e.Key.(string)
			if !ok {
				k = history.Format(e.Key)
			}
			out[k] = jsonValue(e.Val)
		}
		return out
	case history.Tagged:
		return map[string]any{"tag": x.Tag, "value": jsonValue(x.Value)}
	case *big.Int:
		return json.Number(x.String())
	}
	return v
}
