// Package nemesis owns the Nemesis interface (a special process that injects
// faults and records them as ops), composition by f (Compose, ComposeAll),
// a per-op timeout (Timeout), Jepsen's node specs (ResolveSpec), and the
// nemeses themselves. It corresponds to Jepsen's jepsen.nemesis namespace,
// plus the nemeses of jepsen.nemesis.combined and jepsen.nemesis.time.
//
// Nemeses and their fs (values as in Jepsen; every completion value says
// what was done to which node):
//
//   - Partition: start-partition (a shape name of package netfault, or an
//     explicit grudge) and stop-partition, over a netfault.Net;
//   - Kill: kill and start, through db.Killer;
//   - Pause: pause and resume, through db.Pauser, e.g. PidfilePauser
//     (SIGSTOP/SIGCONT to the process in a pidfile);
//   - Packet: start-packet ([spec, behaviour]) and stop-packet, over a
//     netfault.Shaper;
//   - ClockNemesis: bump-clock, strobe-clock, reset-clock and
//     check-clock-offsets over a Clock: FaketimeClock (a libfaketime offset
//     file, for DBs started under FaketimeEnv; the only clock fault on
//     nodes sharing a kernel, and useless for Go programs, which ignore
//     LD_PRELOAD) or SystemClock (the clock agent uploaded to the node, refused by CheckClock where the
//     node shares this machine's kernel);
//   - FileCorruption: truncate, bitflip, snapshot-file-chunks and
//     restore-file-chunks on the files a glob (or the DB's DataFiles)
//     matches, with a copy of each file saved first and put back at
//     Teardown;
//   - MembershipNemesis: remove-node and add-node through a DB's
//     Membership hooks.
//
// Node specs (one, minority, majority, minority-third, primaries, all,
// some, or explicit "n2,n3") are resolved with a random source seeded from
// the run (control.Env.Seed), so a schedule replays.
//
// Every Setup starts from a clean state where that makes sense (heal,
// unshape), and every Teardown undoes what its nemesis did (heal, unshape,
// start killed nodes, resume paused ones, reset clocks, restore files, add
// removed nodes). Teardowns are idempotent, work from what was attempted
// (not only what succeeded), and composed Teardowns run them all even when
// one fails or panics.
package nemesis
