// Package checker owns verdicts and the Checker interface: Validity (valid,
// invalid, unknown) with Jepsen's merge order, Check (which turns a failing
// or panicking checker into an unknown result), Compose, Independent, and
// the basic checkers. Each checker's result is a struct with a "valid"
// field and its details under Jepsen's key names in kebab-case, and says in
// one sentence what it found (Summarizer).
//
// It corresponds to these Jepsen namespaces:
//
//	jepsen.checker          Stats, UnhandledExceptions, LogFilePattern, Counter,
//	                        Set, SetFull, Queue, TotalQueue, UniqueIDs, Compose
//	jepsen.checker.perf     Perf, Latencies, Rates (the numbers behind the plots)
//	jepsen.util             NemesisIntervals (util/nemesis-intervals)
//	jepsen.independent      Independent (independent/checker)
//	jepsen.tests.bank       Bank
//	jepsen.tests.long-fork  LongFork
//
// Where Jepsen's code and documentation disagree, or Faultline's workloads
// need more, the checker's doc says so (e.g. SetFull's duplicates, Queue's
// failed enqueues, LogFilePattern's unknown verdict when no log was found).
//
// Checkers read a history and nothing else: this package imports only the
// standard library and history, never control, db or nemesis, so analysis
// works offline on a history file alone (TestImports enforces it). The
// linearizability checker lives in checker/linear.
//
// Values in histories follow history's conventions (int64 integers, []any
// vectors, history.Set, history.Map, EDN keywords as plain strings);
// checkers compare values as history.Equal does, so 3 and 3.0 are the same
// element. Values and ops quoted in results marshal as in history.jsonl
// (Values, Value, OpJSON).
package checker
