package cluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/db"
)

// fixture is what the remote suite needs to know about a cluster.
type fixture struct {
	// r is the remote under test; nodes the cluster's nodes.
	r     control.Remote
	nodes []string
	// dir is a node's folder as the node sees it: where commands start.
	dir func(node string) string
	// helper is the path of this test binary on the nodes (it acts the
	// echo server and client).
	helper func(node string) string
	// port is the echo servers' port.
	port int
}

// runRemoteSuite runs the same checks against any remote: exec (exit
// codes, stderr, env, dir, stdin), upload/download, a daemon started,
// awaited, reached from every other node by name, stopped, and its log
// downloaded (the db helpers over this remote).
func runRemoteSuite(t *testing.T, f fixture) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := f.r
	n1, n2 := f.nodes[0], f.nodes[len(f.nodes)-1]

	t.Run("exec", func(t *testing.T) {
		if _, err := r.Exec(ctx, n1, control.Cmd{Args: []string{"mkdir", "-p", "sub dir"}}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name   string
			cmd    control.Cmd
			stdout string
			code   int
			stderr string
		}{
			{name: "args", cmd: control.Cmd{Args: []string{"echo", "a  b", "$HOME", "it's"}}, stdout: "a  b $HOME it's\n"},
			{name: "node env", cmd: control.Cmd{Shell: `echo "$FAULTLINE_NODE $FAULTLINE_NODE_DIR"`}, stdout: n1 + " " + f.dir(n1) + "\n"},
			{name: "env", cmd: control.Cmd{Shell: `echo "$X|$Y"`, Env: map[string]string{"X": "it's", "Y": "$(id) `x`"}}, stdout: "it's|$(id) `x`\n"},
			{name: "dir", cmd: control.Cmd{Args: []string{"pwd"}}, stdout: f.dir(n1) + "\n"},
			{name: "relative dir", cmd: control.Cmd{Args: []string{"pwd"}, Dir: "sub dir"}, stdout: f.dir(n1) + "/sub dir\n"},
			{name: "absolute dir", cmd: control.Cmd{Args: []string{"pwd"}, Dir: "/tmp"}, stdout: "/tmp\n"},
			{name: "stdin", cmd: control.Cmd{Args: []string{"cat"}, Stdin: strings.NewReader("from stdin\nline 2\n")}, stdout: "from stdin\nline 2\n"},
			{name: "sudo as root", cmd: control.Cmd{Args: []string{"id", "-u"}, Sudo: true}, stdout: "0\n"},
			{name: "hostname resolves", cmd: control.Cmd{Shell: "getent hosts " + n2 + " >/dev/null && echo ok"}, stdout: "ok\n"},
			{name: "exit", cmd: control.Cmd{Shell: "echo out; echo oops >&2; exit 7"}, stdout: "out\n", code: 7, stderr: "oops"},
			{name: "killed", cmd: control.Cmd{Shell: "kill -9 $$"}, code: 137},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res, err := r.Exec(ctx, n1, tc.cmd)
				if res.Stdout != tc.stdout {
					t.Errorf("stdout %q, want %q", res.Stdout, tc.stdout)
				}
				if tc.code == 0 {
					if err != nil {
						t.Errorf("err = %v", err)
					}
					return
				}
				var ee *control.ExitError
				if !errors.As(err, &ee) || ee.ExitCode != tc.code || ee.Node != n1 || strings.TrimSpace(ee.Stderr) != tc.stderr {
					t.Errorf("err = %#v, want exit %d with stderr %q on %s", err, tc.code, tc.stderr, n1)
				}
			})
		}
		_, err := r.Exec(ctx, "n99", control.Cmd{Args: []string{"true"}})
		if !errors.Is(err, control.ErrUnknownNode) || !strings.Contains(err.Error(), `"n99"`) || strings.Contains(err.Error(), "\n") {
			t.Errorf("unknown node: %v", err)
		}
	})

	t.Run("upload-download", func(t *testing.T) {
		src := filepath.Join(t.TempDir(), "up.txt")
		payload := strings.Repeat("payload \x00\xff\n", 5000)
		if err := os.WriteFile(src, []byte(payload), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := r.Upload(ctx, n2, src, "files/up.txt"); err != nil {
			t.Fatal(err)
		}
		res, err := r.Exec(ctx, n2, control.Cmd{Shell: "stat -c %a files/up.txt; wc -c < files/up.txt"})
		if err != nil || res.Stdout != fmt.Sprintf("640\n%d\n", len(payload)) {
			t.Errorf("uploaded file: %q, %v", res.Stdout, err)
		}
		dst := filepath.Join(t.TempDir(), "a", "down.txt")
		if err := r.Download(ctx, n2, f.dir(n2)+"/files/up.txt", dst); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(dst)
		st, _ := os.Stat(dst)
		if string(b) != payload || st == nil || st.Mode().Perm() != 0o640 {
			t.Errorf("downloaded %d bytes (want %d), mode %v", len(b), len(payload), st.Mode())
		}
		err = r.Download(ctx, n2, "files/missing", dst)
		if !errors.Is(err, fs.ErrNotExist) || strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), n2+": ") {
			t.Errorf("missing file: %v", err)
		}
	})

	t.Run("daemon", func(t *testing.T) {
		for _, n := range f.nodes {
			started, err := db.StartDaemon(ctx, r, n, db.DaemonOpts{
				Bin:     f.helper(n),
				Env:     helperEnv("echo", fmt.Sprintf(":%d", f.port)),
				Logfile: f.dir(n) + "/echo.log",
				Pidfile: f.dir(n) + "/echo.pid",
			})
			if err != nil || !started {
				t.Fatalf("%s: StartDaemon = %v, %v", n, started, err)
			}
		}
		again, err := db.StartDaemon(ctx, r, n1, db.DaemonOpts{Bin: f.helper(n1), Env: helperEnv("echo", fmt.Sprintf(":%d", f.port)), Logfile: f.dir(n1) + "/echo.log", Pidfile: f.dir(n1) + "/echo.pid"})
		if err != nil || again {
			t.Errorf("second StartDaemon = %v, %v; want already running", again, err)
		}
		for _, n := range f.nodes {
			if err := db.AwaitTCP(ctx, r, n, n, f.port); err != nil {
				t.Fatal(err)
			}
		}
		// TCP from every node to every other, by name.
		for _, a := range f.nodes {
			var peers []string
			for _, b := range f.nodes {
				if a != b {
					peers = append(peers, fmt.Sprintf("%s:%d", b, f.port))
				}
			}
			res, err := r.Exec(ctx, a, control.Cmd{Args: []string{f.helper(a)}, Env: helperEnv("client", strings.Join(peers, ","))})
			if err != nil || strings.Count(res.Stdout, "ok n") != len(peers) {
				t.Errorf("%s -> %v: %q, %v", a, peers, res.Stdout, err)
			}
		}
		for _, n := range f.nodes {
			if err := db.StopDaemon(ctx, r, n, f.dir(n)+"/echo.pid", time.Second); err != nil {
				t.Error(err)
			}
			if err := db.AwaitExit(ctx, r, n, f.dir(n)+"/echo.pid"); err != nil {
				t.Error(err)
			}
		}
		logs, err := db.DownloadLogs(ctx, r, n2, []string{f.dir(n2) + "/echo.log", f.dir(n2) + "/missing.log"}, t.TempDir())
		if err != nil || len(logs) != 1 {
			t.Fatalf("DownloadLogs = %v, %v", logs, err)
		}
		b, _ := os.ReadFile(logs[0])
		if !strings.Contains(string(b), "listening on") || !strings.Contains(string(b), fmt.Sprintf(`echo "hello from %s"`, n1)) {
			t.Errorf("%s log:\n%s", n2, b)
		}
	})
}
