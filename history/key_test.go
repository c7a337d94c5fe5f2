package history

import (
	"math"
	"math/big"
	"testing"
)

func TestKeyOfMatchesEqual(t *testing.T) {
	two64, _ := new(big.Int).SetString("18446744073709551616", 10)
	vals := []any{
		nil, int64(1), float64(1), big.NewInt(1), float64(1.5), "1", "a", true, false,
		math.NaN(), math.Inf(1), float64(1 << 62), int64(1 << 62), float64(1 << 64), two64,
		[]any{int64(1), "a"}, []any{"a", int64(1)}, []any{float64(1), "a"},
		Set{int64(1), int64(2)}, Set{int64(2), int64(1)},
		Map{{Key: "a", Val: int64(1)}, {Key: "b", Val: int64(2)}},
		Map{{Key: "b", Val: int64(2)}, {Key: "a", Val: int64(1)}},
		Map{{Key: "a", Val: int64(2)}}, []any{}, Set{}, Map{},
		Tagged{Tag: "inst", Value: "2020"}, Tagged{Tag: "x", Value: "2020"},
		Tagged{Tag: "m", Value: Map{{Key: "a", Val: int64(1)}, {Key: "b", Val: nil}}},
		Tagged{Tag: "m", Value: Map{{Key: "b", Val: nil}, {Key: "a", Val: float64(1)}}},
	}
	for _, a := range vals {
		for _, b := range vals {
			if eq, same := Equal(a, b), KeyOf(a) == KeyOf(b); eq != same {
				t.Errorf("%s vs %s: Equal %v but same key %v", Format(a), Format(b), eq, same)
			}
		}
	}
}

func TestKeyInt(t *testing.T) {
	for _, tc := range []struct {
		v  any
		n  int64
		ok bool
	}{
		{int64(-3), -3, true}, {3, 3, true}, {float64(4), 4, true}, {big.NewInt(5), 5, true},
		{2.5, 0, false}, {float64(1 << 63), 0, false}, {math.Inf(-1), 0, false}, {"7", 0, false}, {nil, 0, false},
	} {
		n, ok := KeyOf(tc.v).Int()
		if ok != tc.ok || ok && n != tc.n {
			t.Errorf("KeyOf(%v).Int() = %d, %v", tc.v, n, ok)
		}
	}
}

func TestCanonical(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{[]any{float64(2), "a", nil}, `[2 "a" nil]`},
		{Set{"b", int64(1)}, `#{"b" 1}`},
		{Map{{Key: "b", Val: 1.5}, {Key: "a", Val: true}}, `{"a" true, "b" 1.5}`},
		{Tagged{Tag: "t", Value: Set{int64(2), float64(1)}}, `#t #{1 2}`},
		{float64(1 << 64), "18446744073709551616"},
	} {
		if got := Canonical(tc.v); got != tc.want {
			t.Errorf("Canonical(%s) = %s, want %s", Format(tc.v), got, tc.want)
		}
	}
}
