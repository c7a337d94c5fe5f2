package checker

import (
	"testing"
	"time"

	"github.com/faultline/faultline/history"
)

// timed builds a history with explicit times (ms).
func timed(t testing.TB, pairs ...any) *history.History {
	t.Helper()
	var ops []history.Op
	for i := 0; i+1 < len(pairs); i += 2 {
		o := pairs[i+1].(history.Op)
		o.Time = int64(pairs[i].(int)) * int64(time.Millisecond)
		o.Index = len(ops)
		ops = append(ops, o)
	}
	h, err := history.New(ops)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestLatenciesAndPerf(t *testing.T) {
	h := timed(t,
		0, invoke(0, "read", nil),
		0, nemesis("start", nil),
		10, ok(0, "read", 1), // 10 ms
		10, invoke(0, "write", 1),
		20, invoke(1, "read", nil),
		25, nemesis("start", "partitioned"),
		30, fail(0, "write", 1), // 20 ms
		50, ok(1, "read", 1), // 30 ms
		60, invoke(2, "write", 2),
		100, info(2, "write", 2), // 40 ms
		100, invoke(0, "read", nil), // never completes
		1000, nemesis("stop", nil),
		1010, nemesis("stop", "healed"),
	)
	lat := Latencies(h)
	want := []LatencyPoint{
		{Time: 0, Latency: 10e6, F: "read", Type: history.OK, Index: 0},
		{Time: 10e6, Latency: 20e6, F: "write", Type: history.Fail, Index: 3},
		{Time: 20e6, Latency: 30e6, F: "read", Type: history.OK, Index: 4},
		{Time: 60e6, Latency: 40e6, F: "write", Type: history.Info, Index: 8},
	}
	if len(lat) != len(want) {
		t.Fatalf("latencies %+v", lat)
	}
	for i := range want {
		if lat[i] != want[i] {
			t.Errorf("latency %d: %+v, want %+v", i, lat[i], want[i])
		}
	}

	r := run(t, Perf(PerfOptions{}), h).(*PerfResult)
	wantVerdict(t, r, Valid)
	jsonEq(t, r, `{"valid":true,
		"latencies":{"read":{"ok":{"0":10,"0.5":30,"0.95":30,"0.99":30,"1":30}},
		             "write":{"fail":{"0":20,"0.5":20,"0.95":20,"0.99":20,"1":20},
		                      "info":{"0":40,"0.5":40,"0.95":40,"0.99":40,"1":40}}},
		"rates":{"read":{"ok":1.9801980198019802},"write":{"fail":0.9900990099009901,"info":0.9900990099009901}},
		"counts":{"read":{"ok":2},"write":{"fail":1,"info":1}},
		"rate":3.9603960396039604,"duration":1.01,
		"nemesis-intervals":[{"name":"nemesis","f":"start","stop-f":"stop","start":0,"started":25000000,
			"stop":1000000000,"end":1010000000,"start-value":"partitioned","stop-value":"healed",
			"start-index":1,"end-index":12}]}`)
	if s := r.Summary(); s != "4.0 ops/s over 1.0 s, median ok latency up to 30.00 ms, 1 nemesis intervals" {
		t.Errorf("summary %q", s)
	}

	empty := run(t, Perf(PerfOptions{}), hist(t)).(*PerfResult)
	jsonEq(t, empty, `{"valid":true,"latencies":{},"rates":{},"counts":{},"rate":0,"duration":0,"nemesis-intervals":[]}`)
}

func TestRates(t *testing.T) {
	h := timed(t,
		0, invoke(0, "read", nil),
		100, ok(0, "read", 1),
		200, invoke(0, "read", nil),
		1500, ok(0, "read", 1),
		1600, invoke(0, "write", 1),
		1700, fail(0, "write", 1),
		2500, nemesis("noop", nil),
	)
	rs := Rates(h, time.Second)
	jsonEq(t, rs, `[
		{"f":"read","type":"ok","points":[{"time":500000000,"rate":1},{"time":1500000000,"rate":1},{"time":2500000000,"rate":0}]},
		{"f":"write","type":"fail","points":[{"time":500000000,"rate":0},{"time":1500000000,"rate":1},{"time":2500000000,"rate":0}]}]`)
	half := Rates(h, 500*time.Millisecond)
	if len(half[0].Points) != 6 || half[0].Points[0].Rate != 2 {
		t.Errorf("half-second buckets: %+v", half[0])
	}
	if got := Rates(hist(t), 0); len(got) != 0 {
		t.Errorf("rates of nothing: %+v", got)
	}
}

func TestNemesisIntervals(t *testing.T) {
	n := func(ms int, f string) []any { return []any{ms, nemesis(f, nil)} }
	build := func(parts ...[]any) *history.History {
		var flat []any
		for _, p := range parts {
			flat = append(flat, p...)
		}
		return timed(t, flat...)
	}
	t.Run("start start stop stop", func(t *testing.T) {
		// Jepsen's documented example: a start pair closed by a stop pair.
		h := build(n(1, "start"), n(2, "start"), n(3, "stop"), n(4, "stop"))
		iv := NemesisIntervals(h)
		if len(iv) != 1 || iv[0].Start != 1e6 || iv[0].Started != 2e6 || iv[0].Stop != 3e6 || iv[0].End != 4e6 {
			t.Errorf("%+v", iv)
		}
	})
	t.Run("several starts closed by one stop", func(t *testing.T) {
		h := build(n(1, "start"), n(2, "start"), n(3, "start"), n(4, "start"), n(5, "stop"), n(6, "stop"))
		iv := NemesisIntervals(h)
		if len(iv) != 2 || iv[0].End != 6e6 || iv[1].End != 6e6 || iv[1].Start != 3e6 {
			t.Errorf("%+v", iv)
		}
	})
	t.Run("unfinished start", func(t *testing.T) {
		h := build(n(20, "start"), n(25, "start"))
		iv := NemesisIntervals(h)
		if len(iv) != 1 || iv[0].End != -1 || iv[0].Stop != -1 || iv[0].EndIndex != -1 || iv[0].StopF != "" {
			t.Errorf("%+v", iv)
		}
	})
	t.Run("named families and client ops", func(t *testing.T) {
		h := build(
			n(1, "start-partition"), n(2, "start-partition"),
			[]any{3, invoke(0, "read", nil)},
			n(4, "start-clock"), n(5, "start-clock"),
			n(6, "stop-partition"), n(7, "stop-partition"),
			[]any{8, ok(0, "read", 1)},
			n(9, "kill"), n(10, "kill"),
		)
		iv := NemesisIntervals(h)
		if len(iv) != 2 || iv[0].Name != "partition" || iv[0].End != 7e6 || iv[1].Name != "clock" || iv[1].End != -1 {
			t.Errorf("%+v", iv)
		}
		custom := NemesisIntervals(h, NemesisSpec{Name: "kill", Start: []string{"kill"}, Stop: []string{"stop-partition"}})
		if len(custom) != 1 || custom[0].End != -1 {
			t.Errorf("a stop before the start must not close it: %+v", custom)
		}
		custom = NemesisIntervals(h, NemesisSpec{Name: "all", Start: []string{"start-partition", "start-clock"}, Stop: []string{"stop-partition"}})
		if len(custom) != 2 || custom[1].F != "start-clock" || custom[1].End != 7e6 {
			t.Errorf("%+v", custom)
		}
	})
	t.Run("mismatched pair is skipped", func(t *testing.T) {
		h := build(n(1, "start"), n(2, "stop"), n(3, "start"), n(4, "start"))
		iv := NemesisIntervals(h)
		if len(iv) != 1 || iv[0].Start != 3e6 {
			t.Errorf("%+v", iv)
		}
	})
}
