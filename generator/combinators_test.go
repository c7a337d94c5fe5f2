package generator

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/history"
)

func onThread(th int, g Generator) Generator {
	return OnThreads(func(x int) bool { return x == th }, g)
}

// Mix must not stall on a pending child while another could go.
func TestMixPendingChildren(t *testing.T) {
	// Each child can only use one thread; with Jepsen's mix, picking the
	// child whose thread is busy leaves the other thread idle.
	g := Limit(200, Mix(onThread(0, Repeat(Lit(f("a")))), onThread(1, Repeat(Lit(f("b"))))))
	for seed := range int64(5) {
		ops := Invocations(sim(t, g, SimOptions{Concurrency: 2, Seed: seed}))
		for tm, rs := range byTime(ops, "f") {
			if !slices.Equal(rs, []string{"a", "b"}) {
				t.Fatalf("seed %d: at %d ran %v; a thread sat idle", seed, tm, rs)
			}
		}
	}

	// The client generator is pending while the only client is busy; the
	// nemesis must still get its ops.
	g = Limit(20, Mix(Clients(Repeat(Lit(f("read")))), Nemesis(Repeat(Lit(history.Op{Type: history.Info, F: "kill"})))))
	for seed := range int64(5) {
		ops := Invocations(sim(t, g, SimOptions{Concurrency: 1, Nemesis: true, Seed: seed}))
		for tm, rs := range byTime(ops, "p") {
			if !slices.Equal(rs, []string{"0", "nemesis"}) && !slices.Equal(rs, []string{"nemesis"}) {
				t.Errorf("seed %d: at %d ran %v, want the client and the nemesis together", seed, tm, rs)
			}
		}
		if rs := byTime(ops, "p")[0]; len(rs) != 2 {
			t.Errorf("seed %d: at 0 ran %v, want the client and the nemesis", seed, rs)
		}
	}

	busy := NewContext(1, false, 0).Busy(0)
	exhausted := FnGen(func(*Context) Generator { return nil })
	for name, tc := range map[string]struct {
		g    Generator
		ctx  *Context
		want Status
	}{
		"all pending":          {Mix(Lit(f("a")), Repeat(Lit(f("b")))), busy, Pending},
		"exhausted + pending":  {Mix(exhausted, Lit(f("a"))), busy, Pending},
		"exhausted only":       {Mix(exhausted, exhausted), busy, Exhausted},
		"exhausted then ready": {Mix(exhausted, exhausted, Lit(f("a"))), NewContext(1, false, 0), Ready},
	} {
		if _, _, st := tc.g.Op(tc.ctx); st != tc.want {
			t.Errorf("%s: %v, want %v", name, st, tc.want)
		}
	}
}

func TestPhasesClientsNemesis(t *testing.T) {
	start := history.Op{Type: history.Info, F: "start"}
	stop := history.Op{Type: history.Info, F: "stop"}
	g := Phases(
		Nemesis(Lit(start)),
		Clients(Limit(4, Repeat(Lit(f("read"))))),
		Nemesis(Lit(stop)),
		Clients(EachThread(Lit(f("final")))),
	)
	ops := Invocations(sim(t, g, jepsenOpts))
	wantByTime(t, ops, "pf", map[int64][]string{
		0:  {"nemesis start"},
		10: {"0 read", "1 read"},
		20: {"0 read", "1 read"},
		30: {"nemesis stop"},
		40: {"0 final", "1 final"},
	})
	// Nemesis ops keep their info type on invocation.
	all := sim(t, g, jepsenOpts)
	if all[0].Type != history.Info || all[0].Process != history.NemesisProcess {
		t.Errorf("first op %v", all[0])
	}
	if _, err := history.New(all); err != nil {
		t.Errorf("simulated history is not a valid history: %v", err)
	}
}

