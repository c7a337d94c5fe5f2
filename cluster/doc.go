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
// With Config.SSHD (`--sshd`) every netns node also runs an OpenSSH server
// (/usr/sbin/sshd, Debian package openssh-server) listening on the node's
// address, port 22, with a host key and a client key generated into the
// state folder's ssh/ (see SSHDState), authorized for root there (the host's
// /root/.ssh is not touched), its own config, pidfile and log per node, and
// /run/sshd (its privilege separation folder) made when missing and removed
// by the last Down that made it. SSHRemote and SSHOptions give a
// control/ssh Remote for the nodes with strict host key checking against
// the cluster's known_hosts: the SSH remote of real machines, tested
// against real sshd. Its sshd sets SHLVL=1 for sessions, which keeps bash
// from sourcing root's ~/.bashrc for every command (Debian's bash does that
// under sshd; with pyenv set up there it cost 120 ms a command). Measured
// per command (2 cores under load): ip netns exec 2.9 ms (BenchmarkNetnsExec),
// rootless nsenter 2.4 ms (BenchmarkRootlessExec), SSH over a reused
// connection 6.5 ms (BenchmarkSSHExec), docker exec 82 ms
// (BenchmarkDockerExec).
//
// Rootless (Config.Rootless, `--rootless`): a netns cluster for an ordinary
// user. A holder process (sh, then sleep) is started in new user, mount and
// network namespaces (Go's SysProcAttr.Cloneflags; the user is root there);
// it mounts a tmpfs on /run (for /run/netns) and bind-mounts the cluster's
// hosts file on /etc/hosts, so names resolve in every node without touching
// the host's /etc/hosts. The bridge lives in the holder's network namespace
// and the nodes' namespaces are made inside it by the same ip commands, run
// through `nsenter --preserve-credentials --user --mount --net` into the
// holder (util-linux nsenter: setns into a user namespace needs a
// single-threaded process, which Go is not). Commands on a node join the
// holder's user and mount namespaces and the node's network namespace the
// same way (as fast as ip netns exec). BenchmarkRootlessUpDown: up 0.13 s
// and down 0.03 s for 5 nodes, up 0.19 s and down 0.04 s for 25. The state folder is under
// $XDG_STATE_HOME (~/.local/state)/faultline/clusters. Down kills every
// process of the holder's user namespace; the namespaces, links and mounts
// vanish with them and nothing is left on the host. Needs unprivileged user
// namespaces (RootlessSupported says why not). No sshd: it needs root.
//
// Driver docker: one container per node from a local image, on a docker
// network fl-NAME (bridge fl-TAG) with the same subnet and addresses as a
// netns cluster; container fl-NAME-N with host name N and network aliases
// N and N.NAME (docker's embedded DNS resolves them in every node), the
// capability NET_ADMIN (nftables, tc; no SYS_ADMIN), IPv6 off, docker-init
// as PID 1, sshd running, and the node's folder and the ssh folder
// bind-mounted at their host paths (a path in the state means the same
// inside and out). The image, faultline-node:<hash of the recipe>, is built
// once without any registry: debootstrap (minbase) of this machine's Debian
// release from apt's mirror with iproute2, nftables, iptables,
// openssh-server and procps, then `docker import`; it is kept by Down
// (about 1.5-2.5 minutes to build, 146 MB). A docker-compose.yml (format
// 2.4, read by docker-compose 1.x and docker compose v2) describing the
// same cluster is written into the state folder. Commands run through
// control/docker (docker exec); nodes have their own PID namespaces.
// BenchmarkDockerUpDown: up 2.3 s, down 0.9 s for 5 nodes.
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
// Heal of a docker cluster runs the same inspection and removal inside each
// container (faultline* nftables tables, faultline iptables rules and
// chains, extra qdiscs, fl-* links, SIGCONT to stopped processes) and
// removes the host's faultline_NAME tables and the bridge's qdiscs; the
// host ends of the containers' veths are docker's and are left alone.
//
// # State
//
// One folder per cluster, by default /var/lib/faultline/clusters/NAME
// (DefaultStateRoot), holding cluster.json (see State), nodes/N/, each
// node's root folder for data, logs and pidfiles, ssh/ with sshd, and for
// docker clusters docker-compose.yml; for rootless clusters the hosts file
// the nodes see. The state is written
// before anything is created, so Down and Heal work from a fresh process,
// also after a crash mid-way; Down without a state file finds the cluster's
// pieces by the names above.
//
// There is no Jepsen counterpart: Jepsen expects its nodes to exist (its
// Docker and Vagrant harnesses live outside the library).
package cluster
