package checker

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/faultline/faultline/history"
)

// Validity is a checker's verdict.
type Validity int8

const (
	// Valid: the history satisfies the property.
	Valid Validity = iota
	// Unknown: the checker could not decide (budget, error, skipped ops).
	Unknown
	// Invalid: the history violates the property.
	Invalid
)

// String returns "valid", "invalid" or "unknown".
func (v Validity) String() string {
	switch v {
	case Valid:
		return "valid"
	case Invalid:
		return "invalid"
	}
	return "unknown"
}

// ParseValidity reads "valid"/"true", "invalid"/"false" or "unknown".
func ParseValidity(s string) (Validity, error) {
	switch s {
	case "valid", "true":
		return Valid, nil
	case "invalid", "false":
		return Invalid, nil
	case "unknown":
		return Unknown, nil
	}
	return Unknown, fmt.Errorf("unknown verdict %q", s)
}

// Merge combines verdicts as Jepsen does: invalid beats unknown beats valid.
func Merge(vs ...Validity) Validity {
	out := Valid
	for _, v := range vs {
		if v > out {
			out = v
		}
	}
	return out
}

// MarshalJSON writes true, false or "unknown", as results.json wants.
func (v Validity) MarshalJSON() ([]byte, error) {
	switch v {
	case Valid:
		return []byte("true"), nil
	case Invalid:
		return []byte("false"), nil
	}
	return []byte(`"unknown"`), nil
}

// UnmarshalJSON reads true, false, "unknown" (and "valid"/"invalid").
func (v *Validity) UnmarshalJSON(b []byte) error {
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	switch t := x.(type) {
	case bool:
		if t {
			*v = Valid
		} else {
			*v = Invalid
		}
		return nil
	case string:
		p, err := ParseValidity(t)
		*v = p
		return err
	}
	return fmt.Errorf("verdict %s is not true, false or \"unknown\"", b)
}

// Result is what a checker returns. Concrete results are structs with a
// `Valid Validity `json:"valid"“ field and their details as kebab-case JSON
// fields (Jepsen's names), so results.json reads like results.edn.
type Result interface {
	Verdict() Validity
}

// Summarizer is implemented by results that can say in one or two sentences
// what they found, for the human summary at the end of a run
// (e.g. "2 stale reads: key 3 read 4 after 5 was written").
type Summarizer interface {
	Summary() string
}

// Options is what a checker gets besides the history.
type Options struct {
	// Dir is a folder where the checker may write files (evidence, plots);
	// empty when it must write nothing.
	Dir string
	// Log receives progress messages; never nil when passed by Faultline.
	Log *slog.Logger
	// Concurrency is the test's number of worker threads, when known (0 otherwise).
	Concurrency int
	// RunDir is the run folder (store/<test>/<timestamp>/), which holds one
	// folder per node with the logs downloaded from it (<RunDir>/<node>/<file>);
	// empty when the history does not come from a run folder.
	RunDir string
	// Nodes are the test's nodes, when known (nil otherwise).
	Nodes []string
	// Partial is true when ops were dropped from the history as malformed:
	// a checker must then not return Valid (Check does that demotion).
	Partial bool
}

// Checker analyses a history.
type Checker interface {
	// Name is the checker's name in results.json (e.g. "linear", "stats").
	Name() string
	// Check analyses h. An error means the checker could not decide;
	// callers turn it into an Unknown result.
	Check(ctx context.Context, h *history.History, opts Options) (Result, error)
}

// ValueDecoding is implemented by checkers that read the op values of a
// history file faster, and into less memory, with a decoder of their own
// (history.ReadOptions.Values). A history read that way holds
// history.Compact values, which print, compare and write as usual: a
// caller sets the decoder only when that checker is the one to look
// inside the values.
type ValueDecoding interface {
	ValueDecoder() func() history.ValueDecoder
}

// ErrorResult is the result of a checker that failed or panicked.
type ErrorResult struct {
	Valid Validity `json:"valid"`
	Error string   `json:"error"`
}

// Verdict implements Result.
func (r *ErrorResult) Verdict() Validity { return r.Valid }

// Summary implements Summarizer.
func (r *ErrorResult) Summary() string { return "checker failed: " + r.Error }

// Check runs c on h and never fails: an error or a panic becomes an Unknown
// ErrorResult, and a Valid verdict on a partial history becomes Unknown.
func Check(ctx context.Context, c Checker, h *history.History, opts Options) (res Result) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	defer func() {
		if p := recover(); p != nil {
			opts.Log.Error("checker panicked", "checker", c.Name(), "panic", p, "stack", string(debug.Stack()))
			res = &ErrorResult{Valid: Unknown, Error: fmt.Sprintf("panic: %v", p)}
		}
	}()
	r, err := c.Check(ctx, h, opts)
	if err != nil {
		return &ErrorResult{Valid: Unknown, Error: err.Error()}
	}
	if r == nil {
		return &ErrorResult{Valid: Unknown, Error: "checker returned no result"}
	}
	if opts.Partial && r.Verdict() == Valid {
		return &PartialResult{Valid: Unknown, Result: r, Reason: "ops were dropped from the history as malformed; a partial history cannot prove validity"}
	}
	return r
}

// PartialResult wraps a Valid result demoted to Unknown because the history
// was incomplete.
type PartialResult struct {
	Valid  Validity `json:"valid"`
	Reason string   `json:"reason"`
	Result Result   `json:"result"`
}

// Verdict implements Result.
func (r *PartialResult) Verdict() Validity { return r.Valid }

// Summary implements Summarizer.
func (r *PartialResult) Summary() string { return r.Reason }