func TestTimeLimitStagger(t *testing.T) {
	const limit, dt = time.Second, 10 * time.Millisecond
	counts := map[int]int{}
	for _, conc := range []int{1, 5, 50} {
		g := Clients(TimeLimit(limit, Stagger(dt, Repeat(Lit(f("read"))))))
		ops := Invocations(sim(t, g, SimOptions{Concurrency: conc, Nemesis: true, Seed: 7, Complete: Perfect(int64(time.Millisecond))}))
		for _, op := range ops {
			if op.Time >= int64(limit) {
				t.Fatalf("concurrency %d: op at %v, past the time limit", conc, time.Duration(op.Time))
			}
		}
		counts[conc] = len(ops)
		// Stagger's rate is total: about limit/dt ops whatever the
		// concurrency.
		if n := len(ops); n < 75 || n > 125 {
			t.Errorf("concurrency %d: %d ops in %v at one per %v on average", conc, n, limit, dt)
		}
	}
	// Stagger inside the time limit cuts at the scheduled time; a time limit
	// inside stagger sees unstaggered times, so it may overshoot a little,
	// but never by more than one interval.
	g := Clients(Stagger(dt, TimeLimit(limit, Repeat(Lit(f("read"))))))
	ops := Invocations(sim(t, g, SimOptions{Concurrency: 5, Complete: Perfect(int64(time.Millisecond))}))
	if last := ops[len(ops)-1].Time; last >= int64(limit+2*dt) {
		t.Errorf("last op at %v", time.Duration(last))
	}
}

func TestDelayRate(t *testing.T) {
	g := Clients(TimeLimit(time.Second, Delay(100*time.Millisecond, Repeat(Lit(f("read"))))))
	ops := Invocations(sim(t, g, SimOptions{Concurrency: 4, Complete: Perfect(int64(time.Millisecond))}))
	if len(ops) != 10 {
		t.Errorf("%d ops, want 10", len(ops))
	}
	for i, op := range ops {
		if op.Time != int64(i)*int64(100*time.Millisecond) {
			t.Errorf("op %d at %d", i, op.Time)
		}
	}
}

func TestSynchronizeWaitsForBusyThreads(t *testing.T) {
	slow := func(_ *Context, op history.Op) history.Op {
		op.Type = history.OK
		op.Time += map[int]int64{0: 100, 1: 10, NemesisThread: 500}[op.Process]
		return op
	}
	g := Seq(Clients(RepeatN(2, Lit(f("a")))), Synchronize(Clients(Lit(f("b")))))
	ops := Invocations(sim(t, g, SimOptions{Concurrency: 2, Complete: slow}))
	wantRows(t, ops, "tpf", "0 0 a", "0 1 a", "100 0 b")

	// A phase also waits for the nemesis, even for a client-only phase.
	g = Phases(Nemesis(Lit(f("break"))), Clients(Lit(f("read"))))
	ops = Invocations(sim(t, g, SimOptions{Concurrency: 2, Nemesis: true, Complete: slow}))
	wantRows(t, ops, "tpf", "0 nemesis break", "500 1 read")
}

func TestRenumberingAfterInfo(t *testing.T) {
	g := Clients(Limit(6, Repeat(Lit(f("read")))))
	all := sim(t, g, SimOptions{Concurrency: 2, Nemesis: true, Complete: PerfectInfo(PerfectLatency)})
	wantRows(t, Invocations(all), "tp", "0 0", "0 1", "10 3", "10 2", "20 4", "20 5")
	if _, err := history.New(all); err != nil {
		t.Errorf("history with crashes is invalid: %v", err)
	}
	// The nemesis keeps its process after info.
	g = Nemesis(Limit(3, Repeat(Lit(history.Op{Type: history.Info, F: "kill"}))))
	wantRows(t, Invocations(sim(t, g, SimOptions{Concurrency: 2, Nemesis: true, Complete: PerfectInfo(1)})), "tp",
		"0 nemesis", "1 nemesis", "2 nemesis")
	ops := sim(t, g, SimOptions{Concurrency: 2, Nemesis: true, Complete: PerfectInfo(1)})
	for _, op := range ops {
		if op.Process != history.NemesisProcess {
			t.Errorf("nemesis op on process %d", op.Process)
		}
	}
}

