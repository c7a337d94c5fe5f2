package generator

// Ports of Jepsen's jepsen.generator tests (generator_test.clj, and the
// independent generator tests), with the histories they expect. Where
// Jepsen's expected order within one instant comes from its random
// tie-breaking (a fixed java.util.Random seed), the test compares the ops of
// each instant as a set.

import (
	"math"
	"slices"
	"testing"

	"github.com/faultline/faultline/history"
)

func TestJepsenNil(t *testing.T) {
	if ops := perfect(t, nil); len(ops) != 0 {
		t.Errorf("nil generator emitted %v", ops)
	}
}

func TestJepsenMap(t *testing.T) {
	inc := Map(func(op history.Op) history.Op {
		op.Value = op.Value.(int64) + 1
		return op
	}, inv("write", 1))
	wantRows(t, perfect(t, inc), "tpyfv", "0 0 invoke write 2")
	if Map(nil, nil) != nil {
		t.Error("Map of nil is not nil")
	}
	withCtx := MapCtx(func(ctx *Context, op history.Op) history.Op {
		op.Value = ctx.Time() + 100
		return op
	}, inv("write", 1))
	wantRows(t, perfect(t, withCtx), "tpfv", "0 0 write 100")
}

func TestJepsenOpLiteral(t *testing.T) {
	wantRows(t, perfect(t, Lit(f("write"))), "tpyfv", "0 0 invoke write nil")
	wantRows(t, perfect(t, RepeatN(6, Lit(f("write")))), "ypftv",
		"invoke 0 write 0 nil",
		"invoke 1 write 0 nil",
		"invoke nemesis write 0 nil",
		"invoke nemesis write 10 nil",
		"invoke 1 write 10 nil",
		"invoke 0 write 10 nil")

	// All threads busy: pending.
	ctx := NewContext(2, true, 0)
	for _, th := range ctx.AllThreads() {
		ctx = ctx.Busy(th)
	}
	if _, _, st := Lit(f("write")).Op(ctx); st != Pending {
		t.Errorf("op literal with every thread busy: %v, want pending", st)
	}
	// Extra fields survive.
	op, _, _ := Lit(history.Op{F: "write", Node: "n1", Extra: history.Map{{Key: "foo", Val: "bar"}}}).Op(NewContext(2, true, 0))
	if op.Node != "n1" || len(op.Extra) != 1 {
		t.Errorf("fields lost: %+v", op)
	}
}

func TestJepsenLimit(t *testing.T) {
	if Limit(5, nil) != nil {
		t.Error("Limit of nil is not nil")
	}
	ops := Invocations(sim(t, Limit(2, Repeat(inv("write", 1))), SimOptions{Nemesis: true, Complete: Perfect(0)}))
	wantRows(t, ops, "ypftv", "invoke 0 write 0 1", "invoke 1 write 0 1")
}

func TestJepsenRepeat(t *testing.T) {
	if RepeatN(3, nil) != nil {
		t.Error("RepeatN of nil is not nil")
	}
	wantRows(t, perfect(t, RepeatN(3, indexedF("w"))), "v", "0", "0", "0")
}

func TestJepsenDelay(t *testing.T) {
	if Delay(1, nil) == nil {
		t.Error("Delay of nil is nil; Jepsen keeps it, to delay nothing")
	}
	if _, _, st := Delay(1, nil).Op(NewContext(1, false, 0)); st != Exhausted {
		t.Errorf("Delay of nil: %v", st)
	}
	// As a phase it still waits for every thread.
	ops := Invocations(sim(t, Clients(Seq(Lit(f("a")), Synchronize(Delay(1, nil)), Lit(f("b")))), SimOptions{}))
	wantRows(t, ops, "tpf", "0 0 a", "10 1 b")
	g := Limit(5, Delay(ns(3), Repeat(Lit(f("write")))))
	wantRows(t, perfect(t, g), "yptfv",
		"invoke 0 0 write nil",
		"invoke 1 3 write nil",
		"invoke nemesis 6 write nil",
		// This would normally run at 9 and 12, but every thread was busy
		// for 10 ns: they start as soon as they can.
		"invoke 0 10 write nil",
		"invoke 1 13 write nil")
}

