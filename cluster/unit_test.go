package cluster

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	for _, name := range []string{"a", "default", "eightchr", "a-very-long-cluster-name-indeed"} {
		if err := ValidName(name); err != nil {
			t.Fatal(err)
		}
		for _, node := range []string{"n1", "n25", nodeName(MaxNodes)} {
			if v := vethName(name, node); len(v) > 15 {
				t.Errorf("veth name %q is longer than 15 bytes", v)
			}
		}
		if b := bridgeName(name); len(b) > 15 || !strings.HasPrefix(b, "fl-") {
			t.Errorf("bridge name %q", b)
		}
	}
	if tag("default") != "default" || tag("eightchr") == tag("eightchs") || len(tag("eightchr")) != 7 {
		t.Errorf("tags: %q %q %q", tag("default"), tag("eightchr"), tag("eightchs"))
	}
	for _, bad := range []string{"", "Default", "1abc", "a_b", "a b", strings.Repeat("a", 33)} {
		if ValidName(bad) == nil {
			t.Errorf("ValidName(%q) accepted it", bad)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Driver: "vagrant"}, `unknown cluster driver "vagrant" (have: netns, docker)`},
		{Config{Driver: "docker"}, ""},
		{Config{Driver: "docker", Rootless: true}, "--rootless works with the netns driver only"},
		{Config{Rootless: true, SSHD: true}, "--sshd needs root"},
		{Config{Image: "x"}, "docker driver only"},
		{Config{NodeCount: MaxNodes + 1}, "node count 245: want 1 to 244"},
		{Config{NodeCount: -1}, "node count -1"},
		{Config{Name: "X"}, `bad cluster name "X"`},
		{Config{}, ""},
	} {
		err := tc.cfg.withDefaults().validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestSubnets(t *testing.T) {
	for _, tc := range []struct {
		in    string
		count int
		want  string
	}{
		{"10.213.7.0/24", 5, "10.213.7.0/24"},
		{"10.213.7.9/24", 5, "10.213.7.0/24"},
		{"10.1.0.0/16", 244, "10.1.0.0/16"},
		{"10.213.7.0/28", 4, "10.213.7.0/28"},
		{"10.213.7.0/28", 5, "holds at most 4 nodes"},
		{"10.213.7.0/29", 1, "prefix length"},
		{"fd00::/64", 1, "IPv4"},
		{"10.213.7.0", 1, "no '/'"},
		{"10.213.7.0/24", 244, ""},
		{"10.213.7.0/24", 245, "holds at most 244"},
	} {
		p, err := parseSubnet(tc.in, tc.count)
		switch {
		case err != nil && (tc.want == "" || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("parseSubnet(%q, %d) = %v, want %q", tc.in, tc.count, err, tc.want)
		case err == nil && tc.want != "" && p.String() != tc.want:
			t.Errorf("parseSubnet(%q, %d) = %v, want %q", tc.in, tc.count, p, tc.want)
		}
	}
	p := netip.MustParsePrefix("10.213.3.0/24")
	if a := hostAddr(p, 1); a.String() != "10.213.3.1" {
		t.Errorf("host address %v", a)
	}
	if a := hostAddr(p, firstNodeHost+5); a.String() != "10.213.3.15" {
		t.Errorf("n5 address %v", a)
	}
	host := map[netip.Prefix]string{
		netip.MustParsePrefix("10.213.0.0/24"): "fl-a",
		netip.MustParsePrefix("10.0.0.0/8"):    "", // nothing: it is not host-owned here
	}
	delete(host, netip.MustParsePrefix("10.0.0.0/8"))
	others := []*State{{Name: "b", Subnet: "10.213.1.0/24"}, {Name: "me", Subnet: "10.213.2.0/24"}}
	used := usedSubnets(host, others, "me")
	got, err := pickSubnet(used)
	if err != nil || got.String() != "10.213.2.0/24" {
		t.Errorf("pickSubnet = %v, %v; want 10.213.2.0/24 (own old subnet is free)", got, err)
	}
	if who := clash(netip.MustParsePrefix("10.213.1.0/25"), used); who != "10.213.1.0/24 of cluster b" {
		t.Errorf("clash = %q", who)
	}
	if who := clash(netip.MustParsePrefix("10.213.0.0/16"), used); who == "" {
		t.Errorf("a /16 over the used /24s does not clash")
	}
}

func TestHostsBlock(t *testing.T) {
	st := &State{Name: "c1", Nodes: []NodeState{{Name: "n1", Addr: "10.213.0.11"}, {Name: "n2", Addr: "10.213.0.12"}}}
	other := "# BEGIN faultline cluster c0\n10.213.1.11\tn1.c0 n1\n# END faultline cluster c0\n"
	for _, tc := range []struct {
		name, before, want string
	}{
		{"append", "127.0.0.1 localhost\n", "127.0.0.1 localhost\n" +
			"# BEGIN faultline cluster c1\n10.213.0.11\tn1.c1 n1\n10.213.0.12\tn2.c1 n2\n# END faultline cluster c1\n"},
		{"no final newline", "127.0.0.1 localhost", "127.0.0.1 localhost\n" +
			"# BEGIN faultline cluster c1\n10.213.0.11\tn1.c1 n1\n10.213.0.12\tn2.c1 n2\n# END faultline cluster c1\n"},
		{"short name claimed", other, other +
			"# BEGIN faultline cluster c1\n10.213.0.11\tn1.c1\n10.213.0.12\tn2.c1 n2\n# END faultline cluster c1\n"},
		{"replace", "a\n# BEGIN faultline cluster c1\nold\n# END faultline cluster c1\nb\n", "a\nb\n" +
			"# BEGIN faultline cluster c1\n10.213.0.11\tn1.c1 n1\n10.213.0.12\tn2.c1 n2\n# END faultline cluster c1\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "hosts")
			os.WriteFile(f, []byte(tc.before), 0o644)
			if err := setHostsBlock(f, "c1", st); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(f)
			if string(got) != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			if !hasHostsBlock(f, "c1") {
				t.Error("hasHostsBlock is false")
			}
			if err := setHostsBlock(f, "c1", nil); err != nil {
				t.Fatal(err)
			}
			got, _ = os.ReadFile(f)
			if want := strings.Replace(tc.before, "# BEGIN faultline cluster c1\nold\n# END faultline cluster c1\n", "", 1); string(got) != want && string(got) != want+"\n" {
				t.Errorf("after removal\n%q\nwant\n%q", got, want)
			}
		})
	}
}

func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		in    string
		comm  string
		state byte
	}{
		{"123 (sleep) S 1 2 3", "sleep", 'S'},
		{"7 (a (b) c) T 1", "a (b) c", 'T'},
		{"garbage", "", 0},
	} {
		comm, state := parseStat(tc.in)
		if comm != tc.comm || state != tc.state {
			t.Errorf("parseStat(%q) = %q %c", tc.in, comm, state)
		}
	}
	if n, ok := parseNsLink("net:[4026532290]"); !ok || n != 4026532290 {
		t.Errorf("parseNsLink = %d %v", n, ok)
	}
}