func TestEachThreadRenumbering(t *testing.T) {
	g := Clients(EachThread(Seq(Lit(f("a")), Lit(f("b")), Lit(f("c")))))
	ops := Invocations(sim(t, g, SimOptions{Concurrency: 2, Nemesis: true, Complete: PerfectInfo(PerfectLatency)}))
	if len(ops) != 6 {
		t.Fatalf("%d ops, want 6: %v", len(ops), rows(ops, "tpf"))
	}
	// Each thread runs a, b, c in order, with a new process every time.
	perThread := map[int][]string{}
	for _, op := range ops {
		perThread[op.Process%2] = append(perThread[op.Process%2], row(op, "pf"))
	}
	want := map[int][]string{0: {"0 a", "2 b", "4 c"}, 1: {"1 a", "3 b", "5 c"}}
	if fmt.Sprint(perThread) != fmt.Sprint(want) {
		t.Errorf("per thread %v, want %v", perThread, want)
	}

	// EachProcess starts again for every new process: with every op
	// crashing, each process only ever does a.
	g = Clients(Limit(6, EachProcess(Seq(Lit(f("a")), Lit(f("b"))))))
	ops = Invocations(sim(t, g, SimOptions{Concurrency: 2, Complete: PerfectInfo(PerfectLatency)}))
	procs := map[int]bool{}
	for _, op := range ops {
		if op.F != "a" || procs[op.Process] {
			t.Errorf("EachProcess: %v", rows(ops, "pf"))
			break
		}
		procs[op.Process] = true
	}
	// Without crashes each process does a then b, then it is done.
	ops = Invocations(sim(t, Clients(EachProcess(Seq(Lit(f("a")), Lit(f("b"))))), SimOptions{Concurrency: 2}))
	wantByTime(t, ops, "pf", map[int64][]string{0: {"0 a", "1 a"}, 10: {"0 b", "1 b"}})
}

func TestConcurrentGeneratorKeys(t *testing.T) {
	keys := []any{"k0", "k1", "k2", "k3", "k4"}
	fgen := func(any) Generator {
		return Ops(Invocation("", "v0"), Invocation("", "v1"), Invocation("", "v2"))
	}
	for seed := range int64(5) {
		ops := Invocations(sim(t, ConcurrentGenerator(2, keys, fgen), SimOptions{Concurrency: 6, Nemesis: true, Seed: seed}))
		if len(ops) != 15 {
			t.Fatalf("%d ops, want 15", len(ops))
		}
		values := map[any][]string{}
		groupOf := map[any]int{}
		start := map[any]int64{}
		for _, op := range ops {
			if op.Process < 0 {
				t.Fatalf("independent op on the nemesis: %v", op)
			}
			g := (op.Process % 6) / 2 // threads 0-1, 2-3, 4-5
			if prev, ok := groupOf[op.Key]; ok && prev != g {
				t.Errorf("key %v ran on groups %d and %d", op.Key, prev, g)
			}
			if _, ok := start[op.Key]; !ok {
				start[op.Key] = op.Time
			}
			groupOf[op.Key] = g
			values[op.Key] = append(values[op.Key], op.Value.(string))
		}
		for _, k := range keys {
			if got := values[k]; !slices.Equal(got, []string{"v0", "v1", "v2"}) {
				t.Errorf("seed %d: key %v values %v", seed, k, got)
			}
		}
		// All three groups start a key at once; the last two keys start
		// when groups finish theirs.
		if start["k0"] != 0 || start["k1"] != 0 || start["k2"] != 0 || start["k3"] != 10 || start["k4"] != 10 {
			t.Errorf("seed %d: key start times %v", seed, start)
		}
		if groupOf["k0"] != 0 || groupOf["k1"] != 1 || groupOf["k2"] != 2 || groupOf["k3"] == groupOf["k4"] {
			t.Errorf("seed %d: key groups %v", seed, groupOf)
		}
	}

	// Updates reach the key's generator without the key.
	var seen []history.Op
	watch := func(key any) Generator {
		return OnUpdate(func(ctx *Context, ev history.Op, this, inner Generator) Generator {
			seen = append(seen, ev)
			return update(inner, ctx, ev) // stop watching
		}, Lit(Invocation("w", key)))
	}
	sim(t, ConcurrentGenerator(1, []any{1}, watch), SimOptions{Concurrency: 1})
	if len(seen) != 1 || seen[0].Key != nil || seen[0].Value != int64(1) {
		t.Errorf("update seen by the key's generator: %v", seen)
	}

	for conc, want := range map[int]string{3: "multiple of 2", 1: "at least 2"} {
		_, err := Simulate(ConcurrentGenerator(2, keys, fgen), SimOptions{Concurrency: conc})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("concurrency %d: error %v, want it to say %q", conc, err, want)
		}
	}
	if _, err := Simulate(ConcurrentGenerator(0, keys, fgen), SimOptions{}); err == nil {
		t.Error("group size 0 accepted")
	}
}

