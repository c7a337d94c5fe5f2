package faultline

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faultline/faultline/client"
	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/generator"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/nemesis"
)

// fnClient is a client whose Invoke is a function.
type fnClient struct {
	invoke func(ctx context.Context, op history.Op) (history.Op, error)
	opens  *atomic.Int64
}

func (c fnClient) Open(context.Context, *control.Env, string) (client.Client, error) {
	if c.opens != nil {
		c.opens.Add(1)
	}
	return c, nil
}
func (fnClient) Setup(context.Context, *control.Env) error    { return nil }
func (fnClient) Teardown(context.Context, *control.Env) error { return nil }
func (fnClient) Close(context.Context, *control.Env) error    { return nil }
func (c fnClient) Invoke(ctx context.Context, _ *control.Env, op history.Op) (history.Op, error) {
	return c.invoke(ctx, op)
}

func okClient() fnClient {
	return fnClient{invoke: func(_ context.Context, op history.Op) (history.Op, error) {
		op.Type = history.OK
		return op, nil
	}}
}

// runInterp runs gen through a fresh interpreter.
func runInterp(t testing.TB, c client.Client, nem nemesis.Nemesis, concurrency int, gen generator.Generator, opTimeout time.Duration, stop <-chan struct{}) ([]history.Op, *interpreter, error) {
	t.Helper()
	it := &interpreter{
		env:       &control.Env{Name: "t", Nodes: []string{"n1", "n2"}, Concurrency: concurrency},
		client:    c,
		nemesis:   nem,
		opTimeout: opTimeout,
		nemTime:   opTimeout,
		log:       slog.New(slog.DiscardHandler),
		gen:       generator.Validate(generator.Recover(gen)),
		gctx:      generator.NewContext(concurrency, nem != nil, 1),
		workers:   map[int]*worker{},
		counts:    &counts{},
	}
	for i := 0; i < concurrency; i++ {
		it.workers[i] = &worker{thread: i, node: "n1"}
	}
	if nem != nil {
		it.workers[history.NemesisProcess] = &worker{thread: history.NemesisProcess}
	}
	if stop == nil {
		stop = make(chan struct{})
	}
	ops, err := it.run(stop)
	return ops, it, err
}

func reads(n int) generator.Generator {
	return generator.Limit(n, generator.Repeat(generator.Lit(generator.Invocation("read", nil))))
}

