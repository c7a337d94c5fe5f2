package model

import (
	"math/big"
	"strings"
	"testing"

	"github.com/faultline/faultline/history"
)

// run applies ops in order from the initial state and reports how many
// were legal before the first illegal one, and the final state.
func run(t *testing.T, m Model, ops []Op) (int, string) {
	t.Helper()
	mach, err := m.Compile(ops)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	s := mach.Init()
	for i := range ops {
		ns, ok := mach.Step(s, i)
		if !ok {
			if mach.Explain(s, i) == "" {
				t.Errorf("op %d illegal without explanation", i)
			}
			return i, mach.Describe(s)
		}
		s = ns
	}
	return len(ops), mach.Describe(s)
}

func op(f string, v any) Op { return Op{F: f, Value: v} }

func TestModels(t *testing.T) {
	i := func(n int64) any { return n }
	cases := []struct {
		name  string
		model string
		init  any
		ops   []Op
		legal int // ops legal in sequence
		state string
	}{
		{"register read nil always legal", "register", i(3), []Op{op("read", nil), op("read", i(3))}, 2, "3"},
		{"register read wrong", "register", nil, []Op{op("write", i(1)), op("read", i(2))}, 1, "1"},
		{"register read nil of nil", "register", nil, []Op{op("read", nil), op("write", nil), op("read", nil)}, 3, "nil"},
		{"cas ok", "cas-register", i(0), []Op{op("cas", []any{i(0), i(5)}), op("read", i(5))}, 2, "5"},
		{"cas bad", "cas-register", i(0), []Op{op("cas", []any{i(1), i(5)})}, 0, "0"},
		{"cas from nil", "cas-register", nil, []Op{op("cas", []any{nil, i(2)}), op("read", i(2))}, 2, "2"},
		{"numbers compare by value", "cas-register", i(1), []Op{op("read", float64(1)), op("read", new(big.Int).SetInt64(1))}, 2, "1"},
		{"strings are values", "register", "a", []Op{op("read", "a"), op("write", "b"), op("read", "a")}, 2, `"b"`},
		{"mutex", "mutex", nil, []Op{op("acquire", nil), op("release", nil), op("acquire", nil), op("acquire", nil)}, 3, "locked"},
		{"mutex release free", "mutex", false, []Op{op("release", nil)}, 0, "free"},
		{"mutex held initially", "mutex", true, []Op{op("release", nil)}, 1, "free"},
		{"set", "set", nil, []Op{op("add", i(1)), op("add", i(2)), op("add", i(1)), op("read", history.Set{i(2), i(1)}), op("read", []any{i(1)})}, 4, "#{1 2}"},
		{"set read nil illegal", "set", nil, []Op{op("read", nil)}, 0, "#{}"},
		{"set initial", "set", []any{i(3)}, []Op{op("read", history.Set{i(3)})}, 1, "#{3}"},
		{"unordered queue", "unordered-queue", nil, []Op{op("enqueue", i(1)), op("enqueue", i(2)), op("enqueue", i(1)), op("dequeue", i(1)), op("dequeue", i(1)), op("dequeue", i(1))}, 5, "[2]"},
		{"fifo queue", "fifo-queue", nil, []Op{op("enqueue", i(1)), op("enqueue", i(2)), op("dequeue", i(2))}, 2, "[1 2]"},
		{"fifo queue order", "fifo-queue", []any{i(7)}, []Op{op("enqueue", i(1)), op("dequeue", i(7)), op("dequeue", i(1)), op("dequeue", i(1))}, 3, "[]"},
		{"multi-register", "multi-register", history.Map{{Key: "x", Val: i(0)}, {Key: "y", Val: i(0)}},
			[]Op{op("txn", []any{[]any{"read", "x", i(0)}, []any{"write", "x", i(1)}, []any{"read", "x", i(1)}}), op("txn", []any{[]any{"read", "y", nil}, []any{"read", "x", i(0)}})}, 1, `{"x" 1, "y" 0}`},
		{"multi-register unknown key", "multi-register", nil, []Op{op("txn", []any{[]any{"read", "z", nil}}), op("txn", []any{[]any{"w", "z", i(2)}, []any{"r", "z", i(2)}})}, 2, `{"z" 2}`},
		{"kv", "kv", nil, []Op{{F: "append", Key: "k", Value: "a"}, {F: "append", Key: "k", Value: "b"}, {F: "get", Key: "k", Value: "ab"}, {F: "put", Key: "k", Value: "c"}, {F: "get", Key: "k", Value: "ab"}}, 4, `"c"`},
		{"kv keys", "kv", nil, []Op{{F: "append", Key: "k", Value: "a"}, {F: "get", Key: "j", Value: ""}, {F: "get", Key: "j", Value: nil}, {F: "get", Key: "k", Value: "a"}, {F: "get", Key: "j", Value: "a"}}, 4, `{"k" "a", "j" ""}`},
		{"kv same string two ways", "kv", nil, []Op{{F: "append", Key: "k", Value: "ab"}, {F: "put", Key: "k", Value: "a"}, {F: "append", Key: "k", Value: "b"}, {F: "get", Key: "k", Value: "ab"}}, 4, `"ab"`},
		{"noop", "noop", nil, []Op{op("anything", i(1))}, 1, "noop"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := ByName(c.model, c.init)
			if err != nil {
				t.Fatal(err)
			}
			legal, state := run(t, m, c.ops)
			if legal != c.legal || state != c.state {
				t.Errorf("legal %d state %s, want %d %s", legal, state, c.legal, c.state)
			}
		})
	}
}

func TestByNameErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		init any
		want string
	}{
		{"paxos", nil, "unknown model"},
		{"mutex", int64(3), "initial value"},
		{"multi-register", int64(3), "map"},
		{"kv", int64(3), "string"},
		{"set", "x", "collection"},
		{"noop", int64(1), "no initial"},
	} {
		if _, err := ByName(c.name, c.init); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ByName(%q, %v) = %v, want an error about %q", c.name, c.init, err, c.want)
		}
	}
	if !strings.Contains(func() string { _, err := ByName("x", nil); return err.Error() }(), "cas-register") {
		t.Error("the unknown-model error should list the known models")
	}
}

func TestCompileErrors(t *testing.T) {
	for _, c := range []struct {
		model string
		op    Op
	}{
		{"register", op("cas", []any{int64(1), int64(2)})},
		{"cas-register", op("cas", int64(1))},
		{"cas-register", op("frob", nil)},
		{"mutex", op("read", nil)},
		{"multi-register", op("txn", int64(1))},
		{"multi-register", op("txn", []any{[]any{"delete", "x", nil}})},
		{"set", op("read", int64(1))},
		{"kv", Op{F: "put", Key: "k", Value: int64(1)}},
		{"kv", Op{F: "append", Key: "k"}},
	} {
		m, _ := ByName(c.model, nil)
		_, err := m.Compile([]Op{c.op})
		if err == nil {
			t.Errorf("%s accepted %v", c.model, c.op)
		} else if !strings.Contains(err.Error(), "op 0 (") {
			t.Errorf("error %q does not name the op", err)
		}
	}
}

func TestFlagsAndGuards(t *testing.T) {
	m := CASRegister(int64(0))
	mach, _ := m.Compile([]Op{op("read", nil), op("read", int64(1)), op("write", int64(1)), op("cas", []any{int64(2), int64(2)}), op("cas", []any{int64(1), int64(2)})})
	want := []Flags{ReadOnly | AlwaysLegal, ReadOnly, 0, ReadOnly, 0}
	for i, w := range want {
		if got := mach.Flags(i); got != w {
			t.Errorf("op %d flags %v, want %v", i, got, w)
		}
	}
	g := mach.(Guarded)
	for i, w := range []bool{false, true, false, true, false} {
		st, ok := g.Guard(i)
		if ok != w {
			t.Errorf("op %d guard %v, want %v", i, ok, w)
		}
		if ok {
			if _, legal := mach.Step(st, i); !legal {
				t.Errorf("op %d not legal in its guard state", i)
			}
		}
	}
	if mach.Class(1) == mach.Class(2) || mach.Class(3) == mach.Class(4) {
		t.Error("different ops share a class")
	}
	again, _ := m.Compile([]Op{op("write", int64(1)), op("write", int64(1))})
	if again.Class(0) != again.Class(1) {
		t.Error("identical ops have different classes")
	}
}

func TestPrecheck(t *testing.T) {
	m := CASRegister(int64(0))
	ops := []Op{op("write", int64(1)), op("read", int64(1)), op("read", int64(2)), op("cas", []any{int64(3), int64(3)}), op("read", int64(0))}
	mach, _ := m.Compile(ops)
	pc := mach.(Prechecker)
	// read 2 completes at 5; nothing writes 2.
	bad, why := pc.Precheck(Timing{Invoke: []int64{0, 1, 2, 3, 4}, Return: []int64{6, 7, 5, 8, 9}})
	if bad != 2 || !strings.Contains(why, "no op writes 2") {
		t.Errorf("precheck = %d %q", bad, why)
	}
	// the write of 1 is invoked after the read of 1 completes
	ops = []Op{op("read", int64(1)), op("write", int64(1))}
	mach, _ = m.Compile(ops)
	if bad, _ := mach.(Prechecker).Precheck(Timing{Invoke: []int64{0, 2}, Return: []int64{1, 3}}); bad != 0 {
		t.Errorf("precheck = %d, want 0", bad)
	}
	// a crashed read constrains nothing; a cas [v v] does not produce v for itself
	ops = []Op{op("read", int64(5)), op("cas", []any{int64(4), int64(4)})}
	mach, _ = m.Compile(ops)
	if bad, _ := mach.(Prechecker).Precheck(Timing{Invoke: []int64{0, 1}, Return: []int64{-1, 3}}); bad != 1 {
		t.Errorf("precheck = %d, want 1", bad)
	}
}

