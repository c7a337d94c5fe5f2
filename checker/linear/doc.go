// Package linear owns Faultline's linearizability checker: does a history of
// concurrent operations have a linearization that a model (package model)
// accepts? It corresponds to Jepsen's jepsen.checker/linearizable with
// Knossos' analyzers (knossos.linear, knossos.wgl), and to Porcupine.
//
// Semantics are Jepsen's: a fail op never happened and is dropped; an info
// op, or an invocation without completion, may take effect at any time
// after its invocation or never; nemesis ops are ignored; an ok op's value
// is its completion's (a read's result is known only then). A history whose
// ops carry a key (Op.Key, or Jepsen independent [k v] tuples with
// Options.Independent) is split per key and the keys are checked in
// parallel; keys are never guessed from values.
//
// The search is Wing & Gong's with Lowe's just-in-time linearization,
// written here: depth first over configurations (set of linearized ops,
// model state), linearizing only ops invoked before the earliest pending
// completion, memoising configurations by an incremental (Zobrist) hash of
// the linearized set, verified exactly on every hit. On top of that it
//
//   - succeeds once every ok op is linearized (crashed ops are optional);
//   - places a legal read-only op at once, without branching, and finds it
//     by the state its read needs;
//   - tries first the ops that lead to the state a waiting read needs, and
//     otherwise the earliest deadline first;
//   - with models whose ops append to the state or set it (kv), rules out a
//     configuration as soon as a waiting read's string can no longer be
//     reached: the state is not a prefix of it and no put that could still
//     run before the read sets one that is;
//   - of identical crashed ops tries only the first; of identical ok ops
//     skips one while another that fits everywhere it does is waiting;
//   - treats a configuration as seen when one with the same ok ops and state
//     but fewer crashed ops used was seen (crashed ops are optional);
//   - drops ops that cannot matter (unknown reads, crashed reads) and proves
//     some histories invalid before searching (a read of a value nothing
//     wrote in time), then finds the first failure in the prefix;
//   - checks a history without concurrency by replaying it.
//
// Budgets bound every check: a time budget and a memory budget (memo and
// model states, counted as they grow), shared by all keys; ctx is
// respected. When one runs out the verdict is unknown, with the cause and
// how far each key got. Keys are time-sliced on a bounded pool, so one hard
// key does not hide an easy failure; by default the check stops at the
// first failing key (Options.AllKeys checks them all).
//
// An invalid result carries Knossos-like evidence: the op that could not be
// linearized, the previous ok op, the furthest configurations reached (model
// state, last op, pending ops) and the final paths leading there, as
// kebab-case JSON, a one-sentence Summary, and RenderHTML's linear.html: a
// timeline per process around the failure.
package linear
