package generator

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/history"
)

// jepsenOpts simulates in Jepsen's default test context: two clients and a
// nemesis.
var jepsenOpts = SimOptions{Concurrency: 2, Nemesis: true}

func sim(t *testing.T, g Generator, opts SimOptions) []history.Op {
	t.Helper()
	ops, err := Simulate(g, opts)
	if err != nil {
		t.Fatalf("Simulate: %v", err)
	}
	return ops
}

// perfect is Jepsen's gen.test/perfect: invocations under 10 ns perfect
// completions with two clients and a nemesis.
func perfect(t *testing.T, g Generator) []history.Op {
	t.Helper()
	return Invocations(sim(t, g, jepsenOpts))
}

func inv(f string, v any) Generator { return Lit(Invocation(f, v)) }

func f(name string) history.Op { return history.Op{F: name} }

// indexedF emits {f, value i} for i = 0, 1, ...
func indexedF(name string) Generator {
	return Indexed(func(i int64) (history.Op, bool) { return Invocation(name, i), true })
}

// row renders selected fields of an op: t time, p process, f, v value,
// y type, k key.
func row(op history.Op, fields string) string {
	parts := make([]string, 0, len(fields))
	for _, c := range fields {
		switch c {
		case 't':
			parts = append(parts, fmt.Sprint(op.Time))
		case 'p':
			parts = append(parts, history.ProcessString(op.Process))
		case 'f':
			parts = append(parts, op.F)
		case 'v':
			parts = append(parts, history.Format(op.Value))
		case 'y':
			parts = append(parts, op.Type.String())
		case 'k':
			parts = append(parts, history.Format(op.Key))
		}
	}
	return strings.Join(parts, " ")
}

func rows(ops []history.Op, fields string) []string {
	out := make([]string, len(ops))
	for i, op := range ops {
		out[i] = row(op, fields)
	}
	return out
}

func wantRows(t *testing.T, ops []history.Op, fields string, want ...string) {
	t.Helper()
	got := rows(ops, fields)
	if !slices.Equal(got, want) {
		t.Errorf("got (%s):\n  %s\nwant:\n  %s", fields, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// byTime groups rendered rows by op time, each group sorted: for outputs
// whose order within one instant depends on random tie-breaking.
func byTime(ops []history.Op, fields string) map[int64][]string {
	m := map[int64][]string{}
	for _, op := range ops {
		m[op.Time] = append(m[op.Time], row(op, fields))
	}
	for _, rs := range m {
		slices.Sort(rs)
	}
	return m
}

func wantByTime(t *testing.T, ops []history.Op, fields string, want map[int64][]string) {
	t.Helper()
	got := byTime(ops, fields)
	for _, rs := range want {
		slices.Sort(rs)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("by time (%s):\n got %v\nwant %v", fields, got, want)
	}
}

func ns(n int64) time.Duration { return time.Duration(n) }
