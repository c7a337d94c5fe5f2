// Package elle is Faultline's transactional isolation checker: it finds
// isolation anomalies in histories of transactions and says which
// consistency models they rule out. It corresponds to Jepsen's Elle
// (elle.list-append, elle.rw-register, elle.txn, elle.core and
// elle.consistency-model) and keeps its anomaly and model names, its
// inference rules and its result map, so that Elle's histories get Elle's
// verdicts; the code is our own.
//
// # Workloads
//
// ListAppend checks list-append histories: each op's value is a list of
// micro-ops [append k v] and [r k [v1 v2 ...]] over lists that start empty,
// with values unique per key. Every read shows the order of the appends it
// saw, so the longest read of a key gives its version order (an append no
// read shows comes after the last one shown; a key appended once needs no
// read).
//
// RWRegister checks read-write register histories: [w k v] and [r k v],
// registers starting at nil, values unique per key. Version orders come
// from "nil precedes every value", and, when the options allow, from an
// explicit transaction order, writes following reads within a transaction,
// process order (sequential keys) or real-time order (linearizable keys);
// a source that would make a version order cyclic is left out and reported
// as cyclic-versions.
//
// # What is found
//
// From the version orders the checkers build a dependency graph between
// committed (ok) and possibly committed (info) transactions: ww (b
// overwrote a's version), wr (b read a's version), rw (a read a version b
// overwrote), plus process order or real-time order when a requested model
// needs it (internal/graph holds the graph work). Each strongly connected
// component is searched for the cycles of each anomaly class, worst first:
// G0 (ww only), G1c (ww and wr), G-single-item (exactly one rw),
// G-nonadjacent-item (several rw, never two in a row), G2-item (several
// rw), each also as -process and -realtime variants when process or
// real-time edges are needed. An edge is taken as the relation that best
// explains it (data dependencies before process and real-time order), so
// a cycle's class is the one its explanation shows. Before searching, each
// component is tested cheaply for cycles in the subgraphs Elle uses to
// prove that some model cannot hold (the -cycle-exists anomalies); classes
// those tests exclude are not searched. The search of a component is
// bounded (Options.CycleSearchTimeout, 1s as in Elle): when time runs out,
// the result reports cycle-search-timeout, a fallback cycle, and the
// cycle-exists anomalies, which still rule models out.
//
// Anomalies found without cycles: G1a (aborted read), G1b (intermediate
// read), dirty-update, lost-update, internal (a read disagreeing with the
// transaction's own earlier reads and writes), future-read, duplicate
// elements, incompatible-order (two reads of a key that no one order of
// appends explains), cyclic-versions, and empty-transaction-graph (no
// dependency could be inferred: the verdict is then unknown). For list
// append, Faultline also reports as cyclic-versions a transaction whose own
// appends to a key show in the other order, which Elle misses.
//
// # Models and verdicts
//
// Options.ConsistencyModels names the models to check (default
// strict-serializable), by Elle's names: read-uncommitted, read-committed,
// cursor-stability, repeatable-read, snapshot-isolation, serializable,
// strict-serializable (Elle reports it as strong-serializable),
// update-atomic, read-atomic, consistent-view, the strong-session- and
// strong- variants, Adya's PL- names, and the rest of Elle's lattice (see
// Models, ParseModels). Options.Anomalies adds anomaly types to look for.
// The result is invalid when an anomaly a requested model forbids was found,
// unknown when only empty-transaction-graph or cycle-search-timeout was,
// and valid otherwise; "not" lists the weakest models the anomalies rule
// out and "also-not" the stronger ones, as Elle's result map does.
//
// # Evidence
//
// Each anomaly comes with its transactions and, for cycles, why each
// transaction precedes the next in words ("T2 appended 3 to key 5 after T1
// read key 5 up to 2, without it"). With checker.Options.Dir set, an
// invalid or unknown result also writes <Dir>/elle/<type>.txt per anomaly
// type, <type>-<n>.svg drawings of cycles, and index.html.
//
// The package reads histories and nothing else (layer 2: it imports
// history, checker and internal/graph).
package elle
