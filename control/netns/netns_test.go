package netns

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
	if _, err := LookPath("ip"); err != nil {
		t.Skip("skipping: no ip command (iproute2)")
	}
	r, err := New("c1", []Node{
		{Name: "n1", Namespace: "fl-c1-n1", Dir: "/state/c1/nodes/n1", Addr: "10.213.0.11"},
		{Name: "n2", Namespace: "fl-c1-n2", Dir: "/state/c1/nodes/n2", Addr: "10.213.0.12"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestProcess(t *testing.T) {
	r := testRemote(t)
	p, err := r.Process("n2", control.Cmd{Args: []string{"ls", "-l"}, Dir: "data", Env: map[string]string{"A": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{r.ip, "netns", "exec", "fl-c1-n2", "ls", "-l"}; !reflect.DeepEqual(p.Argv, want) {
		t.Errorf("argv %q, want %q", p.Argv, want)
	}
	if p.Dir != "/state/c1/nodes/n2/data" {
		t.Errorf("dir %q", p.Dir)
	}
	env := strings.Join(p.Env, "\n")
	for _, v := range []string{"FAULTLINE_CLUSTER=c1", "FAULTLINE_NODE=n2", "FAULTLINE_NODE_DIR=/state/c1/nodes/n2", "A=1"} {
		if !strings.Contains(env, v) {
			t.Errorf("environment lacks %s", v)
		}
	}
	p, _ = r.Process("n1", control.Cmd{Shell: "echo hi", Dir: "/abs"})
	if p.Dir != "/abs" || p.Argv[len(p.Argv)-1] != "echo hi" {
		t.Errorf("shell process: %q in %q", p.Argv, p.Dir)
	}
	if got := r.Nodes(); !reflect.DeepEqual(got, []string{"n1", "n2"}) {
		t.Errorf("nodes %v", got)
	}
}

func TestUnknownNode(t *testing.T) {
	r := testRemote(t)
	ctx := context.Background()
	_, err := r.Exec(ctx, "n3", control.Cmd{Args: []string{"true"}})
	if !errors.Is(err, control.ErrUnknownNode) {
		t.Errorf("Exec: %v", err)
	}
	if want := `unknown node "n3" (cluster c1 has n1, n2)`; err.Error() != want {
		t.Errorf("Exec: %v, want %q", err, want)
	}
	if err := r.Upload(ctx, "n3", "/etc/hostname", "x"); !errors.Is(err, control.ErrUnknownNode) {
		t.Errorf("Upload: %v", err)
	}
	if err := r.Download(ctx, "n3", "x", "/tmp/x"); !errors.Is(err, control.ErrUnknownNode) {
		t.Errorf("Download: %v", err)
	}
}

func TestNewRejects(t *testing.T) {
	if _, err := LookPath("ip"); err != nil {
		t.Skip("skipping: no ip command (iproute2)")
	}
	if _, err := New("c", []Node{{Name: "n1", Namespace: "a", Dir: "/x"}, {Name: "n1", Namespace: "b", Dir: "/y"}}); err == nil {
		t.Error("duplicate node accepted")
	}
	if _, err := New("c", []Node{{Name: "n1"}}); err == nil {
		t.Error("node without namespace accepted")
	}
}
