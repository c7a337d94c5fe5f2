package elle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/faultline/faultline/checker"
)

// OpJSON is an op quoted in a result; it marshals as a line of
// history.jsonl.
type OpJSON = checker.OpJSON

// Result is what the list-append and rw-register checkers return. It
// marshals with Elle's keys in kebab-case:
//
//	{"valid": true|false|"unknown", "anomaly-types": [...], "anomalies": {type: [...]},
//	 "not": [...], "also-not": [...], ...}
type Result struct {
	// Valid is false when an anomaly the requested models (or anomalies)
	// forbid was found; unknown when only anomalies that stop the analysis
	// from deciding were (empty-transaction-graph, cycle-search-timeout),
	// or the history could not be analysed (Error); true otherwise.
	Valid checker.Validity `json:"valid"`
	// AnomalyTypes are the reported anomaly types, sorted: those the
	// requested models or anomalies forbid, plus the two unknown ones.
	AnomalyTypes []string `json:"anomaly-types"`
	// Anomalies holds evidence for each reported type (at most
	// Options.MaxAnomalies each).
	Anomalies map[string][]Anomaly `json:"anomalies,omitempty"`
	// AnomalyCounts has the number of anomalies of the types that had more
	// than were listed.
	AnomalyCounts map[string]int `json:"anomaly-counts,omitempty"`
	// Not are the weakest consistency models the anomalies found (reported
	// or not) rule out; AlsoNot the stronger models they also rule out.
	// Both are empty when the history is valid.
	Not     []string `json:"not"`
	AlsoNot []string `json:"also-not"`
	// ConsistencyModels are the models checked; Models says for each
	// whether the history satisfies it (false), may (unknown) or does as
	// far as the analysis can tell (true).
	ConsistencyModels []string                    `json:"consistency-models,omitempty"`
	CheckedAnomalies  []string                    `json:"checked-anomalies,omitempty"`
	Models            map[string]checker.Validity `json:"models,omitempty"`
	// TxnCount is the number of transactions analysed; SCCCount the number
	// of strongly connected components of the dependency graph (each holds
	// at least one cycle).
	TxnCount int `json:"txn-count"`
	SCCCount int `json:"scc-count"`
	// Error says why the history could not be analysed (the verdict is
	// then unknown).
	Error string `json:"error,omitempty"`
}

// Verdict implements checker.Result.
func (r *Result) Verdict() checker.Validity { return r.Valid }

// Summary implements checker.Summarizer: the anomaly types found and the
// weakest models ruled out.
func (r *Result) Summary() string {
	if r.Error != "" {
		return r.Error
	}
	if len(r.AnomalyTypes) == 0 {
		return fmt.Sprintf("no anomaly in %d transactions (%s)", r.TxnCount, strings.Join(r.ConsistencyModels, ", "))
	}
	parts := make([]string, len(r.AnomalyTypes))
	for i, t := range r.AnomalyTypes {
		n := len(r.Anomalies[t])
		if c, ok := r.AnomalyCounts[t]; ok {
			n = c
		}
		parts[i] = fmt.Sprintf("%s (%d)", t, n)
	}
	s := strings.Join(parts, ", ")
	if len(r.Not) > 0 {
		s += "; not " + strings.Join(r.Not, ", ")
	}
	if ex := r.firstExplanation(); ex != "" {
		s += ". " + ex
	}
	return s
}

// firstExplanation is the one-line explanation of the first anomaly of the
// first reported type that has one.
func (r *Result) firstExplanation() string {
	types := append([]string(nil), r.AnomalyTypes...)
	sort.SliceStable(types, func(i, j int) bool { return strings.HasPrefix(types[i], "G") && !strings.HasPrefix(types[j], "G") })
	for _, t := range types {
		for _, a := range r.Anomalies[t] {
			if a.Summary != "" {
				return a.Summary
			}
			if a.Explanation != "" && !strings.Contains(a.Explanation, "\n") {
				return a.Explanation
			}
		}
	}
	return ""
}

