package checker

import (
	"testing"

	"github.com/faultline/faultline/history"
)

func TestSetJepsen(t *testing.T) {
	h := hist(t,
		// ok adds
		invoke(0, "add", 0), ok(0, "add", 0),
		invoke(0, "add", 1), ok(0, "add", 1),
		// crashed adds
		invoke(1, "add", 10), info(1, "add", 10),
		invoke(2, "add", 11), info(2, "add", 11),
		// failed adds
		invoke(3, "add", 20), fail(3, "add", 20),
		invoke(3, "add", 21), fail(3, "add", 21),
		// final read
		invoke(4, "read", nil), ok(4, "read", set(0, 10, 20, 30)),
	)
	r := run(t, Set(), h)
	wantVerdict(t, r, Invalid)
	jsonEq(t, r, `{"valid":false,"ok-count":3,"ok":"#{0 10 20}","lost-count":1,"lost":"#{1}",
		"acknowledged-count":2,"recovered-count":2,"recovered":"#{10 20}","attempt-count":6,
		"unexpected-count":1,"unexpected":"#{30}"}`)
	if s := r.(Summarizer).Summary(); s != "lost 1 of 2 acknowledged adds: 1; read 1 elements never added: 30" {
		t.Errorf("summary %q", s)
	}
	golden(t, "set-jepsen", r)
}

func TestSet(t *testing.T) {
	tests := []struct {
		name string
		ops  []history.Op
		want Validity
		json string
	}{
		{"empty", nil, Unknown, `{"valid":"unknown","error":"Set was never read","attempt-count":0,"acknowledged-count":0,
			"ok-count":0,"lost-count":0,"recovered-count":0,"unexpected-count":0,"ok":"","lost":"","unexpected":"","recovered":""}`},
		{"only failures", []history.Op{
			invoke(0, "add", 1), fail(0, "add", 1),
			invoke(0, "read", nil), fail(0, "read", nil),
		}, Unknown, ""},
		{"all present, vector read, last read wins", []history.Op{
			invoke(0, "add", 1), ok(0, "add", 1),
			invoke(1, "read", nil), ok(1, "read", []int{}),
			nemesis("start", nil), nemesis("start", "partition"),
			invoke(0, "add", 2), info(0, "add", 2),
			invoke(2, "add", 3), ok(2, "add", 3),
			invoke(1, "read", nil), ok(1, "read", []int{3, 1, 2}),
		}, Valid, `{"valid":true,"attempt-count":3,"acknowledged-count":2,"ok-count":3,"lost-count":0,
			"recovered-count":1,"unexpected-count":0,"ok":"#{1..3}","lost":"#{}","unexpected":"#{}","recovered":"#{2}"}`},
		{"strings", []history.Op{
			invoke(0, "add", "a"), ok(0, "add", "a"),
			invoke(0, "add", "b"), ok(0, "add", "b"),
			invoke(0, "read", nil), ok(0, "read", []any{"b", "z"}),
		}, Invalid, `{"valid":false,"attempt-count":2,"acknowledged-count":2,"ok-count":1,"lost-count":1,
			"recovered-count":0,"unexpected-count":1,"ok":"#{\"b\"}","lost":"#{\"a\"}","unexpected":"#{\"z\"}","recovered":"#{}"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, Set(), hist(t, tt.ops...))
			wantVerdict(t, r, tt.want)
			if tt.json != "" {
				jsonEq(t, r, tt.json)
			}
		})
	}
	bad := Check(t.Context(), Set(), hist(t, invoke(0, "read", nil), ok(0, "read", 3)), Options{})
	wantVerdict(t, bad, Unknown)
}

func TestIntervalSetString(t *testing.T) {
	tests := []struct {
		in   []any
		want string
	}{
		{nil, "#{}"},
		{[]any{int64(3)}, "#{3}"},
		{[]any{int64(5), int64(1), int64(2), int64(3), int64(7), int64(8)}, "#{1..3 5 7..8}"},
		{[]any{int64(-1), int64(0), float64(1)}, "#{-1..1}"},
		{[]any{"b", int64(2), nil, "a"}, `#{2 nil "a" "b"}`},
	}
	for _, tt := range tests {
		if got := intervalSetString(tt.in); got != tt.want {
			t.Errorf("intervalSetString(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestKeyOfMatchesEqual checks that values history.Equal calls equal get the
// same key, and others different keys.
func TestKeyOfMatchesEqual(t *testing.T) {
	vals := []any{
		nil, int64(1), float64(1), float64(1.5), "1", "a", true, false,
		[]any{int64(1), "a"}, []any{"a", int64(1)}, history.Set{int64(1), int64(2)}, history.Set{int64(2), int64(1)},
		history.Map{{Key: "a", Val: int64(1)}, {Key: "b", Val: int64(2)}},
		history.Map{{Key: "b", Val: int64(2)}, {Key: "a", Val: int64(1)}},
		history.Map{{Key: "a", Val: int64(2)}}, []any{}, history.Set{},
		history.Tagged{Tag: "inst", Value: "2020"},
	}
	for _, a := range vals {
		for _, b := range vals {
			if eq, same := history.Equal(a, b), keyOf(a) == keyOf(b); eq != same {
				t.Errorf("%s vs %s: Equal %v but same key %v", history.Format(a), history.Format(b), eq, same)
			}
		}
	}
}
