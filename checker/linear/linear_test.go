package linear

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/model"
)

func mustModel(t testing.TB, name string, init any) model.Model {
	t.Helper()
	m, err := model.ByName(name, init)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSemantics(t *testing.T) {
	cases := []struct {
		name  string
		model string
		init  any
		h     *hb
		want  checker.Validity
	}{
		{"empty", "cas-register", nil, &hb{}, checker.Valid},
		{"read initial", "cas-register", i64(0), (&hb{}).inv(0, "read", nil).ok(0, "read", i64(0)), checker.Valid},
		{"read wrong initial", "cas-register", i64(0), (&hb{}).inv(0, "read", nil).ok(0, "read", i64(1)), checker.Invalid},
		{"read nil always legal", "cas-register", i64(0), (&hb{}).inv(0, "read", nil).ok(0, "read", nil), checker.Valid},
		{"sequential write read", "register", nil,
			(&hb{}).inv(0, "write", i64(1)).ok(0, "write", i64(1)).inv(1, "read", nil).ok(1, "read", i64(1)), checker.Valid},
		{"stale read", "register", nil,
			(&hb{}).inv(0, "write", i64(1)).ok(0, "write", i64(1)).inv(0, "write", i64(2)).ok(0, "write", i64(2)).inv(1, "read", nil).ok(1, "read", i64(1)), checker.Invalid},
		{"concurrent read sees later write", "register", nil,
			(&hb{}).inv(0, "write", i64(1)).inv(1, "read", nil).ok(1, "read", i64(1)).ok(0, "write", i64(1)), checker.Valid},
		{"failed write never happened", "register", i64(0),
			(&hb{}).inv(0, "write", i64(1)).fail(0, "write", i64(1)).inv(1, "read", nil).ok(1, "read", i64(1)), checker.Invalid},
		{"info write may happen later", "register", i64(0),
			(&hb{}).inv(0, "write", i64(1)).info(0, "write", nil).inv(1, "read", nil).ok(1, "read", i64(1)), checker.Valid},
		{"info write may not happen", "register", i64(0),
			(&hb{}).inv(0, "write", i64(1)).info(0, "write", nil).inv(1, "read", nil).ok(1, "read", i64(0)), checker.Valid},
		{"info write happens once", "register", i64(0),
			(&hb{}).inv(0, "write", i64(1)).info(0, "write", nil).inv(1, "read", nil).ok(1, "read", i64(1)).
				inv(1, "write", i64(2)).ok(1, "write", i64(2)).inv(1, "read", nil).ok(1, "read", i64(1)), checker.Invalid},
		{"unfinished write", "register", i64(0),
			(&hb{}).inv(0, "write", i64(1)).inv(1, "read", nil).ok(1, "read", i64(1)), checker.Valid},
		{"cas", "cas-register", i64(0),
			(&hb{}).inv(0, "cas", pair(i64(0), i64(3))).ok(0, "cas", pair(i64(0), i64(3))).inv(1, "read", nil).ok(1, "read", i64(3)), checker.Valid},
		{"cas wrong", "cas-register", i64(0),
			(&hb{}).inv(0, "cas", pair(i64(1), i64(3))).ok(0, "cas", pair(i64(1), i64(3))), checker.Invalid},
		{"nemesis ignored", "register", i64(0),
			(&hb{}).info(-1, "start", nil).inv(0, "read", nil).info(-1, "start", "done").ok(0, "read", i64(0)), checker.Valid},
		{"mutex double acquire", "mutex", nil,
			(&hb{}).inv(0, "acquire", nil).ok(0, "acquire", nil).inv(1, "acquire", nil).ok(1, "acquire", nil), checker.Invalid},
		{"mutex concurrent", "mutex", nil,
			(&hb{}).inv(0, "acquire", nil).inv(1, "release", nil).ok(1, "release", nil).ok(0, "acquire", nil), checker.Valid},
		{"keys split", "register", i64(0),
			(&hb{}).inv(0, "write", i64(1)).ok(0, "write", i64(1)).key("a").inv(1, "read", nil).ok(1, "read", i64(0)).key("b"), checker.Valid},
		{"keys split invalid", "register", i64(0),
			(&hb{}).inv(0, "write", i64(1)).ok(0, "write", i64(1)).key("a").inv(1, "read", nil).ok(1, "read", i64(0)).key("a"), checker.Invalid},
		{"fifo", "fifo-queue", nil,
			(&hb{}).inv(0, "enqueue", i64(1)).ok(0, "enqueue", i64(1)).inv(0, "enqueue", i64(2)).ok(0, "enqueue", i64(2)).
				inv(1, "dequeue", nil).ok(1, "dequeue", i64(2)), checker.Invalid},
		{"unordered", "unordered-queue", nil,
			(&hb{}).inv(0, "enqueue", i64(1)).ok(0, "enqueue", i64(1)).inv(0, "enqueue", i64(2)).ok(0, "enqueue", i64(2)).
				inv(1, "dequeue", nil).ok(1, "dequeue", i64(2)), checker.Valid},
		{"set", "set", nil,
			(&hb{}).inv(0, "add", i64(1)).inv(1, "read", nil).ok(1, "read", history.Set{i64(1)}).ok(0, "add", i64(1)), checker.Valid},
		{"kv", "kv", nil,
			(&hb{}).inv(0, "append", "x").ok(0, "append", "x").key("k").inv(1, "get", nil).ok(1, "get", "x").key("k"), checker.Valid},
		{"kv bad", "kv", nil,
			(&hb{}).inv(0, "append", "x").ok(0, "append", "x").key("k").inv(1, "get", nil).ok(1, "get", "").key("k"), checker.Invalid},
		{"multi-register", "multi-register", history.Map{{Key: "x", Val: i64(0)}},
			(&hb{}).inv(0, "txn", []any{[]any{"write", "x", i64(1)}, []any{"read", "y", nil}}).ok(0, "txn", []any{[]any{"write", "x", i64(1)}, []any{"read", "y", nil}}).
				inv(1, "txn", []any{[]any{"read", "x", nil}}).ok(1, "txn", []any{[]any{"read", "x", i64(0)}}), checker.Invalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Check(context.Background(), c.h.history(t), mustModel(t, c.model, c.init), Options{})
			if r.Valid != c.want {
				b, _ := json.MarshalIndent(r, "", "  ")
				t.Fatalf("got %v, want %v\n%s", r.Valid, c.want, b)
			}
			if _, err := json.Marshal(r); err != nil {
				t.Fatal(err)
			}
			if r.Valid == checker.Invalid && (r.Op == nil || r.Summary() == "" || r.Reason == "") {
				t.Fatalf("invalid without evidence: %+v", r)
			}
		})
	}
}

