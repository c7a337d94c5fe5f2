package checker

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/faultline/faultline/history"
)

// The cases of Jepsen's set-full-test, with the results it asserts.
func TestSetFullJepsen(t *testing.T) {
	c := func(t *testing.T, ops ...history.Op) *SetFullResult {
		t.Helper()
		return run(t, SetFull(SetFullOptions{}), hist(t, ops...)).(*SetFullResult)
	}
	neverRead := `{"valid":"unknown","attempt-count":1,"stable-count":0,"lost-count":0,"lost":[],
		"never-read-count":1,"never-read":[0],"stale-count":0,"stale":[],"worst-stale":[],
		"duplicated-count":0,"duplicated":{}}`
	t.Run("never read", func(t *testing.T) {
		jsonEq(t, c(t, invoke(0, "add", 0), ok(0, "add", 0)), neverRead)
	})
	a, a2 := invoke(0, "add", 0), ok(0, "add", 0)
	r, rp, rm := invoke(1, "read", nil), ok(1, "read", set(0)), ok(1, "read", set())
	t.Run("never confirmed, never read", func(t *testing.T) {
		jsonEq(t, c(t, a, r, rm), neverRead)
	})
	t.Run("successful read either concurrently or after", func(t *testing.T) {
		want := `{"valid":true,"attempt-count":1,"stable-count":1,"lost-count":0,"lost":[],
			"never-read-count":0,"never-read":[],"stale-count":0,"stale":[],"worst-stale":[],
			"stable-latencies":{"0":0,"0.5":0,"0.95":0,"0.99":0,"1":0},
			"duplicated-count":0,"duplicated":{}}`
		for i, ops := range [][]history.Op{
			{r, a, rp, a2}, // concurrent read before
			{r, a, a2, rp}, // concurrent read outside
			{a, r, rp, a2}, // concurrent read inside
			{a, r, a2, rp}, // concurrent read after
			{a, a2, r, rp}, // subsequent read
		} {
			got := c(t, ops...)
			jsonEq(t, got, want)
			if t.Failed() {
				t.Fatalf("case %d", i)
			}
		}
	})
	t.Run("absent read after", func(t *testing.T) {
		jsonEq(t, c(t, a, a2, r, rm), `{"valid":false,"attempt-count":1,"stable-count":0,"lost-count":1,"lost":[0],
			"never-read-count":0,"never-read":[],"stale-count":0,"stale":[],"worst-stale":[],
			"lost-latencies":{"0":0,"0.5":0,"0.95":0,"0.99":0,"1":0},
			"duplicated-count":0,"duplicated":{}}`)
	})
	t.Run("absent read concurrently", func(t *testing.T) {
		for _, ops := range [][]history.Op{{r, a, rm, a2}, {r, a, a2, rm}, {a, r, rm, a2}, {a, r, a2, rm}} {
			jsonEq(t, c(t, ops...), neverRead)
		}
	})

	a0, a0ok := invoke(0, "add", 0), ok(0, "add", 0)
	a1, a1ok := invoke(1, "add", 1), ok(1, "add", 1)
	r2, r3 := invoke(2, "read", nil), invoke(3, "read", nil)
	r2none := ok(2, "read", set())
	r2s0, r2s1, r2s01 := ok(2, "read", set(0)), ok(2, "read", set(1)), ok(2, "read", set(0, 1))
	r3s1 := ok(3, "read", set(1))
	t.Run("write, present, missing", func(t *testing.T) {
		got := c(t, a0, a1, r2, r2s1, a0ok, a1ok, r2, r2s01, r2, r2s0, r2, r2none)
		jsonEq(t, got, `{"valid":false,"attempt-count":2,"stable-count":0,"lost-count":2,"lost":[0,1],
			"never-read-count":0,"never-read":[],"stale-count":0,"stale":[],"worst-stale":[],
			"lost-latencies":{"0":3,"0.5":4,"0.95":4,"0.99":4,"1":4},
			"duplicated-count":0,"duplicated":{}}`)
	})
	t.Run("write, flutter, stable/lost", func(t *testing.T) {
		// t 0  1     2   3   4     5     6   7   8     9
		got := c(t, a0, a0ok, a1, r2, r2s1, a1ok, r2, r3, r3s1, r2s0)
		jsonEq(t, got, `{"valid":false,"attempt-count":2,"stable-count":1,"lost-count":1,"lost":[0],
			"never-read-count":0,"never-read":[],"stale-count":1,"stale":[1],
			"worst-stale":[{"element":1,"outcome":"stable","stable-latency":2,"lost-latency":null,
				"known":{"index":4,"time":4000000,"type":"ok","process":2,"f":"read","value":[1]},
				"last-absent":{"index":6,"time":6000000,"type":"invoke","process":2,"f":"read","value":null}}],
			"stable-latencies":{"0":2,"0.5":2,"0.95":2,"0.99":2,"1":2},
			"lost-latencies":{"0":5,"0.5":5,"0.95":5,"0.99":5,"1":5},
			"duplicated-count":0,"duplicated":{}}`)
		golden(t, "set-full-flutter", got)
		if s := got.Summary(); s != "lost 1 of 2 added elements: 0" {
			t.Errorf("summary %q", s)
		}
	})
}

