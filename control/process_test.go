package control

import (
	"reflect"
	"testing"
)

func TestArgv(t *testing.T) {
	for _, tc := range []struct {
		name string
		cmd  Cmd
		uid  int
		argv []string
		env  []string
	}{
		{"plain", Cmd{Args: []string{"ls", "-l"}, Env: map[string]string{"B": "1", "A": "2"}}, 1000,
			[]string{"ls", "-l"}, []string{"A=2", "B=1"}},
		{"sudo as user", Cmd{Args: []string{"ls"}, Sudo: true, Env: map[string]string{"A": "x y"}}, 1000,
			[]string{"sudo", "-n", "--", "env", "A=x y", "ls"}, nil},
		{"sudo -u", Cmd{Shell: "id", Sudo: true, SudoUser: "pg"}, 1000,
			[]string{"sudo", "-n", "-u", "pg", "--", "sh", "-c", "id"}, nil},
		{"sudo as root", Cmd{Args: []string{"ls"}, Sudo: true}, 0,
			[]string{"ls"}, []string{}},
		{"root to user", Cmd{Args: []string{"ls"}, Sudo: true, SudoUser: "pg"}, 0,
			[]string{"runuser", "-u", "pg", "--", "ls"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			argv, env, err := LocalArgv(tc.cmd, tc.uid)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(argv, tc.argv) || len(env) != len(tc.env) || len(env) > 0 && !reflect.DeepEqual(env, tc.env) {
				t.Errorf("Argv = %q %q, want %q %q", argv, env, tc.argv, tc.env)
			}
		})
	}
	if _, _, err := LocalArgv(Cmd{Args: []string{"x"}, Env: map[string]string{"A=B": "1"}}, 0); err == nil {
		t.Error("bad variable name accepted")
	}
}
