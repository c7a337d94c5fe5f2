// Package memdb owns Faultline's built-in system under test: a small
// replicated key-value store with faults that can be switched on inside its
// own implementation. It backs `--db memory` (in-process, for the quick
// start and the end-to-end tests) and `faultline memdb serve` (one OS
// process per node, so that partitions, kills and pauses act on it for
// real). Jepsen has no namespace for this; its role is that of Maelstrom's
// built-in lin-kv service: a known subject to aim the machinery at.
//
// # Replication
//
// Each node runs one replica: a Raft-style state machine driven by a single
// goroutine (replica.run). Terms, votes and the log are persisted before any
// message or answer that depends on them leaves the replica. A candidate
// needs a majority of votes and an up-to-date log; the leader replicates its
// ordered log, commits an entry of its own term once a majority stored it,
// and steps down when it has not heard from a majority for an election
// timeout. Writes go through the leader: a follower forwards a client's
// request to the leader it knows, or holds it until a leader is known (a
// request held past RequestTimeout fails with "no-leader"). Reads are
// linearizable: the leader answers after a round of heartbeats acknowledged
// by a majority and once it applied everything committed when the read
// arrived (read index, no leases). Followers apply committed entries after
// the replication lag (Config.Lag ± Jitter, or sooner once 16 have
// gathered). With Config.LeaderChangeEvery the leader hands over to a
// caught-up follower from time to time (Raft's leadership transfer).
//
// The same replica code runs in both modes behind a small transport:
//   - in-process (NewCluster, InProcessDB): messages go straight into the
//     receivers' inboxes; storage is memory in which only synced state
//     survives Kill; Pause stops the loop; Partition drops messages.
//   - networked (Serve): newline-delimited JSON over TCP. Every connection
//     starts with {"role":"peer","node":N} or {"role":"client"}. Each node
//     dials each peer for the messages it sends it (reconnecting with
//     backoff, dropping what cannot be sent); clients send {"id","cmd"} and
//     get {"id","res"}. The log is a JSON-lines file in the data dir; a
//     syncer goroutine writes and fsyncs it off the replica's loop and only
//     then releases the acknowledgements and answers that depend on it. A
//     torn last line is cut on restart. Stopping Serve through its context
//     is a crash as far as the data is concerned.
//
// # Bugs
//
//   - none: linearizable, also across partitions, kills, pauses and its own
//     leader changes.
//   - stale-reads: every replica answers reads from its own applied state,
//     so reads at followers trail the leader by the replication lag.
//   - lost-writes: the leader acknowledges writes once they are in its own
//     log (and answers reads from its own state), syncs its log only once a
//     second, ships entries to followers in lazy batches (every Lag), and
//     every LeaderChangeEvery (default 500ms) hands over without catching the
//     successor up. The successor's log wins and the old leader truncates
//     what it had acknowledged.
//
// # Operations
//
// InProcessClient and NetClient implement client.Client for the built-in
// workloads (ClientConfig.Workload). Keys come from Op.Key (nil is one
// shared key); values are int64.
//
//	register    read -> int64 or nil; write v; cas [old new] (fail "cas-mismatch")
//	set         add v; read -> []any of int64, sorted
//	counter     add delta; read -> int64
//	bank        transfer {"from","to","amount"} (fail "insufficient-funds");
//	            read -> history.Map account -> balance, accounts sorted;
//	            Setup creates ClientConfig.Accounts holding TotalAmount
//	unique-ids  generate -> int64
//	queue       enqueue v; dequeue -> int64 (fail "empty"); drain -> []any
//
// A definite refusal (not-leader, no-leader, node-down, cas-mismatch, empty,
// insufficient-funds) is a fail completion with the reason in Op.Error. An
// outcome the client cannot know (timeout, connection lost after sending,
// leadership lost) is returned as an error, which the interpreter records
// as info; reads, which change nothing, fail instead.
package memdb
