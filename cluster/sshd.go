package cluster

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/control"
	fssh "github.com/faultline/faultline/control/ssh"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHDState describes the OpenSSH servers of a cluster made with --sshd
// (and of every docker cluster): one sshd per node, listening on the
// node's address, port 22, letting root in with the cluster's client key.
type SSHDState struct {
	// Dir holds the keys, known_hosts, the per-node sshd configurations,
	// pidfiles and logs (state folder/ssh).
	Dir string `json:"dir"`
	// User is the login user (root); Port the port (22).
	User string `json:"user"`
	Port int    `json:"port"`
	// RunDirCreated says whether Up created sshd's privilege separation
	// folder /run/sshd (netns nodes share the host's filesystem).
	RunDirCreated bool `json:"run_dir_created,omitempty"`
}

// Files of the ssh folder.
const (
	sshHostKey    = "ssh_host_ed25519_key"
	sshClientKey  = "id_ed25519"
	sshAuthorized = "authorized_keys"
	sshKnownHosts = "known_hosts"
	sshdRunDir    = "/run/sshd"
	sshdStartWait = 5 * time.Second
)

// ClientKey is the private key that logs in to the nodes' sshd.
func (s *SSHDState) ClientKey() string { return filepath.Join(s.Dir, sshClientKey) }

// KnownHosts is the known_hosts file listing every node's host key under
// its name, qualified name and address.
func (s *SSHDState) KnownHosts() string { return filepath.Join(s.Dir, sshKnownHosts) }

func (s *SSHDState) config(node string) string  { return filepath.Join(s.Dir, "sshd_config."+node) }
func (s *SSHDState) pidfile(node string) string { return filepath.Join(s.Dir, node+".pid") }

// Logfile is where node's sshd logs.
func (s *SSHDState) Logfile(node string) string { return filepath.Join(s.Dir, node+".log") }

// findSSHD finds the OpenSSH server, which must be run by its absolute path.
func findSSHD(look func(string) (string, error)) (string, error) {
	p, err := look("sshd")
	if err != nil {
		return "", fmt.Errorf("cluster: command sshd not found: install the Debian package openssh-server")
	}
	return filepath.Abs(p)
}

