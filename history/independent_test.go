package history

import (
	"strings"
	"testing"
)

func TestIndependent(t *testing.T) {
	src := `{:process 0, :type :invoke, :f :read, :value [3 nil]}
{:process :nemesis, :type :info, :f :start, :value nil}
{:process 0, :type :ok, :f :read, :value [3 5]}
{:process 1, :type :invoke, :f :cas, :value [4 [1 2]]}
{:process 1, :type :fail, :f :cas, :value [4 [1 2]]}
`
	h, _, err := Read(strings.NewReader(src), "i.edn", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Readers do not guess.
	if h.Ops[0].Key != nil {
		t.Fatalf("reader split the tuple: %v", h.Ops[0])
	}
	ops, err := SplitIndependent(h.Ops)
	if err != nil {
		t.Fatal(err)
	}
	if !Equal(ops[0].Key, int64(3)) || ops[0].Value != nil || !Equal(ops[2].Value, int64(5)) || !Equal(ops[3].Value, []any{int64(1), int64(2)}) {
		t.Errorf("split: %v", ops)
	}
	if ops[1].Key != nil || h.Ops[0].Key != nil {
		t.Errorf("nemesis op or input changed: %v %v", ops[1], h.Ops[0])
	}
	// Already keyed ops stay as they are.
	if again, err := SplitIndependent(ops); err != nil || !opSlicesEqual(again, ops) {
		t.Errorf("second split: %v %v", again, err)
	}
	if _, ok := UnwrapIndependent(Op{Value: int64(1)}); ok {
		t.Error("unwrapped a non-tuple")
	}
	bad := []Op{{Process: 0, Type: Invoke, Value: int64(1)}}
	if _, err := SplitIndependent(bad); err == nil || !strings.Contains(err.Error(), "not an independent") {
		t.Errorf("non-tuple: %v", err)
	}
	mismatch := []Op{{Process: 0, Type: Invoke, Value: []any{int64(1), nil}}, {Index: 1, Process: 0, Type: OK, Value: []any{int64(2), int64(3)}}}
	if _, err := SplitIndependent(mismatch); err == nil || !strings.Contains(err.Error(), "differs") {
		t.Errorf("key mismatch: %v", err)
	}
}
