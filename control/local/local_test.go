package local

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faultline/faultline/control"
)

func TestExec(t *testing.T) {
	r := New()
	ctx := context.Background()
	dir := t.TempDir()
	for _, tc := range []struct {
		name     string
		cmd      control.Cmd
		stdout   string
		code     int
		stderr   string
		errMatch string
	}{
		{name: "args", cmd: control.Cmd{Args: []string{"echo", "a b", "$HOME"}}, stdout: "a b $HOME\n"},
		{name: "shell", cmd: control.Cmd{Shell: "echo $((1+2)) | tr 3 x"}, stdout: "x\n"},
		{name: "env", cmd: control.Cmd{Shell: `echo "$A-$B"`, Env: map[string]string{"A": "it's", "B": "2"}}, stdout: "it's-2\n"},
		{name: "dir", cmd: control.Cmd{Args: []string{"pwd"}, Dir: dir}, stdout: dir + "\n"},
		{name: "stdin", cmd: control.Cmd{Args: []string{"cat"}, Stdin: strings.NewReader("in\n")}, stdout: "in\n"},
		{name: "exit", cmd: control.Cmd{Shell: "echo out; echo err >&2; exit 3"}, stdout: "out\n", code: 3, stderr: "err\n", errMatch: "n1: sh -c 'echo out; echo err >&2; exit 3': exit 3: err"},
		{name: "signal", cmd: control.Cmd{Shell: "kill -9 $$"}, code: 137, errMatch: "exit 137"},
		{name: "missing", cmd: control.Cmd{Args: []string{"/no/such/program"}}, code: -1, errMatch: "no such file"},
		{name: "empty", cmd: control.Cmd{}, code: -1, errMatch: "empty command"},
		{name: "both", cmd: control.Cmd{Shell: "true", Args: []string{"true"}}, code: -1, errMatch: "both Shell and Args"},
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
			if ee.Node != "n1" || ee.ExitCode != tc.code || !strings.Contains(err.Error(), tc.errMatch) {
				t.Errorf("err = %v (code %d), want code %d and %q", err, ee.ExitCode, tc.code, tc.errMatch)
			}
			if tc.stderr != "" && ee.Stderr != tc.stderr {
				t.Errorf("stderr %q, want %q", ee.Stderr, tc.stderr)
			}
		})
	}
}

func TestExecContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	// The child of sh must die too: the whole process group is killed.
	_, err := New().Exec(ctx, "n1", control.Cmd{Shell: "sleep 30; echo never"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestExecBackgroundChild(t *testing.T) {
	// A background child that keeps stdout open must not hold Exec for
	// longer than the wait delay (1 s), let alone until it exits (30 s).
	start := time.Now()
	res, err := New().Exec(context.Background(), "n1", control.Cmd{Shell: "sleep 30 & echo $!"})
	d := time.Since(start)
	if pid, perr := strconv.Atoi(strings.TrimSpace(res.Stdout)); perr == nil {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if err != nil {
		t.Errorf("err %v", err)
	}
	if d > 15*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestUploadDownload(t *testing.T) {
	ctx := context.Background()
	r := New()
	dir := t.TempDir()
	src := filepath.Join(dir, "a")
	if err := os.WriteFile(src, []byte("data"), 0o751); err != nil {
		t.Fatal(err)
	}
	up := filepath.Join(dir, "x", "y", "b")
	if err := r.Upload(ctx, "n1", src, up); err != nil {
		t.Fatal(err)
	}
	down := filepath.Join(dir, "c")
	if err := r.Download(ctx, "n1", up, down); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(down)
	st, _ := os.Stat(down)
	if string(b) != "data" || st.Mode().Perm() != 0o751 {
		t.Errorf("copy = %q %v", b, st.Mode())
	}
	err := r.Download(ctx, "n1", filepath.Join(dir, "missing"), down)
	if !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "n1: download ") {
		t.Errorf("missing file: %v", err)
	}
	if err := r.Upload(ctx, "n1", dir, up); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("folder upload: %v", err)
	}
	ents, _ := os.ReadDir(filepath.Dir(up))
	if len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}

// BenchmarkExec measures one command through the local remote, the baseline
// for the netns remote's BenchmarkNetnsExec in package cluster.
func BenchmarkExec(b *testing.B) {
	r := New()
	ctx := context.Background()
	for b.Loop() {
		if _, err := r.Exec(ctx, "n1", control.Cmd{Args: []string{"true"}}); err != nil {
			b.Fatal(err)
		}
	}
}