// writeSSHFiles makes the cluster's keys (once) and writes known_hosts,
// authorized_keys and the sshd configurations. The paths in them hold
// where sshd runs too: docker nodes mount the ssh folder at its host path.
func writeSSHFiles(st *State) error {
	s := st.SSHD
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return err
	}
	hostPub, err := ensureKey(filepath.Join(s.Dir, sshHostKey), "faultline host key of cluster "+st.Name)
	if err != nil {
		return err
	}
	clientPub, err := ensureKey(filepath.Join(s.Dir, sshClientKey), "faultline client key of cluster "+st.Name)
	if err != nil {
		return err
	}
	if err := writeIfChanged(filepath.Join(s.Dir, sshAuthorized), string(ssh.MarshalAuthorizedKey(clientPub)), 0o600); err != nil {
		return err
	}
	var kh strings.Builder
	for _, n := range st.Nodes {
		names := []string{n.Name, n.Name + "." + st.Name}
		if n.Addr != "" {
			names = append(names, n.Addr)
		}
		for i := range names {
			names[i] = knownhosts.Normalize(net.JoinHostPort(names[i], strconv.Itoa(s.Port)))
		}
		kh.WriteString(knownhosts.Line(names, hostPub) + "\n")
	}
	if err := writeIfChanged(s.KnownHosts(), kh.String(), 0o644); err != nil {
		return err
	}
	for _, n := range st.Nodes {
		if err := writeIfChanged(s.config(n.Name), sshdConfig(st, n), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// sshdConfig is node n's sshd_config.
func sshdConfig(st *State, n NodeState) string {
	s := st.SSHD
	q := func(p string) string { return `"` + p + `"` }
	lines := []string{
		"# written by faultline for node " + n.Name + " of cluster " + st.Name,
		"Port " + strconv.Itoa(s.Port),
		"HostKey " + q(filepath.Join(s.Dir, sshHostKey)),
		"AuthorizedKeysFile " + q(filepath.Join(s.Dir, sshAuthorized)),
		"PidFile " + q(s.pidfile(n.Name)),
		"PermitRootLogin prohibit-password",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"UsePAM no",
		// The state folder may sit below a world-writable one (/tmp).
		"StrictModes no",
		"UseDNS no",
		"PrintMotd no",
		"PrintLastLog no",
		"X11Forwarding no",
		"MaxSessions 64",
		"MaxStartups 64:30:256",
		"Subsystem sftp internal-sftp",
		// SHLVL=1 keeps bash from reading ~/.bashrc for every command
		// (Debian's bash does when run by sshd, costing 100 ms or more
		// when it sets up tools like pyenv).
		fmt.Sprintf("SetEnv %s=%s %s=%s %s=%s SHLVL=1", "FAULTLINE_CLUSTER", st.Name, "FAULTLINE_NODE", n.Name, "FAULTLINE_NODE_DIR", q(n.Dir)),
	}
	return strings.Join(lines, "\n") + "\n"
}

// ensureKey reads the ed25519 private key at path, making it first when
// there is none, and returns its public key (also written to path.pub).
func ensureKey(path, comment string) (ssh.PublicKey, error) {
	if b, err := os.ReadFile(path); err == nil {
		s, err := ssh.ParsePrivateKey(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return s.PublicKey(), nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, err
	}
	pub := signer.PublicKey()
	if err := os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(pub), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	return pub, nil
}

func writeIfChanged(path, content string, mode os.FileMode) error {
	if b, err := os.ReadFile(path); err == nil && string(b) == content {
		return nil
	}
	return os.WriteFile(path, []byte(content), mode)
}

// sshdRunning reports whether node's sshd (by its pidfile) is alive.
func sshdRunning(s *SSHDState, node string) bool {
	b, err := os.ReadFile(s.pidfile(node))
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	comm, state := parseStat(string(stat))
	return comm == "sshd" && state != 'Z' && state != 'X'
}

// ensureSSHD starts sshd in every netns node where it is not running and
// waits until each accepts connections.
func ensureSSHD(ctx context.Context, t *tools, st *State) (changed bool, err error) {
	sshd, err := findSSHD(t.lookPath)
	if err != nil {
		return false, err
	}
	if err := writeSSHFiles(st); err != nil {
		return false, fmt.Errorf("writing the ssh files: %w", err)
	}
	if _, err := os.Stat(sshdRunDir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(sshdRunDir, 0o755); err != nil {
			return false, err
		}
		st.SSHD.RunDirCreated = true
		if err := writeState(st); err != nil {
			return false, err
		}
	}
	var start []string
	for _, n := range st.Nodes {
		if !sshdRunning(st.SSHD, n.Name) {
			start = append(start, n.Name)
		}
	}
	err = control.OnNodes(ctx, start, func(ctx context.Context, node string) error {
		n, _ := st.node(node)
		os.Remove(st.SSHD.pidfile(node))
		if _, err := run(ctx, nil, t.nodeArgv(n.Namespace, sshd, "-f", st.SSHD.config(node), "-E", st.SSHD.Logfile(node))...); err != nil {
			return fmt.Errorf("starting sshd: %s", exitErr(err))
		}
		return awaitPort(ctx, n.Addr, st.SSHD.Port, sshdStartWait, st.SSHD.Logfile(node))
	})
	return len(start) > 0, err
}

// awaitPort waits until addr:port accepts TCP connections from here.
func awaitPort(ctx context.Context, addr string, port int, wait time.Duration, logfile string) error {
	deadline := time.Now().Add(wait)
	target := net.JoinHostPort(addr, strconv.Itoa(port))
	for {
		d := net.Dialer{Timeout: 200 * time.Millisecond}
		c, err := d.DialContext(ctx, "tcp", target)
		if err == nil {
			c.Close()
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			msg := fmt.Sprintf("sshd does not accept connections on %s after %v: %v", target, wait, err)
			if b, rerr := os.ReadFile(logfile); rerr == nil && len(strings.TrimSpace(string(b))) > 0 {
				lines := strings.Split(strings.TrimSpace(string(b)), "\n")
				msg += " (its log " + logfile + " ends: " + lines[len(lines)-1] + ")"
			}
			return errors.New(msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// removeSSHDRunDir removes /run/sshd when Up made it and no other cluster
// under root runs sshd on this machine's filesystem.
func removeSSHDRunDir(st *State, root string) {
	if st.SSHD == nil || !st.SSHD.RunDirCreated {
		return
	}
	others, _ := listStates(root)
	for _, o := range others {
		if o.Name != st.Name && o.SSHD != nil && o.Driver == DriverNetns {
			return
		}
	}
	os.Remove(sshdRunDir) // only when empty
}

// ErrNoSSHD is wrapped when an SSH remote is asked of a cluster without
// sshd.
var ErrNoSSHD = errors.New("the cluster has no sshd (make it with `faultline cluster up --sshd`)")

// SSHOptions are the control/ssh options that reach the cluster's nodes
// through their sshd as root, with the cluster's key and strict host key
// checking against its known_hosts; relative paths are taken in each
// node's folder, as with the cluster's own remote.
func (c *Cluster) SSHOptions() (fssh.Options, error) {
	s := c.st.SSHD
	if s == nil {
		return fssh.Options{}, fmt.Errorf("cluster %s: %w", c.st.Name, ErrNoSSHD)
	}
	o := fssh.Options{
		Username:              s.User,
		PrivateKey:            s.ClientKey(),
		NoAgent:               true,
		StrictHostKeyChecking: true,
		KnownHosts:            []string{s.KnownHosts()},
		Port:                  s.Port,
		Nodes:                 c.Nodes(),
		Addrs:                 map[string]string{},
		Dirs:                  map[string]string{},
		DialTimeout:           5 * time.Second,
		Log:                   c.log,
	}
	for _, n := range c.st.Nodes {
		o.Addrs[n.Name] = n.Addr
		o.Dirs[n.Name] = n.Dir
	}
	return o, nil
}

// SSHRemote is a control/ssh Remote for the cluster's nodes (see
// SSHOptions): the remote a test for real machines uses, exercised
// against real sshd. The caller closes it.
func (c *Cluster) SSHRemote() (*fssh.Remote, error) {
	o, err := c.SSHOptions()
	if err != nil {
		return nil, err
	}
	return fssh.New(o)
}

func newSSHDState(st *State) *SSHDState {
	return &SSHDState{Dir: filepath.Join(st.Dir, "ssh"), User: "root", Port: 22}
}
