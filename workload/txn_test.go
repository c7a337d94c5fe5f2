package workload

import (
	"context"
	"testing"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/checker/elle"
	"github.com/faultline/faultline/generator"
	"github.com/faultline/faultline/history"
)

// store is a serial in-memory store for the simulator: each transaction
// takes effect at its invocation. With staleEvery > 0, every staleEvery-th
// read misses the key's last write.
type store struct {
	registers  bool // wr workload: registers; else lists
	lists      map[int64][]any
	regs       map[int64]any
	reads      int
	staleEvery int
}

func newStore(registers bool, staleEvery int) *store {
	return &store{registers: registers, lists: map[int64][]any{}, regs: map[int64]any{}, staleEvery: staleEvery}
}

func (s *store) complete(_ *generator.Context, op history.Op) history.Op {
	var out []any
	for _, m := range op.Value.([]any) {
		m := m.([]any)
		k := m[1].(int64)
		switch m[0] {
		case "append":
			s.lists[k] = append(s.lists[k], m[2])
			out = append(out, m)
		case "w":
			s.regs[k] = m[2]
			out = append(out, m)
		case "r":
			s.reads++
			stale := s.staleEvery > 0 && s.reads%s.staleEvery == 0
			if s.registers {
				v := s.regs[k]
				if stale {
					v = nil
				}
				out = append(out, []any{"r", k, v})
				continue
			}
			l := s.lists[k]
			if stale && len(l) > 0 {
				l = l[:len(l)-1]
			}
			out = append(out, []any{"r", k, append([]any{}, l...)})
		}
	}
	op.Type, op.Value = history.OK, out
	op.Time += 1000
	return op
}

func simulate(t *testing.T, w Workload, s *store, n int) []history.Op {
	t.Helper()
	ops, err := generator.Simulate(generator.Limit(n, w.Generator), generator.SimOptions{Concurrency: 5, Seed: 42, Complete: s.complete})
	if err != nil {
		t.Fatal(err)
	}
	return ops
}

func TestTxnGeneratorShape(t *testing.T) {
	for _, write := range []string{"append", "w"} {
		w, err := AppendWith(Options{Rate: -1}, TxnOptions{MaxWritesPerKey: 8, MaxTxnLength: 5})
		if write == "w" {
			w, err = WRWith(Options{Rate: -1}, TxnOptions{MaxWritesPerKey: 8, MaxTxnLength: 5})
		}
		if err != nil {
			t.Fatal(err)
		}
		ops := simulate(t, w, newStore(write == "w", 0), 3000)
		written := map[int64]map[int64]bool{}
		keys := map[int64]bool{}
		for _, op := range ops {
			if op.Type != history.Invoke {
				continue
			}
			if op.F != "txn" {
				t.Fatalf("f %q", op.F)
			}
			mops := op.Value.([]any)
			if len(mops) < 1 || len(mops) > 5 {
				t.Fatalf("txn length %d", len(mops))
			}
			for _, m := range mops {
				m := m.([]any)
				k := m[1].(int64)
				keys[k] = true
				switch m[0] {
				case "r":
					if m[2] != nil {
						t.Fatalf("read with a value: %v", m)
					}
				case write:
					v := m[2].(int64)
					if written[k] == nil {
						written[k] = map[int64]bool{}
					}
					if written[k][v] || v < 1 || v > 8 {
						t.Fatalf("write %d to key %d: duplicate or out of range", v, k)
					}
					written[k][v] = true
				default:
					t.Fatalf("micro-op %v in the %s workload", m, w.Name)
				}
			}
		}
		if len(keys) <= 10 {
			t.Errorf("%s: keys never rotated (%d keys)", w.Name, len(keys))
		}
	}
	if _, err := AppendWith(Options{}, TxnOptions{KeyDist: "zipf"}); err == nil {
		t.Error("unknown key distribution accepted")
	}
	if _, err := WRWith(Options{}, TxnOptions{MinTxnLength: 5, MaxTxnLength: 2}); err == nil {
		t.Error("min above max accepted")
	}
}

func TestTxnWorkloadsEndToEnd(t *testing.T) {
	for _, c := range []struct {
		name  string
		w     Workload
		stale int
		want  checker.Validity
	}{
		{"append serial", Append(Options{Rate: -1}), 0, checker.Valid},
		{"append stale reads", Append(Options{Rate: -1}), 7, checker.Invalid},
		{"wr serial", WR(Options{Rate: -1}), 0, checker.Valid},
		{"wr stale reads", WR(Options{Rate: -1}), 7, checker.Invalid},
	} {
		s := newStore(c.w.Name == "wr", c.stale)
		ops := simulate(t, c.w, s, 2000)
		h, err := history.New(ops)
		if err != nil {
			t.Fatal(err)
		}
		res := checker.Check(context.Background(), c.w.Checker, h, checker.Options{})
		if res.Verdict() != c.want {
			t.Errorf("%s: got %v: %v", c.name, res.Verdict(), res.(*elle.Result).AnomalyTypes)
		}
	}
}
