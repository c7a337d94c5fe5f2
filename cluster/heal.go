package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/faultline/faultline/control"
)

// HealReport says what Heal removed or resumed.
type HealReport struct {
	// Removed lists the fault pieces removed, e.g. "n1: nft table inet
	// faultline" or "host: tc qdisc root (tbf) on fl-default-n2".
	Removed []string
	// Resumed lists the stopped processes sent SIGCONT, e.g. "n3: pid 4242
	// (etcd)".
	Resumed []string
}

// Empty reports whether Heal found nothing to do.
func (r *HealReport) Empty() bool { return len(r.Removed) == 0 && len(r.Resumed) == 0 }

// WriteText writes the report, one line per action.
func (r *HealReport) WriteText(w io.Writer) error {
	var b strings.Builder
	if r.Empty() {
		b.WriteString("nothing to heal\n")
	}
	for _, s := range r.Removed {
		b.WriteString("removed " + s + "\n")
	}
	for _, s := range r.Resumed {
		b.WriteString("resumed " + s + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Heal removes the faults a killed run may have left in the cluster (see the
// package documentation for the conventions it relies on): faultline nftables
// tables and iptables rules in the nodes, the host's faultline_NAME tables,
// extra qdiscs on the nodes' interfaces, the host veths and the bridge, fl-*
// links inside nodes, and it resumes every stopped process in the nodes.
func (c *Cluster) Heal(ctx context.Context) (*HealReport, error) {
	if c.st.Driver == DriverDocker {
		return c.healDocker(ctx)
	}
	if c.st.Rootless == nil && !isRoot() {
		return nil, fmt.Errorf("cluster %s: %w", c.st.Name, ErrNotRoot)
	}
	t, err := findTools(c.look, "ip", "tc", "nft")
	if err != nil {
		return nil, err
	}
	if c.st.Rootless != nil {
		if err := t.useHolder(c.st.Rootless); err != nil {
			return nil, fmt.Errorf("cluster %s: %w", c.st.Name, err)
		}
	}
	rep := &HealReport{}
	var mu sync.Mutex
	note := func(s ...string) {
		mu.Lock()
		rep.Removed = append(rep.Removed, s...)
		mu.Unlock()
	}
	nodeErr := control.OnNodes(ctx, c.Nodes(), func(ctx context.Context, node string) error {
		n, _ := c.st.node(node)
		if !t.nsExists(n.Namespace) {
			return fmt.Errorf("namespace %s is missing: run `faultline cluster up` to repair", n.Namespace)
		}
		out, err := t.nodeExec(ctx, node, n.Namespace, inspectScript(t))
		if err != nil {
			return err
		}
		cmds, what := healPlan(t, parseInspect(out), nil)
		script := shellScript(cmds)
		if script == "" {
			return nil
		}
		if _, err := t.nodeExec(ctx, node, n.Namespace, script); err != nil {
			return err
		}
		for i := range what {
			what[i] = node + ": " + what[i]
		}
		note(what...)
		return nil
	})
	hostWhat, hostErr := healHostTables(ctx, t, &c.st)
	note(hostWhat...)
	qdWhat, qdErr := healHostQdiscs(ctx, t, &c.st)
	note(qdWhat...)
	procs, perr := nodeProcs(t.netnsDir, c.nsByNode())
	if perr == nil {
		for _, node := range c.Nodes() {
			for _, p := range procs[node] {
				if isFaultAgent(p.PID) {
					// A packet-delay agent left by a killed run: its rules are
					// gone, so it only idles; stop it.
					if err := syscall.Kill(p.PID, syscall.SIGKILL); err == nil {
						rep.Removed = append(rep.Removed, fmt.Sprintf("%s: nemesis agent pid %d", node, p.PID))
					}
					continue
				}
				if p.State != 'T' {
					continue
				}
				if err := syscall.Kill(p.PID, syscall.SIGCONT); err == nil {
					rep.Resumed = append(rep.Resumed, fmt.Sprintf("%s: pid %d (%s)", node, p.PID, p.Comm))
				}
			}
		}
	}
	slices.Sort(rep.Removed)
	err = errors.Join(nodeErr, hostErr, qdErr, perr)
	if err != nil {
		return rep, fmt.Errorf("cluster %s: heal: %w", c.st.Name, err)
	}
	return rep, nil
}

// inspectScript prints, in sections, what a node's namespace holds.
func inspectScript(t *tools) string {
	s := "echo @tables; " + t.nft + " list tables 2>/dev/null; " +
		"echo @qdiscs; " + t.tc + " qdisc show 2>/dev/null; " +
		"echo @links; " + t.ip + " -o link show 2>/dev/null; "
	if t.iptables != "" {
		s += "echo @iptables; " + t.iptables + "-save 2>/dev/null; "
	}
	return s + "true"
}

// parseInspect splits the output of inspectScript into its sections.
func parseInspect(out string) map[string][]string {
	sec := map[string][]string{}
	cur := ""
	for _, l := range strings.Split(out, "\n") {
		if name, ok := strings.CutPrefix(l, "@"); ok && !strings.Contains(name, " ") {
			cur = name
			continue
		}
		if strings.TrimSpace(l) != "" && cur != "" {
			sec[cur] = append(sec[cur], l)
		}
	}
	return sec
}

// healPlan turns what a namespace holds into the shell commands that remove
// Faultline's faults from it, and describes them. devs, when not nil,
// limits qdisc removal to those devices (the host).
func healPlan(t *tools, sec map[string][]string, devs map[string]bool) (cmds, what []string) {
	add := func(desc string, argv ...string) {
		for _, a := range argv {
			if strings.ContainsRune(a, 0) {
				return // no real name holds a NUL; a shell could not take it
			}
		}
		what = append(what, desc)
		cmds = append(cmds, control.Cmd{Args: argv}.String())
	}
	// iptables first: a rule may jump into a faultline chain.
	table := ""
	var chains [][2]string
	for _, l := range sec["iptables"] {
		switch {
		case strings.HasPrefix(l, "*"):
			table = l[1:]
		case strings.HasPrefix(l, ":"):
			f := strings.Fields(l[1:])
			if len(f) > 0 && isFaultline(f[0]) {
				chains = append(chains, [2]string{table, f[0]})
			}
		case strings.HasPrefix(l, "-A "):
			f := strings.Fields(l)
			if len(f) < 2 || isFaultline(f[1]) {
				continue // rules inside our chains go with them
			}
			args := splitRule(l)
			if hasFaultlineComment(args) || jumpsToFaultline(f) {
				add(fmt.Sprintf("iptables rule -t %s %s", table, l),
					append([]string{t.iptables, "-w", "-t", table, "-D"}, args[1:]...)...)
			}
		}
	}
	for _, c := range chains {
		add(fmt.Sprintf("iptables chain %s in table %s", c[1], c[0]), t.iptables, "-w", "-t", c[0], "-F", c[1])
		add(fmt.Sprintf("iptables chain %s in table %s deleted", c[1], c[0]), t.iptables, "-w", "-t", c[0], "-X", c[1])
	}
	for _, l := range sec["tables"] {
		f := strings.Fields(l)
		if len(f) == 3 && f[0] == "table" && strings.HasPrefix(f[2], "faultline") {
			add("nft table "+f[1]+" "+f[2], t.nft, "delete", "table", f[1], f[2])
		}
	}
	for _, q := range parseQdiscs(sec["qdiscs"]) {
		if devs != nil && !devs[q.dev] {
			continue
		}
		if q.root && q.handle != "0:" {
			add(fmt.Sprintf("tc qdisc root (%s) on %s", q.kind, q.dev), t.tc, "qdisc", "del", "dev", q.dev, "root")
		}
		if q.kind == "ingress" || q.kind == "clsact" {
			add(fmt.Sprintf("tc qdisc %s on %s", q.kind, q.dev), t.tc, "qdisc", "del", "dev", q.dev, q.kind)
		}
	}
	if devs == nil {
		for _, l := range sec["links"] {
			// "3: fl-ifb0: <...> ..." or "2: eth0@if14: <...>"
			f := strings.Fields(l)
			if len(f) < 2 {
				continue
			}
			name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
			if strings.HasPrefix(name, "fl-") {
				add("link "+name, t.ip, "link", "del", name)
			}
		}
	}
	return cmds, what
}

// shellScript runs cmds one after the other and fails if any failed.
func shellScript(cmds []string) string {
	if len(cmds) == 0 {
		return ""
	}
	return "rc=0; " + strings.Join(cmds, " || rc=1; ") + " || rc=1; exit $rc"
}

// splitRule splits an iptables-save rule line into its words; words in
// double quotes may hold spaces and backslash-escaped quotes.
func splitRule(l string) []string {
	var words []string
	var w strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case quoted && c == '\\' && i+1 < len(l):
			i++
			w.WriteByte(l[i])
		case c == '"':
			quoted, inWord = !quoted, true
		case !quoted && (c == ' ' || c == '\t'):
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// hasFaultlineComment reports whether a rule carries a comment starting
// with "faultline".
func hasFaultlineComment(args []string) bool {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--comment" && strings.HasPrefix(args[i+1], "faultline") {
			return true
		}
	}
	return false
}

func isFaultline(name string) bool { return strings.HasPrefix(strings.ToLower(name), "faultline") }

func jumpsToFaultline(f []string) bool {
	for i := 0; i+1 < len(f); i++ {
		if (f[i] == "-j" || f[i] == "-g") && isFaultline(f[i+1]) {
			return true
		}
	}
	return false
}

// qdisc is one line of `tc qdisc show`.
type qdisc struct {
	kind, handle, dev string
	root              bool
}

// parseQdiscs reads lines like "qdisc tbf 8001: dev eth0 root refcnt 2 ..."
// or "qdisc ingress ffff: dev eth0 parent ffff:fff1 ----------------".
func parseQdiscs(lines []string) []qdisc {
	var out []qdisc
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 5 || f[0] != "qdisc" || f[3] != "dev" {
			continue
		}
		q := qdisc{kind: f[1], handle: f[2], dev: f[4]}
		q.root = len(f) > 5 && f[5] == "root"
		out = append(out, q)
	}
	return out
}

// healHostTables deletes the host's nftables tables of the cluster:
// faultline_NAME and faultline_NAME_*, in any family.
func healHostTables(ctx context.Context, t *tools, st *State) ([]string, error) {
	if t.nft == "" {
		return nil, nil
	}
	out, err := t.run(ctx, nil, t.nft, "list", "tables")
	if err != nil {
		return nil, fmt.Errorf("nft list tables: %s", exitErr(err))
	}
	want := hostTable(st.Name)
	var what []string
	var errs []error
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) != 3 || f[0] != "table" || (f[2] != want && !strings.HasPrefix(f[2], want+"_")) {
			continue
		}
		if _, err := t.run(ctx, nil, t.nft, "delete", "table", f[1], f[2]); err != nil {
			errs = append(errs, fmt.Errorf("nft delete table %s %s: %s", f[1], f[2], exitErr(err)))
			continue
		}
		what = append(what, "host: nft table "+f[1]+" "+f[2])
	}
	return what, errors.Join(errs...)
}

// healHostQdiscs removes extra qdiscs on the bridge and the host veths.
func healHostQdiscs(ctx context.Context, t *tools, st *State) ([]string, error) {
	out, err := t.run(ctx, nil, t.tc, "qdisc", "show")
	if err != nil {
		return nil, fmt.Errorf("tc qdisc show: %s", exitErr(err))
	}
	devs := map[string]bool{st.Bridge: true}
	for _, n := range st.Nodes {
		devs[n.Veth] = true
	}
	cmds, what := healPlan(t, map[string][]string{"qdiscs": strings.Split(out, "\n")}, devs)
	script := shellScript(cmds)
	if script == "" {
		return nil, nil
	}
	if _, err := t.run(ctx, nil, "sh", "-c", script); err != nil {
		return nil, fmt.Errorf("removing qdiscs on the host: %s", exitErr(err))
	}
	for i := range what {
		what[i] = "host: " + what[i]
	}
	return what, nil
}

// isFaultAgent reports whether pid runs Faultline's nemesis agent (the
// hidden `nemesis-agent` subcommand); only processes inside the cluster's
// own namespaces are asked.
func isFaultAgent(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	return len(args) >= 2 && args[1] == "nemesis-agent"
}
