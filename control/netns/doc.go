// Package netns is the control.Remote for nodes that are Linux network
// namespaces on this machine (the local cluster made by package cluster).
//
// A command runs as `ip netns exec <namespace> <argv>`: it gets the node's
// network (its own address, loopback and firewall) and the node's view of
// /etc/hosts (ip netns exec bind-mounts /etc/netns/<namespace>/hosts), while
// the filesystem, PID space, kernel and clock stay shared with the host.
// Each node has a root folder on the host for its data and logs: commands
// start there, relative paths given to Exec, Upload and Download resolve
// against it, and the environment carries FAULTLINE_CLUSTER, FAULTLINE_NODE
// and FAULTLINE_NODE_DIR. Because the PID space is shared, never kill by
// pattern on these nodes: use pidfiles.
//
// Measured cost of one Exec (BenchmarkNetnsExec in package cluster): about
// 2 ms, against under 1 ms for the local remote (BenchmarkExec in
// control/local); nsenter would save about 1 ms more but does not give the
// node its own /etc/hosts.
//
// It has no direct Jepsen counterpart; it plays the part of jepsen.control's
// SSH remote for a cluster on one machine.
package netns