// Anomaly is the evidence for one anomaly. Which fields are set depends on
// its type, after Elle's anomaly maps:
//
//   - cycles (G0, G1c, G-single-item, G-nonadjacent-item, G2-item and
//     their -process and -realtime variants): type, cycle (the ops, the
//     first repeated at the end), steps (why each precedes the next);
//   - G1a, G1b, internal, future-read, duplicate-elements: op, mop, and
//     writer, element, expected or duplicates;
//   - incompatible-order, dirty-update, lost-update, cyclic-versions: key
//     and values, value, txns, scc or sources;
//   - <model>-cycle-exists: not (the model), subgraph, scc-size, scc (op
//     indices of the smallest component with such a cycle);
//   - cycle-search-timeout: anomaly-spec-type (the search that ran out),
//     does-not-contain (the searches that completed without a cycle),
//     scc-size.
//
// Explanation says it in words.
type Anomaly struct {
	Type  string   `json:"type,omitempty"`
	Cycle []OpJSON `json:"cycle,omitempty"`
	Steps []Step   `json:"steps,omitempty"`

	Op         *OpJSON        `json:"op,omitempty"`
	Mop        *checker.Value `json:"mop,omitempty"`
	Writer     *OpJSON        `json:"writer,omitempty"`
	Element    *checker.Value `json:"element,omitempty"`
	Expected   *checker.Value `json:"expected,omitempty"`
	Duplicates *checker.Value `json:"duplicates,omitempty"`

	Key     *checker.Value `json:"key,omitempty"`
	Value   *checker.Value `json:"value,omitempty"`
	Values  *checker.Value `json:"values,omitempty"`
	Txns    []OpJSON       `json:"txns,omitempty"`
	Sources []string       `json:"sources,omitempty"`

	Not             string         `json:"not,omitempty"`
	Subgraph        *checker.Value `json:"subgraph,omitempty"`
	SCCSize         int            `json:"scc-size,omitempty"`
	SCC             *checker.Value `json:"scc,omitempty"`
	AnomalySpecType string         `json:"anomaly-spec-type,omitempty"`
	DoesNotContain  *[]string      `json:"does-not-contain,omitempty"`

	// Summary is a one-line account (cycles); Explanation the full one.
	Summary     string `json:"summary,omitempty"`
	Explanation string `json:"explanation,omitempty"`
}

// Step is one edge of a cycle: why its transaction precedes the next. Type
// is ww, wr, rw (with key, value, value' and the micro-op indices in both
// transactions), process (with process) or realtime (with the index of the
// first's completion and of the second's invocation). It marshals with
// Elle's keys, "value'" included.
type Step struct {
	Type      string
	Key       *checker.Value
	Value     *checker.Value
	Value2    *checker.Value // Elle's value': the later version
	AMopIndex *int
	BMopIndex *int
	Process   *int
	// For realtime steps: the op indices of the first transaction's
	// completion and the second's invocation.
	Completed *int
	Invoked   *int

	Explanation string
}

// MarshalJSON writes the step with kebab-case keys in a fixed order.
func (s Step) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"type":`)
	writeJSON(&b, s.Type)
	field := func(name string, v any) error {
		b.WriteString(`,"` + name + `":`)
		return writeJSON(&b, v)
	}
	for _, f := range []struct {
		name string
		v    *checker.Value
	}{{"key", s.Key}, {"value", s.Value}, {"value'", s.Value2}} {
		if f.v != nil {
			if err := field(f.name, f.v); err != nil {
				return nil, err
			}
		}
	}
	for _, f := range []struct {
		name string
		v    *int
	}{{"a-mop-index", s.AMopIndex}, {"b-mop-index", s.BMopIndex}, {"process", s.Process}, {"completed-index", s.Completed}, {"invoked-index", s.Invoked}} {
		if f.v != nil {
			if err := field(f.name, *f.v); err != nil {
				return nil, err
			}
		}
	}
	if err := field("explanation", s.Explanation); err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, v any) error {
	j, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b.Write(j)
	return nil
}
