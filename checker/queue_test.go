package checker

import (
	"strings"
	"testing"

	"github.com/faultline/faultline/history"
)

func TestQueue(t *testing.T) {
	tests := []struct {
		name    string
		ops     []history.Op
		want    Validity
		summary string
	}{
		// Jepsen's queue-test.
		{"empty", nil, Valid, "every dequeued value was enqueued; 0 values left in the queue"},
		{"possible enqueue but no dequeue", []history.Op{invoke(1, "enqueue", 1)}, Valid, "1 values left"},
		{"definite enqueue but no dequeue", []history.Op{invoke(1, "enqueue", 1), ok(1, "enqueue", 1)}, Valid, "1 values left"},
		{"concurrent enqueue/dequeue", []history.Op{
			invoke(2, "dequeue", nil), invoke(1, "enqueue", 1), ok(2, "dequeue", 1),
		}, Valid, "0 values left"},
		{"dequeue but no enqueue", []history.Op{invoke(1, "dequeue", nil), ok(1, "dequeue", 1)}, Invalid,
			"1 dequeues of values that were not in the queue: op 1 dequeued 1"},
		// Faultline's additions.
		{"dequeue twice", []history.Op{
			invoke(1, "enqueue", 1), ok(1, "enqueue", 1),
			invoke(2, "dequeue", nil), ok(2, "dequeue", 1),
			invoke(2, "dequeue", nil), ok(2, "dequeue", 1),
		}, Invalid, "op 5 dequeued 1"},
		{"enqueued twice, dequeued twice", []history.Op{
			invoke(1, "enqueue", 1), ok(1, "enqueue", 1),
			invoke(1, "enqueue", 1), info(1, "enqueue", 1),
			invoke(2, "dequeue", nil), ok(2, "dequeue", 1),
			invoke(2, "dequeue", nil), ok(2, "dequeue", 1),
		}, Valid, "0 values left"},
		{"failed enqueue cannot be dequeued", []history.Op{
			invoke(1, "enqueue", 1), fail(1, "enqueue", 1),
			invoke(2, "dequeue", nil), ok(2, "dequeue", 1),
		}, Invalid, "op 3 dequeued 1"},
		{"empty dequeues and drain", []history.Op{
			invoke(1, "enqueue", "a"), ok(1, "enqueue", "a"),
			nemesis("start", nil), nemesis("start", nil),
			invoke(1, "enqueue", "b"), ok(1, "enqueue", "b"),
			invoke(2, "dequeue", nil), ok(2, "dequeue", nil),
			invoke(2, "drain", nil), ok(2, "drain", []any{"b", "a"}),
		}, Valid, "0 values left"},
		{"drain of a value not enqueued", []history.Op{
			invoke(1, "enqueue", "a"), ok(1, "enqueue", "a"),
			invoke(2, "drain", nil), ok(2, "drain", []any{"a", "z"}),
		}, Invalid, `op 3 dequeued "z"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, Queue(), hist(t, tt.ops...)).(*QueueResult)
			wantVerdict(t, r, tt.want)
			if !strings.Contains(r.Summary(), tt.summary) {
				t.Errorf("summary %q does not contain %q", r.Summary(), tt.summary)
			}
		})
	}
	r := run(t, Queue(), hist(t, invoke(1, "dequeue", nil), ok(1, "dequeue", 7)))
	jsonEq(t, r, `{"valid":false,"error":"can't dequeue 7","bad-dequeue-count":1,
		"bad-dequeues":[{"index":1,"time":1000000,"type":"ok","process":1,"f":"dequeue","value":7}],
		"final-queue":[],"final-queue-count":0}`)
}

func TestTotalQueue(t *testing.T) {
	t.Run("empty", func(t *testing.T) {
		r := run(t, TotalQueue(), hist(t))
		wantVerdict(t, r, Valid)
	})
	t.Run("sane", func(t *testing.T) {
		r := run(t, TotalQueue(), hist(t,
			invoke(1, "enqueue", 1),
			invoke(2, "enqueue", 2), ok(2, "enqueue", 2),
			invoke(3, "dequeue", 1), ok(3, "dequeue", 1),
			invoke(3, "dequeue", 2), ok(3, "dequeue", 2),
		))
		jsonEq(t, r, `{"valid":true,"duplicated":[],"lost":[],"unexpected":[],"recovered":[1],
			"attempt-count":2,"acknowledged-count":1,"ok-count":2,"unexpected-count":0,
			"lost-count":0,"duplicated-count":0,"recovered-count":1}`)
	})
	t.Run("pathological", func(t *testing.T) {
		r := run(t, TotalQueue(), hist(t,
			invoke(1, "enqueue", "hung"),
			invoke(2, "enqueue", "enqueued"), ok(2, "enqueue", "enqueued"),
			invoke(3, "enqueue", "dup"), ok(3, "enqueue", "dup"),
			invoke(4, "dequeue", nil),
			invoke(5, "dequeue", nil), ok(5, "dequeue", "wtf"),
			invoke(6, "dequeue", nil), ok(6, "dequeue", "dup"),
			invoke(7, "dequeue", nil), ok(7, "dequeue", "dup"),
		))
		jsonEq(t, r, `{"valid":false,"lost":["enqueued"],"unexpected":["wtf"],"recovered":[],
			"duplicated":["dup"],"acknowledged-count":2,"attempt-count":3,"ok-count":1,
			"lost-count":1,"unexpected-count":1,"duplicated-count":1,"recovered-count":0}`)
		golden(t, "total-queue-pathological", r)
		want := `lost 1 of 2 acknowledged enqueues: "enqueued"; dequeued 1 values never enqueued: "wtf"; dequeued 1 values more often than enqueued: "dup"`
		if s := r.(Summarizer).Summary(); s != want {
			t.Errorf("summary %q", s)
		}
	})
	t.Run("drain, duplicates alone stay valid, nemesis ignored", func(t *testing.T) {
		r := run(t, TotalQueue(), hist(t,
			invoke(1, "enqueue", 1), ok(1, "enqueue", 1),
			invoke(1, "enqueue", 2), ok(1, "enqueue", 2),
			nemesis("kill", nil), nemesis("kill", nil),
			invoke(2, "dequeue", nil), ok(2, "dequeue", 1),
			invoke(2, "dequeue", nil), ok(2, "dequeue", nil),
			invoke(2, "drain", nil), fail(2, "drain", nil),
			invoke(2, "drain", nil), ok(2, "drain", []int{2, 1}),
		)).(*TotalQueueResult)
		wantVerdict(t, r, Valid)
		if r.DuplicatedCount != 1 || r.OKCount != 2 {
			t.Errorf("%s", toJSON(t, r))
		}
	})
	t.Run("crashed drain", func(t *testing.T) {
		r := Check(t.Context(), TotalQueue(), hist(t, invoke(2, "drain", nil), info(2, "drain", nil)), Options{})
		wantVerdict(t, r, Unknown)
		if !strings.Contains(r.(*ErrorResult).Error, "crashed drain") {
			t.Errorf("%#v", r)
		}
	})
}

func TestUniqueIDs(t *testing.T) {
	t.Run("empty", func(t *testing.T) {
		r := run(t, UniqueIDs(), hist(t))
		jsonEq(t, r, `{"valid":true,"attempted-count":0,"acknowledged-count":0,"duplicated-count":0,"duplicated":{},"range":[null,null]}`)
	})
	t.Run("dups", func(t *testing.T) {
		r := run(t, UniqueIDs(), hist(t,
			invoke(0, "generate", nil), ok(0, "generate", 0),
			invoke(1, "generate", nil), ok(1, "generate", 1),
			invoke(2, "generate", nil), ok(2, "generate", 0),
			invoke(3, "generate", nil), ok(3, "generate", 0),
			invoke(4, "generate", nil), info(4, "generate", nil),
		))
		jsonEq(t, r, `{"valid":false,"attempted-count":5,"acknowledged-count":4,"duplicated-count":1,"duplicated":{"0":3},"range":[0,1]}`)
		if s := r.(Summarizer).Summary(); s != "1 of 4 acknowledged ids were returned more than once: 0 (3x)" {
			t.Errorf("summary %q", s)
		}
	})
	t.Run("strings, failures, nemesis", func(t *testing.T) {
		r := run(t, UniqueIDs(), hist(t,
			invoke(0, "generate", nil), ok(0, "generate", "b"),
			nemesis("start", nil), nemesis("start", nil),
			invoke(0, "generate", nil), fail(0, "generate", nil),
			invoke(0, "generate", nil), ok(0, "generate", "a"),
		))
		jsonEq(t, r, `{"valid":true,"attempted-count":3,"acknowledged-count":2,"duplicated-count":0,"duplicated":{},"range":["a","b"]}`)
	})
	t.Run("at most 48 duplicates listed", func(t *testing.T) {
		var ops []history.Op
		for i := range 60 {
			for range 2 + i%3 {
				ops = append(ops, invoke(0, "generate", nil), ok(0, "generate", i))
			}
		}
		r := run(t, UniqueIDs(), hist(t, ops...)).(*UniqueIDsResult)
		if r.DuplicatedCount != 60 || len(r.Duplicated) != 48 {
			t.Fatalf("count %d, listed %d", r.DuplicatedCount, len(r.Duplicated))
		}
		// 20 ids appear 4 times, 20 three times, 20 twice: the most
		// duplicated come first.
		big := 0
		for _, n := range r.Duplicated {
			if n >= 3 {
				big++
			}
		}
		if big != 40 {
			t.Errorf("listed %d of the 40 ids returned 3 or 4 times", big)
		}
	})
}
