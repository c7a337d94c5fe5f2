// Package nemesis owns the Nemesis interface (a special process that injects
// faults and records them as ops), composition by f, and the nemeses for
// partitions, kills, pauses, clocks and files. It corresponds to Jepsen's
// jepsen.nemesis namespace.
package nemesis
