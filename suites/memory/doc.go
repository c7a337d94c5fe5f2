// Package memory is the suite for Faultline's built-in replicated memory
// store (internal/memdb): `faultline test --db memory`. It runs the store
// in-process for the quick start and the end-to-end tests; its bugs
// (--bug stale-reads|lost-writes) show what the checkers find.
package memory
