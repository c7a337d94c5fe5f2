package memdb

import (
	"reflect"
	"testing"

	"github.com/faultline/faultline/history"
)

func TestMachine(t *testing.T) {
	type step struct {
		cmd  command
		want result
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"register", []step{
			{command{Op: opRegRead, Key: "r"}, result{Nil: true}},
			{command{Op: opRegCAS, Key: "r", A: 0, B: 1}, result{Err: errCASMismatch}},
			{command{Op: opRegWrite, Key: "r", A: 3}, result{}},
			{command{Op: opRegCAS, Key: "r", A: 2, B: 4}, result{Err: errCASMismatch}},
			{command{Op: opRegCAS, Key: "r", A: 3, B: 4}, result{}},
			{command{Op: opRegRead, Key: "r"}, result{Int: 4}},
			{command{Op: opRegRead, Key: "other"}, result{Nil: true}},
		}},
		{"set", []step{
			{command{Op: opSetRead, Key: "s"}, result{Ints: []int64{}}},
			{command{Op: opSetAdd, Key: "s", A: 5}, result{}},
			{command{Op: opSetAdd, Key: "s", A: -1}, result{}},
			{command{Op: opSetAdd, Key: "s", A: 5}, result{}},
			{command{Op: opSetRead, Key: "s"}, result{Ints: []int64{-1, 5}}},
		}},
		{"counter", []step{
			{command{Op: opCtrRead, Key: "c"}, result{}},
			{command{Op: opCtrAdd, Key: "c", A: 5}, result{}},
			{command{Op: opCtrAdd, Key: "c", A: -2}, result{}},
			{command{Op: opCtrRead, Key: "c"}, result{Int: 3}},
		}},
		{"bank", []step{
			{command{Op: opBankXfer, Key: "b", A: 0, B: 1, C: 1}, result{Err: errNoAccount}},
			{command{Op: opBankInit, Key: "b", Ints: []int64{2, 0, 1}, A: 10}, result{}},
			{command{Op: opBankInit, Key: "b", Ints: []int64{7}, A: 99}, result{}}, // only once
			{command{Op: opBankRead, Key: "b"}, result{Ints: []int64{0, 1, 2}, Vals: []int64{3, 3, 4}}},
			{command{Op: opBankXfer, Key: "b", A: 0, B: 2, C: 4}, result{Err: errInsufficient}},
			{command{Op: opBankXfer, Key: "b", A: 0, B: 2, C: -1}, result{Err: errInsufficient}},
			{command{Op: opBankXfer, Key: "b", A: 0, B: 9, C: 1}, result{Err: errNoAccount}},
			{command{Op: opBankXfer, Key: "b", A: 0, B: 2, C: 3}, result{}},
			{command{Op: opBankRead, Key: "b"}, result{Ints: []int64{0, 1, 2}, Vals: []int64{0, 3, 7}}},
		}},
		{"unique ids", []step{
			{command{Op: opGenID}, result{Int: 1}},
			{command{Op: opGenID}, result{Int: 2}},
		}},
		{"queue", []step{
			{command{Op: opQueueDeq, Key: "q"}, result{Err: errEmpty}},
			{command{Op: opQueueEnq, Key: "q", A: 1}, result{}},
			{command{Op: opQueueEnq, Key: "q", A: 2}, result{}},
			{command{Op: opQueueEnq, Key: "q", A: 3}, result{}},
			{command{Op: opQueueDeq, Key: "q"}, result{Int: 1}},
			{command{Op: opQueueDrain, Key: "q"}, result{Ints: []int64{2, 3}}},
			{command{Op: opQueueDrain, Key: "q"}, result{Ints: []int64{}}},
			{command{Op: opQueueDeq, Key: "q"}, result{Err: errEmpty}},
		}},
		{"unknown", []step{{command{Op: "frobnicate"}, result{Err: errUnknownOp}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMachine()
			for i, s := range tt.steps {
				if got := m.apply(&s.cmd); !reflect.DeepEqual(got, s.want) {
					t.Fatalf("step %d %+v: got %+v, want %+v", i, s.cmd, got, s.want)
				}
			}
		})
	}
}

