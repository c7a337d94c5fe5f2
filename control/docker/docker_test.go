package docker

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/faultline/faultline/control"
)

func testRemote(t *testing.T) *Remote {
	t.Helper()
	if _, err := LookDocker(); err != nil {
		t.Skip("skipping: no docker command")
	}
	r, err := New("c1", []Node{{Name: "n1", Container: "fl-c1-n1", Dir: "/data/n1"}, {Name: "n2", Container: "fl-c1-n2"}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestProcess(t *testing.T) {
	r := testRemote(t)
	for _, tc := range []struct {
		name string
		node string
		cmd  control.Cmd
		want []string
	}{
		{"args", "n1", control.Cmd{Args: []string{"ls", "-l"}, Env: map[string]string{"A": "1 2"}},
			[]string{"exec", "-i", "-w", "/data/n1", "-e", "FAULTLINE_CLUSTER=c1", "-e", "FAULTLINE_NODE=n1", "-e", "FAULTLINE_NODE_DIR=/data/n1", "-e", "A=1 2", "fl-c1-n1", "ls", "-l"}},
		{"shell in relative dir", "n1", control.Cmd{Shell: "echo hi", Dir: "sub"},
			[]string{"exec", "-i", "-w", "/data/n1/sub", "-e", "FAULTLINE_CLUSTER=c1", "-e", "FAULTLINE_NODE=n1", "-e", "FAULTLINE_NODE_DIR=/data/n1", "fl-c1-n1", "sh", "-c", "echo hi"}},
		{"sudo is root already", "n2", control.Cmd{Args: []string{"id"}, Sudo: true},
			[]string{"exec", "-i", "-w", "/", "-e", "FAULTLINE_CLUSTER=c1", "-e", "FAULTLINE_NODE=n2", "-e", "FAULTLINE_NODE_DIR=/", "fl-c1-n2", "id"}},
		{"sudo -u", "n2", control.Cmd{Args: []string{"id"}, Sudo: true, SudoUser: "pg", Dir: "/tmp"},
			[]string{"exec", "-i", "-w", "/tmp", "-e", "FAULTLINE_CLUSTER=c1", "-e", "FAULTLINE_NODE=n2", "-e", "FAULTLINE_NODE_DIR=/", "fl-c1-n2", "runuser", "-u", "pg", "--", "id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := r.Process(tc.node, tc.cmd)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.Argv[1:], tc.want) {
				t.Errorf("argv\n%q\nwant\n%q", p.Argv[1:], tc.want)
			}
		})
	}
	p, _ := r.Interactive("n1", control.Cmd{Args: []string{"bash"}})
	if p.Argv[2] != "-i" || p.Argv[3] != "-t" || !p.Foreground {
		t.Errorf("interactive: %q", p.Argv)
	}
}

func TestUnknownNode(t *testing.T) {
	r := testRemote(t)
	ctx := context.Background()
	_, err := r.Exec(ctx, "n3", control.Cmd{Args: []string{"true"}})
	if !errors.Is(err, control.ErrUnknownNode) || err.Error() != `unknown node "n3" (cluster c1 has n1, n2)` {
		t.Errorf("Exec: %v", err)
	}
	if err := r.Upload(ctx, "n3", "/etc/hostname", "x"); !errors.Is(err, control.ErrUnknownNode) {
		t.Errorf("Upload: %v", err)
	}
	if err := r.Download(ctx, "n3", "x", "/tmp/x"); !errors.Is(err, control.ErrUnknownNode) {
		t.Errorf("Download: %v", err)
	}
	if _, err := New("c", []Node{{Name: "n1", Container: "a"}, {Name: "n1", Container: "b"}}); err == nil {
		t.Error("duplicate node accepted")
	}
	if _, err := New("c", []Node{{Name: "n1"}}); err == nil {
		t.Error("node without container accepted")
	}
}

func TestDockerErr(t *testing.T) {
	for _, tc := range []struct {
		stderr string
		code   int
		want   string
	}{
		{"Error response from daemon: No such container: fl-x-n1\n", -1, "n1: true: exit -1: docker: No such container: fl-x-n1"},
		{"Error response from daemon: Container abc is not running\n", -1, "n1: true: exit -1: docker: Container abc is not running"},
		{"plain failure\n", 1, "n1: true: exit 1: plain failure"},
	} {
		err := dockerErr(&control.ExitError{Node: "n1", Command: "true", ExitCode: 1, Stderr: tc.stderr})
		var ee *control.ExitError
		if !errors.As(err, &ee) || ee.ExitCode != tc.code || err.Error() != tc.want {
			t.Errorf("%q: %v (code %d), want %q", tc.stderr, err, ee.ExitCode, tc.want)
		}
	}
	if err := dockerErr(nil); err != nil {
		t.Errorf("nil: %v", err)
	}
	if !strings.Contains(cpErr(&control.ExitError{Stderr: "Error response from daemon: Could not find the file /x in container c\n", ExitCode: 1}).Error(), "docker cp: Could not find the file /x") {
		t.Error("cpErr")
	}
}
