// Package faultline runs tests of distributed systems under faults, the way
// Jepsen does: it sets up a system on a set of nodes, drives it with
// concurrent clients while a nemesis injects faults, records every operation
// in a history, and checks that history against a model of what the system
// promises.
//
// A test is a Test value; Run executes it through Jepsen's life cycle (OS and
// DB setup, client and nemesis setup, the generator-driven run, teardown,
// log download, analysis) and stores everything in a run folder. Analyze
// re-checks a stored run or any history file.
//
// The root package owns the run life cycle and the interpreter (one goroutine
// per worker thread plus the nemesis); it corresponds to Jepsen's jepsen.core
// and jepsen.generator.interpreter namespaces.
package faultline