func TestJepsenSeq(t *testing.T) {
	quick := func(g Generator) []history.Op {
		return Invocations(sim(t, g, SimOptions{Nemesis: true, Complete: Perfect(0)}))
	}
	v := func(x int) Generator { return Lit(history.Op{Value: int64(x)}) }
	wantRows(t, quick(Seq(v(1), v(2), v(3))), "v", "1", "2", "3")
	wantRows(t, quick(Seq(Seq(v(1), v(2)), Seq(Seq(v(3)), v(4)), v(5))), "v", "1", "2", "3", "4", "5")

	// Updates propagate to the first generator.
	types := []history.Type{history.Fail, history.Fail, history.OK, history.OK}
	complete := func(_ *Context, op history.Op) history.Op {
		op.Time += 10
		op.Type = history.Info
		if len(types) > 0 {
			op.Type, types = types[0], types[1:]
		}
		return op
	}
	g := Clients(Seq(UntilOK(Repeat(Lit(f("read")))), Lit(f("done"))))
	ops := sim(t, g, SimOptions{Nemesis: true, Complete: complete})
	wantRows(t, ops, "tfy",
		"0 read invoke",
		"0 read invoke",
		// Everyone fails and retries.
		"10 read fail",
		"10 read invoke",
		"10 read fail",
		"10 read invoke",
		// One succeeds and goes on to execute done.
		"20 read ok",
		"20 done invoke",
		// The other succeeds and is finished.
		"20 read ok",
		"30 done info")
}

func TestJepsenFn(t *testing.T) {
	if ops := perfect(t, Fn(func(*Context) (history.Op, bool) { return history.Op{}, false })); len(ops) != 0 {
		t.Errorf("exhausted fn emitted %v", ops)
	}
	randomWrites := Fn(func(ctx *Context) (history.Op, bool) {
		return Invocation("write", ctx.Rand().IntN(10)), true
	})
	check := func(ops []history.Op, wantDistinct func(int) bool) {
		t.Helper()
		if len(ops) != 5 {
			t.Fatalf("%d ops, want 5", len(ops))
		}
		vals, procs := map[int64]bool{}, map[int]bool{}
		for _, op := range ops {
			v := op.Value.(int64)
			if v < 0 || v >= 10 {
				t.Errorf("value %d out of range", v)
			}
			vals[v] = true
			procs[op.Process] = true
		}
		if !wantDistinct(len(vals)) {
			t.Errorf("%d distinct values", len(vals))
		}
		if len(procs) != 3 || !procs[0] || !procs[1] || !procs[NemesisThread] {
			t.Errorf("processes %v, want 0, 1 and the nemesis", procs)
		}
	}
	check(perfect(t, Limit(5, randomWrites)), func(n int) bool { return n > 1 })
	// A function returning a generator: that generator is used until it is
	// exhausted, here never, so every value is the same.
	repeatOne := FnGen(func(ctx *Context) Generator {
		return Repeat(inv("write", ctx.Rand().IntN(10)))
	})
	check(perfect(t, Limit(5, repeatOne)), func(n int) bool { return n == 1 })
}

// Jepsen's on-update+promise test, without the promise: the update handler
// returns a generator that includes the confirmation.
func TestJepsenOnUpdate(t *testing.T) {
	var handler UpdateFunc
	handler = func(ctx *Context, ev history.Op, this, inner Generator) Generator {
		inner = update(inner, ctx, ev)
		if ev.Type == history.OK && ev.F == "write" {
			return Any(inv("confirm", ev.Value), OnUpdate(handler, inner))
		}
		return OnUpdate(handler, inner)
	}
	g := OnThreads(func(th int) bool { return th == 0 || th == 1 },
		Limit(5, OnUpdate(handler, Seq(Lit(f("read")), inv("write", "x"), Repeat(Lit(f("hold")))))))
	ops := Invocations(sim(t, g, SimOptions{Nemesis: true, Complete: Perfect(0)}))
	got := rows(ops, "tpfv")
	if len(got) != 5 || got[0] != `0 0 read nil` || got[1] != `0 1 write "x"` {
		t.Fatalf("got %v", got)
	}
	rest := slices.Clone(got[2:])
	slices.Sort(rest)
	if want := []string{`0 1 confirm "x"`, `0 1 hold nil`, `0 1 hold nil`}; !slices.Equal(rest, want) {
		t.Errorf("after the write: %v, want %v in some order", got[2:], want)
	}
}

