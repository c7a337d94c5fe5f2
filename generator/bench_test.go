package generator

import (
	"testing"
	"time"

	"github.com/faultline/faultline/history"
)

// mixWorkload is a typical register workload: reads, random writes and
// compare-and-sets, mixed and staggered.
func mixWorkload(stagger time.Duration) Generator {
	return Stagger(stagger, Mix(
		Repeat(Lit(Invocation("read", nil))),
		Fn(func(ctx *Context) (history.Op, bool) {
			return Invocation("write", ctx.Rand().IntN(5)), true
		}),
		Fn(func(ctx *Context) (history.Op, bool) {
			r := ctx.Rand()
			return Invocation("cas", []any{int64(r.IntN(5)), int64(r.IntN(5))}), true
		}),
	))
}

// BenchmarkGeneratorMix drives a validated, staggered Mix at concurrency 100
// (plus a nemesis thread) the way the interpreter does, on a simulated clock
// with 1 ms latency, and reports generator throughput in ops/s: each op is
// one Op that is dispatched, its invocation Update, and its completion
// Update, plus the Op calls that come back pending.
func BenchmarkGeneratorMix(b *testing.B) {
	const latency = int64(time.Millisecond)
	g := Validate(Clients(mixWorkload(20 * time.Microsecond)))
	ctx := NewContext(100, true, 1)
	var flight inFlight
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; {
		op, next, st := g.Op(ctx)
		switch {
		case st == Ready && (flight.len() == 0 || op.Time <= flight.peek().Time):
			th, _ := ctx.Thread(op.Process)
			ctx = ctx.BusyAt(max(ctx.time, op.Time), th)
			g = next.Update(ctx, op)
			op.Type = history.OK
			op.Time += latency
			flight.push(op)
			i++
		case st == Ready || st == Pending:
			c := flight.pop()
			th, _ := ctx.Thread(c.Process)
			ctx = ctx.FreeAt(max(ctx.time, c.Time), th)
			g = g.Update(ctx, c)
		default:
			b.Fatalf("generator %v", st)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkSimulate is the same workload through Simulate, which also
// records the history and wraps the generator in Recover.
func BenchmarkSimulate(b *testing.B) {
	g := Clients(Limit(b.N, mixWorkload(20*time.Microsecond)))
	b.ReportAllocs()
	b.ResetTimer()
	ops, err := Simulate(g, SimOptions{Concurrency: 100, Nemesis: true, Seed: 1,
		Complete: Perfect(int64(time.Millisecond)), MaxEvents: 2*b.N + 10})
	if err != nil || len(ops) != 2*b.N {
		b.Fatalf("%d ops, %v", len(ops), err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkEachThread measures a per-thread generator at concurrency 100,
// whose Op asks every free thread's copy.
func BenchmarkEachThread(b *testing.B) {
	g := Clients(Limit(b.N, EachThread(Repeat(Lit(Invocation("read", nil))))))
	b.ReportAllocs()
	b.ResetTimer()
	if _, err := Simulate(g, SimOptions{Concurrency: 100, Seed: 1, MaxEvents: 2*b.N + 10}); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkContext(b *testing.B) {
	base := NewContext(100, true, 1)
	for th := 0; th < 100; th += 2 {
		base = base.Busy(th)
	}
	b.Run("BusyFree", func(b *testing.B) {
		ctx := base
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			th := 1 + 2*(i%50)
			ctx = ctx.BusyAt(int64(i), th).FreeAt(int64(i), th)
		}
	})
	b.Run("WithTime", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			_ = base.WithTime(int64(i + 1))
		}
	})
	b.Run("SomeFreeProcess", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := base.SomeFreeProcess(); !ok {
				b.Fatal("none free")
			}
		}
	})
	b.Run("ThreadFilterHit", func(b *testing.B) {
		clients := NewThreadFilter(func(th int) bool { return th != NemesisThread })
		b.ReportAllocs()
		for b.Loop() {
			_ = clients.Apply(base)
		}
	})
	b.Run("ThreadFilterMiss", func(b *testing.B) {
		clients := NewThreadFilter(func(th int) bool { return th != NemesisThread })
		other := base.WithTime(1)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if i%2 == 0 {
				_ = clients.Apply(base)
			} else {
				_ = clients.Apply(other)
			}
		}
	})
	b.Run("Thread", func(b *testing.B) {
		ctx := base.WithNextProcess(7)
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := ctx.Thread(107); !ok {
				b.Fatal("lost")
			}
		}
	})
	b.Run("WithNextProcess", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = base.WithNextProcess(7)
		}
	})
	b.Run("FreeThreads", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = base.FreeThreads()
		}
	})
}