func TestSequentialGeneratorKeys(t *testing.T) {
	fgen := func(k any) Generator { return Seq(Sleep(time.Nanosecond), Lit(Invocation("w", k))) }
	ops := sim(t, Clients(SequentialGenerator([]any{0, 1, 2}, fgen)), SimOptions{KeepPseudo: true})
	var keysSeen []string
	for _, op := range ops {
		if op.Type == history.Sleep && op.Key != nil {
			t.Errorf("sleep op keyed: %v", op)
		}
		if op.Type == history.Invoke {
			keysSeen = append(keysSeen, row(op, "kv"))
		}
	}
	if want := []string{"0 0", "1 1", "2 2"}; !slices.Equal(keysSeen, want) {
		t.Errorf("keys %v, want %v", keysSeen, want)
	}
	// Past key 2 every key gives an empty generator: the generator reports
	// that instead of looping forever.
	endless := SequentialGeneratorSeq(IntKeys(), func(k any) Generator {
		if k.(int64) >= 3 {
			return nil
		}
		return fgen(k)
	})
	_, err := Simulate(endless, SimOptions{})
	if err == nil || !strings.Contains(err.Error(), "keys in a row gave no ops") {
		t.Errorf("endless empty keys: %v", err)
	}
}

func TestDeterminism(t *testing.T) {
	g := Limit(300, Clients(Stagger(time.Millisecond, Mix(
		Repeat(Lit(f("read"))),
		Fn(func(ctx *Context) (history.Op, bool) { return Invocation("write", ctx.Rand().IntN(100)), true }),
		Repeat(Lit(f("cas"))),
	))))
	run := func(seed int64) string {
		ops := sim(t, g, SimOptions{Concurrency: 5, Nemesis: true, Seed: seed})
		return strings.Join(rows(ops, "tpyfv"), "\n")
	}
	if run(1) != run(1) {
		t.Error("same seed, different histories")
	}
	if run(1) == run(2) {
		t.Error("different seeds, same history")
	}
}

// badGen emits whatever op it holds, unchecked.
type badGen struct{ op history.Op }

func (b badGen) Op(*Context) (history.Op, Generator, Status) { return b.op, b, Ready }
func (b badGen) Update(*Context, history.Op) Generator       { return b }

func TestValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		op   history.Op
		want string
	}{
		"busy process":   {history.Op{Type: history.Invoke, Process: 0, F: "read"}, "is not free"},
		"unknown":        {history.Op{Type: history.Invoke, Process: 77, F: "read"}, "runs on no thread"},
		"completion":     {history.Op{Type: history.OK, Process: 1, F: "read"}, `type "ok"`},
		"no time":        {history.Op{Type: history.Invoke, Process: 1, Time: -1}, "time -1"},
		"missing type":   {history.Op{Process: 1}, `type ""`},
		"crashed proces": {history.Op{Type: history.Invoke, Process: 0}, "runs on no thread"},
	} {
		ctx := NewContext(2, false, 0)
		if name == "busy process" {
			ctx = ctx.Busy(0)
		}
		if name == "crashed proces" {
			ctx = ctx.WithNextProcess(0)
		}
		op, next, st := Validate(badGen{tc.op}).Op(ctx)
		if st != Failed || next != nil {
			t.Errorf("%s: %v", name, st)
			continue
		}
		var inv *InvalidOpError
		if err := ErrorOf(op); !errors.As(err, &inv) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", name, err, tc.want)
		}
	}
	// In a simulation, the bad op is reported with the context.
	g := Seq(Lit(f("a")), badGen{history.Op{Type: history.Invoke, Process: 0, F: "evil"}})
	_, err := Simulate(g, SimOptions{Concurrency: 2})
	var inv *InvalidOpError
	if !errors.As(err, &inv) || inv.Op.F != "evil" || !strings.Contains(err.Error(), "not free") {
		t.Errorf("simulate: %v", err)
	}
	// Good ops pass.
	if _, _, st := Validate(Lit(f("a"))).Op(NewContext(1, false, 0)); st != Ready {
		t.Errorf("a good op: %v", st)
	}
}

