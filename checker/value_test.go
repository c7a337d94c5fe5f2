package checker

import (
	"encoding/json"
	"math"
	"math/big"
	"testing"

	"github.com/faultline/faultline/history"
)

// TestValueJSONMatchesHistory checks that values quoted in results are
// written exactly as history.jsonl writes them.
func TestValueJSONMatchesHistory(t *testing.T) {
	big1, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	vals := []any{
		nil, true, int64(-3), 1.0, 2.5, 1e21, math.NaN(), math.Inf(1), math.Inf(-1), "a\"b\n\x01",
		big1, []any{int64(1), "x", nil}, history.Set{int64(2), int64(1)},
		history.Map{{Key: "k", Val: int64(1)}, {Key: int64(2), Val: []any{}}},
		history.Tagged{Tag: "inst", Value: "2020-01-01"}, []any{},
	}
	for _, v := range vals {
		line := history.AppendJSON(nil, history.Op{Value: v})
		var op map[string]json.RawMessage
		if err := json.Unmarshal(line, &op); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		got, err := json.Marshal(Value{v})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(op["value"]) {
			t.Errorf("%s: checker writes %s, history.jsonl %s", history.Format(v), got, op["value"])
		}
	}
	if b, _ := json.Marshal(Values(nil)); string(b) != "[]" {
		t.Errorf("nil Values: %s", b)
	}
}

func TestCompareValues(t *testing.T) {
	in := []any{"b", int64(3), nil, 2.5, "a", []any{int64(1)}, int64(-1), new(big.Int).SetInt64(10)}
	sortValues(in)
	want := []any{nil, int64(-1), 2.5, int64(3), new(big.Int).SetInt64(10), "a", "b", []any{int64(1)}}
	for i := range want {
		if !history.Equal(in[i], want[i]) {
			t.Fatalf("sorted %v, want %v", in, want)
		}
	}
}
