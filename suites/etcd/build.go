package etcd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// serverModule is the etcd server's Go module.
const serverModule = "go.etcd.io/etcd/server/v3"

var versionRE = regexp.MustCompile(`^v?(3\.[0-9]+\.[0-9]+)$`)

// ParseVersion checks an etcd version such as "3.7.3" (or "v3.7.3") and
// returns it without the v.
func ParseVersion(s string) (string, error) {
	m := versionRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", fmt.Errorf("etcd version %q: want 3.MINOR.PATCH, e.g. 3.7.3", s)
	}
	return m[1], nil
}

// BuildCacheDir is where built etcd binaries are kept: <user cache
// dir>/faultline/etcd (e.g. ~/.cache/faultline/etcd).
func BuildCacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder for built etcd binaries: %w", err)
	}
	return filepath.Join(base, "faultline", "etcd"), nil
}

// BuildEtcd returns an etcd binary of the given version built from the Go
// module proxy, building it the first time (about a minute on 2 cores) and
// keeping it in BuildCacheDir()/v<version>/etcd. It builds in a temporary
// module that requires go.etcd.io/etcd/server/v3 at that version (`go
// install` of the server module is refused because of its replace
// directives), statically (CGO_ENABLED=0) so the binary runs on any Linux
// node of the same architecture. Concurrent calls build once. It needs the
// go command on PATH.
func BuildEtcd(ctx context.Context, version string, log *slog.Logger) (string, error) {
	v, err := ParseVersion(version)
	if err != nil {
		return "", err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cache, err := BuildCacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "v"+v)
	bin := filepath.Join(dir, "etcd")
	if usable(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	unlock, err := flock(ctx, filepath.Join(dir, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if usable(bin) { // built by someone else meanwhile
		return bin, nil
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("building etcd %s needs the go command: %w", v, err)
	}
	work, err := os.MkdirTemp("", "faultline-etcd-build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	run := func(args ...string) error {
		cmd := exec.CommandContext(ctx, goBin, args...)
		cmd.Dir, cmd.Env = work, env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building etcd %s: go %s: %w\n%s", v, strings.Join(args, " "), err, tail(out.String(), 2000))
		}
		return nil
	}
	began := time.Now()
	log.Info("building etcd from the Go module proxy (once; cached afterwards)", "version", v, "cache", bin)
	if err := run("mod", "init", "faultline.local/etcd-build"); err != nil {
		return "", err
	}
	if err := run("get", serverModule+"@v"+v); err != nil {
		return "", err
	}
	tmp := filepath.Join(dir, fmt.Sprintf(".etcd-%d", os.Getpid()))
	defer os.Remove(tmp)
	if err := run("build", "-trimpath", "-o", tmp, serverModule); err != nil {
		return "", err
	}
	out, err := exec.CommandContext(ctx, tmp, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), v) {
		return "", fmt.Errorf("built etcd does not report version %s: %v: %s", v, err, tail(string(out), 500))
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	log.Info("built etcd", "version", v, "path", bin, "took", time.Since(began).Round(time.Second))
	return bin, nil
}

func usable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 && st.Size() > 0
}

// flock takes an exclusive lock on path, waiting until ctx ends.
func flock(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for another build of etcd (%s): %w", path, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