func TestRecoverAndFail(t *testing.T) {
	boom := Fn(func(*Context) (history.Op, bool) { panic("boom") })
	_, err := Simulate(Seq(Lit(f("a")), boom), SimOptions{})
	var pe *PanicError
	if !errors.As(err, &pe) || pe.In != "Op" || !strings.Contains(err.Error(), "boom") {
		t.Errorf("panic in Op: %v", err)
	}
	badUpdate := OnUpdate(func(*Context, history.Op, Generator, Generator) Generator { panic(errors.New("bad update")) },
		Repeat(Lit(f("a"))))
	_, err = Simulate(badUpdate, SimOptions{})
	if !errors.As(err, &pe) || pe.In != "Update" || pe.Event == nil || !strings.Contains(err.Error(), "bad update") {
		t.Errorf("panic in Update: %v", err)
	}
	sentinel := errors.New("no more keys in the store")
	_, err = Simulate(Seq(Lit(f("a")), Fail(sentinel)), SimOptions{})
	if !errors.Is(err, sentinel) {
		t.Errorf("Fail: %v", err)
	}
	if e := ErrorOf(history.Op{Error: "plain"}); !strings.Contains(e.Error(), "plain") {
		t.Errorf("ErrorOf a non-error: %v", e)
	}
}

func TestSleepAndLog(t *testing.T) {
	g := Clients(Phases(Lit(f("a")), Sleep(time.Second), Log("hello"), Lit(f("b"))))
	ops := sim(t, g, SimOptions{Concurrency: 2, KeepPseudo: true})
	wantRows(t, ops, "typfv",
		"0 invoke 0 a nil",
		"10 ok 0 a nil",
		"10 sleep 1  1",
		"1000000010 sleep 1  1",
		"1000000010 log 0  \"hello\"",
		"1000000010 log 0  \"hello\"",
		"1000000010 invoke 1 b nil",
		"1000000020 ok 1 b nil")
	// By default they stay out of the history, as in the interpreter.
	wantRows(t, sim(t, g, SimOptions{Concurrency: 2}), "ty", "0 invoke", "10 ok", "1000000010 invoke", "1000000020 ok")

	for _, tc := range []struct {
		v    any
		want time.Duration
		ok   bool
	}{
		{1.5, 1500 * time.Millisecond, true},
		{int64(2), 2 * time.Second, true},
		{3 * time.Millisecond, 3 * time.Millisecond, true},
		{-1.0, 0, false},
		{"soon", 0, false},
	} {
		d, err := SleepDuration(history.Op{Type: history.Sleep, Value: tc.v})
		if (err == nil) != tc.ok || d != tc.want {
			t.Errorf("SleepDuration(%v) = %v, %v", tc.v, d, err)
		}
	}
}

func TestPinned(t *testing.T) {
	ctx := NewContext(2, true, 0)
	if op, _, st := Pinned(1, f("x")).Op(ctx); st != Ready || op.Process != 1 || op.Type != history.Invoke {
		t.Errorf("free: %v %v", st, op)
	}
	if _, _, st := Pinned(1, f("x")).Op(ctx.Busy(1)); st != Pending {
		t.Errorf("busy: %v", st)
	}
	if _, _, st := Pinned(1, f("x")).Op(ctx.WithNextProcess(1)); st != Failed {
		t.Errorf("crashed: %v", st)
	}
	if op, _, st := Nemesis(Pinned(0, f("x"))).Op(ctx); st != Failed || !strings.Contains(ErrorOf(op).Error(), "not among") {
		t.Errorf("outside: %v %v", st, op.Error)
	}
	// The op waits for its thread, while others run.
	g := Clients(Any(Seq(Lit(f("long")), Pinned(0, f("mine"))), Repeat(Limit(1, Lit(f("filler"))))))
	ops := Invocations(sim(t, Limit(6, g), SimOptions{Concurrency: 2}))
	for _, op := range ops {
		if op.F == "mine" && op.Process != 0 {
			t.Errorf("pinned op ran on %d", op.Process)
		}
	}
}

func TestSimulateErrors(t *testing.T) {
	// A nemesis generator in a test without a nemesis never gets a thread.
	_, err := Simulate(Nemesis(Lit(f("kill"))), SimOptions{Concurrency: 2})
	if !errors.Is(err, ErrStuck) {
		t.Errorf("stuck: %v", err)
	}
	ops, err := Simulate(Repeat(Lit(f("x"))), SimOptions{MaxEvents: 100})
	if err == nil || len(ops) == 0 || !strings.Contains(err.Error(), "100 events") {
		t.Errorf("endless: %v", err)
	}
	for name, c := range map[string]CompleteFunc{
		"process": func(_ *Context, op history.Op) history.Op { op.Process++; op.Type = history.OK; return op },
		"type":    func(_ *Context, op history.Op) history.Op { return op },
		"time":    func(_ *Context, op history.Op) history.Op { op.Time--; op.Type = history.OK; return op },
	} {
		if _, err := Simulate(Lit(f("x")), SimOptions{Complete: c}); err == nil || !strings.Contains(err.Error(), "completion") {
			t.Errorf("bad completion %s: %v", name, err)
		}
	}
}

