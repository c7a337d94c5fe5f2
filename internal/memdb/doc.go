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
//   - read-committed, snapshot-isolation, lost-update, non-atomic: isolation
//     bugs; see Transactions.
//
// Stale-reads and lost-writes act on transactions too: a read-only
// transaction is a read (stale at followers; from the leader's own state
// with lost-writes), and a transaction with writes is a write that
// lost-writes may truncate after acknowledging it.
//
// # Transactions
//
// The append and wr workloads send each transaction as one txn command
// carrying its micro-ops. Without an isolation bug the replica runs it as
// any command: one with writes goes through the log and applies atomically
// in log order, a read-only one is served through the read index, so
// transactions are strict serializable. The state machine keeps every
// value a transactional key took with the log index that wrote it, so a
// txn command can read the state as of an earlier index (a snapshot), and
// carries checks ("fail with write-conflict if key k was written after
// index i") that refuse the whole command deterministically on every
// replica.
//
// Under an isolation bug the node a client talks to runs the transaction
// as a coordinator would (txn.go): several commands of its own, submitted
// one after another like any client's (reads through the read index,
// writes through the log), so other transactions' commands land in
// between. The whole transaction must finish within RequestTimeout.
//
//   - read-committed: each read is a command of its own at the latest
//     committed state; writes are buffered and committed in one command.
//     A read of a list the transaction appended to shows the committed
//     list plus its own appends, and the commit checks that list is
//     unchanged since (else write-conflict), so that no read shows an
//     order of appends that never existed.
//   - snapshot-isolation: an empty read first fixes the snapshot index;
//     reads see the state there (plus own writes); the commit checks that
//     no key it writes changed after the snapshot (first committer wins).
//   - lost-update: as snapshot-isolation, but the commit checks only lists
//     read after appending to them.
//   - non-atomic: every micro-op is a command of its own, in order; one
//     transaction in five with writes gives up (fail "aborted") after a
//     random one of them, and nothing is undone.
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
//	append      txn [["append" k v] ["r" k nil] ...] -> reads filled with the
//	            list ([] when empty); fail "write-conflict" or "aborted"
//	wr          txn [["w" k v] ["r" k nil] ...] -> reads filled with the value
//	            (nil when unset); fail as for append
//
// A definite refusal (not-leader, no-leader, node-down, cas-mismatch, empty,
// insufficient-funds, write-conflict, aborted) is a fail completion with
// the reason in Op.Error. An outcome the client cannot know (timeout,
// connection lost after sending, leadership lost) is returned as an error,
// which the interpreter records as info; reads and read-only transactions,
// which change nothing, fail instead.
package memdb
