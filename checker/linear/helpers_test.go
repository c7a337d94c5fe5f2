package linear

import (
	"testing"

	"github.com/faultline/faultline/history"
)

// hb builds histories op by op.
type hb struct {
	ops []history.Op
}

func (b *hb) add(t history.Type, p int, f string, v any) *hb {
	b.ops = append(b.ops, history.Op{Index: len(b.ops), Time: int64(len(b.ops)), Type: t, Process: p, F: f, Value: v})
	return b
}

func (b *hb) inv(p int, f string, v any) *hb  { return b.add(history.Invoke, p, f, v) }
func (b *hb) ok(p int, f string, v any) *hb   { return b.add(history.OK, p, f, v) }
func (b *hb) fail(p int, f string, v any) *hb { return b.add(history.Fail, p, f, v) }
func (b *hb) info(p int, f string, v any) *hb { return b.add(history.Info, p, f, v) }

// keyed sets the key of the last two ops.
func (b *hb) key(k any) *hb {
	for i := max(0, len(b.ops)-2); i < len(b.ops); i++ {
		b.ops[i].Key = k
	}
	return b
}

func (b *hb) history(t testing.TB) *history.History {
	t.Helper()
	h, err := history.New(b.ops)
	if err != nil {
		t.Fatalf("bad test history: %v", err)
	}
	return h
}

func i64(v int) any { return int64(v) }

func pair(a, b any) any { return []any{a, b} }
