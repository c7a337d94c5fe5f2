package etcd

import (
	"fmt"
	"strings"
	"testing"

	"github.com/faultline/faultline/history"
)

func TestListEncoding(t *testing.T) {
	for _, xs := range [][]int64{nil, {1}, {1, 2, 3}, {-5, 0, 1 << 40}} {
		got, err := decodeList([]byte(encodeList(xs)))
		if err != nil || fmt.Sprint(got) != fmt.Sprint(xs) {
			t.Errorf("round trip of %v: %v, %v", xs, got, err)
		}
	}
	if _, err := decodeList([]byte("1,x")); err == nil {
		t.Error("decodeList accepted garbage")
	}
}

func TestParseTxn(t *testing.T) {
	for _, tc := range []struct {
		v   any
		err string
	}{
		{[]any{[]any{"append", int64(1), int64(2)}, []any{"r", int64(1), nil}}, ""},
		{"x", "not a list"},
		{[]any{[]any{"append", int64(1)}}, "want [f key value]"},
		{[]any{[]any{"w", int64(1), int64(2)}}, "unknown function"},
		{[]any{[]any{"append", int64(1), "two"}}, "wants an integer"},
	} {
		_, err := parseTxn(tc.v)
		if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("parseTxn(%s) = %v, want %q", history.Format(tc.v), err, tc.err)
		}
	}
}

func FuzzDecodeList(f *testing.F) {
	f.Add("1,2,3")
	f.Add("")
	f.Add(",")
	f.Fuzz(func(t *testing.T, s string) {
		xs, err := decodeList([]byte(s))
		if err != nil {
			return
		}
		again, err := decodeList([]byte(encodeList(xs)))
		if err != nil || fmt.Sprint(again) != fmt.Sprint(xs) {
			t.Fatalf("%q decodes to %v, which does not round-trip: %v, %v", s, xs, again, err)
		}
	})
}
