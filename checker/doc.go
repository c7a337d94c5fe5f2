// Package checker owns verdicts and the Checker interface: Validity (valid,
// invalid, unknown) with Jepsen's merge order, Compose, and the basic checkers
// (stats, unhandled-exceptions, log-file-pattern, counter, set, set-full,
// queue, total-queue, unique-ids, bank, long-fork, perf).
//
// It corresponds to Jepsen's jepsen.checker namespace. Checkers read a history
// and nothing else: this package never imports control, db or nemesis, so
// analysis works offline on a history file alone.
package checker
