package cluster

import (
	"fmt"
	"os"
	"strings"
)

// nodeHosts is the /etc/hosts a node sees (through /etc/netns/NS/hosts).
func nodeHosts(st *State) string {
	var b strings.Builder
	b.WriteString("# written by faultline for cluster " + st.Name + "\n")
	b.WriteString("127.0.0.1\tlocalhost\n")
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		// ip netns exec keeps the host's host name; let it resolve.
		fmt.Fprintf(&b, "127.0.1.1\t%s\n", h)
	}
	for _, n := range st.Nodes {
		fmt.Fprintf(&b, "%s\t%s %s.%s\n", n.Addr, n.Name, n.Name, st.Name)
	}
	return b.String()
}

// splitHostsBlock removes cluster name's block from hosts and returns the
// rest, and the short names other faultline blocks claim.
func splitHostsBlock(hosts, name string) (rest string, claimed map[string]bool) {
	claimed = map[string]bool{}
	var out []string
	lines := strings.SplitAfter(hosts, "\n")
	in, other := false, false
	for _, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case t == hostsBegin(name):
			in = true
			continue
		case in && t == hostsEnd(name):
			in = false
			continue
		case in:
			continue
		case strings.HasPrefix(t, "# BEGIN faultline cluster "):
			other = true
		case strings.HasPrefix(t, "# END faultline cluster "):
			other = false
		case other && t != "" && !strings.HasPrefix(t, "#"):
			for _, f := range strings.Fields(t)[1:] {
				if !strings.Contains(f, ".") {
					claimed[f] = true
				}
			}
		}
		if l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, ""), claimed
}

// hostsBlock is the block for st, given the short names already claimed.
func hostsBlock(st *State, claimed map[string]bool) string {
	var b strings.Builder
	b.WriteString(hostsBegin(st.Name) + "\n")
	for _, n := range st.Nodes {
		fmt.Fprintf(&b, "%s\t%s.%s", n.Addr, n.Name, st.Name)
		if !claimed[n.Name] {
			b.WriteString(" " + n.Name)
		}
		b.WriteByte('\n')
	}
	b.WriteString(hostsEnd(st.Name) + "\n")
	return b.String()
}

// setHostsBlock writes (st != nil) or removes (st == nil) cluster name's
// block in the hosts file. The file is rewritten in place, not renamed over:
// /etc/hosts is often a bind mount.
func setHostsBlock(file, name string, st *State) error {
	old, err := os.ReadFile(file)
	if err != nil {
		if os.IsNotExist(err) && st == nil {
			return nil
		}
		return err
	}
	rest, claimed := splitHostsBlock(string(old), name)
	next := rest
	if st != nil {
		if next != "" && !strings.HasSuffix(next, "\n") {
			next += "\n"
		}
		next += hostsBlock(st, claimed)
	}
	if next == string(old) {
		return nil
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(next); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// hasHostsBlock reports whether the hosts file holds cluster name's block.
func hasHostsBlock(file, name string) bool {
	b, err := os.ReadFile(file)
	return err == nil && strings.Contains(string(b), hostsBegin(name)+"\n")
}

// writeNodeHosts writes /etc/netns/NS/hosts for every node when it differs.
func writeNodeHosts(st *State) error {
	content := nodeHosts(st)
	for _, n := range st.Nodes {
		dir := etcNetnsDir(n.Namespace)
		p := dir + "/hosts"
		if b, err := os.ReadFile(p); err == nil && string(b) == content {
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}
