package db

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faultline/faultline/control"
)

// hostsRemote runs the Debian hosts scripts against a file of the test's by
// rewriting /etc/hosts in the script.
type hostsRemote struct {
	control.Remote
	file string
}

func (h hostsRemote) Exec(ctx context.Context, node string, cmd control.Cmd) (control.Result, error) {
	cmd.Shell = strings.ReplaceAll(cmd.Shell, "/etc/hosts", h.file)
	cmd.Sudo = false
	argv, env, err := control.LocalArgv(cmd, os.Getuid())
	if err != nil {
		return control.Result{}, err
	}
	return control.RunLocal(ctx, control.LocalProcess{Node: node, Argv: argv, Env: env})
}

func TestDebianHostsBlock(t *testing.T) {
	f := filepath.Join(t.TempDir(), "hosts")
	os.WriteFile(f, []byte("127.0.0.1 localhost\n"), 0o644)
	env := &control.Env{Nodes: []string{"n1", "n2"}, Remote: hostsRemote{file: f}}
	d := Debian{Addrs: map[string]string{"n1": "10.0.0.1", "n2": "10.0.0.2"}}
	for i := 0; i < 2; i++ { // idempotent
		if err := d.Setup(context.Background(), env, "n1"); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(f)
	if got := string(b); strings.Count(got, "10.0.0.2 n2") != 1 || !strings.HasPrefix(got, "127.0.0.1 localhost\n") {
		t.Fatalf("hosts after setup:\n%s", got)
	}
	if err := d.Teardown(context.Background(), env, "n1"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(f); string(b) != "127.0.0.1 localhost\n" {
		t.Fatalf("hosts after teardown:\n%s", b)
	}
}
