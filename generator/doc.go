// Package generator owns Faultline's generators: pure, immutable schedules
// of operations (who does what, and when) and the combinators that build
// them, plus the Context they run in and a simulator that runs them without
// goroutines or clocks. It corresponds to Jepsen's jepsen.generator (with
// jepsen.generator.context, jepsen.generator.test and the generators of
// jepsen.independent), and keeps its semantics and names.
//
// # Generators
//
// A Generator answers Op(ctx) with an operation and the generator to use
// after it (Ready), "not now" (Pending), "never again" (Exhausted), or an
// error (Failed); Update(ctx, event) tells it of an invocation or a
// completion and returns the generator to use from then on. Neither method
// changes the receiver. Time, threads and randomness come in through the
// Context; a generator has no clock, goroutine or I/O.
//
// Op templates (history.Op values with Type, Time and Process left unset)
// become one-shot generators with Lit, or many with Repeat, Fn, FnGen and
// Indexed; FillIn gives them a free thread's process (threads take turns)
// and the current time. Combinators: Seq/Concat, Phases, Then, Synchronize,
// Repeat/RepeatN, Cycle/CycleN, CycleTimes, Limit, Once, TimeLimit, Stagger,
// Delay, Sleep, Log, Mix, Any, ShortestAny, FlipFlop, Clients, Nemesis,
// ClientsNemesis, OnThreads, EachThread, EachProcess, Reserve, UntilOK,
// ProcessLimit, ConcurrencyLimit, Filter, Map, MapCtx, FMap, OnUpdate,
// Validate, Recover, Trace, SequentialGenerator and ConcurrentGenerator.
// Durations are time.Duration; times are nanoseconds since the test began.
//
// Where Faultline differs from Jepsen, on purpose:
//   - A template's Process is always assigned (Go has no "absent" int);
//     Pinned emits an op on a given process, only while its thread is free.
//   - Mix asks its other children when the chosen one is pending, instead
//     of stalling on it.
//   - Then(first, second) takes its arguments in running order.
//   - Reserve counts threads within its context, so it nests.
//   - FMap keeps an f that its map does not mention.
//   - Independent generators put the key in Op.Key, not in a [k v] value.
//   - Errors are values: Failed with an *InvalidOpError or *PanicError (see
//     Validate, Recover, Fail, ErrorOf), never a panic.
//
// # Driving a generator
//
// An interpreter (and Simulate, its reference) repeats: ask Op with the
// current time; on Ready, wait until op.Time unless a completion arrives
// first (then ask again), dispatch the op to its process's thread, mark the
// thread Busy, and Update next with the invocation; on a completion, Free
// the thread at the completion's time, Update the generator with it, and
// then, for an info completion of a client, WithNextProcess. Sleep and log
// pseudo-ops occupy a thread too: the worker sleeps or logs, then returns
// the op itself as the completion; neither enters the history.
//
// # Example
//
//	g := generator.Phases(
//		generator.TimeLimit(30*time.Second, generator.ClientsNemesis(
//			generator.Stagger(10*time.Millisecond, generator.Mix(
//				generator.Repeat(generator.Lit(generator.Invocation("read", nil))),
//				generator.Fn(func(ctx *generator.Context) (history.Op, bool) {
//					return generator.Invocation("write", ctx.Rand().IntN(5)), true
//				}),
//			)),
//			generator.Cycle(generator.Seq(
//				generator.Sleep(5*time.Second),
//				generator.Lit(history.Op{Type: history.Info, F: "start"}),
//				generator.Sleep(5*time.Second),
//				generator.Lit(history.Op{Type: history.Info, F: "stop"}),
//			)),
//		)),
//		generator.Log("healing"),
//		generator.Nemesis(generator.Lit(history.Op{Type: history.Info, F: "stop"})),
//		generator.Clients(generator.EachThread(generator.UntilOK(
//			generator.Repeat(generator.Lit(generator.Invocation("read", nil)))))),
//	)
//	ops, err := generator.Simulate(g, generator.SimOptions{Concurrency: 5, Nemesis: true, Seed: 1})
package generator
