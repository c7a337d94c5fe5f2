package elle

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
)

// fuzzOptions keep each check short.
func fuzzOptions(b byte) Options {
	return Options{
		ConsistencyModels:  [][]string{nil, {"serializable"}, {"snapshot-isolation"}, {"strong-session-serializable"}}[b%4],
		CycleSearchTimeout: 20 * time.Millisecond,
		SearchTimeout:      200 * time.Millisecond,
		LinearizableKeys:   b&4 != 0,
		SequentialKeys:     b&8 != 0,
		WFRKeys:            b&16 != 0,
	}
}

// mustCheck runs both checkers on h; they must not fail, panic, or take
// long, and their results must marshal.
func mustCheck(t *testing.T, h *history.History, o Options) {
	t.Helper()
	for _, c := range []checker.Checker{ListAppend(o), RWRegister(o)} {
		start := time.Now()
		res := checker.Check(context.Background(), c, h, checker.Options{})
		if el := time.Since(start); el > 10*time.Second {
			t.Fatalf("%s took %v", c.Name(), el)
		}
		if e, ok := res.(*checker.ErrorResult); ok {
			t.Fatalf("%s: %s", c.Name(), e.Error)
		}
		if _, err := json.Marshal(res); err != nil {
			t.Fatalf("%s: marshal: %v", c.Name(), err)
		}
	}
}

// FuzzCheckEDN feeds arbitrary text through the EDN/JSONL readers into
// both checkers.
func FuzzCheckEDN(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.edn"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, byte(0))
		}
	}
	f.Add([]byte(`{:type :ok, :process 0, :value [[:r :x [1 2 1]] [:append :x 1] [:append :x 1]]}`), byte(5))
	f.Add([]byte(`{:type :ok, :process 0, :value [[:r :x 7] [:w :x nil] [:r :x [nil]]]}`), byte(30))
	f.Add([]byte(`{:type :ok, :process 0, :value 3}`), byte(1))
	f.Fuzz(func(t *testing.T, data []byte, opt byte) {
		h, _, err := history.Read(bytes.NewReader(data), "fuzz", history.ReadOptions{Lenient: true})
		if err != nil {
			return
		}
		mustCheck(t, h, fuzzOptions(opt))
	})
}

// opsFromBytes decodes a history of small transactions from bytes:
// adversarial on purpose (reads of values never written, duplicate appends
// and writes, odd shapes, processes reused after info).
func opsFromBytes(data []byte) []history.Op {
	var ops []history.Op
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	for len(data) > 0 && len(ops) < 400 {
		b := next()
		typ := []history.Type{history.Invoke, history.OK, history.Info, history.Fail}[b%4]
		p := int(b>>2) % 4
		var mops []any
		for n := int(next() % 5); n > 0; n-- {
			c := next()
			key := any(int64(c % 3))
			if c&0x80 != 0 {
				key = "k"
			}
			val := any(int64(next() % 6))
			switch (c >> 2) % 6 {
			case 0:
				mops = append(mops, []any{"append", key, val})
			case 1:
				var l []any
				for i := int(next() % 4); i > 0; i-- {
					l = append(l, int64(next()%6))
				}
				mops = append(mops, []any{"r", key, l})
			case 2:
				mops = append(mops, []any{"w", key, val})
			case 3:
				mops = append(mops, []any{"r", key, val})
			case 4:
				mops = append(mops, []any{"r", key})
			default:
				mops = append(mops, []any{"r", key, nil})
			}
		}
		var v any = mops
		if b == 0xff {
			v = "garbage"
		}
		ops = append(ops, history.Op{Index: len(ops), Time: int64(len(ops)) * 1000, Type: typ, Process: p, F: "txn", Value: v})
	}
	return ops
}

func FuzzCheckOps(f *testing.F) {
	f.Add([]byte{1, 3, 0, 1, 4, 1, 5, 2, 9, 5}, byte(0))
	f.Add([]byte{0, 1, 0, 1, 1, 1, 0, 1, 5, 1, 4, 2, 1, 2, 3}, byte(4))
	f.Add(bytes.Repeat([]byte{0, 2, 1, 3, 5, 1, 4, 2, 1, 2}, 20), byte(12))
	f.Fuzz(func(t *testing.T, data []byte, opt byte) {
		h, _ := history.NewLenient(opsFromBytes(data))
		mustCheck(t, h, fuzzOptions(opt))
		// Raw, unpaired op lists too (completions without invocations).
		for _, w := range []workload{listAppend, rwRegister} {
			if _, err := check(context.Background(), testLattice(), w, fuzzOptions(opt), opsFromBytes(data), checker.Options{}); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestHugeSCCBudget: a dense random history makes one big component full
// of cycles; with a small budget the check still ends promptly, reporting
// cycle-search-timeout or the cycles it found.
func TestHugeSCCBudget(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	n := 4000
	var ops []history.Op
	next := map[int64]int64{}
	lists := map[int64][]any{}
	for i := 0; i < n; i++ {
		var txn []any
		for range 4 {
			k := int64(rng.IntN(8))
			if rng.IntN(2) == 0 {
				next[k]++
				txn = append(txn, []any{"append", k, next[k]})
				lists[k] = append(lists[k], next[k])
			} else {
				l := lists[k]
				cut := len(l)
				if cut > 0 {
					cut = rng.IntN(cut + 1) // stale reads: lots of rw edges backwards
				}
				txn = append(txn, []any{"r", k, append([]any(nil), l[:cut]...)})
			}
		}
		p := i % 10
		ops = append(ops, history.Op{Index: 2 * i, Time: int64(2 * i), Type: history.Invoke, Process: p, F: "txn", Value: txn},
			history.Op{Index: 2*i + 1, Time: int64(2*i + 1), Type: history.OK, Process: p, F: "txn", Value: txn})
	}
	h, err := history.New(ops)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{CycleSearchTimeout: 50 * time.Millisecond, SearchTimeout: 300 * time.Millisecond}
	start := time.Now()
	res, err := ListAppend(o).Check(context.Background(), h, checker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	r := res.(*Result)
	t.Logf("%d txns: %v in %v (%d components)", n, r.AnomalyTypes, el, r.SCCCount)
	if r.Valid != checker.Invalid {
		t.Errorf("got %v", r.Valid)
	}
	if el > 20*time.Second {
		t.Errorf("took %v with a 300ms search budget", el)
	}
	// A cancelled context stops the check with its error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ListAppend(o).Check(ctx, h, checker.Options{}); err == nil {
		t.Error("cancelled check returned no error")
	}
}