func TestToCommandAndComplete(t *testing.T) {
	m := func(kv ...any) history.Map {
		var out history.Map
		for i := 0; i < len(kv); i += 2 {
			out = append(out, history.Entry{Key: kv[i], Val: kv[i+1]})
		}
		return out
	}
	tests := []struct {
		workload, f string
		key, value  any
		wantCmd     command
		res         result
		wantType    history.Type
		wantValue   any
		wantErr     any
	}{
		{"register", "read", int64(3), nil, command{Op: opRegRead, Key: "register:3"}, result{Nil: true}, history.OK, nil, nil},
		{"register", "read", 3.0, nil, command{Op: opRegRead, Key: "register:3"}, result{Int: 4}, history.OK, int64(4), nil},
		{"register", "write", int64(3), int64(5), command{Op: opRegWrite, Key: "register:3", A: 5}, result{}, history.OK, int64(5), nil},
		{"register", "cas", int64(3), []any{int64(1), int64(2)}, command{Op: opRegCAS, Key: "register:3", A: 1, B: 2}, result{Err: errCASMismatch}, history.Fail, []any{int64(1), int64(2)}, errCASMismatch},
		{"set", "add", nil, int64(7), command{Op: opSetAdd, Key: "set:nil", A: 7}, result{}, history.OK, int64(7), nil},
		{"set", "read", nil, nil, command{Op: opSetRead, Key: "set:nil"}, result{Ints: []int64{1, 2}}, history.OK, []any{int64(1), int64(2)}, nil},
		{"set", "read", nil, nil, command{Op: opSetRead, Key: "set:nil"}, result{Indef: indefTimeout}, history.Fail, nil, indefTimeout},
		{"counter", "add", nil, int64(2), command{Op: opCtrAdd, Key: "counter:nil", A: 2}, result{}, history.OK, int64(2), nil},
		{"counter", "read", nil, nil, command{Op: opCtrRead, Key: "counter:nil"}, result{Int: 9}, history.OK, int64(9), nil},
		{"bank", "transfer", nil, m("from", int64(1), "to", int64(2), "amount", int64(3)), command{Op: opBankXfer, Key: "bank:nil", A: 1, B: 2, C: 3}, result{Err: errInsufficient}, history.Fail, m("from", int64(1), "to", int64(2), "amount", int64(3)), errInsufficient},
		{"bank", "read", nil, nil, command{Op: opBankRead, Key: "bank:nil"}, result{Ints: []int64{0, 1}, Vals: []int64{60, 40}}, history.OK, m(int64(0), int64(60), int64(1), int64(40)), nil},
		{"unique-ids", "generate", nil, nil, command{Op: opGenID, Key: "unique-ids:nil"}, result{Int: 12}, history.OK, int64(12), nil},
		{"queue", "enqueue", nil, int64(4), command{Op: opQueueEnq, Key: "queue:nil", A: 4}, result{}, history.OK, int64(4), nil},
		{"queue", "dequeue", nil, nil, command{Op: opQueueDeq, Key: "queue:nil"}, result{Int: 4}, history.OK, int64(4), nil},
		{"queue", "dequeue", nil, nil, command{Op: opQueueDeq, Key: "queue:nil"}, result{Err: errEmpty}, history.Fail, nil, errEmpty},
		{"queue", "drain", nil, nil, command{Op: opQueueDrain, Key: "queue:nil"}, result{Ints: []int64{4}}, history.OK, []any{int64(4)}, nil},
		{"queue", "drain", nil, nil, command{Op: opQueueDrain, Key: "queue:nil"}, result{Err: errNotLeader}, history.Fail, nil, errNotLeader},
		{"append", "txn", nil, []any{[]any{"append", int64(1), int64(5)}, []any{"r", int64(1), nil}, []any{"r", 2.0, nil}},
			command{Op: opTxn, Txn: []micro{{F: mopAppend, K: "append:1", V: 5}, {F: mopRead, K: "append:1"}, {F: mopRead, K: "append:2"}}},
			result{Reads: [][]int64{nil, {3, 5}, {}}}, history.OK,
			[]any{[]any{"append", int64(1), int64(5)}, []any{"r", int64(1), []any{int64(3), int64(5)}}, []any{"r", 2.0, []any{}}}, nil},
		{"append", "txn", nil, []any{[]any{"append", int64(1), int64(5)}}, command{Op: opTxn, Txn: []micro{{F: mopAppend, K: "append:1", V: 5}}},
			result{Err: errConflict}, history.Fail, []any{[]any{"append", int64(1), int64(5)}}, errConflict},
		{"append", "txn", nil, []any{[]any{"r", int64(1), nil}}, command{Op: opTxn, Txn: []micro{{F: mopRead, K: "append:1"}}},
			result{Indef: indefTimeout}, history.Fail, []any{[]any{"r", int64(1), nil}}, indefTimeout},
		{"wr", "txn", nil, []any{[]any{"r", int64(1), nil}, []any{"w", int64(2), int64(7)}, []any{"r", int64(3), nil}},
			command{Op: opTxn, Txn: []micro{{F: mopRead, K: "wr:1"}, {F: mopWrite, K: "wr:2", V: 7}, {F: mopRead, K: "wr:3"}}},
			result{Reads: [][]int64{{4}, nil, {}}}, history.OK,
			[]any{[]any{"r", int64(1), int64(4)}, []any{"w", int64(2), int64(7)}, []any{"r", int64(3), nil}}, nil},
	}
	for _, tt := range tests {
		op := history.Op{Type: history.Invoke, F: tt.f, Key: tt.key, Value: tt.value}
		c, err := toCommand(tt.workload, &op)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.workload, tt.f, err)
		}
		if !reflect.DeepEqual(c, tt.wantCmd) {
			t.Errorf("%s %s: command %+v, want %+v", tt.workload, tt.f, c, tt.wantCmd)
		}
		out, err := complete(tt.workload, op, &c, tt.res)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.workload, tt.f, err)
		}
		if out.Type != tt.wantType || !history.Equal(out.Value, tt.wantValue) || out.Error != tt.wantErr {
			t.Errorf("%s %s %+v: got %s %s error %v, want %s %s error %v", tt.workload, tt.f, tt.res,
				out.Type, history.Format(out.Value), out.Error, tt.wantType, history.Format(tt.wantValue), tt.wantErr)
		}
	}
}

