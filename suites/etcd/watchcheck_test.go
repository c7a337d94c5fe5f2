package etcd

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
)

// hb builds histories for the checker tests.
type hb struct{ ops []history.Op }

func (b *hb) add(op history.Op) {
	op.Index = len(b.ops)
	op.Time = int64(len(b.ops)) * 1000
	b.ops = append(b.ops, op)
}

func (b *hb) history(t testing.TB) *history.History {
	t.Helper()
	h, err := history.New(b.ops)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// write adds a write of v by p ending in typ (ok writes carry rev).
func (b *hb) write(p int, v int64, typ history.Type, rev int64) {
	b.add(history.Op{Type: history.Invoke, Process: p, F: "write", Value: v})
	c := history.Op{Type: typ, Process: p, F: "write", Value: v}
	if typ == history.OK {
		c.Extra = history.Map{{Key: "revision", Val: rev}}
	}
	b.add(c)
}

// watch adds an ok watch by p from from, seeing events [rev value]; a
// target >= 0 makes it a final watch.
func (b *hb) watch(p int, from int64, events [][2]int64, target int64) {
	var inv any
	if target >= 0 {
		inv = "final"
	}
	b.add(history.Op{Type: history.Invoke, Process: p, F: "watch", Value: inv})
	evs := []any{}
	to := from - 1
	for _, e := range events {
		evs = append(evs, []any{e[0], e[1]})
		to = max(to, e[0])
	}
	v := history.Map{{Key: "from", Val: from}, {Key: "to", Val: to}, {Key: "events", Val: evs}}
	if target >= 0 {
		v = append(v, history.Entry{Key: "target", Val: target})
	}
	b.add(history.Op{Type: history.OK, Process: p, F: "watch", Value: v})
}

func checkWatch(t *testing.T, h *history.History) *WatchResult {
	t.Helper()
	res, err := WatchChecker().Check(context.Background(), h, checker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res.(*WatchResult)
}

func TestWatchChecker(t *testing.T) {
	// Three writes at revisions 3, 4, 5 (values 0, 1, 2).
	writes := func(b *hb) {
		b.write(0, 0, history.OK, 3)
		b.write(0, 1, history.OK, 4)
		b.write(0, 2, history.OK, 5)
	}
	all := [][2]int64{{3, 0}, {4, 1}, {5, 2}}
	for _, tc := range []struct {
		name  string
		build func(b *hb)
		want  checker.Validity
		types []string // anomaly types expected
	}{
		{"valid", func(b *hb) {
			writes(b)
			b.watch(1, 3, all[:2], -1)
			b.watch(1, 5, all[2:], -1)
			b.watch(1, 6, nil, 5)
			b.watch(2, 3, all, 5)
		}, checker.Valid, nil},
		{"info write seen", func(b *hb) {
			writes(b)
			b.write(0, 3, history.Info, 0)
			b.watch(1, 3, append(all, [2]int64{6, 3}), 6)
		}, checker.Valid, nil},
		{"gap", func(b *hb) {
			writes(b)
			b.watch(1, 3, [][2]int64{{3, 0}, {5, 2}}, 5)
		}, checker.Invalid, []string{"gap"}},
		{"gap between ops", func(b *hb) {
			writes(b)
			b.watch(1, 3, all[:1], -1)
			b.watch(1, 5, all[2:], 5)
		}, checker.Invalid, []string{"gap"}},
		{"duplicate", func(b *hb) {
			writes(b)
			b.watch(1, 3, all[:2], -1)
			b.watch(1, 4, all[1:], 5)
		}, checker.Invalid, []string{"duplicate"}},
		{"out of order", func(b *hb) {
			writes(b)
			b.watch(1, 3, [][2]int64{{4, 1}, {3, 0}, {5, 2}}, 5)
		}, checker.Invalid, []string{"gap", "out-of-order"}},
		{"divergence", func(b *hb) {
			writes(b)
			b.write(7, 3, history.Info, 0)
			b.write(8, 4, history.Info, 0)
			b.watch(1, 3, append(all, [2]int64{6, 3}), 6)
			b.watch(2, 3, append(all, [2]int64{6, 4}), 6)
		}, checker.Invalid, []string{"divergence"}},
		{"wrong value", func(b *hb) {
			writes(b)
			b.watch(1, 3, [][2]int64{{3, 1}, {4, 0}, {5, 2}}, 5)
		}, checker.Invalid, []string{"wrong-value"}},
		{"duplicated write", func(b *hb) {
			writes(b)
			b.write(7, 3, history.Info, 0)
			b.watch(1, 3, append(all, [2]int64{6, 3}, [2]int64{7, 3}), 7)
		}, checker.Invalid, []string{"duplicated-write"}},
		{"phantom", func(b *hb) {
			writes(b)
			b.watch(1, 3, append(all, [2]int64{6, 99}), 6)
		}, checker.Invalid, []string{"phantom"}},
		{"failed write seen", func(b *hb) {
			writes(b)
			b.write(0, 3, history.Fail, 0)
			b.watch(1, 3, append(all, [2]int64{6, 3}), 6)
		}, checker.Invalid, []string{"failed-write-seen"}},
		{"late start", func(b *hb) {
			writes(b)
			b.watch(1, 3, all, 5)
			b.watch(2, 4, all[1:], 5)
		}, checker.Invalid, []string{"late-start"}},
		{"malformed", func(b *hb) {
			writes(b)
			b.add(history.Op{Type: history.Invoke, Process: 1, F: "watch"})
			b.add(history.Op{Type: history.OK, Process: 1, F: "watch", Value: "nope"})
			b.watch(2, 3, all, 5)
		}, checker.Invalid, []string{"malformed"}},
		{"no final caught up", func(b *hb) {
			writes(b)
			b.watch(1, 3, all[:2], 5)
		}, checker.Unknown, nil},
		{"some final lagging", func(b *hb) {
			writes(b)
			b.watch(1, 3, all, 5)
			b.watch(2, 3, all[:1], 5)
		}, checker.Unknown, nil},
		{"no watches", func(b *hb) {
			writes(b)
		}, checker.Unknown, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b hb
			tc.build(&b)
			r := checkWatch(t, b.history(t))
			if r.Valid != tc.want {
				t.Fatalf("verdict %s, want %s: %s", r.Valid, tc.want, r.Summary())
			}
			for _, typ := range tc.types {
				if r.AnomalyTypes[typ] == 0 {
					t.Errorf("no %s anomaly: %v", typ, r.AnomalyTypes)
				}
			}
			if len(tc.types) == 0 && len(r.AnomalyTypes) > 0 {
				t.Errorf("unexpected anomalies %v", r.AnomalyTypes)
			}
			if r.Valid == checker.Invalid && (len(r.Anomalies) == 0 || r.Anomalies[0].Message == "") {
				t.Errorf("invalid without evidence: %+v", r)
			}
		})
	}
}

// TestWatchGolden checks stored histories (JSON Lines, as runs write them)
// whose verdicts are known.
func TestWatchGolden(t *testing.T) {
	for _, tc := range []struct {
		file    string
		want    checker.Validity
		summary string
	}{
		{"watch-valid.jsonl", checker.Valid, "2 watchers saw revisions 3..5"},
		{"watch-gap.jsonl", checker.Invalid, "skipped revisions 4..4"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			h, _, err := history.ReadFile(filepath.Join("testdata", tc.file), history.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			r := checkWatch(t, h)
			if r.Valid != tc.want || !strings.Contains(r.Summary(), tc.summary) {
				t.Fatalf("verdict %s (%s), want %s with %q", r.Valid, r.Summary(), tc.want, tc.summary)
			}
		})
	}
}

func FuzzParseWatch(f *testing.F) {
	f.Add(`{"from":3,"to":4,"events":[[3,0],[4,1]]}`)
	f.Add(`{"from":3,"to":2,"events":[],"target":9}`)
	f.Add(`[1,2]`)
	f.Fuzz(func(t *testing.T, value string) {
		line := fmt.Sprintf(`{"index":0,"type":"ok","process":0,"f":"watch","value":%s}`, value)
		h, _, err := history.Read(strings.NewReader(line), "fuzz", history.ReadOptions{Lenient: true})
		if err != nil || h.Len() == 0 {
			return
		}
		_, _ = parseWatch(h.Ops[0].Value) // must not panic
	})
}

func BenchmarkWatchChecker(b *testing.B) {
	// 5 watchers over 20,000 revisions.
	var hh hb
	const n = 20000
	for i := int64(0); i < n; i++ {
		hh.write(0, i, history.OK, i+3)
	}
	for p := 1; p <= 5; p++ {
		for from := int64(3); from < n+3; from += 500 {
			var evs [][2]int64
			for r := from; r < from+500 && r < n+3; r++ {
				evs = append(evs, [2]int64{r, r - 3})
			}
			hh.watch(p, from, evs, -1)
		}
	}
	h := hh.history(b)
	b.ResetTimer()
	for b.Loop() {
		res, _ := WatchChecker().Check(context.Background(), h, checker.Options{})
		if res.Verdict() != checker.Unknown { // no final watch
			b.Fatal(res.Verdict())
		}
	}
}
