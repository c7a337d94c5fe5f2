package cluster

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as the programs run inside the nodes (Debian's
// base system has no TCP server or client to rely on): with
// FAULTLINE_TEST_ROLE set it acts that role instead of running tests.
const (
	envRole = "FAULTLINE_TEST_ROLE"
	envAddr = "FAULTLINE_TEST_ADDR"
)

// helperEnv is the environment of a helper in role at addr; with -race, it
// spares the race runtime's one-second sleep at exit.
func helperEnv(role, addr string) map[string]string {
	return map[string]string{envRole: role, envAddr: addr, "GORACE": "atexit_sleep_ms=0"}
}

func TestMain(m *testing.M) {
	switch os.Getenv(envRole) {
	case "":
		os.Exit(m.Run())
	case "echo":
		os.Exit(echoServer(os.Getenv(envAddr)))
	case "client":
		os.Exit(echoClient(os.Getenv(envAddr)))
	default:
		fmt.Fprintf(os.Stderr, "unknown %s %q\n", envRole, os.Getenv(envRole))
		os.Exit(2)
	}
}

// echoServer answers every line with the same line, logging to stdout.
func echoServer(addr string) int {
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		fmt.Println("listen:", err)
		return 1
	}
	fmt.Println("listening on", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Println("accept:", err)
			return 1
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil {
				return
			}
			fmt.Printf("echo %q from %s\n", strings.TrimSpace(line), c.RemoteAddr())
			c.Write([]byte(line))
		}()
	}
}

// echoClient sends one line to each echo server in the comma-separated
// addrs and checks the answers.
func echoClient(addrs string) int {
	for _, addr := range strings.Split(addrs, ",") {
		if rc := echoOnce(addr); rc != 0 {
			return rc
		}
	}
	return 0
}

func echoOnce(addr string) int {
	c, err := net.DialTimeout("tcp4", addr, 2*time.Second)
	if err != nil {
		fmt.Fprintf(os.Stderr, "dial %s: %v\n", addr, err)
		return 1
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	msg := fmt.Sprintf("hello from %s\n", os.Getenv("FAULTLINE_NODE"))
	if _, err := c.Write([]byte(msg)); err != nil {
		fmt.Fprintln(os.Stderr, "write:", err)
		return 1
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || got != msg {
		fmt.Fprintf(os.Stderr, "read %q, %v; want %q\n", got, err, msg)
		return 1
	}
	fmt.Printf("ok %s %s", addr, got)
	return 0
}

// needRoot skips the test unless it runs as root with ip, tc and nft.
func needRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("skipping: netns cluster tests need root")
	}
	for _, tool := range []string{"ip", "tc", "nft"} {
		if _, err := lookPath(tool); err != nil {
			tb.Skipf("skipping: %s not found (install iproute2 and nftables)", tool)
		}
	}
}

// machine is what a cluster must leave as it found.
type machine struct {
	netns, links, hosts, forward, tables, etcNetns string
}

func snapshot(tb testing.TB) machine {
	tb.Helper()
	out := func(argv ...string) string {
		p, err := lookPath(argv[0])
		if err != nil {
			return ""
		}
		b, _ := exec.Command(p, argv[1:]...).Output()
		return string(b)
	}
	hosts, _ := os.ReadFile(DefaultHostsFile)
	// "(none)" when /etc/netns holds none of these tests' files: an empty
	// folder counts as none, because other clusters (other packages' tests
	// run meanwhile) make and remove it at any time.
	etc := "(none)"
	if ents, err := os.ReadDir(etcNetns); err == nil {
		var names []string
		for _, e := range ents {
			if !isOther(e.Name()) {
				names = append(names, e.Name())
			}
		}
		if len(names) > 0 {
			etc = strings.Join(names, " ")
		}
	}
	return machine{
		netns:    othersOut(out("ip", "netns", "list"), "\n"),
		links:    linkNames(out("ip", "-o", "link", "show")),
		hosts:    othersOutHosts(string(hosts)),
		forward:  othersOut(out("iptables", "-w", "-S", "FORWARD"), "\n"),
		tables:   othersOut(out("nft", "list", "tables"), "\n"),
		etcNetns: etc,
	}
}

// isOther reports whether s names a piece of a faultline cluster that is
// not one of these tests' (whose names start with "flt"): clusters that
// others (a developer, other packages' tests) run meanwhile may come and
// go, and a snapshot ignores them.
func isOther(s string) bool {
	return (strings.Contains(s, "fl-") || strings.Contains(s, "faultline")) && !strings.Contains(s, "flt")
}

// othersOut drops the parts (separated by sep) of s that isOther.
func othersOut(s, sep string) string {
	var keep []string
	for _, p := range strings.Split(s, sep) {
		if !isOther(p) {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, sep)
}

// othersOutHosts drops the blocks of other faultline clusters from a
// hosts file.
func othersOutHosts(s string) string {
	var keep []string
	skip := false
	for _, l := range strings.Split(s, "\n") {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "# BEGIN faultline cluster ") && !strings.HasPrefix(t, "# BEGIN faultline cluster flt"):
			skip = true
			continue
		case skip && strings.HasPrefix(t, "# END faultline cluster "):
			skip = false
			continue
		case skip:
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

func linkNames(s string) string {
	var names []string
	for _, l := range strings.Split(s, "\n") {
		if f := strings.Fields(l); len(f) > 1 && !isOther(f[1]) {
			names = append(names, strings.TrimSuffix(f[1], ":"))
		}
	}
	return fmt.Sprintf("%d links: %s", len(names), strings.Join(names, " "))
}

func (m machine) diff(o machine) string {
	var d []string
	for _, x := range []struct{ name, a, b string }{
		{"ip netns list", m.netns, o.netns},
		{"links", m.links, o.links},
		{"/etc/hosts", m.hosts, o.hosts},
		{"iptables FORWARD", m.forward, o.forward},
		{"nft tables", m.tables, o.tables},
		{"/etc/netns", m.etcNetns, o.etcNetns},
	} {
		if x.a != x.b {
			d = append(d, fmt.Sprintf("%s before:\n%s\nafter:\n%s", x.name, x.a, x.b))
		}
	}
	return strings.Join(d, "\n")
}
