// Package model owns Faultline's sequential specifications: the models a
// linearizability checker compares histories with. It corresponds to
// Knossos' knossos.model namespace and keeps its names and semantics:
//
//	register         f read, write; a read of nil (result unknown) is always legal
//	cas-register     read, write, cas [from to]; initial value option
//	multi-register   f txn over [[:read k v] [:write k v] ...]; nil reads legal;
//	                 ops span keys, so histories are never split per key
//	mutex            acquire, release
//	set              add, read (the whole set)
//	unordered-queue  enqueue, dequeue (any pending element)
//	fifo-queue       enqueue, dequeue (the oldest pending element)
//	noop             every op legal
//
// plus kv, a key-value store of strings with get, put and append on Op.Key
// (initial ""), as in Porcupine's kv tests. ByName returns them by name.
//
// User models are written as a step function over a comparable state with
// Define(Spec[S]{...}), optionally with a partition function
// (P-compositionality) and a read-only predicate.
//
// A Model is compiled for the ops of one history (or partition) into a
// Machine whose states are 64-bit handles: registers and mutexes keep their
// value in the handle itself, other models intern their states and cache
// transitions, so that a checker can compare and memoise states cheaply and
// a step it has seen before allocates nothing. Optional interfaces give a
// checker more to work with: Guarded (the one state in which a read is
// legal), Prechecker (ops impossible from real time alone), OrderHint, and
// per-op Flags and classes.
package model
