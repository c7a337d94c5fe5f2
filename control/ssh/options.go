package ssh

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Defaults.
const (
	DefaultUsername    = "root"
	DefaultPort        = 22
	DefaultDialTimeout = 10 * time.Second
	DefaultMaxSessions = 8
	DefaultRetries     = 2
	DefaultBackoff     = 250 * time.Millisecond
)

// Options says how to reach the nodes. The zero value logs in as root on
// port 22 with the default keys and the ssh-agent, accepting unknown host
// keys.
type Options struct {
	// Username is the login user; "" is root.
	Username string
	// Password is offered for password and keyboard-interactive
	// authentication and given to sudo when it asks for one.
	Password string
	// SudoPassword, when set, is given to sudo instead of Password.
	SudoPassword string
	// PrivateKey is the path of a private key file (OpenSSH or PEM,
	// unencrypted: load encrypted keys into ssh-agent). "" offers
	// ~/.ssh/id_ed25519, id_ecdsa and id_rsa where they exist.
	PrivateKey string
	// NoAgent disables the ssh-agent even when SSH_AUTH_SOCK is set.
	NoAgent bool
	// StrictHostKeyChecking makes an unknown host key an error instead of
	// accepting and remembering it.
	StrictHostKeyChecking bool
	// KnownHosts are the known_hosts files; nil is ~/.ssh/known_hosts.
	// Unknown keys accepted without strict checking are appended to the
	// first one.
	KnownHosts []string
	// Port is the SSH port for nodes whose address has none; 0 is 22.
	Port int
	// Nodes, when not empty, are the only node names accepted; others are
	// control.ErrUnknownNode.
	Nodes []string
	// Addrs maps a node name to its address ("host" or "host:port") for
	// nodes whose name is not their address.
	Addrs map[string]string
	// Dirs maps a node name to its working directory: commands start there
	// and relative paths are taken inside it. Nodes without one use the
	// login directory.
	Dirs map[string]string
	// Env maps a node name to variables set for every command on it.
	Env map[string]map[string]string
	// DialTimeout bounds connecting and the SSH handshake; 0 is 10 s.
	DialTimeout time.Duration
	// MaxSessions is the most commands run at once on one node (each is a
	// channel of the node's one connection); 0 is 8.
	MaxSessions int
	// Retries is how many times dialing is tried again after a transient
	// failure, with backoff doubling from Backoff; 0 is 2, negative is none.
	Retries int
	// Backoff is the first wait before a retry; 0 is 250 ms.
	Backoff time.Duration
	// Log receives connection events; nil discards them.
	Log *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Username == "" {
		o.Username = DefaultUsername
	}
	if o.SudoPassword == "" {
		o.SudoPassword = o.Password
	}
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.KnownHosts == nil {
		if home, err := os.UserHomeDir(); err == nil {
			o.KnownHosts = []string{filepath.Join(home, ".ssh", "known_hosts")}
		}
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	switch {
	case o.Retries == 0:
		o.Retries = DefaultRetries
	case o.Retries < 0:
		o.Retries = 0
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// addr is the host:port to dial for node.
func (o *Options) addr(node string) string {
	a := node
	if m, ok := o.Addrs[node]; ok && m != "" {
		a = m
	}
	if _, _, err := net.SplitHostPort(a); err == nil {
		return a
	}
	return net.JoinHostPort(trimBrackets(a), strconv.Itoa(o.Port))
}

func trimBrackets(s string) string {
	if len(s) > 1 && s[0] == '[' && s[len(s)-1] == ']' {
		return s[1 : len(s)-1]
	}
	return s
}

func (o *Options) validate() error {
	if o.Port < 1 || o.Port > 65535 {
		return fmt.Errorf("ssh: port %d out of range", o.Port)
	}
	for node, a := range o.Addrs {
		if node == "" || a == "" {
			return fmt.Errorf("ssh: address map entry %q=%q: want node=host[:port]", node, a)
		}
	}
	return nil
}
