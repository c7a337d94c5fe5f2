// Package workload owns Faultline's built-in workloads: for each, a
// generator of client operations, an optional final generator (reads after
// the faults are healed) and the checker that judges the history. Any suite
// whose client understands a workload's operations can run it. It
// corresponds to the workloads of jepsen.tests (register, set, counter,
// bank, unique-ids, queue) and of Elle's list-append and rw-register tests.
//
// Operations, as clients must implement them:
//
//	register    read (value nil, ok value int64 or nil), write int64, cas [old new]; ops carry Key
//	set         add int64; final read → []int64
//	counter     add int64 (delta); read → int64
//	bank        transfer {"from" a, "to" b, "amount" n}; read → {account balance}
//	unique-ids  generate → any unique value
//	queue       enqueue int64; dequeue → value (fail when empty); final drain → []values
//	append      txn [["append" k v] ["r" k nil] ...] → reads filled: ["r" k [v1 v2 ...]]; keys, values int64
//	wr          txn [["w" k v] ["r" k nil] ...] → reads filled: ["r" k v]
package workload
