package generator

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/faultline/faultline/history"
)

// pureCase is a generator and how to simulate it.
type pureCase struct {
	name     string
	g        Generator
	conc     int
	complete func() CompleteFunc // nil: Perfect
}

func pureCases() []pureCase {
	randWrite := Fn(func(ctx *Context) (history.Op, bool) { return Invocation("write", ctx.Rand().IntN(100)), true })
	read := Repeat(Lit(f("read")))
	kill := history.Op{Type: history.Info, F: "kill"}
	imperfect := func() CompleteFunc { return Imperfect(7) }
	var watcher UpdateFunc
	watcher = func(ctx *Context, ev history.Op, _, inner Generator) Generator {
		inner = update(inner, ctx, ev)
		if ev.Type == history.OK && ev.F == "write" {
			return Seq(Lit(f("confirm")), OnUpdate(watcher, inner))
		}
		return OnUpdate(watcher, inner)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	return []pureCase{
		{name: "lit", g: Lit(f("a"))},
		{name: "ops", g: Ops(f("a"), f("b"), f("c"))},
		{name: "fn", g: Limit(30, randWrite)},
		{name: "fngen+pinned", g: Limit(10, FnGen(func(ctx *Context) Generator {
			p, _ := ctx.SomeFreeProcess()
			return Seq(Pinned(p, f("a")), Pinned(p, f("b")))
		}))},
		{name: "indexed", g: Limit(10, indexedF("x"))},
		{name: "log+sleep", g: Seq(Log("hi"), Sleep(time.Microsecond), Lit(f("a")))},
		{name: "seq", g: Seq(RepeatN(3, Lit(f("a"))), Lit(f("b")))},
		{name: "phases", g: Phases(RepeatN(3, Lit(f("a"))), Nemesis(Lit(kill)), Clients(RepeatN(2, Lit(f("b")))))},
		{name: "then", g: Then(RepeatN(3, Lit(f("a"))), Lit(f("b")))},
		{name: "cycle", g: CycleN(3, Phases(RepeatN(2, Lit(f("a"))), Lit(f("b"))))},
		{name: "cycle forever", g: Limit(25, Cycle(Ops(f("a"), f("b"))))},
		{name: "once", g: Once(read)},
		{name: "flipflop", g: Limit(20, FlipFlop(indexedF("w"), read))},
		{name: "time-limit+stagger", g: TimeLimit(time.Millisecond, Stagger(20*time.Microsecond, Mix(read, randWrite))), conc: 5},
		{name: "delay", g: Limit(20, Delay(15, read))},
		{name: "cycle-times", g: Limit(40, CycleTimes(Period{100, Delay(10, indexedF("a"))}, Period{50, Delay(20, indexedF("b"))}))},
		{name: "on-threads", g: Limit(10, OnThreads(func(t int) bool { return t%2 == 0 }, read)), conc: 4},
		{name: "clients-nemesis", g: Limit(30, ClientsNemesis(Stagger(5, Mix(read, randWrite)), Stagger(20, Repeat(Lit(kill)))))},
		{name: "each-thread", g: EachThread(Ops(f("a"), f("b"), f("c"))), conc: 3, complete: imperfect},
		{name: "each-process", g: Limit(30, EachProcess(Ops(f("a"), f("b")))), conc: 3, complete: imperfect},
		{name: "reserve", g: Limit(40, Reserve([]Share{{1, indexedF("a")}, {2, indexedF("b")}}, indexedF("c"))), conc: 4},
		{name: "any", g: Limit(30, Any(Delay(7, read), Delay(11, indexedF("w"))))},
		{name: "shortest-any", g: ShortestAny(read, Limit(5, indexedF("w")))},
		{name: "mix", g: Limit(40, Mix(RepeatN(5, Lit(f("a"))), onThread(0, Repeat(Lit(f("b")))), randWrite))},
		{name: "map+fmap+filter", g: Limit(10, FMap(map[string]string{"x": "y"}, Map(func(op history.Op) history.Op {
			op.Value = op.Value.(int64) * 10
			return op
		}, Filter(func(op history.Op) bool { return op.Value.(int64)%3 != 0 }, indexedF("x")))))},
		{name: "map-ctx", g: Limit(10, MapCtx(func(ctx *Context, op history.Op) history.Op { op.Value = ctx.Time(); return op }, read))},
		{name: "on-update", g: Limit(12, OnUpdate(watcher, Mix(read, RepeatN(3, Lit(f("write"))))))},
		{name: "until-ok", g: Clients(EachThread(UntilOK(read))), conc: 3, complete: imperfect},
		{name: "process-limit", g: Clients(ProcessLimit(6, read)), conc: 2, complete: imperfect},
		{name: "concurrency-limit", g: Limit(20, ConcurrencyLimit(2, Mix(read, randWrite))), conc: 5},
		{name: "validate+recover+trace", g: Validate(Recover(TraceTo(quiet, "t", Limit(5, read))))},
		{name: "sequential", g: Clients(SequentialGenerator([]any{"a", "b", "c"}, func(k any) Generator {
			return Limit(3, UntilOK(Repeat(Lit(Invocation("r", k)))))
		})), complete: imperfect},
		{name: "concurrent", g: ConcurrentGeneratorSeq(2, IntKeys(), func(k any) Generator {
			return Limit(5, Mix(read, randWrite))
		}), conc: 4, complete: imperfect},
	}
}

// TestPurity checks that generators never change: asking the same generator
// (or updating it) twice with the same context and random state gives the
// same answers and successors, and a run that asks twice everywhere equals
// an ordinary simulation.
func TestPurity(t *testing.T) {
	for _, tc := range pureCases() {
		t.Run(tc.name, func(t *testing.T) {
			conc := tc.conc
			if conc == 0 {
				conc = 2
			}
			complete := Perfect(PerfectLatency)
			if tc.complete != nil {
				complete = tc.complete()
			}
			const seed = 99
			pcg := rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)
			ctx := NewContextRand(conc, true, rand.New(pcg))
			got := drivePure(t, tc.g, ctx, pcg, complete)

			if tc.complete != nil {
				complete = tc.complete()
			}
			want, err := Simulate(tc.g, SimOptions{Concurrency: conc, Nemesis: true, Seed: seed, Complete: complete, KeepPseudo: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 {
				t.Fatal("the case emits nothing")
			}
			if g, w := rows(got, "tpyfvk"), rows(want, "tpyfvk"); !slices.Equal(g, w) {
				t.Errorf("asking twice changed the run:\n got %v\nwant %v", g, w)
			}
			// And the generator value itself still runs the same.
			if tc.complete != nil {
				complete = tc.complete()
			}
			again, _ := Simulate(tc.g, SimOptions{Concurrency: conc, Nemesis: true, Seed: seed, Complete: complete, KeepPseudo: true})
			if !slices.Equal(rows(again, "tpyfvk"), rows(want, "tpyfvk")) {
				t.Error("a second simulation of the same generator differs")
			}
		})
	}
}

func snapshot(t *testing.T, pcg *rand.PCG) []byte {
	b, err := pcg.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func restore(t *testing.T, pcg *rand.PCG, b []byte) {
	if err := pcg.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
}

type answer struct {
	op   history.Op
	next Generator
	st   Status
	rng  string
}

func (a answer) String() string {
	if a.st == Failed {
		return fmt.Sprintf("failed: %v", ErrorOf(a.op))
	}
	return fmt.Sprintf("%v %s", a.st, row(a.op, "tpyfvk"))
}

// askTwice asks g twice from the same random state, checks both answers
// agree, and that their successors answer alike too.
func askTwice(t *testing.T, g Generator, ctx *Context, pcg *rand.PCG) answer {
	t.Helper()
	a, err := checkAskTwice(g, ctx, pcg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func checkAskTwice(g Generator, ctx *Context, pcg *rand.PCG) (answer, error) {
	ask := func(g Generator) answer {
		before, _ := pcg.MarshalBinary()
		op, next, st := opOf(g, ctx)
		after, _ := pcg.MarshalBinary()
		_ = pcg.UnmarshalBinary(before)
		return answer{op: op, next: next, st: st, rng: string(after)}
	}
	a1, a2 := ask(g), ask(g)
	if a1.String() != a2.String() || a1.rng != a2.rng || (a1.st == Ready && !reflect.DeepEqual(a1.op, a2.op)) {
		return a2, fmt.Errorf("asked twice: %v, then %v", a1, a2)
	}
	if a1.st == Ready {
		_ = pcg.UnmarshalBinary([]byte(a1.rng))
		s1, s2 := ask(a1.next), ask(a2.next)
		if s1.String() != s2.String() {
			return a2, fmt.Errorf("successors differ: %v, then %v", s1, s2)
		}
	}
	_ = pcg.UnmarshalBinary([]byte(a2.rng))
	return a2, nil
}

// mutating is a broken generator that changes itself when asked.
type mutating struct{ i int64 }

func (m *mutating) Op(ctx *Context) (history.Op, Generator, Status) {
	m.i++
	op, st := FillIn(ctx, Invocation("x", m.i))
	return op, m, st
}
func (m *mutating) Update(*Context, history.Op) Generator { return m }

// The purity check must catch a generator that mutates itself, also when it
// is wrapped.
func TestPurityCatchesMutation(t *testing.T) {
	for _, g := range []Generator{&mutating{}, Limit(5, &mutating{}), Stagger(10, Mix(&mutating{}))} {
		pcg := rand.NewPCG(1, 2)
		if _, err := checkAskTwice(g, NewContextRand(2, false, rand.New(pcg)), pcg); err == nil {
			t.Errorf("%T: mutation not detected", g)
		}
	}
}

// updateTwice updates g twice with the same event and checks both results
// answer alike.
func updateTwice(t *testing.T, g Generator, ctx *Context, pcg *rand.PCG, ev history.Op) Generator {
	t.Helper()
	g1 := update(g, ctx, ev)
	g2 := update(g, ctx, ev)
	after := snapshot(t, pcg)
	a1 := func() string {
		restore(t, pcg, after)
		op, _, st := opOf(g1, ctx)
		return answer{op: op, st: st}.String()
	}()
	a2 := func() string {
		restore(t, pcg, after)
		op, _, st := opOf(g2, ctx)
		return answer{op: op, st: st}.String()
	}()
	if a1 != a2 {
		t.Fatalf("updated twice with %v: %v, then %v", ev, a1, a2)
	}
	restore(t, pcg, after)
	return g2
}

// drivePure is Simulate (without Validate, with pseudo-ops kept) asking and
// updating twice at every step.
func drivePure(t *testing.T, g Generator, ctx *Context, pcg *rand.PCG, complete CompleteFunc) []history.Op {
	var out []history.Op
	var flight inFlight
	for steps := 0; steps < 10000; steps++ {
		a := askTwice(t, g, ctx, pcg)
		switch {
		case a.st == Failed:
			t.Fatalf("failed: %v", ErrorOf(a.op))
		case a.st == Exhausted:
			for flight.len() > 0 {
				out = append(out, flight.pop())
			}
			return out
		case a.st == Ready && (flight.len() == 0 || a.op.Time <= flight.peek().Time):
			th, _ := ctx.Thread(a.op.Process)
			ctx = ctx.BusyAt(max(ctx.Time(), a.op.Time), th)
			g = updateTwice(t, a.next, ctx, pcg, a.op)
			c, err := completion(ctx, a.op, complete)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, a.op)
			flight.push(c)
		default:
			if flight.len() == 0 {
				t.Fatal("stuck")
			}
			c := flight.pop()
			th, _ := ctx.Thread(c.Process)
			ctx = ctx.FreeAt(max(ctx.Time(), c.Time), th)
			g = updateTwice(t, g, ctx, pcg, c)
			if c.Type == history.Info && th != NemesisThread {
				ctx = ctx.WithNextProcess(th)
			}
			out = append(out, c)
		}
	}
	t.Fatal("did not finish")
	return nil
}
