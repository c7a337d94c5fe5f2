package history

import (
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"net"
	"testing"
	"time"
)

type color int

type point struct {
	X, Y   int
	Label  string `json:"label,omitempty"`
	Hidden string `json:"-"`
	secret int
}

func TestNormalize(t *testing.T) {
	var nilPtr *point
	var nilErr *net.OpError
	n := 5
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"nil", nil, nil},
		{"int", 3, int64(3)},
		{"int8", int8(-3), int64(-3)},
		{"int32", int32(7), int64(7)},
		{"uint", uint(7), int64(7)},
		{"uint8", uint8(200), int64(200)},
		{"uint64 big", uint64(math.MaxUint64), new(big.Int).SetUint64(math.MaxUint64)},
		{"float32", float32(0.5), 0.5},
		{"named int", color(2), int64(2)},
		{"duration", 3 * time.Millisecond, int64(3_000_000)},
		{"[]int", []int{1, 2}, []any{int64(1), int64(2)}},
		{"[]string", []string{"a", "b"}, []any{"a", "b"}},
		{"[]byte", []byte("hi"), "hi"},
		{"array", [2]int{4, 5}, []any{int64(4), int64(5)}},
		{"nested any", []any{1, []any{uint16(2), "x"}}, []any{int64(1), []any{int64(2), "x"}}},
		{"map[string]any sorted", map[string]any{"b": 1, "a": []int{2}}, Map{{"a", []any{int64(2)}}, {"b", int64(1)}}},
		{"map[any]any sorted", map[any]any{"z": 1, 2: "two", 1: "one"}, Map{{int64(1), "one"}, {int64(2), "two"}, {"z", int64(1)}}},
		{"map[int]string", map[int]string{10: "a", 9: "b"}, Map{{int64(9), "b"}, {int64(10), "a"}}},
		{"pointer", &n, int64(5)},
		{"nil pointer", nilPtr, nil},
		{"struct", point{X: 1, Y: 2, Label: "p", Hidden: "h"}, Map{{"X", int64(1)}, {"Y", int64(2)}, {"label", "p"}}},
		{"error", errors.New("boom"), "boom"},
		{"nil error pointer", nilErr, nil},
		{"json number", json.Number("12"), int64(12)},
		{"json float", json.Number("1.5"), 1.5},
		{"ip", net.IPv4(10, 0, 0, 1), "10.0.0.1"},
		{"time", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "2024-01-02T03:04:05Z"},
		{"set inside", Set{1, "a"}, Set{int64(1), "a"}},
		{"map inside", Map{{"k", []int{1}}}, Map{{"k", []any{int64(1)}}}},
		{"tagged inside", Tagged{"t", uint(1)}, Tagged{"t", int64(1)}},
		{"func", func() {}, nil}, // checked separately: a string
	}
	for _, tt := range tests {
		got := Normalize(tt.in)
		if tt.name == "func" {
			if _, ok := got.(string); !ok {
				t.Errorf("func: got %T", got)
			}
			continue
		}
		if !canonical(got) && got != nil {
			t.Errorf("%s: %T is not canonical", tt.name, got)
		}
		if !Equal(got, tt.want) {
			t.Errorf("%s: Normalize(%v) = %s, want %s", tt.name, tt.in, Format(got), Format(tt.want))
		}
	}
}

func TestNormalizeOrderIsStable(t *testing.T) {
	m := map[string]any{}
	for _, k := range []string{"q", "w", "e", "r", "t", "y", "u", "i", "o", "p"} {
		m[k] = k
	}
	first := Format(Normalize(m))
	for i := 0; i < 20; i++ {
		if got := Format(Normalize(m)); got != first {
			t.Fatalf("order changed: %s vs %s", got, first)
		}
	}
}

func TestNormalizeCyclic(t *testing.T) {
	type node struct{ Next *node }
	a := &node{}
	a.Next = a
	if _, ok := Normalize(a).(Map); !ok {
		t.Errorf("cyclic value: %T", Normalize(a))
	}
}

func TestNormalizeCanonicalDoesNotAllocate(t *testing.T) {
	var v any = []any{int64(1), "x", []any{nil, true, 1.5}, Map{{"a", int64(2)}}}
	allocs := testing.AllocsPerRun(100, func() { _ = Normalize(v) })
	if allocs != 0 {
		t.Errorf("Normalize of a canonical value allocates %.0f times", allocs)
	}
}

func TestEqualNaN(t *testing.T) {
	if !Equal(math.NaN(), math.NaN()) || !Equal([]any{math.NaN()}, []any{math.NaN()}) {
		t.Error("NaN is not equal to itself")
	}
	if Equal(math.NaN(), 1.0) || Equal(1.5, bigInt("1")) || !Equal(2.0, bigInt("2")) {
		t.Error("float/big comparisons")
	}
}