func TestUnknownOutcomeOfWriteIsAnError(t *testing.T) {
	op := history.Op{Type: history.Invoke, F: "write", Value: int64(1)}
	c, _ := toCommand(WorkloadRegister, &op)
	if _, err := complete(WorkloadRegister, op, &c, result{Indef: indefDeposed}); err == nil {
		t.Fatal("a write of unknown outcome must be an error (recorded as info)")
	}
	op = history.Op{Type: history.Invoke, F: "txn", Value: []any{[]any{"r", int64(1), nil}, []any{"w", int64(1), int64(2)}}}
	c, _ = toCommand(WorkloadWR, &op)
	if _, err := complete(WorkloadWR, op, &c, result{Indef: indefTimeout}); err == nil {
		t.Fatal("a transaction with writes of unknown outcome must be an error (recorded as info)")
	}
}

func TestBadOps(t *testing.T) {
	tests := []struct {
		workload, f string
		value       any
	}{
		{"register", "write", "x"},
		{"register", "cas", []any{int64(1)}},
		{"register", "cas", []any{int64(1), "y"}},
		{"register", "add", int64(1)},
		{"set", "add", nil},
		{"bank", "transfer", history.Map{{Key: "from", Val: int64(1)}}},
		{"bank", "transfer", int64(3)},
		{"queue", "enqueue", 1.5},
		{"unique-ids", "read", nil},
		{"append", "txn", int64(1)},
		{"append", "txn", []any{[]any{"append", int64(1)}}},
		{"append", "txn", []any{[]any{"w", int64(1), int64(2)}}},
		{"append", "txn", []any{[]any{"append", int64(1), "x"}}},
		{"wr", "txn", []any{[]any{"append", int64(1), int64(2)}}},
		{"wr", "txn", []any{int64(3)}},
		{"wr", "read", nil},
	}
	for _, tt := range tests {
		op := history.Op{Type: history.Invoke, F: tt.f, Value: tt.value}
		if _, err := toCommand(tt.workload, &op); err == nil {
			t.Errorf("%s %s %s: no error", tt.workload, tt.f, history.Format(tt.value))
		}
	}
	if _, err := (ClientConfig{Workload: "nope"}).withDefaults(); err == nil {
		t.Error("unknown workload accepted")
	}
}
