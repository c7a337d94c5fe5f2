package db

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/faultline/faultline/control"
)

// SharedHost is a Remote whose nodes share one machine's filesystem and
// package database, such as network-namespace nodes (which also have no
// route out): InstallPackages then runs once there, through ExecHost, with
// that machine's network.
type SharedHost interface {
	ExecHost(ctx context.Context, cmd control.Cmd) (control.Result, error)
}

// execFunc runs a command on one node.
type execFunc func(ctx context.Context, node string, cmd control.Cmd) (control.Result, error)

var pkgRE = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]*(:[a-z0-9-]+)?(=[A-Za-z0-9.+~:-]+)?$`)

// aptEnv keeps apt-get and dpkg from asking questions.
var aptEnv = map[string]string{"DEBIAN_FRONTEND": "noninteractive"}

// aptLock makes apt wait for the dpkg lock (parallel Setup on several nodes
// of one machine) instead of failing at once.
var aptLock = []string{"-o", "DPkg::Lock::Timeout=300"}

// InstallPackages installs the Debian packages pkgs on node with apt-get,
// skipping those already installed. A package may carry a version
// ("etcd-server=3.4.23-4") or an architecture ("libc6:amd64"). When the
// package lists are missing or stale it runs apt-get update and tries once
// more. On a SharedHost it installs on the shared machine instead.
func InstallPackages(ctx context.Context, r control.Remote, node string, pkgs ...string) error {
	for _, p := range pkgs {
		if !pkgRE.MatchString(p) {
			return fmt.Errorf("%s: bad package name %q", node, p)
		}
	}
	if len(pkgs) == 0 {
		return nil
	}
	exec := execFunc(r.Exec)
	if h, ok := r.(SharedHost); ok {
		exec = func(ctx context.Context, _ string, cmd control.Cmd) (control.Result, error) {
			return h.ExecHost(ctx, cmd)
		}
	}
	missing, err := missingPackages(ctx, exec, node, pkgs)
	if err != nil {
		return err
	}
	if len(missing) == 0 {
		return nil
	}
	install := control.Cmd{
		Args: append(append([]string{"apt-get", "install", "-y", "-q", "--no-install-recommends"}, aptLock...), missing...),
		Env:  aptEnv,
		Sudo: true,
	}
	if _, err := exec(ctx, node, install); err != nil {
		update := control.Cmd{Args: append([]string{"apt-get", "update", "-q"}, aptLock...), Env: aptEnv, Sudo: true}
		if _, uerr := exec(ctx, node, update); uerr != nil {
			return fmt.Errorf("installing %s: %w", strings.Join(missing, " "), err)
		}
		if _, err := exec(ctx, node, install); err != nil {
			return fmt.Errorf("installing %s: %w", strings.Join(missing, " "), err)
		}
	}
	return nil
}

// missingPackages returns the packages of pkgs that dpkg does not list as
// installed.
func missingPackages(ctx context.Context, exec execFunc, node string, pkgs []string) ([]string, error) {
	names := make([]string, len(pkgs))
	for i, p := range pkgs {
		names[i], _, _ = strings.Cut(p, "=")
	}
	res, err := exec(ctx, node, control.Cmd{
		Args: append([]string{"dpkg-query", "-W", "-f", `${Package} ${db:Status-Abbrev}\n`}, names...),
	})
	var ee *control.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode == 1 && ee.Err == nil) {
		// Exit 1 only says some package is unknown to dpkg.
		return nil, fmt.Errorf("checking installed packages (InstallPackages needs a Debian node): %w", err)
	}
	installed := map[string]bool{}
	for _, l := range strings.Split(res.Stdout, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && strings.HasPrefix(f[1], "ii") {
			installed[f[0]] = true
		}
	}
	var missing []string
	for i, p := range pkgs {
		base, _, _ := strings.Cut(names[i], ":")
		_, pinned, _ := strings.Cut(p, "=")
		// A version pin always goes to apt-get, which does nothing when
		// that version is installed already.
		if !installed[base] || pinned != "" {
			missing = append(missing, p)
		}
	}
	return missing, nil
}