// Jepsen's clojure-delay-test: a generator built lazily, only once the
// phases before it are done, sees the context of that time.
func TestJepsenLazy(t *testing.T) {
	var seen []*Context
	delayed := Limit(3, Fn(func(ctx *Context) (history.Op, bool) {
		seen = append(seen, ctx)
		return f("delayed"), true
	}))
	ops := Invocations(sim(t, Clients(Phases(Lit(f("write")), Lit(f("read")), delayed)), jepsenOpts))
	wantRows(t, ops, "ftpyv",
		"write 0 0 invoke nil",
		"read 10 1 invoke nil",
		"delayed 20 0 invoke nil",
		"delayed 20 1 invoke nil",
		"delayed 30 1 invoke nil")
	if len(seen) == 0 || seen[0].Time() != 20 || !slices.Equal(seen[0].FreeThreads(), []int{0, 1}) {
		t.Errorf("first context seen: %v", seen[0])
	}
}

func TestJepsenSynchronize(t *testing.T) {
	// Each op is pinned to the process whose turn it is, at an explicit
	// time; the nemesis, last, starts at 5 and finishes at 15, and only then
	// does the synchronized phase begin.
	a := Limit(3, FnGen(func(ctx *Context) Generator {
		p, _ := ctx.SomeFreeProcess()
		delay := map[int]int64{0: 2, 1: 1, NemesisThread: 2}[p]
		return Pinned(p, history.Op{F: "a", Time: ctx.Time() + delay})
	}))
	g := Seq(a, Synchronize(RepeatN(2, Lit(f("b")))))
	wantRows(t, perfect(t, g), "fptyv",
		"a 0 2 invoke nil",
		"a 1 3 invoke nil",
		"a nemesis 5 invoke nil",
		"b 0 15 invoke nil",
		"b 1 15 invoke nil")
	if Synchronize(nil) == nil {
		t.Error("Synchronize(nil) is nil; it should wait, then end")
	}
}

func TestJepsenClients(t *testing.T) {
	if Clients(nil) != nil {
		t.Error("Clients of nil is not nil")
	}
	procs := map[int]bool{}
	for _, op := range perfect(t, Limit(5, Clients(Repeat(Lit(history.Op{}))))) {
		procs[op.Process] = true
	}
	if len(procs) != 2 || !procs[0] || !procs[1] {
		t.Errorf("processes %v, want 0 and 1", procs)
	}
}

func TestJepsenPhases(t *testing.T) {
	if Phases() != nil || Phases(nil) != nil || Phases(nil, nil) != nil {
		t.Error("Phases of nothing is not nil")
	}
	g := Clients(Phases(RepeatN(2, Lit(f("a"))), RepeatN(1, Lit(f("b"))), RepeatN(3, Lit(f("c")))))
	wantRows(t, perfect(t, g), "fpt",
		"a 0 0", "a 1 0", "b 0 10", "c 0 20", "c 1 20", "c 1 30")
}

func TestJepsenThen(t *testing.T) {
	r := Lit(f("r"))
	if Then(nil, r) != r || Then(r, nil) != r || Then(nil, nil) != nil {
		t.Error("Then does not pass nil through")
	}
	// Then runs its arguments in order, with a barrier between them.
	g := Clients(Then(RepeatN(3, Lit(f("a"))), Lit(f("b"))))
	wantRows(t, perfect(t, g), "fpt", "a 0 0", "a 1 0", "a 1 10", "b 0 20")
}

func TestJepsenUntilOKNil(t *testing.T) {
	if UntilOK(nil) != nil {
		t.Error("UntilOK of nil is not nil")
	}
}