func TestInterpreterRecordsEveryOp(t *testing.T) {
	ops, _, err := runInterp(t, okClient(), nil, 5, reads(1000), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := history.New(ops)
	if err != nil {
		t.Fatalf("interpreter produced an invalid history: %v", err)
	}
	if h.Len() != 2000 {
		t.Fatalf("want 2000 ops (1000 pairs), got %d", h.Len())
	}
	last := int64(-1)
	for i, op := range ops {
		if op.Index != i {
			t.Fatalf("op %d has index %d", i, op.Index)
		}
		if op.Time < last {
			t.Fatalf("time goes backwards at op %d", i)
		}
		last = op.Time
		if op.Type == history.Invoke {
			if c, ok := h.Completion(i); !ok || c.Type != history.OK {
				t.Fatalf("op %d has no ok completion", i)
			}
		}
	}
}

func TestInterpreterErrorsAndPanicsBecomeInfo(t *testing.T) {
	var n atomic.Int64
	opens := &atomic.Int64{}
	c := fnClient{opens: opens, invoke: func(_ context.Context, op history.Op) (history.Op, error) {
		switch n.Add(1) % 3 {
		case 0:
			panic("boom")
		case 1:
			return op, errors.New("connection reset")
		}
		op.Type = history.OK
		return op, nil
	}}
	ops, _, err := runInterp(t, c, nil, 3, reads(60), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := history.New(ops); err != nil {
		t.Fatalf("invalid history: %v", err)
	}
	var infos, panics int
	maxProc := 0
	for _, op := range ops {
		if op.Type == history.Info {
			infos++
			if s, _ := op.Error.(string); len(s) >= 6 && s[:6] == "panic:" {
				panics++
			}
		}
		maxProc = max(maxProc, op.Process)
	}
	if infos != 40 || panics != 20 {
		t.Fatalf("want 40 info ops of which 20 panics, got %d and %d", infos, panics)
	}
	// Every info gives the thread a new process: 3 threads, 40 crashes.
	if maxProc < 3 {
		t.Fatalf("processes were not renumbered after info (max process %d)", maxProc)
	}
	// A non-reusable client is reopened for each new process.
	if opens.Load() < 40 {
		t.Fatalf("client opened %d times; want one per process (>= 40)", opens.Load())
	}
}

func TestInterpreterAbandonsHungClient(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	var n atomic.Int64
	c := fnClient{invoke: func(ctx context.Context, op history.Op) (history.Op, error) {
		if n.Add(1) == 1 {
			<-release // ignores ctx: a badly behaved client
		}
		op.Type = history.OK
		return op, nil
	}}
	began := time.Now()
	ops, _, err := runInterp(t, c, nil, 1, reads(3), 50*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > overdueGrace+5*time.Second {
		t.Fatalf("hung client stalled the run for %s", took)
	}
	if ops[1].Type != history.Info || ops[1].Process != 0 {
		t.Fatalf("want the hung op recorded as info, got %v", ops[1])
	}
	if ops[2].Process != 1 {
		t.Fatalf("want the next op on a new process 1, got %v", ops[2])
	}
	if len(ops) != 6 {
		t.Fatalf("want 6 ops, got %d", len(ops))
	}
}

func TestInterpreterTimeoutBecomesInfo(t *testing.T) {
	c := fnClient{invoke: func(ctx context.Context, op history.Op) (history.Op, error) {
		<-ctx.Done()
		return op, ctx.Err()
	}}
	ops, _, err := runInterp(t, c, nil, 2, reads(2), 20*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range ops {
		if op.Type.IsCompletion() {
			if op.Type != history.Info {
				t.Fatalf("want info, got %v", op)
			}
			if s, _ := op.Error.(string); len(s) < 8 || s[:8] != "timeout:" {
				t.Fatalf("want a timeout error, got %v", op.Error)
			}
		}
	}
}

func TestInterpreterStopWaitsForOutstanding(t *testing.T) {
	stop := make(chan struct{})
	var n atomic.Int64
	c := fnClient{invoke: func(_ context.Context, op history.Op) (history.Op, error) {
		if n.Add(1) == 50 {
			close(stop)
		}
		time.Sleep(time.Millisecond)
		op.Type = history.OK
		return op, nil
	}}
	ops, _, err := runInterp(t, c, nil, 4, generator.Repeat(generator.Lit(generator.Invocation("read", nil))), time.Second, stop)
	if err != nil {
		t.Fatal(err)
	}
	h, err := history.New(ops)
	if err != nil {
		t.Fatal(err)
	}
	for i, op := range h.Ops {
		if op.Type == history.Invoke {
			if _, ok := h.Completion(i); !ok {
				t.Fatalf("op %d was left without completion after stop", i)
			}
		}
	}
	if len(ops) > 2*60 {
		t.Fatalf("run went on after stop: %d ops", len(ops))
	}
}

type recNemesis struct{ calls atomic.Int64 }

func (n *recNemesis) Setup(context.Context, *control.Env) (nemesis.Nemesis, error) { return n, nil }
func (n *recNemesis) Invoke(_ context.Context, _ *control.Env, op history.Op) (history.Op, error) {
	n.calls.Add(1)
	if op.F == "break" {
		return op, errors.New("cannot partition")
	}
	op.Value = "done"
	return op, nil
}
func (n *recNemesis) Teardown(context.Context, *control.Env) error { return nil }

func TestInterpreterNemesisOps(t *testing.T) {
	nem := &recNemesis{}
	gen := generator.ClientsNemesis(reads(10),
		generator.Seq(generator.Lit(generator.Invocation("start", nil)), generator.Lit(generator.Invocation("break", nil))))
	ops, it, err := runInterp(t, okClient(), nem, 2, gen, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	var nemOps []history.Op
	for _, op := range ops {
		if op.Process == history.NemesisProcess {
			nemOps = append(nemOps, op)
		}
	}
	if len(nemOps) != 4 {
		t.Fatalf("want 4 nemesis ops, got %v", nemOps)
	}
	for _, op := range nemOps {
		if op.Type != history.Info {
			t.Fatalf("nemesis ops must be info: %v", op)
		}
	}
	if len(it.nemesisFails) != 1 {
		t.Fatalf("want the failed nemesis op noted, got %v", it.nemesisFails)
	}
}

func TestInterpreterSleepAndLogStayOut(t *testing.T) {
	gen := generator.Seq(generator.Log("hello"), generator.Sleep(5*time.Millisecond), reads(1))
	ops, _, err := runInterp(t, okClient(), nil, 1, gen, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 2 || ops[0].F != "read" {
		t.Fatalf("want only the read recorded, got %v", ops)
	}
	if ops[0].Time < int64(5*time.Millisecond) {
		t.Fatalf("read did not wait for the sleep: time %d", ops[0].Time)
	}
}

func TestInterpreterGeneratorFailureStops(t *testing.T) {
	gen := generator.Seq(reads(3), generator.Fail(errors.New("bad schedule")))
	ops, _, err := runInterp(t, okClient(), nil, 2, gen, time.Second, nil)
	if err == nil || len(ops) != 6 {
		t.Fatalf("want an error after 6 ops, got %v with %d ops", err, len(ops))
	}
}

// BenchmarkInterpreterNoop drives a no-op client at concurrency 100 and
// reports operations (invoke + completion pairs) per second.
func BenchmarkInterpreterNoop(b *testing.B) {
	c := okClient()
	b.ReportAllocs()
	total := 0
	began := time.Now()
	for b.Loop() {
		ops, _, err := runInterp(b, c, nil, 100, reads(100_000), 10*time.Second, nil)
		if err != nil {
			b.Fatal(err)
		}
		total += len(ops) / 2
	}
	b.ReportMetric(float64(total)/time.Since(began).Seconds(), "ops/s")
}

func TestOpContext(t *testing.T) {
	c := newOpContext(20 * time.Millisecond)
	if c.Err() != nil {
		t.Fatal("fresh context already expired")
	}
	select {
	case <-c.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("Done never closed")
	}
	if !errors.Is(c.Err(), context.DeadlineExceeded) {
		t.Fatalf("Err = %v", c.Err())
	}
	// Without Done, Err still reports the deadline.
	c2 := newOpContext(time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	if !errors.Is(c2.Err(), context.DeadlineExceeded) {
		t.Fatalf("Err = %v", c2.Err())
	}
	select {
	case <-c2.Done():
	default:
		t.Fatal("Done open after the deadline")
	}
	c3 := newOpContext(time.Hour)
	_ = c3.Done()
	c3.release()
	if c3.Err() != nil {
		t.Fatal("released context expired")
	}
	// Derived contexts work.
	d, cancel := context.WithTimeout(newOpContext(10*time.Millisecond), time.Hour)
	defer cancel()
	select {
	case <-d.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("derived context did not expire with its parent")
	}
}
