package linear

import (
	"context"
	"encoding/json"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/model"
)

var fuzzFs = []string{"read", "write", "cas", "acquire", "release", "add", "enqueue", "dequeue", "txn", "get", "put", "append", "bogus"}

// fuzzValue makes a value of any kind a history may carry, well-formed for
// some model or not.
func fuzzValue(b byte) any {
	n := int64(b % 4)
	switch b >> 4 {
	case 0, 1, 2, 3:
		return n
	case 4:
		return nil
	case 5:
		return []any{n, int64(b % 3)}
	case 6:
		return []any{[]any{"read", "x", n}, []any{"write", "y", n}}
	case 7:
		return []any{[]any{"write", "x"}, "junk"}
	case 8:
		return string(rune('a' + b%3))
	case 9:
		return history.Set{n, int64(1)}
	case 10:
		return history.Map{{Key: "x", Val: n}}
	case 11:
		return float64(n) + 0.5
	case 12:
		return new(big.Int).Lsh(big.NewInt(int64(b)), 70)
	case 13:
		return []any{"k" + string(rune('0'+b%2)), n} // an independent tuple
	case 14:
		return history.Tagged{Tag: "inst", Value: "x"}
	}
	return []any{}
}

// fuzzOps decodes 4 bytes per op: type, process, f, value (and key).
func fuzzOps(data []byte) []history.Op {
	types := []history.Type{history.Invoke, history.OK, history.Fail, history.Info, history.Type(9)}
	var ops []history.Op
	for i := 0; i+4 <= len(data) && len(ops) < 400; i += 4 {
		op := history.Op{
			Index:   len(ops),
			Time:    int64(len(ops)),
			Type:    types[int(data[i])%len(types)],
			Process: int(data[i+1]%7) - 1,
			F:       fuzzFs[int(data[i+2])%len(fuzzFs)],
			Value:   fuzzValue(data[i+3]),
		}
		if data[i+2]&0x80 != 0 {
			op.Key = int64(data[i+3] % 3)
		}
		ops = append(ops, op)
	}
	return ops
}

// FuzzCheck: random and malformed histories never panic, never exceed the
// budgets, and always give a result that marshals and renders.
func FuzzCheck(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 1, 1, 0, 2}, uint8(0), false)
	f.Add([]byte{0, 1, 1, 1, 0, 2, 0, 4, 1, 1, 1, 1, 1, 2, 0, 3}, uint8(1), false)
	f.Add([]byte{0, 1, 2, 0x50, 3, 1, 2, 0x50, 0, 2, 0, 4, 1, 2, 0, 2}, uint8(1), false)
	f.Add([]byte{0, 1, 9, 0xd0, 1, 1, 9, 0xd1, 0, 2, 10, 0xd0, 1, 2, 10, 0xd0}, uint8(7), true)
	f.Add([]byte{0, 1, 8, 0x60, 1, 1, 8, 0x60, 0, 2, 8, 0x70, 2, 2, 8, 0x70}, uint8(2), false)
	f.Fuzz(func(t *testing.T, data []byte, sel uint8, independent bool) {
		ops := fuzzOps(data)
		h, _ := history.NewLenient(ops)
		names := []string{"register", "cas-register", "multi-register", "mutex", "set", "unordered-queue", "fifo-queue", "kv", "noop"}
		name := names[int(sel)%len(names)]
		var init any
		if name == "multi-register" {
			init = history.Map{{Key: "x", Val: int64(0)}}
		}
		m, err := model.ByName(name, init)
		if err != nil {
			t.Fatal(err)
		}
		opts := Options{TimeBudget: 100 * time.Millisecond, MemoryBudget: 16 << 20, Independent: independent, NoSplit: sel&0x80 != 0, AllKeys: sel&0x40 != 0}
		start := time.Now()
		r := Check(context.Background(), h, m, opts)
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("took %v with a 100ms budget", el)
		}
		if strings.Contains(r.Error, "panic") {
			t.Fatalf("panic: %s", r.Error)
		}
		if r.Valid == checker.Invalid && (r.Op == nil || len(r.Failures) == 0) {
			t.Fatalf("invalid without evidence: %+v", r)
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if err := RenderHTML(io.Discard, h, r); err != nil {
			t.Fatalf("render: %v", err)
		}
		_ = r.Summary()
	})
}