func TestSetFull(t *testing.T) {
	lin := SetFullOptions{Linearizable: true}
	tests := []struct {
		name    string
		opts    SetFullOptions
		ops     []history.Op
		want    Validity
		summary string // substring
	}{
		{name: "empty", ops: nil, want: Unknown, summary: "no element of 0 became stable"},
		{name: "only failures", ops: []history.Op{
			invoke(0, "add", 1), fail(0, "add", 1),
			invoke(0, "read", nil), fail(0, "read", nil),
		}, want: Unknown},
		{name: "stale is fine unless linearizable", ops: []history.Op{
			invoke(0, "add", 1), ok(0, "add", 1),
			invoke(1, "read", nil), ok(1, "read", []int{}),
			invoke(1, "read", nil), ok(1, "read", []int{1}),
		}, want: Valid, summary: "1 of 1 elements stable (1 stale, 0 never read), none lost"},
		{name: "stale, linearizable", opts: lin, ops: []history.Op{
			invoke(0, "add", 1), ok(0, "add", 1),
			invoke(1, "read", nil), ok(1, "read", []int{}),
			invoke(1, "read", nil), ok(1, "read", []int{1}),
		}, want: Invalid, summary: "1 stale elements, missing from reads begun after they were added: 1 (worst 1 ms)"},
		{name: "duplicates", ops: []history.Op{
			invoke(0, "add", 1), ok(0, "add", 1),
			invoke(1, "read", nil), ok(1, "read", []int{1, 1, 1, 7, 7}),
		}, want: Invalid, summary: "2 elements read more than once in a single read: 1, 7"},
		{name: "nemesis and crashed adds", ops: []history.Op{
			nemesis("start", nil),
			invoke(0, "add", 1), info(0, "add", 1),
			nemesis("start", "cut"),
			invoke(1, "add", 2), ok(1, "add", 2),
			invoke(2, "read", nil), ok(2, "read", []int{1, 2}),
			nemesis("stop", nil), nemesis("stop", nil),
			invoke(3, "read", nil), ok(3, "read", []int{1, 2}),
		}, want: Valid},
		{name: "crashed add then lost later", ops: []history.Op{
			invoke(0, "add", 1), info(0, "add", 1),
			invoke(2, "read", nil), ok(2, "read", []int{1}),
			invoke(2, "read", nil), ok(2, "read", []int{}),
		}, want: Invalid, summary: "lost 1 of 1 added elements: 1"},
		{name: "string elements", ops: []history.Op{
			invoke(0, "add", "x"), ok(0, "add", "x"),
			invoke(0, "add", "y"), ok(0, "add", "y"),
			invoke(1, "read", nil), ok(1, "read", []any{"x", "y"}),
			invoke(1, "read", nil), ok(1, "read", []any{"y"}),
		}, want: Invalid, summary: `lost 1 of 2 added elements: "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, SetFull(tt.opts), hist(t, tt.ops...)).(*SetFullResult)
			wantVerdict(t, r, tt.want)
			if !strings.Contains(r.Summary(), tt.summary) {
				t.Errorf("summary %q does not contain %q", r.Summary(), tt.summary)
			}
		})
	}
}

// TestSetFullOracle compares the fast scan with a direct transcription of
// the definitions (every read against every element, maps keyed by value)
// on random histories.
func TestSetFullOracle(t *testing.T) {
	for seed := uint64(0); seed < 100; seed++ {
		ops := randomSetHistory(seed, 5, 40, seed%2 == 0)
		h := hist(t, ops...)
		got := run(t, SetFull(SetFullOptions{}), h).(*SetFullResult)
		want := setFullOracle(h)
		gotOut := map[string]string{}
		for _, v := range got.Lost {
			gotOut[keyString(v)] = "lost"
		}
		for _, v := range got.NeverRead {
			gotOut[keyString(v)] = "never-read"
		}
		stable := got.AttemptCount - got.LostCount - got.NeverReadCount
		for k, o := range want {
			if o == "stable" {
				stable--
				continue
			}
			if gotOut[k] != o {
				t.Fatalf("seed %d: element %s: got %q, oracle %q\n%s", seed, k, gotOut[k], o, toJSON(t, got))
			}
		}
		if stable != 0 || len(want) != got.AttemptCount {
			t.Fatalf("seed %d: counts differ from the oracle %v\n%s", seed, want, toJSON(t, got))
		}
	}
}

func setFullOracle(h *history.History) map[string]string {
	type st struct{ known, present, absent int }
	els := map[string]*st{}
	var order []string
	for i, o := range h.Ops {
		if !o.IsClient() {
			continue
		}
		if o.F == "add" && o.Type == history.Invoke {
			k := keyString(o.Value)
			if els[k] == nil {
				order = append(order, k)
			}
			els[k] = &st{-1, -1, -1}
		}
		if o.F == "add" && o.Type == history.OK {
			if e := els[keyString(o.Value)]; e != nil && e.known < 0 {
				e.known = i
			}
		}
		if o.F == "read" && o.Type == history.OK {
			inv := h.Pair(i)
			in := map[string]bool{}
			vs, _ := elems(o.Value)
			for _, v := range vs {
				in[keyString(v)] = true
			}
			for k, e := range els {
				if in[k] {
					if e.known < 0 {
						e.known = i
					}
					e.present = max(e.present, inv)
				} else {
					e.absent = max(e.absent, inv)
				}
			}
		}
	}
	out := map[string]string{}
	for _, k := range order {
		e := els[k]
		switch {
		case e.present >= 0 && e.absent < e.present:
			out[k] = "stable"
		case e.known >= 0 && e.absent >= 0 && e.present < e.absent && e.known < e.absent:
			out[k] = "lost"
		default:
			out[k] = "never-read"
		}
	}
	return out
}

// randomSetHistory makes a history of adds of distinct elements and reads
// that mostly see every element added so far (sometimes missing some),
// over procs processes. sparse spreads elements far apart (the map index
// rather than the dense table).
func randomSetHistory(seed uint64, procs, n int, sparse bool) []history.Op {
	rng := rand.New(rand.NewPCG(seed, 7))
	type st struct {
		busy bool
		f    string
		v    int64
		p    int
	}
	ps := make([]st, procs)
	for i := range ps {
		ps[i].p = i
	}
	next := procs
	var added []int64
	var elem int64
	var ops []history.Op
	for len(ops) < 2*n {
		s := &ps[rng.IntN(procs)]
		if !s.busy {
			s.busy = true
			if rng.IntN(2) == 0 {
				elem++
				s.f, s.v = "add", elem
				if sparse {
					s.v = elem * 1_000_003
				}
				ops = append(ops, invoke(s.p, "add", s.v))
			} else {
				s.f = "read"
				ops = append(ops, invoke(s.p, "read", nil))
			}
			continue
		}
		s.busy = false
		switch x := rng.IntN(10); {
		case s.f == "add" && x < 6:
			added = append(added, s.v)
			ops = append(ops, ok(s.p, "add", s.v))
		case s.f == "add" && x < 8:
			ops = append(ops, fail(s.p, "add", s.v))
		case s.f == "add":
			if rng.IntN(2) == 0 {
				added = append(added, s.v)
			}
			ops = append(ops, info(s.p, "add", s.v))
			s.p, next = next, next+1
		default:
			var read []any
			for _, v := range added {
				if rng.IntN(8) != 0 {
					read = append(read, v)
				}
			}
			ops = append(ops, ok(s.p, "read", read))
		}
	}
	return ops
}
