package netfault

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/faultline/faultline/control"
)

// Capabilities says which fault mechanisms work on one node, as Probe
// measured them (by trying, not by guessing from versions).
type Capabilities struct {
	Node string `json:"node"`
	// Root: commands run as root (or through sudo).
	Root bool `json:"root"`
	// BootID is the node's kernel boot id; nodes with the control host's
	// boot id share its kernel (and clock).
	BootID string `json:"boot_id,omitempty"`
	// Nft: nft can make tables with filter chains; Numgen: numgen random
	// in rules; Dup: the dup statement (ip family).
	Nft    bool `json:"nft"`
	Numgen bool `json:"numgen"`
	Dup    bool `json:"dup"`
	// Iptables: iptables works; IptablesVersion is its --version line.
	Iptables        bool   `json:"iptables"`
	IptablesVersion string `json:"iptables_version,omitempty"`
	// NFQueue: the iptables NFQUEUE target with --queue-bypass.
	NFQueue bool `json:"nfqueue"`
	// Tc and its qdiscs.
	Tc    bool `json:"tc"`
	Netem bool `json:"netem"`
	Tbf   bool `json:"tbf"`
	Htb   bool `json:"htb"`
	U32   bool `json:"u32"`
	// Agent: the packet-delay agent's program can run on the node.
	Agent bool `json:"agent"`
	// Faketime is the path of libfaketime on the node, "" when absent.
	Faketime string `json:"faketime,omitempty"`
	// Notes explain failed probes.
	Notes []string `json:"notes,omitempty"`
}

// probeScript tries every mechanism and prints key=value lines. $1 is the
// agent program ("" to skip that probe). It leaves nothing behind: its
// table, chain and link carry the names cluster heal removes.
const probeScript = `PATH="$PATH:/usr/sbin:/sbin"; export PATH
echo "uid=$(id -u)"
echo "bootid=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)"
if command -v nft >/dev/null 2>&1; then
	if printf 'table inet faultline_probe\ndelete table inet faultline_probe\ntable inet faultline_probe {\n chain c { type filter hook input priority 0; policy accept; }\n}\n' | nft -f - 2>/tmp/.faultline-probe.$$; then
		echo nft=1
		nft add rule inet faultline_probe c numgen random mod 100 '<' 1 counter 2>/dev/null && echo numgen=1
		nft delete table inet faultline_probe 2>/dev/null
		if printf 'table ip faultline_probe {\n chain c { type filter hook output priority 0; policy accept; ip daddr 127.0.0.254 dup to ip daddr device "lo"; }\n}\n' | nft -f - 2>/dev/null; then echo dup=1; fi
		nft delete table ip faultline_probe 2>/dev/null
	else
		echo "note=nft: $(head -c 200 /tmp/.faultline-probe.$$ | tr '\n' ' ')"
	fi
	rm -f /tmp/.faultline-probe.$$
else
	echo "note=nft: not installed"
fi
if command -v iptables >/dev/null 2>&1; then
	if iptables -w -N faultline-probe 2>/dev/null; then
		echo iptables=1
		echo "iptables_version=$(iptables --version 2>/dev/null | head -1)"
		iptables -w -A faultline-probe -p udp --dport 9 -m comment --comment faultline-probe -j NFQUEUE --queue-num 9 --queue-bypass 2>/dev/null && echo nfqueue=1
		iptables -w -F faultline-probe 2>/dev/null; iptables -w -X faultline-probe 2>/dev/null
		` + dropEmptyFilterTable + `
	else
		echo "note=iptables: cannot create a chain"
	fi
else
	echo "note=iptables: not installed"
fi
if command -v tc >/dev/null 2>&1 && command -v ip >/dev/null 2>&1; then
	echo tc=1
	if ip link add fl-probe type dummy 2>/dev/null || ip link add fl-probe type veth peer name fl-probe-peer 2>/dev/null; then
		d=fl-probe
		tc qdisc add dev $d root netem delay 1ms 2>/dev/null && echo netem=1
		tc qdisc del dev $d root 2>/dev/null
		tc qdisc add dev $d root tbf rate 8mbit burst 32kbit latency 400ms 2>/dev/null && echo tbf=1
		tc qdisc del dev $d root 2>/dev/null
		if tc qdisc add dev $d root handle 1: htb default 1 2>/dev/null; then
			echo htb=1
			tc class add dev $d parent 1: classid 1:2 htb rate 1mbit 2>/dev/null
			tc filter add dev $d parent 1: protocol ip prio 1 u32 match ip dst 127.0.0.254/32 flowid 1:2 2>/dev/null && echo u32=1
		fi
		tc qdisc del dev $d root 2>/dev/null
		ip link del fl-probe 2>/dev/null
	else
		echo "note=tc: cannot make a dummy or veth link to probe qdiscs on"
	fi
else
	echo "note=tc: not installed"
fi
for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1 /usr/local/lib/faketime/libfaketime.so.1; do
	[ -f "$f" ] && { echo "faketime=$f"; break; }
done
if [ -n "$1" ]; then
	if [ -x "$1" ] || command -v "$1" >/dev/null 2>&1; then echo agent=1; else echo "note=agent: $1 is not executable on this node"; fi
fi
true
`