func TestEvidence(t *testing.T) {
	// Knossos' bad-analysis-like: write 2 completes, then a read of 0.
	h := (&hb{}).inv(0, "write", i64(1)).ok(0, "write", i64(1)).
		inv(1, "write", i64(2)).ok(1, "write", i64(2)).
		inv(2, "read", nil).inv(3, "read", nil).ok(3, "read", i64(2)).ok(2, "read", i64(1)).history(t)
	r := Check(context.Background(), h, mustModel(t, "cas-register", i64(0)), Options{})
	if r.Valid != checker.Invalid {
		t.Fatalf("got %v", r.Valid)
	}
	if r.Op.Index != 7 || r.Op.Process != 2 {
		t.Errorf("op = %+v, want the read of 1 by process 2 (index 7)", r.Op)
	}
	if r.PreviousOK == nil || r.PreviousOK.Index != 6 {
		t.Errorf("previous-ok = %+v, want index 6", r.PreviousOK)
	}
	if len(r.Configs) == 0 || r.Configs[0].Model != "2" {
		t.Errorf("configs = %+v, want state 2", r.Configs)
	}
	s := r.Summary()
	if !strings.Contains(s, "read 1 by process 2 (op 7)") || !strings.Contains(s, "can't read 1 from register 2") {
		t.Errorf("summary %q", s)
	}
	t.Log(s)
}
