// Package memory is the suite for Faultline's built-in replicated memory
// store (internal/memdb): `faultline test --db memory`. It runs the store
// in-process for the quick start and the end-to-end tests; its bugs
// (--bug stale-reads|lost-writes, and for the transactional append and wr
// workloads read-committed|snapshot-isolation|lost-update|non-atomic) show
// what the checkers find. --consistency-models picks the models the append
// and wr workloads' checker (Elle) checks; the default is
// strict-serializable, so `--bug snapshot-isolation --consistency-models
// snapshot-isolation` is valid where the default is not.
package memory