func TestTrace(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	sim(t, TraceTo(logger, "mine", RepeatN(2, Lit(f("read")))), SimOptions{})
	out := buf.String()
	for _, want := range []string{"trace=mine", "generator op", "status=ready", "read", "generator update", "exhausted"} {
		if !strings.Contains(out, want) {
			t.Errorf("trace output lacks %q:\n%s", want, out)
		}
	}
}

func TestGuards(t *testing.T) {
	ctx := NewContext(1, false, 0)
	// Synchronize(nil) is a non-nil generator that is at once exhausted.
	empties := FnGen(func(*Context) Generator { return Synchronize(nil) })
	if op, _, st := empties.Op(ctx); st != Failed || !strings.Contains(ErrorOf(op).Error(), "in a row") {
		t.Errorf("FnGen of empty generators: %v", st)
	}
	if _, _, st := Cycle(Synchronize(nil)).Op(ctx); st != Exhausted {
		t.Errorf("cycle of an empty generator: %v", st)
	}
	farFuture := Lit(history.Op{F: "late", Time: int64(time.Hour)})
	if _, _, st := CycleTimes(Period{time.Second, farFuture}).Op(ctx); st != Pending {
		t.Errorf("cycle-times with an op beyond every window: %v", st)
	}
	if CycleTimes() != nil || CycleTimes(Period{0, Lit(f("x"))}) != nil {
		t.Error("CycleTimes without periods")
	}
	reject := Filter(func(history.Op) bool { return false }, Repeat(Lit(f("x"))))
	if _, _, st := reject.Op(ctx); st != Failed {
		t.Errorf("filter rejecting everything: %v", st)
	}
}

func TestInvocationNormalizes(t *testing.T) {
	for _, v := range []any{3, int8(3), int16(3), int32(3), uint(3), uint8(3), uint16(3), uint32(3), uint64(3)} {
		if got := Invocation("w", v).Value; got != int64(3) {
			t.Errorf("%T: %T", v, got)
		}
	}
	if got := Invocation("w", float32(1.5)).Value; got != 1.5 {
		t.Errorf("float32: %v", got)
	}
	if got := Invocation("w", uint64(1<<63)).Value; history.Format(got) != "9223372036854775808" {
		t.Errorf("big uint64: %v", got)
	}
	if op := Invocation("w", "s"); op.Type != history.Invoke || op.F != "w" || op.Value != "s" {
		t.Errorf("%v", op)
	}
}

func TestUntilOKOnlyCountsItsOwnOps(t *testing.T) {
	// Another generator's ok completion must not end UntilOK.
	complete := func(_ *Context, op history.Op) history.Op {
		op.Time += 10
		op.Type = history.Fail
		if op.F == "other" {
			op.Type = history.OK
		}
		return op
	}
	g := Limit(8, Any(onThread(0, UntilOK(Repeat(Lit(f("try"))))), onThread(1, Repeat(Lit(f("other"))))))
	ops := Invocations(sim(t, g, SimOptions{Concurrency: 2, Complete: complete}))
	tries := 0
	for _, op := range ops {
		if op.F == "try" {
			tries++
		}
	}
	if tries != 4 {
		t.Errorf("%d tries, want 4: %v", tries, rows(ops, "tpf"))
	}
}

func TestShortestAnyEnds(t *testing.T) {
	g := ShortestAny(Clients(Repeat(Lit(f("read")))), Nemesis(Seq(Lit(f("break")), Sleep(time.Microsecond), Lit(f("heal")))))
	ops := Invocations(sim(t, g, SimOptions{Concurrency: 2, Nemesis: true}))
	if len(ops) == 0 || ops[len(ops)-1].Time > int64(2*time.Microsecond) {
		t.Errorf("did not end with the nemesis schedule: %d ops, last at %d", len(ops), ops[len(ops)-1].Time)
	}
	if ShortestAny(Lit(f("x")), nil) != nil {
		t.Error("ShortestAny with a nil is not empty")
	}
}