// TestDefine checks a user-defined model: a counter that only grows.
func TestDefine(t *testing.T) {
	m := Define(Spec[int64]{
		Name: "counter",
		Step: func(s int64, o Op) (int64, bool) {
			switch o.F {
			case "add":
				n, _ := history.Int(o.Value)
				return s + n, true
			case "read":
				n, _ := history.Int(o.Value)
				return s, n == s
			}
			return s, false
		},
		ReadOnly: func(o Op) bool { return o.F == "read" },
		Partition: func(ops []Op) [][]int {
			all := make([]int, len(ops))
			for i := range all {
				all[i] = i
			}
			return [][]int{all}
		},
	})
	if _, ok := m.(Partitioner); !ok {
		t.Error("a spec with a partition function must give a Partitioner")
	}
	legal, state := run(t, m, []Op{op("add", int64(2)), op("read", int64(2)), op("add", int64(3)), op("read", int64(4))})
	if legal != 3 || state != "5" {
		t.Errorf("legal %d state %s", legal, state)
	}
	mach, _ := m.Compile([]Op{op("read", int64(0)), op("add", int64(1))})
	if mach.Flags(0) != ReadOnly || mach.Flags(1) != 0 {
		t.Error("ReadOnly not applied")
	}
	// Cached transitions give the same state numbers.
	s1, _ := mach.Step(mach.Init(), 1)
	s2, _ := mach.Step(mach.Init(), 1)
	if s1 != s2 || mach.MemoryBytes() <= 0 {
		t.Error("interning broken")
	}
	if _, err := Define(Spec[int]{Name: "x"}).Compile(nil); err == nil {
		t.Error("a spec without step must not compile")
	}
}

func TestStrTable(t *testing.T) {
	st := newStrTable("")
	a := st.intern("abc")
	parts := []string{"a", "b", "c"}
	id := uint32(0)
	for _, p := range parts {
		h, pow := strHash(p)
		id = st.concat(id, &kvOp{val: p, hash: h, pow: pow})
	}
	if id != a || st.get(id) != "abc" {
		t.Errorf("concat gave %d %q, intern %d", id, st.get(id), a)
	}
	h, pow := strHash("c")
	ab := st.intern("ab")
	if got := st.concat(ab, &kvOp{val: "c", hash: h, pow: pow}); got != a {
		t.Error("the same string by another path got another number")
	}
	if st.intern("abd") == a {
		t.Error("different strings share a number")
	}
}

func TestKVPrefixed(t *testing.T) {
	m, _ := NewKV(nil)
	ops := []Op{
		{F: "append", Key: "k", Value: "ab"}, // 0
		{F: "append", Key: "k", Value: "c"},  // 1
		{F: "get", Key: "k", Value: "abcd"},  // 2
		{F: "put", Key: "k", Value: "ab"},    // 3
		{F: "get", Key: "k", Value: "abd"},   // 4
	}
	mm, err := m.Compile(ops)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := mm.(Prefixed)
	if !ok {
		t.Fatal("kv on one key is not Prefixed")
	}
	g := mm.(Guarded)
	abcd, _ := g.Guard(2)
	abd, _ := g.Guard(4)
	ab, _ := mm.Step(mm.Init(), 0)
	abc, _ := mm.Step(ab, 1)
	for _, tt := range []struct {
		name string
		s, t uint64
		want bool
	}{
		{"empty of abcd", mm.Init(), abcd, true},
		{"ab of abcd", ab, abcd, true},
		{"abc of abcd", abc, abcd, true},
		{"abcd of abcd", abcd, abcd, true},
		{"abc of abd", abc, abd, false},
		{"abcd of abc", abcd, abc, false},
		{"abd of abcd", abd, abcd, false},
	} {
		if got := p.MayExtend(tt.s, tt.t); got != tt.want {
			t.Errorf("%s: MayExtend = %v, want %v", tt.name, got, tt.want)
		}
	}
	if st, ok := p.Sets(3); !ok || st != ab {
		t.Errorf("put ab: Sets = %d %v, want %d true", st, ok, ab)
	}
	for _, i := range []int{0, 1, 2, 4} {
		if _, ok := p.Sets(i); ok {
			t.Errorf("op %d does not set the state", i)
		}
	}
}

func TestNames(t *testing.T) {
	for _, n := range Names() {
		var init any
		if _, err := ByName(n, init); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
}

// BenchmarkStep measures the hot path: a step that was seen before must not
// allocate.
func BenchmarkStep(b *testing.B) {
	for _, name := range []string{"cas-register", "mutex", "kv", "set"} {
		m, _ := ByName(name, nil)
		var ops []Op
		switch name {
		case "cas-register":
			ops = []Op{op("write", int64(1)), op("cas", []any{int64(1), int64(2)}), op("read", int64(2))}
		case "mutex":
			ops = []Op{op("acquire", nil), op("release", nil)}
		case "kv":
			ops = []Op{{F: "append", Key: "k", Value: "x"}, {F: "get", Key: "k", Value: "x"}, {F: "put", Key: "k", Value: ""}}
		case "set":
			ops = []Op{op("add", int64(1)), op("read", history.Set{int64(1)})}
		}
		mach, err := m.Compile(ops)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			s := mach.Init()
			for k := 0; k < b.N; k++ {
				ns, ok := mach.Step(s, k%len(ops))
				if ok {
					s = ns
				} else {
					s = mach.Init()
				}
			}
		})
	}
}