// TestHealScript checks what heal removes from a node's inspection output
// (testdata/inspect.txt) against the golden script.
func TestHealScript(t *testing.T) {
	in, err := os.ReadFile("testdata/inspect.txt")
	if err != nil {
		t.Fatal(err)
	}
	tl := &tools{ip: "ip", tc: "tc", nft: "nft", iptables: "iptables"}
	cmds, what := healPlan(tl, parseInspect(string(in)), nil)
	got := strings.Join(what, "\n") + "\n---\n" + strings.Join(cmds, "\n") + "\n"
	golden := "testdata/heal.golden"
	if os.Getenv("FAULTLINE_UPDATE_GOLDEN") != "" {
		os.WriteFile(golden, []byte(got), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("heal script:\n%s\nwant:\n%s", got, want)
	}
	// On the host only the cluster's devices are touched.
	qd := map[string][]string{"qdiscs": parseInspect(string(in))["qdiscs"]}
	if cmds, what := healPlan(tl, qd, map[string]bool{"fl-x": true}); len(cmds) != 0 || len(what) != 0 {
		t.Errorf("host heal touched other devices: %v", what)
	}
	cmds, what = healPlan(tl, qd, map[string]bool{"eth0": true})
	if len(what) != 2 || len(cmds) != 2 || cmds[0] != "tc qdisc del dev eth0 root" {
		t.Errorf("host heal of eth0: %v %q", what, cmds)
	}
	if s := shellScript([]string{"a", "b"}); s != "rc=0; a || rc=1; b || rc=1; exit $rc" {
		t.Errorf("shellScript = %q", s)
	}
}

// FuzzHostsBlock checks that adding and removing a cluster's block gives
// back any hosts file that ends in a newline, and never touches the other
// lines.
func FuzzHostsBlock(f *testing.F) {
	f.Add("127.0.0.1 localhost\n")
	f.Add("# BEGIN faultline cluster c0\n10.0.0.1 n1.c0 n1\n# END faultline cluster c0\n")
	f.Add("# BEGIN faultline cluster c1\nhalf a block\n")
	f.Fuzz(func(t *testing.T, hosts string) {
		if strings.Contains(hosts, "faultline cluster c1") {
			return
		}
		if hosts != "" && !strings.HasSuffix(hosts, "\n") {
			hosts += "\n"
		}
		st := &State{Name: "c1", Nodes: []NodeState{{Name: "n1", Addr: "10.213.0.11"}}}
		file := filepath.Join(t.TempDir(), "hosts")
		os.WriteFile(file, []byte(hosts), 0o644)
		if err := setHostsBlock(file, "c1", st); err != nil {
			t.Fatal(err)
		}
		if !hasHostsBlock(file, "c1") {
			t.Fatal("no block after adding it")
		}
		if err := setHostsBlock(file, "c1", nil); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(file); string(got) != hosts {
			t.Fatalf("round trip changed the file:\n%q\n%q", hosts, got)
		}
	})
}

// FuzzHealScript feeds arbitrary inspection output to the heal planner: it
// must not panic, and every command it plans must be one it described.
func FuzzHealScript(f *testing.F) {
	in, _ := os.ReadFile("testdata/inspect.txt")
	f.Add(string(in))
	f.Add("@qdiscs\nqdisc\n@tables\ntable\n@links\n1:\n@iptables\n-A\n:")
	f.Fuzz(func(t *testing.T, out string) {
		tl := &tools{ip: "ip", tc: "tc", nft: "nft", iptables: "iptables"}
		cmds, what := healPlan(tl, parseInspect(out), nil)
		if len(cmds) != len(what) {
			t.Fatalf("%d commands, %d descriptions", len(cmds), len(what))
		}
		for _, c := range cmds {
			// Words from the inspected output are quoted: a command is
			// never more than one simple command.
			if words := shellWords(t, c); words < 2 {
				t.Fatalf("command %q", c)
			}
		}
		parseStat(out)
		parseNsLink(out)
	})
}

// shellWords counts the words sh sees in the simple command c, failing when
// c is not exactly one simple command.
func shellWords(t *testing.T, c string) int {
	t.Helper()
	out, err := exec.Command("sh", "-c", "set -- "+c+"; echo $#").Output()
	if err != nil {
		t.Fatalf("sh rejects %q: %v", c, err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return n
}

// TestMissingTools checks that a missing command gives one clear line and
// leaves nothing behind.
func TestMissingTools(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		missing string
		want    string
		root    bool
	}{
		{"ip", Config{}, "ip", "cluster: command ip not found: install the Debian package iproute2", true},
		{"sshd", Config{SSHD: true}, "sshd", "cluster: command sshd not found: install the Debian package openssh-server", true},
		{"nsenter", Config{Rootless: true}, "nsenter", "cluster: command nsenter not found: install the Debian package util-linux", false},
		{"docker", Config{Driver: DriverDocker}, "docker", "cluster: command docker not found: install Docker (Debian package docker.io)", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root && os.Geteuid() != 0 {
				t.Skip("skipping: needs root")
			}
			root := t.TempDir()
			cfg := tc.cfg
			cfg.Name = "flmissing"
			cfg.StateRoot = root
			cfg.lookPath = func(name string) (string, error) {
				if name == tc.missing {
					return "", os.ErrNotExist
				}
				return lookPath(name)
			}
			_, err := Up(t.Context(), cfg)
			if err == nil || err.Error() != tc.want {
				t.Errorf("Up = %v, want %q", err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(root, "flmissing")); !os.IsNotExist(err) {
				t.Errorf("a state folder was left: %v", err)
			}
		})
	}
	t.Run("debootstrap", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("skipping: needs root")
		}
		if _, err := lookPath("docker"); err != nil {
			t.Skip("skipping: no docker command")
		}
		spec := ImageSpec{Suite: "bookworm", Mirror: DefaultMirror, Packages: []string{"no-such-image-" + strconv.Itoa(os.Getpid())}}
		look := func(name string) (string, error) {
			if name == "debootstrap" {
				return "", os.ErrNotExist
			}
			return lookPath(name)
		}
		_, err := EnsureImage(t.Context(), spec, look, nil)
		want := "cluster: command debootstrap not found: install the Debian package debootstrap (needed once, to build the node image " + spec.Tag() + ")"
		if err == nil || err.Error() != want {
			t.Errorf("EnsureImage = %v, want %q", err, want)
		}
	})
}