// Probe finds out which fault mechanisms work on node, by trying each one
// briefly in the node's own network stack (a table, a chain and a dummy
// link that it deletes again). agent is the program of the packet-delay
// agent to look for ("" skips that check). Probing needs root; as another
// user everything reports unsupported, with notes saying so.
func Probe(ctx context.Context, r control.Remote, node string, agent string, sudo bool) (Capabilities, error) {
	res, err := r.Exec(ctx, node, control.Cmd{Args: []string{"sh", "-c", probeScript, "faultline-probe", agent}, Sudo: sudo})
	if err != nil {
		return Capabilities{Node: node}, fmt.Errorf("%s: probing fault support: %w", node, err)
	}
	return parseProbe(node, res.Stdout), nil
}

func parseProbe(node, out string) Capabilities {
	c := Capabilities{Node: node}
	for _, l := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(l), "=")
		if !ok {
			continue
		}
		on := v == "1"
		switch k {
		case "uid":
			uid, err := strconv.Atoi(v)
			c.Root = err == nil && uid == 0
		case "bootid":
			c.BootID = v
		case "nft":
			c.Nft = on
		case "numgen":
			c.Numgen = on
		case "dup":
			c.Dup = on
		case "iptables":
			c.Iptables = on
		case "iptables_version":
			c.IptablesVersion = v
		case "nfqueue":
			c.NFQueue = on
		case "tc":
			c.Tc = on
		case "netem":
			c.Netem = on
		case "tbf":
			c.Tbf = on
		case "htb":
			c.Htb = on
		case "u32":
			c.U32 = on
		case "agent":
			c.Agent = on
		case "faketime":
			c.Faketime = v
		case "note":
			c.Notes = append(c.Notes, v)
		}
	}
	return c
}

// Summary is a one-line description for the run's log.
func (c Capabilities) Summary() string {
	var have, lack []string
	for _, x := range []struct {
		name string
		on   bool
	}{{"root", c.Root}, {"nft", c.Nft}, {"numgen", c.Numgen}, {"dup", c.Dup}, {"iptables", c.Iptables},
		{"nfqueue", c.NFQueue}, {"tc", c.Tc}, {"netem", c.Netem}, {"tbf", c.Tbf}, {"htb", c.Htb}, {"u32", c.U32},
		{"agent", c.Agent}, {"faketime", c.Faketime != ""}} {
		if x.on {
			have = append(have, x.name)
		} else {
			lack = append(lack, x.name)
		}
	}
	return fmt.Sprintf("has %s; lacks %s", strings.Join(have, " "), strings.Join(lack, " "))
}

// CheckPartition says whether node can cut links (nftables, or iptables
// when nft is missing).
func (c Capabilities) CheckPartition() error {
	if c.Nft || c.Iptables {
		return nil
	}
	return &UnsupportedError{Node: c.Node, Fault: "partition", Reason: "neither nft nor iptables works there" + notes(c),
		Hint: "install nftables and run as root (or with CAP_NET_ADMIN)"}
}

func notes(c Capabilities) string {
	if len(c.Notes) == 0 {
		return ""
	}
	return " [" + strings.Join(c.Notes, "; ") + "]"
}

// CheckBehaviour says whether node can apply b; perLink says whether it
// must apply to chosen destinations only (not to all traffic). The error
// wraps ErrUnsupported and says what would make it possible.
func (c Capabilities) CheckBehaviour(b Behaviour, perLink bool) error {
	if err := b.Validate(); err != nil {
		return err
	}
	un := func(fault, reason, hint string) error {
		return &UnsupportedError{Node: c.Node, Fault: "packet " + fault, Reason: reason, Hint: hint}
	}
	if c.Netem {
		if perLink && !(c.Htb && c.U32) {
			return un(strings.Join(b.Parts(), "+")+" on chosen links", "needs the htb qdisc and the u32 classifier, which are missing",
				"apply it to all traffic of the node instead")
		}
		return nil
	}
	const noNetem = "the kernel has no netem qdisc (module sch_netem)"
	if b.Corrupt != nil {
		return un("corrupt", noNetem+" and nothing else here corrupts packets", "use loss instead, or a kernel with netem")
	}
	if b.Loss != nil || b.Duplicate != nil {
		if !c.Nft || !c.Numgen {
			return un("loss/duplicate", noNetem+" and nft with numgen is missing", "install nftables, or use a kernel with netem")
		}
		if b.Duplicate != nil && !c.Dup {
			return un("duplicate", noNetem+" and nft's dup statement does not work", "use a kernel with netem")
		}
		for _, p := range []*Percent{b.Loss, b.Duplicate} {
			if p != nil && p.Correlation > 0 {
				return un("loss/duplicate correlation", noNetem+"; the nftables fallback draws every packet independently", "drop the correlation, or use a kernel with netem")
			}
		}
	}
	if b.Rate != nil {
		if !c.Tbf || (perLink && !(c.Htb && c.U32)) {
			return un("rate", "the tbf qdisc (or htb and u32 for chosen links) is missing", "use a kernel with tbf/htb, or netem")
		}
	}
	if b.Delay != nil || b.Reorder != nil {
		switch {
		case !c.NFQueue:
			return un("delay/reorder", noNetem+" and the iptables NFQUEUE target that the delay agent needs does not work"+notes(c),
				"install iptables, or use a kernel with netem")
		case !c.Agent:
			return un("delay/reorder", noNetem+" and the packet-delay agent cannot run on the node"+notes(c),
				"make the faultline binary available at the same path on the node, or set the agent command")
		}
	}
	return nil
}
