package report

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/faultline/faultline/checker"
)

// CheckerSummary says in a sentence what a checker's result (one object of
// results.json's "checkers", as decoded by encoding/json) found. A
// "summary" field is used as it is; otherwise the sentence is made from
// the fields checkers share: error, the linearizability failure (op,
// reason), independent keys (results, failures), anomaly-types, and the
// *-count fields.
func CheckerSummary(result any) string {
	m, ok := result.(map[string]any)
	if !ok {
		return ""
	}
	if s, ok := m["summary"].(string); ok && s != "" {
		return s
	}
	if s, ok := m["error"].(string); ok && s != "" {
		return "checker failed: " + s
	}
	valid := verdictOf(m["valid"])
	if r, ok := m["reason"].(string); ok && m["result"] != nil {
		return r // a valid result demoted to unknown
	}
	if op, ok := m["op"].(map[string]any); ok && m["reason"] != nil {
		s := describeOp(op) + " cannot be linearized: " + text(m["reason"])
		if k, ok := m["key"]; ok && k != nil {
			s = "key " + compact(k, 60) + ": " + s
		}
		if fs, ok := m["failures"].([]any); ok && len(fs) > 1 {
			s = fmt.Sprintf("%d keys not linearizable; first: %s", len(fs), s)
		}
		return s
	}
	if res, ok := m["results"].(map[string]any); ok {
		var bad []string
		if fs, ok := m["failures"].([]any); ok {
			for _, f := range fs {
				bad = append(bad, text(f))
			}
		}
		unknown := 0
		for _, r := range res {
			if rm, ok := r.(map[string]any); ok && verdictOf(rm["valid"]) == checker.Unknown {
				unknown++
			}
		}
		switch {
		case len(bad) > 0:
			s := fmt.Sprintf("%d of %d keys invalid: %s", len(bad), len(res), strings.Join(firstN(bad, 8), ", "))
			if k := bad[0]; res[k] != nil {
				if sub := CheckerSummary(res[k]); sub != "" {
					s += "; key " + k + ": " + sub
				}
			}
			return s
		case unknown > 0:
			return fmt.Sprintf("%d of %d keys unknown", unknown, len(res))
		}
		return fmt.Sprintf("%d keys, all valid", len(res))
	}
	if at, ok := m["anomaly-types"].([]any); ok && len(at) > 0 {
		var names []string
		for _, a := range at {
			names = append(names, text(a))
		}
		s := "anomalies: " + strings.Join(names, ", ")
		if not, ok := m["not"].([]any); ok && len(not) > 0 {
			var ns []string
			for _, n := range not {
				ns = append(ns, text(n))
			}
			s += "; not " + strings.Join(ns, ", ")
		}
		return s
	}
	if m["model"] != nil && m["ops"] != nil {
		switch valid {
		case checker.Valid:
			return fmt.Sprintf("linearizable as a %s: %s ops over %s part(s)", text(m["model"]), text(m["ops"]), text(m["keys"]))
		case checker.Unknown:
			return fmt.Sprintf("linearizability unknown (%s) after exploring %s configurations", text(m["cause"]), text(m["explored"]))
		}
	}
	if r, ok := number(m["rate"]); ok && m["latencies"] != nil {
		d, _ := number(m["duration"])
		s := fmt.Sprintf("%.1f ops/s over %.1f s", r, d)
		if iv, ok := m["nemesis-intervals"].([]any); ok && len(iv) > 0 {
			s += fmt.Sprintf(", %d nemesis intervals", len(iv))
		}
		return s
	}
	if r, ok := m["reason"].(string); ok && r != "" {
		return r
	}
	// Counts: the anomalous ones that are not zero for a failure, the
	// others for a success.
	var anomalous, neutral []string
	for _, k := range sortedKeys(m) {
		if !strings.HasSuffix(k, "-count") && k != "count" {
			continue
		}
		n, ok := number(m[k])
		if !ok {
			continue
		}
		item := fmt.Sprintf("%s %s", strings.TrimSuffix(k, "-count"), trimNumber(n))
		if neutralCount(k) {
			neutral = append(neutral, item)
		} else if n != 0 {
			anomalous = append(anomalous, item)
		}
	}
	if valid != checker.Valid && len(anomalous) > 0 {
		return strings.Join(anomalous, ", ")
	}
	if len(neutral) > 0 {
		return strings.Join(firstN(neutral, 5), ", ")
	}
	if s, ok := m["error"]; ok && s != nil {
		return "error: " + compact(s, 200)
	}
	return ""
}

// neutralCount reports whether a count field counts ops rather than
// anomalies.
func neutralCount(k string) bool {
	switch k {
	case "count", "ok-count", "fail-count", "info-count", "attempt-count", "attempted-count",
		"acknowledged-count", "stable-count", "read-count", "reads-count", "recovered-count":
		return true
	}
	return false
}

// verdictOf reads a "valid" field: true, false, "unknown" (or the words).
func verdictOf(v any) checker.Validity {
	switch x := v.(type) {
	case bool:
		if x {
			return checker.Valid
		}
		return checker.Invalid
	case string:
		if p, err := checker.ParseValidity(x); err == nil {
			return p
		}
	}
	return checker.Unknown
}

// describeOp renders a quoted op ({"f", "value", "process", "index", ...})
// as "read 4 by process 7 (op 1234)".
func describeOp(op map[string]any) string {
	s := text(op["f"])
	if v, ok := op["value"]; ok {
		s += " " + compact(v, 120)
	}
	if p, ok := op["process"]; ok {
		s += " by process " + text(p)
	}
	if i, ok := op["index"]; ok {
		s += " (op " + text(i) + ")"
	}
	return s
}

// text renders a scalar JSON value plainly (strings without quotes).
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return trimNumber(x)
	case bool:
		return strconv.FormatBool(x)
	}
	return compact(v, 200)
}

// compact renders any JSON value on one line the way Jepsen prints values
// (nil, [1 2], {"k" v}), cut to n bytes. A top-level string is not quoted.
func compact(v any, n int) string {
	if s, ok := v.(string); ok {
		return clip(s, n)
	}
	var b strings.Builder
	appendValue(&b, v, n+1)
	return clip(b.String(), n)
}

// appendValue writes v until b holds more than limit bytes.
func appendValue(b *strings.Builder, v any, limit int) {
	if b.Len() > limit {
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("nil")
	case string:
		q, _ := json.Marshal(x)
		b.Write(q)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if b.Len() > limit {
				break
			}
			if i > 0 {
				b.WriteByte(' ')
			}
			appendValue(b, e, limit)
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		for i, k := range sortedKeys(x) {
			if b.Len() > limit {
				break
			}
			if i > 0 {
				b.WriteString(", ")
			}
			q, _ := json.Marshal(k)
			b.Write(q)
			b.WriteByte(' ')
			appendValue(b, x[k], limit)
		}
		b.WriteByte('}')
	case json.Number:
		b.WriteString(x.String())
	case bool:
		b.WriteString(strconv.FormatBool(x))
	default:
		if f, ok := number(x); ok {
			b.WriteString(trimNumber(f))
		} else {
			fmt.Fprint(b, x)
		}
	}
}

// number reads a JSON number.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}

func trimNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 6, 64)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func firstN(ss []string, n int) []string {
	if len(ss) <= n {
		return ss
	}
	return append(ss[:n:n], fmt.Sprintf("… %d more", len(ss)-n))
}
