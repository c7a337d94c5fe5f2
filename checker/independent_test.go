package checker

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/faultline/faultline/history"
)

func keyed(k any, o history.Op) history.Op {
	o.Key = norm(k)
	return o
}

// recorder is a checker that remembers the subhistories and options it saw.
type recorder struct {
	mu   sync.Mutex
	seen map[string][]history.Op
	dirs map[string]string
}

func (r *recorder) Name() string { return "recorder" }
func (r *recorder) Check(_ context.Context, h *history.History, o Options) (Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := "none"
	for _, op := range h.Ops {
		if op.Key != nil {
			k = keyString(op.Key)
			break
		}
	}
	r.seen[k] = h.Ops
	r.dirs[k] = o.Dir
	return &fixedResult{Valid: Valid}, nil
}

func TestIndependent(t *testing.T) {
	h := hist(t,
		nemesis("start", nil),
		keyed(1, invoke(0, "add", 1)), keyed(2, invoke(1, "add", 1)),
		keyed(1, ok(0, "add", 1)), ok(1, "add", 1), // completion without key follows its invocation
		nemesis("start", "cut"),
		keyed(1, invoke(0, "read", nil)), keyed(1, ok(0, "read", []int{1})),
		keyed(2, invoke(1, "read", nil)), keyed(2, ok(1, "read", []int{})),
		keyed(3, invoke(2, "read", nil)), keyed(3, ok(2, "read", []int{})),
		keyed(10, invoke(2, "add", 5)), keyed(10, ok(2, "add", 5)),
	)
	r := run(t, Independent(Set()), h).(*IndependentResult)
	wantVerdict(t, r, Invalid)
	if strings.Join(r.Failures, ",") != "2" {
		t.Errorf("failures %v", r.Failures)
	}
	wantVerdict(t, r.Results["1"], Valid)
	wantVerdict(t, r.Results["2"], Invalid)
	wantVerdict(t, r.Results["3"], Valid)
	wantVerdict(t, r.Results["10"], Unknown) // never read
	if s := r.Summary(); s != "1 of 4 keys invalid, 1 unknown: key 2: lost 1 of 1 acknowledged adds: 1" {
		t.Errorf("summary %q", s)
	}
	if Independent(Set()).Name() != "set" {
		t.Error("Independent must keep the inner checker's name")
	}
	js := toJSON(t, r)
	if !strings.Contains(js, `"failures": [`) || !strings.Contains(js, `"10": {`) {
		t.Errorf("JSON:\n%s", js)
	}

	rec := &recorder{seen: map[string][]history.Op{}, dirs: map[string]string{}}
	run(t, Independent(rec), h)
	rec2 := &recorder{seen: map[string][]history.Op{}, dirs: map[string]string{}}
	Check(context.Background(), Independent(rec2), h, Options{Dir: "/tmp/x"})
	if got := len(rec.seen["2"]); got != 6 { // 2 nemesis + 4 ops of key 2
		t.Errorf("key 2 subhistory has %d ops: %v", got, rec.seen["2"])
	}
	if got := len(rec.seen["10"]); got != 4 { // nemesis ops before it started + its own
		t.Errorf("key 10 subhistory has %d ops", got)
	}
	for _, o := range rec.seen["2"] {
		if o.IsClient() && o.Process != 1 {
			t.Errorf("op of another key in key 2: %v", o)
		}
	}
	if rec.dirs["1"] != "" || rec2.dirs["1"] != filepath.Join("/tmp/x", "independent", "1") {
		t.Errorf("dirs %v / %v", rec.dirs, rec2.dirs)
	}
}

func TestIndependentEdges(t *testing.T) {
	t.Run("empty history is valid", func(t *testing.T) {
		r := run(t, Independent(Set()), hist(t))
		wantVerdict(t, r, Valid)
		jsonEq(t, r, `{"valid":true,"results":{},"failures":[]}`)
	})
	t.Run("unkeyed client ops are unknown", func(t *testing.T) {
		r := run(t, Independent(Set()), hist(t, invoke(0, "read", nil), ok(0, "read", []int{})))
		wantVerdict(t, r, Unknown)
	})
	t.Run("a failing key is unknown, not fatal", func(t *testing.T) {
		r := run(t, Independent(Counter()), hist(t,
			keyed("a", invoke(0, "read", nil)), keyed("a", ok(0, "read", "x")),
			keyed("b", invoke(1, "read", nil)), keyed("b", ok(1, "read", 0)),
		)).(*IndependentResult)
		wantVerdict(t, r, Unknown)
		wantVerdict(t, r.Results["a"], Unknown)
		wantVerdict(t, r.Results["b"], Valid)
		if len(r.Failures) != 0 {
			t.Errorf("failures %v", r.Failures)
		}
	})
	t.Run("partial propagates", func(t *testing.T) {
		h := hist(t, keyed(1, invoke(0, "read", nil)), keyed(1, ok(0, "read", 0)))
		r := Check(context.Background(), Independent(Counter()), h, Options{Partial: true})
		wantVerdict(t, r, Unknown)
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		h := hist(t, keyed(1, invoke(0, "read", nil)), keyed(1, ok(0, "read", 0)))
		r := Check(ctx, Independent(Counter()), h, Options{})
		wantVerdict(t, r, Unknown)
	})
}

func TestIndependentJepsenTuples(t *testing.T) {
	tuple := func(k int, o history.Op) history.Op {
		o.Value = []any{int64(k), o.Value}
		return o
	}
	h := hist(t,
		tuple(1, invoke(0, "add", 1)), tuple(1, ok(0, "add", 1)),
		nemesis("start", nil), nemesis("start", nil),
		tuple(2, invoke(1, "add", 1)), tuple(2, ok(1, "add", 1)),
		tuple(1, invoke(0, "read", nil)), tuple(1, ok(0, "read", []int{1})),
		tuple(2, invoke(1, "read", nil)), tuple(2, ok(1, "read", []int{})),
	)
	r := run(t, Independent(Set()), h).(*IndependentResult)
	wantVerdict(t, r, Invalid)
	if len(r.Results) != 2 || strings.Join(r.Failures, ",") != "2" {
		t.Errorf("%s", toJSON(t, r))
	}
	bad := run(t, Independent(Set()), hist(t, invoke(0, "read", nil), ok(0, "read", []int{1, 2, 3})))
	wantVerdict(t, bad, Unknown)
	if s := bad.(Summarizer).Summary(); !strings.Contains(s, "not keyed") {
		t.Errorf("summary %q", s)
	}
}
