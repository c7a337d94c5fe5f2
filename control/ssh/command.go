package ssh

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/faultline/faultline/control"
)

// sudoMode is how a node's sudo is used.
type sudoMode int

const (
	sudoUnknown  sudoMode = iota
	sudoNoPasswd          // sudo -n works
	sudoPassword          // sudo wants the password on its input
)

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// remoteCmd is a command ready to send: the line sshd runs and whether the
// sudo password goes first on its input.
type remoteCmd struct {
	line       string
	sendPasswd bool
}

// buildCommand renders cmd for a node whose login user is user, whose
// working directory is home ("" for the login directory) and whose
// per-node variables are nodeEnv. mode says how sudo is used when cmd
// needs it.
func buildCommand(cmd control.Cmd, user, home string, nodeEnv map[string]string, mode sudoMode) (remoteCmd, error) {
	var body string
	switch {
	case cmd.Shell != "" && len(cmd.Args) > 0:
		return remoteCmd{}, fmt.Errorf("command has both Shell and Args")
	case cmd.Shell != "":
		body = "exec sh -c " + control.Quote(cmd.Shell)
	case len(cmd.Args) > 0:
		words := make([]string, len(cmd.Args))
		for i, a := range cmd.Args {
			words[i] = control.Quote(a)
		}
		body = "exec " + strings.Join(words, " ")
	default:
		return remoteCmd{}, fmt.Errorf("empty command")
	}
	var b strings.Builder
	if dir := control.NodePath(home, cmd.Dir); dir != "" {
		b.WriteString("cd " + control.Quote(dir) + " || exit 1; ")
	}
	vars := map[string]string{}
	for k, v := range nodeEnv {
		vars[k] = v
	}
	for k, v := range cmd.Env {
		vars[k] = v
	}
	if len(vars) > 0 {
		keys := make([]string, 0, len(vars))
		for k := range vars {
			if !envNameRE.MatchString(k) {
				return remoteCmd{}, fmt.Errorf("bad environment variable name %q", k)
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("export")
		for _, k := range keys {
			b.WriteString(" " + k + "=" + control.Quote(vars[k]))
		}
		b.WriteString("; ")
	}
	b.WriteString(body)
	inner := b.String()

	target := cmd.SudoUser
	if target == "" {
		target = "root"
	}
	switch {
	case !cmd.Sudo || user == target:
		return remoteCmd{line: "sh -c " + control.Quote(inner)}, nil
	case user == "root":
		return remoteCmd{line: "runuser -u " + control.Quote(target) + " -- sh -c " + control.Quote(inner)}, nil
	}
	as := ""
	if cmd.SudoUser != "" {
		as = "-u " + control.Quote(cmd.SudoUser) + " "
	}
	if mode == sudoPassword {
		// -k ignores cached credentials, so that sudo always reads the
		// password line and the command's input starts after it.
		return remoteCmd{line: "sudo -S -k -p '' " + as + "-- sh -c " + control.Quote(inner), sendPasswd: true}, nil
	}
	return remoteCmd{line: "sudo -n " + as + "-- sh -c " + control.Quote(inner)}, nil
}

// needsSudo reports whether cmd goes through sudo for login user.
func needsSudo(cmd control.Cmd, user string) bool {
	target := cmd.SudoUser
	if target == "" {
		target = "root"
	}
	return cmd.Sudo && user != "root" && user != target
}

// uploadScript writes its input to $1 atomically with mode $2, making the
// parent directories.
const uploadScript = `f=$1 m=$2
d=$(dirname -- "$f") || exit 1
mkdir -p -- "$d" || exit 1
t=$(mktemp "$d/.faultline-upload.XXXXXX") || exit 1
trap 'rm -f -- "$t"' EXIT
cat > "$t" || exit 1
chmod "$m" "$t" || exit 1
mv -f -- "$t" "$f" || exit 1
trap - EXIT
`

// downloadScript prints the permission bits of $1 (octal) on one line,
// then its contents; exit 2 means no such file.
const downloadScript = `f=$1
if [ ! -e "$f" ]; then echo "$f: No such file or directory" >&2; exit 2; fi
if [ ! -f "$f" ]; then echo "$f: not a regular file" >&2; exit 1; fi
[ -r "$f" ] || { echo "$f: Permission denied" >&2; exit 1; }
stat -c %a -- "$f" || exit 1
exec cat -- "$f"
`