func TestJepsenAny(t *testing.T) {
	on := func(th int, g Generator) Generator { return OnThreads(func(x int) bool { return x == th }, g) }
	g := Any(on(0, Delay(ns(20), Repeat(Lit(f("a"))))), on(1, Delay(ns(20), Repeat(Lit(f("b"))))))
	want := map[int64][]string{0: {"a 0", "b 1"}, 20: {"b 1", "a 0"}}
	wantByTime(t, perfect(t, Limit(4, g)), "fp", want)

	short := ShortestAny(Limit(2, on(0, Delay(ns(20), Repeat(Lit(f("a")))))), on(1, Delay(ns(20), Repeat(Lit(f("b"))))))
	wantByTime(t, perfect(t, short), "fp", want)
}

func TestJepsenEachThread(t *testing.T) {
	if EachThread(nil) != nil {
		t.Error("EachThread of nil is not nil")
	}
	ops := perfect(t, EachThread(Seq(Lit(f("a")), Lit(f("b")))))
	wantByTime(t, ops, "pf", map[int64][]string{
		0:  {"nemesis a", "1 a", "0 a"},
		10: {"0 b", "1 b", "nemesis b"},
	})
	// Collapses when exhausted.
	empty := EachThread(FnGen(func(*Context) Generator { return nil }))
	if _, _, st := empty.Op(NewContext(2, true, 0)); st != Exhausted {
		t.Errorf("EachThread of an empty generator: %v", st)
	}
}

func TestJepsenStagger(t *testing.T) {
	if Stagger(1, nil) != nil {
		t.Error("Stagger of nil is not nil")
	}
	const n, dt = 1000, 20
	ops := perfect(t, Stagger(ns(dt), Limit(n, indexedF("write"))))
	rate := float64(n) / float64(ops[len(ops)-1].Time)
	if r := rate * dt; r < 0.9 || r > 1.1 {
		t.Errorf("rate %.4f ops/ns, want about %.4f", rate, 1.0/dt)
	}
}

func TestJepsenFMap(t *testing.T) {
	wantRows(t, perfect(t, FMap(map[string]string{"a": "b"}, inv("a", 2))), "ypftv", "invoke 0 b 0 2")
	if FMap(map[string]string{"a": "b"}, nil) != nil {
		t.Error("FMap of nil is not nil")
	}
}

func TestJepsenFilter(t *testing.T) {
	if Filter(nil, nil) != nil {
		t.Error("Filter of nil is not nil")
	}
	even := func(op history.Op) bool { return op.Value.(int64)%2 == 0 }
	wantRows(t, perfect(t, Filter(even, Limit(10, indexedF("x")))), "v", "0", "2", "4", "6", "8")
}

func TestJepsenLog(t *testing.T) {
	ops := perfect(t, Phases(Log("first"), Lit(f("a")), Log("second"), Lit(f("b"))))
	wantRows(t, ops, "f", "a", "b")
}

func TestJepsenMix(t *testing.T) {
	if Mix(nil, nil) != nil {
		t.Error("Mix of nils is not nil")
	}
	ops := perfect(t, Mix(RepeatN(5, Lit(f("a"))), RepeatN(10, Lit(f("b")))))
	count := map[string]int{}
	for _, op := range ops {
		count[op.F]++
	}
	if count["a"] != 5 || count["b"] != 10 {
		t.Errorf("counts %v, want a 5, b 10", count)
	}
	fs := rows(ops, "f")
	if slices.Equal(fs, []string{"a", "a", "a", "a", "a", "b", "b", "b", "b", "b", "b", "b", "b", "b", "b"}) {
		t.Error("mix did not mix")
	}
}

func TestJepsenProcessLimit(t *testing.T) {
	if ProcessLimit(2, nil) != nil || ProcessLimit(0, Lit(f("x"))) != nil {
		t.Error("ProcessLimit does not pass nil through")
	}
	g := Clients(ProcessLimit(5, indexedF("x")))
	ops := Invocations(sim(t, g, SimOptions{Nemesis: true, Complete: PerfectInfo(PerfectLatency)}))
	wantRows(t, ops, "pv", "0 0", "1 1", "3 2", "2 3", "4 4")
}

