// Package netfault owns network faults: grudges (who must not hear whom)
// with Jepsen's shapes, packet behaviours (delay with jitter and
// distribution, loss, duplication, reordering, corruption, rate), and the
// commands that inject them on the nodes. It corresponds to Jepsen's
// jepsen.net (net/drop!, net/heal!, net/shape!) and to the grudge functions
// of jepsen.nemesis (complete-grudge, bisect, split-one, bridge,
// majorities-ring).
//
// # Grudges
//
// A Grudge maps a node to the nodes whose packets it drops. Complete,
// Bisect, SplitOne, Bridge and MajoritiesRing are Jepsen's building blocks;
// MakeGrudge builds a named shape (ShapeOne, ShapeMajority, ShapeHalves,
// ShapeRandomHalves, ShapeMinorityThird, ShapeMajoritiesRing, ShapeBridge,
// ShapePrimaries) from a node list and a seeded *rand.Rand, so a run's
// faults replay from its seed. ParseGrudge reads explicit grudges
// ("n1,n2|n3,n4,n5" or "n1:n2,n3;n2:n1"). MajoritiesRing is Jepsen's
// "perfect" ring for every size; Jepsen switches to a stochastic variant
// above five nodes, which Faultline does not have (each node still sees a
// majority, and no two the same one).
//
// # Net and Shaper
//
// Nemeses use two small interfaces: Net (Drop a grudge, Heal) and Shaper
// (Shape links with a Behaviour, Unshape). An in-process cluster satisfies
// Net with a few lines:
//
//	type memNet struct{ c *memdb.Cluster }
//	func (m memNet) Drop(_ context.Context, g netfault.Grudge) error { return m.c.Partition(g) }
//	func (m memNet) Heal(context.Context) error                     { m.c.Heal(); return nil }
//
// NodeNet is the implementation for real nodes, through control.Remote, so
// the same code serves netns, Docker and SSH clusters:
//
//   - cuts: an nftables table `inet faultline` in each node whose input
//     chain drops `ip saddr { peers }` (optionally resetting TCP first), made
//     and replaced in one nft transaction; healed by deleting the table.
//     Without nft, an iptables chain faultline-partition jumped to from
//     INPUT (IPv4 only).
//   - packet behaviours, egress on the interface that routes to the other
//     nodes, for all traffic or for chosen destinations: tc netem where the
//     kernel has it (through an htb class and u32 filters for chosen
//     destinations). Without netem: loss and duplication with nftables
//     (table `ip faultline_packet`, numgen random, dup), rate with tbf (htb
//     and u32 per destination), delay, jitter and reordering with iptables
//     NFQUEUE rules (chain faultline-delay, --queue-bypass so packets flow
//     if the agent dies) feeding the packet-delay agent; corruption without
//     netem is refused. Root qdiscs NodeNet adds have handle fa17:, and
//     Unshape removes only those.
//
// All names follow the conventions `faultline cluster heal` relies on
// (see package cluster), so a run killed with SIGKILL leaves nothing that
// heal does not remove, except a running delay agent (idle once its rules
// are gone; `cluster down` ends it).
//
// # Capabilities
//
// Probe tries each mechanism on a node (a probe table, chain and dummy link,
// deleted again) and returns Capabilities; NodeNet probes each node once and
// logs the result. Capabilities.CheckPartition and CheckBehaviour return an
// error wrapping ErrUnsupported (an *UnsupportedError naming the node, the
// reason and what would make it possible), so a run can refuse an
// impossible fault before it starts.
//
// # The packet-delay agent
//
// RunDelayAgent binds an NFQUEUE (github.com/florianl/go-nfqueue/v2) and
// gives each packet its verdict after the configured delay, drawn like
// netem's (uniform, normal, pareto or paretonormal jitter, with
// correlation; reorder lets a share through at once). AgentMain is the
// body of the hidden `faultline nemesis-agent delay --queue N --delay D ...`
// command, which NodeNet starts on a node in the background with a pidfile
// (StateDir/delay-agent.pid) and waits for its AgentReadyLine.
package netfault
