package checker

import (
	"strings"
	"testing"

	"github.com/faultline/faultline/history"
)

func TestStats(t *testing.T) {
	tests := []struct {
		name    string
		ops     []history.Op
		want    Validity
		json    string
		summary string
	}{
		{
			name: "empty",
			want: Valid,
			json: `{"valid":true,"count":0,"ok-count":0,"fail-count":0,"info-count":0,"by-f":{}}`,
		},
		{
			// Jepsen's stats-test: bar never succeeds, so the whole is invalid.
			name: "jepsen",
			ops: []history.Op{
				invoke(1, "foo", nil), ok(1, "foo", nil),
				invoke(2, "foo", nil), fail(2, "foo", nil),
				invoke(3, "bar", nil), info(3, "bar", nil),
				invoke(4, "bar", nil), fail(4, "bar", nil),
				invoke(5, "bar", nil), fail(5, "bar", nil),
			},
			want: Invalid,
			json: `{"valid":false,"count":5,"ok-count":1,"fail-count":3,"info-count":1,"by-f":{
				"foo":{"valid":true,"count":2,"ok-count":1,"fail-count":1,"info-count":0},
				"bar":{"valid":false,"count":3,"ok-count":0,"fail-count":2,"info-count":1}}}`,
			summary: "no op ever succeeded for f bar (3 ops: 2 fail, 1 info)",
		},
		{
			name: "only failures",
			ops:  []history.Op{invoke(0, "read", nil), fail(0, "read", nil)},
			want: Invalid,
		},
		{
			name: "nemesis and pending invocations are not counted",
			ops: []history.Op{
				nemesis("start", nil), invoke(0, "read", nil), nemesis("start", "cut"),
				ok(0, "read", 1), invoke(1, "write", 2),
			},
			want: Valid,
			json: `{"valid":true,"count":1,"ok-count":1,"fail-count":0,"info-count":0,"by-f":{
				"read":{"valid":true,"count":1,"ok-count":1,"fail-count":0,"info-count":0}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, Stats(), hist(t, tt.ops...))
			wantVerdict(t, r, tt.want)
			if tt.json != "" {
				jsonEq(t, r, tt.json)
			}
			if tt.summary != "" && r.(Summarizer).Summary() != tt.summary {
				t.Errorf("summary %q, want %q", r.(Summarizer).Summary(), tt.summary)
			}
		})
	}
}

func TestUnhandledExceptions(t *testing.T) {
	exc := func(class, msg string) history.Map {
		return history.Map{{Key: "via", Val: []any{history.Map{{Key: "type", Val: class}, {Key: "message", Val: msg}}}}}
	}
	withExc := func(o history.Op, e history.Map, err any) history.Op {
		o.Extra = history.Map{{Key: "exception", Val: e}}
		o.Error = err
		return o
	}
	withErr := func(o history.Op, err any) history.Op { o.Error = err; return o }
	t.Run("jepsen", func(t *testing.T) {
		h := hist(t,
			invoke(0, "foo", 1), withExc(info(0, "foo", 1), exc("java.lang.IllegalArgumentException", "bad args"), []any{"Whoops!"}),
			invoke(1, "foo", 1), withExc(info(1, "foo", 1), exc("java.lang.IllegalArgumentException", "bad args 2"), []any{"Whoops!", int64(2)}),
			invoke(2, "foo", 1), withExc(info(2, "foo", 1), exc("java.lang.IllegalStateException", "bad state"), "oh-no"),
		)
		r := run(t, UnhandledExceptions(), h).(*UnhandledExceptionsResult)
		wantVerdict(t, r, Valid)
		if len(r.Exceptions) != 2 {
			t.Fatalf("groups %+v", r.Exceptions)
		}
		if g := r.Exceptions[0]; g.Class != "java.lang.IllegalArgumentException" || g.Count != 2 || g.Example.Index != 1 {
			t.Errorf("first group %+v", g)
		}
		if g := r.Exceptions[1]; g.Class != "java.lang.IllegalStateException" || g.Count != 1 || g.Example.Index != 5 {
			t.Errorf("second group %+v", g)
		}
		js := toJSON(t, r)
		if !strings.Contains(js, `"class": "java.lang.IllegalArgumentException"`) || !strings.Contains(js, `"exception": {`) {
			t.Errorf("JSON:\n%s", js)
		}
	})
	t.Run("faultline errors, fails ignored", func(t *testing.T) {
		h := hist(t,
			invoke(0, "read", nil), withErr(info(0, "read", nil), "timeout"),
			invoke(1, "read", nil), withErr(fail(1, "read", nil), "not-found"),
			invoke(1, "read", nil), withErr(info(1, "read", nil), []any{"timeout", "after 10s"}),
			invoke(2, "write", 1), withErr(info(2, "write", 1), history.Map{{Key: "type", Val: "conn-refused"}}),
			invoke(3, "write", 1), info(3, "write", 1),
			nemesis("start", nil), withErr(nemesis("start", nil), "ssh failed"),
		)
		r := run(t, UnhandledExceptions(), h).(*UnhandledExceptionsResult)
		wantVerdict(t, r, Valid)
		got := map[string]int{}
		for _, g := range r.Exceptions {
			got[g.Class] = g.Count
		}
		want := map[string]int{"timeout": 2, "conn-refused": 1}
		if len(got) != len(want) || got["timeout"] != 2 || got["conn-refused"] != 1 {
			t.Errorf("groups %v, want %v", got, want)
		}
		if s := r.Summary(); s != "3 ops crashed with 2 classes of error: 2x timeout, 1x conn-refused" {
			t.Errorf("summary %q", s)
		}
	})
	t.Run("empty", func(t *testing.T) {
		r := run(t, UnhandledExceptions(), hist(t))
		wantVerdict(t, r, Valid)
		jsonEq(t, r, `{"valid":true}`)
	})
}
