package ssh

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// testServer is a small SSH server in this process that runs exec requests
// with the local sh: enough of OpenSSH's behaviour (exit status, exit
// signal, signal requests, stderr) to test the client without a real
// sshd. Commands run with fakeBin first in PATH.
type testServer struct {
	t        *testing.T
	ln       net.Listener
	addr     string
	hostKey  ssh.Signer
	password string
	fakeBin  string

	mu         sync.Mutex
	authorized map[string]bool
	conns      []net.Conn

	accepted atomic.Int32 // authenticated connections
	running  atomic.Int32 // sessions running a command
	peak     atomic.Int32
	commands atomic.Int32
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hk, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{t: t, ln: ln, addr: ln.Addr().String(), hostKey: hk, password: "pw-of-the-login", authorized: map[string]bool{}, fakeBin: t.TempDir()}
	writeFakeSudo(t, s.fakeBin)
	t.Cleanup(func() {
		ln.Close()
		s.dropAll()
	})
	go s.serve()
	return s
}

// writeFakeSudo writes a sudo that wants the password "sudo-sekrit" unless
// FAKE_SUDO_NOPASSWD is set, and runs the command with FAKE_SUDO_USER set
// to the -u user (root by default).
func writeFakeSudo(t *testing.T, dir string) {
	t.Helper()
	script := `#!/bin/sh
user=root n=0 S=0
while [ $# -gt 0 ]; do
	case $1 in
	-n) n=1; shift;;
	-S) S=1; shift;;
	-k) shift;;
	-p) shift 2;;
	-u) user=$2; shift 2;;
	--) shift; break;;
	*) break;;
	esac
done
if [ -z "$FAKE_SUDO_NOPASSWD" ]; then
	if [ $n = 1 ]; then echo "sudo: a password is required" >&2; exit 1; fi
	IFS= read -r pw || { echo "sudo: no password given" >&2; exit 1; }
	if [ "$pw" != sudo-sekrit ]; then echo "sudo: 1 incorrect password attempt" >&2; exit 1; fi
fi
FAKE_SUDO_USER=$user exec "$@"
`
	if err := os.WriteFile(filepath.Join(dir, "sudo"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// authorize lets key log in.
func (s *testServer) authorize(key ssh.PublicKey) {
	s.mu.Lock()
	s.authorized[string(key.Marshal())] = true
	s.mu.Unlock()
}

// dropAll closes every connection, as a server restart would.
func (s *testServer) dropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

func (s *testServer) serve() {
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.authorized[string(key.Marshal())] {
				return nil, nil
			}
			return nil, errors.New("unknown key")
		},
		PasswordCallback: func(_ ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if string(pw) == s.password {
				return nil, nil
			}
			return nil, errors.New("wrong password")
		},
	}
	cfg.AddHostKey(s.hostKey)
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, nc)
		s.mu.Unlock()
		go func() {
			sc, chans, reqs, err := ssh.NewServerConn(nc, cfg)
			if err != nil {
				nc.Close()
				return
			}
			s.accepted.Add(1)
			defer sc.Close()
			go ssh.DiscardRequests(reqs)
			for nch := range chans {
				if nch.ChannelType() != "session" {
					nch.Reject(ssh.UnknownChannelType, "only sessions")
					continue
				}
				ch, creqs, err := nch.Accept()
				if err != nil {
					continue
				}
				go s.session(ch, creqs)
			}
		}()
	}
}

var signalNumbers = map[string]syscall.Signal{"KILL": syscall.SIGKILL, "TERM": syscall.SIGTERM, "INT": syscall.SIGINT, "HUP": syscall.SIGHUP}

func (s *testServer) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	var cmd *exec.Cmd
	done := make(chan struct{})
	for req := range reqs {
		switch req.Type {
		case "exec":
			if cmd != nil {
				req.Reply(false, nil)
				continue
			}
			var p struct{ Command string }
			if err := ssh.Unmarshal(req.Payload, &p); err != nil {
				req.Reply(false, nil)
				continue
			}
			s.commands.Add(1)
			cmd = exec.Command("sh", "-c", p.Command)
			cmd.Env = append(os.Environ(), "PATH="+s.fakeBin+":"+os.Getenv("PATH"))
			cmd.Stdin = ch
			cmd.Stdout = ch
			cmd.Stderr = ch.Stderr()
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			cmd.WaitDelay = time.Second
			if err := cmd.Start(); err != nil {
				req.Reply(false, nil)
				return
			}
			req.Reply(true, nil)
			cur := s.running.Add(1)
			for {
				p := s.peak.Load()
				if cur <= p || s.peak.CompareAndSwap(p, cur) {
					break
				}
			}
			go func() {
				err := cmd.Wait()
				s.running.Add(-1)
				var ee *exec.ExitError
				status := 0
				if errors.As(err, &ee) {
					if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
						sig := "KILL"
						for name, n := range signalNumbers {
							if n == ws.Signal() {
								sig = name
							}
						}
						ch.SendRequest("exit-signal", false, ssh.Marshal(struct {
							Signal     string
							CoreDumped bool
							Error      string
							Lang       string
						}{Signal: sig}))
						close(done)
						ch.Close()
						return
					}
					status = ee.ExitCode()
				}
				var b [4]byte
				binary.BigEndian.PutUint32(b[:], uint32(status))
				ch.SendRequest("exit-status", false, b[:])
				close(done)
				ch.Close()
			}()
		case "signal":
			var p struct{ Signal string }
			ssh.Unmarshal(req.Payload, &p)
			if cmd != nil && cmd.Process != nil {
				if sig, ok := signalNumbers[p.Signal]; ok {
					syscall.Kill(-cmd.Process.Pid, sig)
				}
			}
			if req.WantReply {
				req.Reply(true, nil)
			}
		default:
			if req.WantReply {
				req.Reply(false, nil)
			}
		}
	}
	// The client closed the channel: kill what is left.
	if cmd != nil && cmd.Process != nil {
		select {
		case <-done:
		default:
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}
}

// newKey writes a new ed25519 private key file and returns its path and
// public key.
func newKey(t *testing.T) (string, ssh.PublicKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "test")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return p, signer.PublicKey()
}

func ed25519GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(rand.Reader)
}

func pemEncode(b *pem.Block) []byte { return pem.EncodeToMemory(b) }

func newListener(t *testing.T) (net.Listener, error) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, nil
}
