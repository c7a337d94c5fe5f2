// Package db owns the DB interface (install, start, stop and tear down the
// system under test on a node), its optional abilities (kill/start,
// pause/resume, primaries, log files) and helpers in the spirit of
// jepsen.control.util: packages, archives, daemons with pidfiles, awaiting
// ports. It corresponds to Jepsen's jepsen.db namespace.
package db
