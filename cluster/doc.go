// Package cluster makes, inspects, heals and removes local test clusters: the
// logic behind `faultline cluster up|down|status|exec|shell|heal`. The CLI in
// package cli calls Up, Open/Load, Down, List and the methods of *Cluster.
//
// Driver netns (the default): one Linux network namespace per node on this
// machine, joined by a bridge. Each node has its own IPv4 address, loopback,
// firewall and qdiscs, no default route (stray traffic fails at once) and
// IPv6 disabled (so IPv4-only fault rules leave nothing open). The nodes
// share the host's filesystem, PID space, kernel and clock; commands reach
// them through control/netns. Needs root and the ip, tc and nft commands
// (Debian packages iproute2 and nftables).
//
// Up builds everything with one `ip -batch` on the host plus one `ip -n NS
// -batch` per node (IPv6 is switched off from Go through setns), and Down
// deletes the namespaces in one batch and lets the kernel take the veth
// pairs with them. BenchmarkClusterUpDown, 2 cores under load: up 0.07 s and
// down 0.13 s for 5 nodes, up 0.13 s and down 0.18 s for 25.
//
// # Names (cluster NAME, node N = n1, n2, ...)
//
//   - cluster NAME: [a-z][a-z0-9-]{0,31}; the default cluster is "default".
//   - TAG: NAME when it has at most 7 characters, else its first 3 characters
//     and 4 hex digits of its FNV-1a hash (interface names are limited to 15
//     bytes).
//   - bridge on the host: fl-TAG, with the host's address on the subnet
//     (first address, e.g. 10.213.0.1).
//   - network namespace of node N: fl-NAME-N (`ip netns list`).
//   - veth pair: host side fl-TAG-N, enslaved to the bridge; node side eth0.
//   - addresses: the subnet is 10.213.K.0/24 with the first K in 0..255 that
//     clashes with no host route or address and no other cluster (or the
//     subnet given); node nI gets the subnet's address 10+I (n1 = .11).
//   - names: /etc/netns/fl-NAME-N/hosts (what `ip netns exec` shows a node as
//     /etc/hosts) maps every node, as N and N.NAME; the host's /etc/hosts gets
//     a block between "# BEGIN faultline cluster NAME" and "# END faultline
//     cluster NAME" with N.NAME always and the short N unless another
//     cluster's block claimed it first.
//   - when bridged traffic passes iptables (bridge-nf-call-iptables = 1) and
//     the host's FORWARD chain drops (Docker sets policy DROP), an iptables
//     rule `FORWARD -i fl-TAG -o fl-TAG -m comment --comment faultline:NAME
//     -j ACCEPT` is inserted at up and deleted at down.
//
// # Fault conventions (what Heal removes; nemesis code must follow them)
//
//   - nftables in a node: any table whose name starts with "faultline"
//     (e.g. `table inet faultline`).
//   - nftables on the host: tables named faultline_NAME or faultline_NAME_*
//     in any family (e.g. `table bridge faultline_default` for partitions at
//     the bridge).
//   - iptables in a node (e.g. NFQUEUE for delays): rules carrying a comment
//     that starts with "faultline" and chains whose name starts with
//     "faultline" (any case).
//   - tc: any non-default root qdisc and any ingress/clsact qdisc on a node's
//     interfaces, on the host veths fl-TAG-N and on the bridge.
//   - extra links (ifb for ingress shaping) are made inside a node and named
//     fl-*; heal deletes them.
//   - paused processes: every stopped process in a node's namespace gets
//     SIGCONT.
//
// # State
//
// One folder per cluster, by default /var/lib/faultline/clusters/NAME
// (DefaultStateRoot), holding cluster.json (see State) and nodes/N/, each
// node's root folder for data, logs and pidfiles. The state is written
// before anything is created, so Down and Heal work from a fresh process,
// also after a crash mid-way; Down without a state file finds the cluster's
// pieces by the names above.
//
// There is no Jepsen counterpart: Jepsen expects its nodes to exist (its
// Docker and Vagrant harnesses live outside the library).
package cluster
