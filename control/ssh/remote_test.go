package ssh

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/faultline/faultline/control"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// setup starts a test server that accepts a new key and returns a Remote
// for node "n1" at it, with host key checking against a known_hosts file
// that lists the server.
func setup(t *testing.T, mod func(*Options)) (*testServer, *Remote) {
	t.Helper()
	s := newTestServer(t)
	key, pub := newKey(t)
	s.authorize(pub)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(s.addr)}, s.hostKey.PublicKey())
	if err := os.WriteFile(kh, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Username:              "deploy",
		PrivateKey:            key,
		NoAgent:               true,
		StrictHostKeyChecking: true,
		KnownHosts:            []string{kh},
		Nodes:                 []string{"n1"},
		Addrs:                 map[string]string{"n1": s.addr},
		DialTimeout:           5 * time.Second,
	}
	if mod != nil {
		mod(&opts)
	}
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return s, r
}

func TestExec(t *testing.T) {
	_, r := setup(t, func(o *Options) {
		o.Dirs = map[string]string{"n1": t.TempDir()}
		o.Env = map[string]map[string]string{"n1": {"NODE_VAR": "n1"}}
	})
	home := r.opts.Dirs["n1"]
	os.Mkdir(filepath.Join(home, "sub dir"), 0o755)
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		cmd      control.Cmd
		stdout   string
		code     int
		stderr   string
		errMatch string
	}{
		{name: "args", cmd: control.Cmd{Args: []string{"echo", "a b", "$HOME", "it's"}}, stdout: "a b $HOME it's\n"},
		{name: "shell", cmd: control.Cmd{Shell: "echo $((1+2)) | tr 3 x"}, stdout: "x\n"},
		{name: "env", cmd: control.Cmd{Shell: `echo "$A-$B-$NODE_VAR"`, Env: map[string]string{"A": "it's", "B": "$(date)"}}, stdout: "it's-$(date)-n1\n"},
		{name: "home", cmd: control.Cmd{Args: []string{"pwd"}}, stdout: home + "\n"},
		{name: "relative dir", cmd: control.Cmd{Args: []string{"pwd"}, Dir: "sub dir"}, stdout: home + "/sub dir\n"},
		{name: "absolute dir", cmd: control.Cmd{Args: []string{"pwd"}, Dir: "/"}, stdout: "/\n"},
		{name: "stdin", cmd: control.Cmd{Args: []string{"cat"}, Stdin: strings.NewReader("in\n")}, stdout: "in\n"},
		{name: "exit", cmd: control.Cmd{Shell: "echo out; echo err >&2; exit 3"}, stdout: "out\n", code: 3, stderr: "err\n", errMatch: "n1: sh -c 'echo out; echo err >&2; exit 3': exit 3: err"},
		{name: "signal", cmd: control.Cmd{Shell: "kill -9 $$"}, code: 137, errMatch: "exit 137"},
		{name: "missing program", cmd: control.Cmd{Args: []string{"/no/such/program"}}, code: 127, errMatch: "exit 127"},
		{name: "missing dir", cmd: control.Cmd{Args: []string{"true"}, Dir: "/no/such/dir"}, code: 1, errMatch: "exit 1"},
		{name: "empty", cmd: control.Cmd{}, code: -1, errMatch: "empty command"},
		{name: "both", cmd: control.Cmd{Shell: "true", Args: []string{"true"}}, code: -1, errMatch: "both Shell and Args"},
		{name: "bad env", cmd: control.Cmd{Args: []string{"true"}, Env: map[string]string{"A-B": "1"}}, code: -1, errMatch: `bad environment variable name "A-B"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := r.Exec(ctx, "n1", tc.cmd)
			if res.Stdout != tc.stdout {
				t.Errorf("stdout %q, want %q", res.Stdout, tc.stdout)
			}
			if tc.errMatch == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			var ee *control.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("err = %#v, want *control.ExitError", err)
			}
			if ee.Node != "n1" || ee.ExitCode != tc.code || res.ExitCode != tc.code || !strings.Contains(err.Error(), tc.errMatch) {
				t.Errorf("err = %v (code %d), want code %d and %q", err, ee.ExitCode, tc.code, tc.errMatch)
			}
			if tc.stderr != "" && ee.Stderr != tc.stderr {
				t.Errorf("stderr %q, want %q", ee.Stderr, tc.stderr)
			}
		})
	}
}

func TestUploadDownload(t *testing.T) {
	_, r := setup(t, func(o *Options) { o.Dirs = map[string]string{"n1": t.TempDir()} })
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "a")
	data := strings.Repeat("data\x00\xff\n", 100000)
	if err := os.WriteFile(src, []byte(data), 0o751); err != nil {
		t.Fatal(err)
	}
	if err := r.Upload(ctx, "n1", src, "x/y/b"); err != nil {
		t.Fatal(err)
	}
	up := filepath.Join(r.opts.Dirs["n1"], "x/y/b")
	if st, err := os.Stat(up); err != nil || st.Mode().Perm() != 0o751 || st.Size() != int64(len(data)) {
		t.Errorf("uploaded file: %v %v", st, err)
	}
	down := filepath.Join(dir, "c", "d")
	if err := r.Download(ctx, "n1", "x/y/b", down); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(down)
	st, _ := os.Stat(down)
	if string(b) != data || st.Mode().Perm() != 0o751 {
		t.Errorf("round trip: %d bytes, mode %v", len(b), st.Mode())
	}
	err := r.Download(ctx, "n1", "missing", down)
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "n1: download missing") || strings.Contains(err.Error(), "\n") {
		t.Errorf("missing file: %v", err)
	}
	if b, _ := os.ReadFile(down); string(b) != data {
		t.Error("a failed download changed the local file")
	}
	if err := r.Download(ctx, "n1", "x", down); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("folder download: %v", err)
	}
	if err := r.Upload(ctx, "n1", dir, "z"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("folder upload: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(up)); len(ents) != 1 {
		t.Errorf("temporary files left on the node: %v", ents)
	}
	if ents, _ := os.ReadDir(filepath.Dir(down)); len(ents) != 1 {
		t.Errorf("temporary files left here: %v", ents)
	}
}

func TestUnknownNode(t *testing.T) {
	_, r := setup(t, nil)
	ctx := context.Background()
	_, err := r.Exec(ctx, "n9", control.Cmd{Args: []string{"true"}})
	if !errors.Is(err, control.ErrUnknownNode) || err.Error() != `unknown node "n9" (nodes: n1)` {
		t.Errorf("Exec: %v", err)
	}
	if err := r.Upload(ctx, "n9", "/etc/hostname", "x"); !errors.Is(err, control.ErrUnknownNode) {
		t.Errorf("Upload: %v", err)
	}
	if err := r.Download(ctx, "n9", "x", filepath.Join(t.TempDir(), "x")); !errors.Is(err, control.ErrUnknownNode) {
		t.Errorf("Download: %v", err)
	}
}

// oneLine checks that err is one line naming node and containing want.
func oneLine(t *testing.T, err error, node, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, node+": ") || !strings.Contains(msg, want) {
		t.Errorf("error %q: want one line starting %q and containing %q", msg, node+": ", want)
	}
	t.Logf("error: %s", msg)
}

func TestAuth(t *testing.T) {
	ctx := context.Background()
	t.Run("wrong key", func(t *testing.T) {
		other, _ := newKey(t)
		s, r := setup(t, func(o *Options) {})
		r.keys, _ = loadKeys(other)
		_, err := r.Exec(ctx, "n1", control.Cmd{Args: []string{"true"}})
		oneLine(t, err, "n1", "authentication failed (offered key "+other+")")
		var ae *AuthError
		if !errors.As(err, &ae) {
			t.Errorf("not an AuthError: %#v", err)
		}
		if s.accepted.Load() != 0 {
			t.Error("server accepted a login")
		}
	})
	t.Run("password", func(t *testing.T) {
		s, r := setup(t, nil)
		r.keys = nil
		r.opts.Password = s.password
		if res, err := r.Exec(ctx, "n1", control.Cmd{Args: []string{"echo", "ok"}}); err != nil || res.Stdout != "ok\n" {
			t.Errorf("password login: %q %v", res.Stdout, err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		_, r := setup(t, nil)
		r.keys = nil
		r.opts.Password = "not-it"
		_, err := r.Exec(ctx, "n1", control.Cmd{Args: []string{"true"}})
		oneLine(t, err, "n1", "authentication failed (offered password)")
		if strings.Contains(err.Error(), "not-it") {
			t.Errorf("error shows the password: %v", err)
		}
	})
	t.Run("encrypted key", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "enc")
		_, priv, _ := ed25519GenerateKey()
		block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("pp"))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(p, pemEncode(block), 0o600)
		_, err = New(Options{PrivateKey: p})
		if err == nil || !strings.Contains(err.Error(), "is encrypted: add it to ssh-agent") {
			t.Errorf("New with an encrypted key: %v", err)
		}
	})
	t.Run("missing key file", func(t *testing.T) {
		_, err := New(Options{PrivateKey: "/no/such/key"})
		if err == nil || !strings.Contains(err.Error(), "/no/such/key") {
			t.Errorf("New: %v", err)
		}
	})
}

func TestHostKeys(t *testing.T) {
	ctx := context.Background()
	t.Run("strict unknown", func(t *testing.T) {
		s, r := setup(t, func(o *Options) { o.KnownHosts = []string{filepath.Join(t.TempDir(), "empty")} })
		_, err := r.Exec(ctx, "n1", control.Cmd{Args: []string{"true"}})
		oneLine(t, err, "n1", "host key verification failed: "+s.addr+" is not in ")
		if !errors.Is(err, ErrHostKey) {
			t.Errorf("not ErrHostKey: %v", err)
		}
	})
	t.Run("accept and remember", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "sub", "known_hosts")
		s, r := setup(t, func(o *Options) {
			o.KnownHosts = []string{kh}
			o.StrictHostKeyChecking = false
		})
		if _, err := r.Exec(ctx, "n1", control.Cmd{Args: []string{"true"}}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(kh)
		if err != nil || !strings.Contains(string(b), s.hostKey.PublicKey().Type()) || strings.Count(string(b), "\n") != 1 {
			t.Fatalf("known_hosts after accepting: %q %v", b, err)
		}
		// Now strict checking passes with the remembered key.
		r2, err := New(Options{PrivateKey: r.opts.PrivateKey, NoAgent: true, StrictHostKeyChecking: true, KnownHosts: []string{kh}, Addrs: map[string]string{"n1": s.addr}})
		if err != nil {
			t.Fatal(err)
		}
		defer r2.Close()
		if _, err := r2.Exec(ctx, "n1", control.Cmd{Args: []string{"true"}}); err != nil {
			t.Errorf("strict with the remembered key: %v", err)
		}
	})
	t.Run("mismatch", func(t *testing.T) {
		for _, strict := range []bool{true, false} {
			kh := filepath.Join(t.TempDir(), "known_hosts")
			_, other := newKey(t)
			s, r := setup(t, func(o *Options) {
				o.KnownHosts = []string{kh}
				o.StrictHostKeyChecking = strict
			})
			os.WriteFile(kh, []byte("# comment\n"+knownhosts.Line([]string{knownhosts.Normalize(s.addr)}, other)+"\n"), 0o600)
			r.hostKeys.reload()
			_, err := r.Exec(ctx, "n1", control.Cmd{Args: []string{"true"}})
			oneLine(t, err, "n1", "differs from the one in "+kh+":2")
			if !errors.Is(err, ErrHostKey) {
				t.Errorf("not ErrHostKey: %v", err)
			}
		}
	})
}

func TestUnreachable(t *testing.T) {
	// A port nobody listens on: refused, retried, then one clear line.
	ln, _ := newListener(t)
	addr := ln.Addr().String()
	ln.Close()
	key, _ := newKey(t)
	r, err := New(Options{PrivateKey: key, NoAgent: true, KnownHosts: []string{}, Addrs: map[string]string{"n7": addr}, Retries: 1, Backoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = r.Exec(context.Background(), "n7", control.Cmd{Args: []string{"true"}})
	oneLine(t, err, "n7", "connection refused (after 2 attempts)")
	var ee *control.ExitError
	if !errors.As(err, &ee) || ee.ExitCode != -1 || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("err = %#v", err)
	}
}

func TestReconnect(t *testing.T) {
	s, r := setup(t, nil)
	ctx := context.Background()
	for i := range 3 {
		if res, err := r.Exec(ctx, "n1", control.Cmd{Args: []string{"echo", strconv.Itoa(i)}}); err != nil || res.Stdout != fmt.Sprintf("%d\n", i) {
			t.Fatalf("exec %d: %q %v", i, res.Stdout, err)
		}
	}
	if n := s.accepted.Load(); n != 1 {
		t.Errorf("%d connections for 3 commands, want 1 (reuse)", n)
	}
	s.dropAll()
	if _, err := r.Exec(ctx, "n1", control.Cmd{Args: []string{"true"}}); err != nil {
		t.Fatalf("after the server dropped the connection: %v", err)
	}
	if n := s.accepted.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
	// A command whose connection breaks while it runs fails, naming why,
	// and is not run again.
	before := s.commands.Load()
	go func() {
		time.Sleep(200 * time.Millisecond)
		s.dropAll()
	}()
	_, err := r.Exec(ctx, "n1", control.Cmd{Args: []string{"sleep", "5"}})
	if err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("command on a dropped connection: %v", err)
	}
	if n := s.commands.Load() - before; n != 1 {
		t.Errorf("the command ran %d times", n)
	}
	t.Logf("broken while running: %v", err)
}

func TestMaxSessions(t *testing.T) {
	s, r := setup(t, func(o *Options) { o.MaxSessions = 2 })
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			_, err := r.Exec(context.Background(), "n1", control.Cmd{Args: []string{"sleep", "0.2"}})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if p := s.peak.Load(); p != 2 {
		t.Errorf("peak concurrent sessions %d, want 2", p)
	}
	if n := s.accepted.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

func TestCancel(t *testing.T) {
	_, r := setup(t, nil)
	pidfile := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := r.Exec(ctx, "n1", control.Cmd{Shell: "echo $$ > " + pidfile + "; exec sleep 30"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
	b, _ := os.ReadFile(pidfile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	for range 100 {
		if pid == 0 || !alive(pid) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if pid == 0 || alive(pid) {
		t.Errorf("remote process %d still running after cancel", pid)
	}
	// The connection is still good for the next command.
	if _, err := r.Exec(context.Background(), "n1", control.Cmd{Args: []string{"true"}}); err != nil {
		t.Errorf("after cancel: %v", err)
	}
}

func TestSudo(t *testing.T) {
	ctx := context.Background()
	t.Run("password", func(t *testing.T) {
		_, r := setup(t, func(o *Options) { o.SudoPassword = "sudo-sekrit" })
		res, err := r.Exec(ctx, "n1", control.Cmd{Shell: `echo "$FAKE_SUDO_USER $X"; cat`, Sudo: true, Env: map[string]string{"X": "y"}, Stdin: strings.NewReader("line 1\nline 2\n")})
		if err != nil || res.Stdout != "root y\nline 1\nline 2\n" {
			t.Errorf("sudo: %q %v", res.Stdout, err)
		}
		res, err = r.Exec(ctx, "n1", control.Cmd{Shell: `echo "$FAKE_SUDO_USER"; cat`, Sudo: true, SudoUser: "postgres"})
		if err != nil || res.Stdout != "postgres\n" {
			t.Errorf("sudo -u without input: %q %v", res.Stdout, err)
		}
		if res, err := r.Exec(ctx, "n1", control.Cmd{Shell: `echo "[$FAKE_SUDO_USER]"`}); err != nil || res.Stdout != "[]\n" {
			t.Errorf("without sudo: %q %v", res.Stdout, err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		_, r := setup(t, func(o *Options) { o.SudoPassword = "guess" })
		_, err := r.Exec(ctx, "n1", control.Cmd{Args: []string{"true"}, Sudo: true})
		oneLine(t, err, "n1", "incorrect password")
		if strings.Contains(err.Error(), "guess") {
			t.Errorf("error shows the password: %v", err)
		}
	})
	t.Run("no password", func(t *testing.T) {
		_, r := setup(t, nil)
		_, err := r.Exec(ctx, "n1", control.Cmd{Args: []string{"true"}, Sudo: true})
		oneLine(t, err, "n1", "sudo on n1 needs a password and none was given")
	})
	t.Run("nopasswd", func(t *testing.T) {
		_, r := setup(t, func(o *Options) {
			o.SudoPassword = "sudo-sekrit"
			o.Env = map[string]map[string]string{"n1": {}}
		})
		os.Setenv("FAKE_SUDO_NOPASSWD", "1")
		defer os.Unsetenv("FAKE_SUDO_NOPASSWD")
		res, err := r.Exec(ctx, "n1", control.Cmd{Args: []string{"cat"}, Sudo: true, Stdin: strings.NewReader("only this\n")})
		if err != nil || res.Stdout != "only this\n" {
			t.Errorf("sudo -n: %q %v (the password must not reach the command)", res.Stdout, err)
		}
	})
}

func TestBuildCommand(t *testing.T) {
	for _, tc := range []struct {
		name string
		cmd  control.Cmd
		user string
		home string
		env  map[string]string
		mode sudoMode
		want string
		pw   bool
	}{
		{"args", control.Cmd{Args: []string{"ls", "-l", "a b"}}, "root", "", nil, 0, `sh -c 'exec ls -l '"'"'a b'"'"''`, false},
		{"shell dir env", control.Cmd{Shell: "echo $X", Dir: "d", Env: map[string]string{"X": "1", "A": "it's"}}, "root", "/h", map[string]string{"N": "n1"},
			0, `sh -c 'cd /h/d || exit 1; export A='"'"'it'"'"'"'"'"'"'"'"'s'"'"' N=n1 X=1; exec sh -c '"'"'echo $X'"'"''`, false},
		{"root sudo is nothing", control.Cmd{Args: []string{"id"}, Sudo: true}, "root", "", nil, 0, `sh -c 'exec id'`, false},
		{"root to user", control.Cmd{Args: []string{"id"}, Sudo: true, SudoUser: "pg"}, "root", "", nil, 0, `runuser -u pg -- sh -c 'exec id'`, false},
		{"sudo nopasswd", control.Cmd{Args: []string{"id"}, Sudo: true}, "ubuntu", "", nil, sudoNoPasswd, `sudo -n -- sh -c 'exec id'`, false},
		{"sudo password", control.Cmd{Args: []string{"id"}, Sudo: true, SudoUser: "pg"}, "ubuntu", "", nil, sudoPassword, `sudo -S -k -p '' -u pg -- sh -c 'exec id'`, true},
		{"sudo to self", control.Cmd{Args: []string{"id"}, Sudo: true, SudoUser: "ubuntu"}, "ubuntu", "", nil, sudoPassword, `sh -c 'exec id'`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := buildCommand(tc.cmd, tc.user, tc.home, tc.env, tc.mode)
			if err != nil {
				t.Fatal(err)
			}
			if got.line != tc.want || got.sendPasswd != tc.pw {
				t.Errorf("got  %s (%v)\nwant %s (%v)", got.line, got.sendPasswd, tc.want, tc.pw)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	o := Options{Port: 2222, Addrs: map[string]string{"a": "10.0.0.1", "b": "10.0.0.2:22", "c": "fe80::1", "d": "[fe80::2]:23"}}.withDefaults()
	for node, want := range map[string]string{"a": "10.0.0.1:2222", "b": "10.0.0.2:22", "c": "[fe80::1]:2222", "d": "[fe80::2]:23", "host.example": "host.example:2222"} {
		if got := o.addr(node); got != want {
			t.Errorf("addr(%s) = %s, want %s", node, got, want)
		}
	}
	if o.Username != "root" || o.MaxSessions != DefaultMaxSessions || o.Retries != DefaultRetries {
		t.Errorf("defaults: %+v", o)
	}
	if (Options{Retries: -1}).withDefaults().Retries != 0 {
		t.Error("negative retries")
	}
	if _, err := New(Options{Port: 70000}); err == nil {
		t.Error("port 70000 accepted")
	}
}

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func TestAgent(t *testing.T) {
	s, r := setup(t, nil)
	// A key only the agent holds.
	_, priv, err := ed25519GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := ssh.NewSignerFromKey(priv)
	s.authorize(signer.PublicKey())
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: priv}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				agent.ServeAgent(keyring, c)
			}()
		}
	}()
	t.Setenv("SSH_AUTH_SOCK", sock)
	r.keys = nil
	r.opts.NoAgent = false
	if res, err := r.Exec(context.Background(), "n1", control.Cmd{Args: []string{"echo", "via agent"}}); err != nil || res.Stdout != "via agent\n" {
		t.Errorf("agent login: %q %v", res.Stdout, err)
	}
	// Without the agent, nothing is offered.
	r2, _ := New(Options{NoAgent: true, PrivateKey: "", KnownHosts: r.opts.KnownHosts, Addrs: r.opts.Addrs, StrictHostKeyChecking: true})
	r2.keys = nil
	defer r2.Close()
	_, err = r2.Exec(context.Background(), "n1", control.Cmd{Args: []string{"true"}})
	oneLine(t, err, "n1", "authentication failed (offered no key, agent or password)")
}

func TestStream(t *testing.T) {
	_, r := setup(t, nil)
	var out, errb strings.Builder
	code, err := r.Stream(context.Background(), "n1", control.Cmd{Shell: "echo a; echo b >&2; exit 4"}, &out, &errb)
	if code != 4 || out.String() != "a\n" || errb.String() != "b\n" {
		t.Errorf("Stream = %d %q %q", code, out.String(), errb.String())
	}
	var ee *control.ExitError
	if !errors.As(err, &ee) || ee.ExitCode != 4 || ee.Stderr != "b\n" {
		t.Errorf("err %v", err)
	}
}
