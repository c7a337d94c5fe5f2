// Package etcd is the test suite for etcd (`faultline test --db etcd`): DB
// automation, clients built on the official Go client
// (go.etcd.io/etcd/client/v3), and the workloads register, set, append and
// watch. It corresponds to Jepsen's etcd test (jepsen.etcd and its
// jepsen.etcd.db, .client, .register, .set, .append and .watch
// namespaces).
//
// # DB
//
// DB runs one etcd member per node, through the test's control.Remote only
// (netns nodes, or SSH to their sshd). Setup installs Debian's etcd-server
// (once on the shared host of a netns cluster; elsewhere the service the
// package starts is stopped and disabled), or a given binary
// (Config.Binary, --etcd-binary), or one built by BuildEtcd
// (--etcd-version 3.7.3: a temporary module requiring
// go.etcd.io/etcd/server/v3 at that version, built once with CGO_ENABLED=0
// and cached under the user cache folder, never in the repository). Each
// member keeps its data, log and pidfile in Config.Dir (default "etcd",
// relative to the node's folder), is named after its node, advertises the
// node's address (Config.Addr, cluster.Addr on netns), and joins an initial
// cluster of all nodes with a cluster token fresh for every DB and run. It
// starts as a daemon with db.StartDaemon; Setup waits for the client port
// and then until the member serves a linearizable read (leader and
// quorum). Kill is SIGKILL by pidfile, waiting for the process to exit;
// Start restarts with --initial-cluster-state existing; Pause and Resume
// are SIGSTOP and SIGCONT; Primaries asks every member's status (for up
// to 5 s while an election runs) and returns those that say they lead; LogFiles is etcd.log; DataFiles (for
// the file nemesis) are the bbolt db and WAL segments. Teardown kills and
// wipes data and log.
//
// # Clients
//
// A Client opens one connection per process to one node only: no
// failover, no endpoint sync, no client-side retries, so what a minority
// member answers shows in the history. Writes and linearizable reads carry
// WithRequireLeader, so a member without a leader refuses them at once;
// serializable reads do not, so a cut-off member answers them from its
// local state, as they allow. Outcomes: an op that finds no ready
// connection within a second fails without sending anything
// ("not-connected"); reads that fail are fail (they change
// nothing); writes fail only on errors proving they were not applied
// (Definite: no leader, too many requests, proposal dropped, bad request,
// ...), a compare that does not hold is fail ("compare-failed"), and every
// other error (timeouts, lost connections, "request timed out", "leader
// changed") is returned as an error, which the interpreter records as info.
//
// # Workloads
//
//   - register: workload.Register's read, write and cas over independent
//     keys (Op.Key), values as decimal strings, cas as a transaction
//     comparing the value; reads are linearizable, or serializable with
//     --read-mode serializable (served from the member's local state:
//     allowed to be stale, which the linearizability checker catches once
//     a partition leaves a member behind).
//   - set: workload.Set; each element is its own key under a prefix, the
//     final read ranges over the prefix.
//   - append: workload.Append's list-append transactions ("txn" of
//     ["append", k, v] and ["r", k, nil]), checked by Elle's list-append
//     analysis: one etcd transaction reads every key touched, the
//     micro-ops apply locally, and a second transaction writes the new
//     lists guarded by every touched key's mod revision (a changed key
//     fails the op; nothing is written). Read-only transactions complete
//     from the first read (so with serializable reads they may be stale).
//   - watch: half the threads write unique integers, the others watch the
//     prefix, each process continuing from where its last watch ended, and
//     at the end every thread watches until the revision current then.
//     WatchChecker requires every watcher to see every revision after the
//     start marker once, in order, without gaps, agreeing with the other
//     watchers and with the acknowledged writes' revisions, each write at
//     one revision only, and no value that was never written or whose
//     write failed.
//
// # Suite
//
// Suite() is the command-line suite: flags --read-mode, --etcd-version,
// --etcd-binary and --rate, and --option cluster-name=NAME and --option
// remote=ssh. NewTest runs on a netns cluster (--cluster netns, the
// default without --nodes): a running healthy cluster is reused, otherwise
// one is made for the run and removed afterwards. With remote=ssh every
// command reaches the nodes over SSH to an sshd in each node (the cluster
// gets one), exactly as it would reach real machines. --nemesis takes nemesis/combined's faults
// (partition, kill, pause, packet, file; clock is refused on nodes that
// share this machine's kernel) through cli.Faults, with netfault.NodeNet
// for the network and the DB for processes; cli.Schedule runs the clients
// beside the fault schedule, then heals, waits RecoveryWait and runs the
// workload's final reads, as Jepsen's etcd test does.
package etcd
