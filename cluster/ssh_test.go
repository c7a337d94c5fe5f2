package cluster

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/control"
	fssh "github.com/faultline/faultline/control/ssh"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// needSSHD skips the test without root, the netns tools or sshd.
func needSSHD(tb testing.TB) {
	tb.Helper()
	needRoot(tb)
	if _, err := findSSHD(lookPath); err != nil {
		tb.Skip("skipping: sshd not found (install openssh-server)")
	}
}

// TestSSH runs the remote suite against a netns cluster with --sshd, once
// through its netns remote and once through control/ssh and the nodes'
// real OpenSSH servers, then checks the SSH remote's bad-input errors.
func TestSSH(t *testing.T) {
	needSSHD(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	before := snapshot(t)
	start := time.Now()
	c := upTest(t, Config{NodeCount: 3, SSHD: true})
	t.Logf("up 3 nodes with sshd in %v", time.Since(start))
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}

	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	st.WriteText(&text)
	if !st.Healthy || !strings.Contains(text.String(), "ssh -i "+c.State().SSHD.ClientKey()) {
		t.Errorf("status:\n%s", text.String())
	}
	for _, n := range st.Nodes {
		if n.SSHD != "up" {
			t.Errorf("%s: sshd %q", n.Name, n.SSHD)
		}
	}
	// A second up changes nothing and keeps the same sshd.
	pid1, _ := os.ReadFile(c.State().SSHD.pidfile("n1"))
	if _, err := Up(ctx, Config{Name: c.Name(), StateRoot: filepath.Dir(c.Dir()), SSHD: true}); err != nil {
		t.Fatal(err)
	}
	if pid2, _ := os.ReadFile(c.State().SSHD.pidfile("n1")); string(pid1) != string(pid2) {
		t.Errorf("second up restarted sshd: %s -> %s", pid1, pid2)
	}

	fx := func(r control.Remote) fixture {
		return fixture{r: r, nodes: c.Nodes(), dir: c.NodeDir, helper: func(string) string { return self }, port: 7000}
	}
	t.Run("netns", func(t *testing.T) { runRemoteSuite(t, fx(c.Remote())) })
	sr, err := c.SSHRemote()
	if err != nil {
		t.Fatal(err)
	}
	defer sr.Close()
	t.Run("ssh", func(t *testing.T) { runRemoteSuite(t, fx(sr)) })

	opts, err := c.SSHOptions()
	if err != nil {
		t.Fatal(err)
	}
	oneLine := func(t *testing.T, err error, node, want string) {
		t.Helper()
		if err == nil {
			t.Fatalf("no error, want %q", want)
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, node+": ") || !strings.Contains(msg, want) {
			t.Errorf("error %q: want one line starting %q and containing %q", msg, node+": ", want)
		}
		t.Logf("%s", msg)
	}
	t.Run("wrong key", func(t *testing.T) {
		o := opts
		o.PrivateKey = writeKey(t)
		r, err := fssh.New(o)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		_, err = r.Exec(ctx, "n2", control.Cmd{Args: []string{"true"}})
		oneLine(t, err, "n2", "authentication failed (offered key "+o.PrivateKey+")")
	})
	t.Run("unreachable", func(t *testing.T) {
		// An address of the cluster's subnet that no node has.
		p := netip.MustParsePrefix(c.Subnet())
		o := opts
		o.Nodes = append(o.Nodes, "n9")
		o.Addrs = map[string]string{"n9": hostAddr(p, 99).String()}
		o.DialTimeout = time.Second
		o.Retries = -1
		r, err := fssh.New(o)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		start := time.Now()
		_, err = r.Exec(ctx, "n9", control.Cmd{Args: []string{"true"}})
		oneLine(t, err, "n9", "ssh root@"+o.Addrs["n9"]+":22")
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("wrong known_hosts", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		signer, _ := ssh.NewSignerFromKey(priv)
		line := knownhosts.Line([]string{c.Addr("n1")}, signer.PublicKey())
		os.WriteFile(kh, []byte(line+"\n"), 0o600)
		o := opts
		o.KnownHosts = []string{kh}
		r, err := fssh.New(o)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		_, err = r.Exec(ctx, "n1", control.Cmd{Args: []string{"true"}})
		oneLine(t, err, "n1", "host key verification failed: the ssh-ed25519 key of "+c.Addr("n1")+":22")
		if !errors.Is(err, fssh.ErrHostKey) {
			t.Errorf("not ErrHostKey: %v", err)
		}
		o.KnownHosts = []string{filepath.Join(t.TempDir(), "none")}
		r2, _ := fssh.New(o)
		defer r2.Close()
		_, err = r2.Exec(ctx, "n1", control.Cmd{Args: []string{"true"}})
		oneLine(t, err, "n1", "is not in")
	})

	sr.Close()
	var pids []int
	for _, n := range c.Nodes() {
		b, _ := os.ReadFile(c.State().SSHD.pidfile(n))
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			pids = append(pids, pid)
		}
	}
	if len(pids) != 3 {
		t.Errorf("sshd pids %v", pids)
	}
	if err := c.Down(ctx); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
			if comm, state := parseStat(string(b)); comm == "sshd" && state != 'Z' {
				t.Errorf("sshd %d survived down", pid)
			}
		}
	}
	if d := before.diff(snapshot(t)); d != "" {
		t.Errorf("down left the machine changed:\n%s", d)
	}
}

// writeKey writes a new private key no node accepts.
func writeKey(t *testing.T) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "stranger")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "id_stranger")
	if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// BenchmarkSSHExec measures one command over the SSH remote against a
// node's real sshd (connection reused), to compare with BenchmarkNetnsExec.
func BenchmarkSSHExec(b *testing.B) {
	needSSHD(b)
	ctx := context.Background()
	c, err := Up(ctx, Config{Name: testName(), StateRoot: b.TempDir(), NodeCount: 1, SSHD: true})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Down(ctx)
	r, err := c.SSHRemote()
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Exec(ctx, "n1", control.Cmd{Args: []string{"true"}}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := r.Exec(ctx, "n1", control.Cmd{Args: []string{"true"}}); err != nil {
			b.Fatal(err)
		}
	}
}