func TestJepsenConcurrencyLimitNil(t *testing.T) {
	if ConcurrencyLimit(2, nil) != nil || ConcurrencyLimit(0, Lit(f("x"))) != nil {
		t.Error("ConcurrencyLimit does not pass nil through")
	}
}

func TestJepsenTimeLimit(t *testing.T) {
	if TimeLimit(2, nil) != nil || TimeLimit(0, Lit(f("x"))) != nil {
		t.Error("TimeLimit does not pass nil through")
	}
	// Two time limits in succession, to check each starts its clock at its
	// own first op.
	g := Seq(TimeLimit(ns(20), Repeat(Lit(history.Op{Value: "a"}))),
		TimeLimit(ns(10), Repeat(Lit(history.Op{Value: "b"}))))
	wantRows(t, perfect(t, g), "tv",
		`0 "a"`, `0 "a"`, `0 "a"`,
		`10 "a"`, `10 "a"`, `10 "a"`,
		`20 "b"`, `20 "b"`, `20 "b"`)
}

func TestJepsenReserve(t *testing.T) {
	ops := perfect(t, Limit(3, Reserve(nil, indexedF("a"))))
	wantRows(t, ops, "fptyv", "a 0 0 invoke 0", "a 1 0 invoke 1", "a nemesis 0 invoke 2")

	g := Limit(15, Reserve([]Share{{2, indexedF("a")}, {3, indexedF("b")}}, indexedF("c")))
	ops = Invocations(sim(t, g, SimOptions{Concurrency: 5, Nemesis: true}))
	if len(ops) != 15 {
		t.Fatalf("%d ops, want 15", len(ops))
	}
	// Each range runs on its own threads, with its own values in order.
	owner := map[string]func(int) bool{
		"a": func(p int) bool { return p == 0 || p == 1 },
		"b": func(p int) bool { return p >= 2 && p <= 4 },
		"c": func(p int) bool { return p == NemesisThread },
	}
	next := map[string]int64{}
	for _, op := range ops {
		if !owner[op.F](op.Process) {
			t.Errorf("%s ran on process %d", op.F, op.Process)
		}
		if op.Value != next[op.F] {
			t.Errorf("%s value %v, want %d", op.F, op.Value, next[op.F])
		}
		next[op.F]++
	}
	// Every thread is busy in the first two rounds.
	perTime := byTime(ops, "f")
	for _, tm := range []int64{0, 10} {
		if want := []string{"a", "a", "b", "b", "b", "c"}; !slices.Equal(perTime[tm], want) {
			t.Errorf("at %d: %v, want %v", tm, perTime[tm], want)
		}
	}
}

func TestJepsenAtLeastOneOK(t *testing.T) {
	g := Clients(Limit(10, UntilOK(Repeat(Lit(f("read"))))))
	ops := sim(t, g, SimOptions{Nemesis: true, Complete: Imperfect(PerfectLatency)})
	wantRows(t, ops, "tpy",
		"0 0 invoke",
		"0 1 invoke",
		"10 1 fail",
		"10 1 invoke",
		"10 0 fail",
		"10 0 invoke",
		"20 0 info",
		"20 2 invoke",
		"20 1 info",
		"20 3 invoke",
		"30 3 ok",
		"30 2 ok") // they complete concurrently, so there are two oks
}

func TestJepsenFlipFlop(t *testing.T) {
	g := Clients(Limit(10, FlipFlop(indexedF("write"), Seq(Lit(f("read")), Lit(f("finalize"))))))
	wantRows(t, perfect(t, g), "pfv",
		"0 write 0", "1 read nil", "1 write 1", "0 finalize nil", "0 write 2")
}

func TestJepsenConcat(t *testing.T) {
	if Concat(nil, nil) != nil {
		t.Error("Concat of nils is not nil")
	}
	v := func(s string) Generator { return Lit(history.Op{Value: s}) }
	g := Concat(Seq(v("a"), v("b")), Limit(1, v("c")), v("d"))
	wantRows(t, perfect(t, g), "v", `"a"`, `"b"`, `"c"`, `"d"`)
}

func TestJepsenAnyStagger(t *testing.T) {
	// Two staggers under Any: neither starves.
	const n = 1000
	g := Clients(Limit(n, Any(Stagger(3e9, Repeat(Lit(f("a")))), Stagger(5e9, Repeat(Lit(f("b")))))))
	ops := perfect(t, g)
	if len(ops) != n {
		t.Fatalf("%d ops", len(ops))
	}
	meanInterval := func(fn string) float64 {
		var ts []int64
		for _, op := range ops {
			if op.F == fn {
				ts = append(ts, op.Time)
			}
		}
		return float64(ts[len(ts)-1]-ts[0]) / float64(len(ts)-1) / 1e9
	}
	if m := meanInterval("a"); m < 2.5 || m > 3.5 {
		t.Errorf("a every %.2fs, want about 3", m)
	}
	if m := meanInterval("b"); m < 4.5 || m > 5.5 {
		t.Errorf("b every %.2fs, want about 5", m)
	}
}

func TestJepsenCycle(t *testing.T) {
	if Cycle(nil) != nil || CycleN(3, nil) != nil || CycleN(0, Lit(f("x"))) != nil {
		t.Error("Cycle does not pass nil through")
	}
	// With two clients, two of the three a's run at once, then the third,
	// then b; twice.
	g := Clients(CycleN(2, Phases(Limit(3, Repeat(Lit(f("a")))), Lit(f("b")))))
	wantRows(t, perfect(t, g), "tf",
		"0 a", "0 a", "10 a", "20 b",
		"30 a", "30 a", "40 a", "50 b")
}

func TestJepsenCycleTimes(t *testing.T) {
	const s = 1e9
	as := Delay(s, indexedF("a"))
	bs := Limit(5, Delay(3*s, indexedF("b")))
	ops := perfect(t, Clients(CycleTimes(Period{5 * s, as}, Period{10 * s, bs})))
	for i := range ops {
		ops[i].Time = int64(math.Floor(float64(ops[i].Time) / s))
	}
	wantRows(t, ops, "tfv",
		// Five seconds of a's.
		"0 a 0", "1 a 1", "2 a 2", "3 a 3", "4 a 4",
		// At 5 the b's begin at once.
		"5 b 0", "8 b 1", "11 b 2", "14 b 3",
		// At 15, back to a's.
		"15 a 5", "16 a 6", "17 a 7", "18 a 8", "19 a 9",
		// At 20 the b's again, and their generator is then exhausted.
		"20 b 4")
}

func TestJepsenSingleThreaded(t *testing.T) {
	g := Limit(3, ConcurrencyLimit(1, Clients(Any(Repeat(Lit(f("w"))), Repeat(Lit(f("r")))))))
	ops := sim(t, g, jepsenOpts)
	if len(ops) != 6 {
		t.Fatalf("%d ops, want 6", len(ops))
	}
	for i, op := range ops {
		want := history.Invoke
		if i%2 == 1 {
			want = history.OK
		}
		if op.Type != want || (i%2 == 1 && op.F != ops[i-1].F) {
			t.Errorf("op %d: %s, want strict alternation of invoke and its completion", i, row(op, "fy"))
		}
	}
}

func TestJepsenIndependentSequential(t *testing.T) {
	g := Clients(SequentialGenerator([]any{"x", "y"}, func(any) Generator {
		return Limit(3, indexedF(""))
	}))
	wantRows(t, perfect(t, g), "tpkv",
		`0 0 "x" 0`, `0 1 "x" 1`, `10 1 "x" 2`,
		`10 0 "y" 0`, `20 0 "y" 1`, `20 1 "y" 2`)
}

func TestJepsenIndependentDeadlock(t *testing.T) {
	g := Clients(Limit(5, ConcurrentGeneratorSeq(2, IntKeys(), func(any) Generator {
		return EachThread(Lit(f("meow")))
	})))
	ops := perfect(t, g)
	wantByTime(t, ops, "fkv", map[int64][]string{
		0:  {"meow 0 nil", "meow 0 nil"},
		10: {"meow 1 nil", "meow 1 nil"},
		20: {"meow 2 nil"},
	})
}
