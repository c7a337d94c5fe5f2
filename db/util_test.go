package db

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/control/local"
)

// With FAULTLINE_TEST_ROLE=listen the test binary is a daemon that listens
// on FAULTLINE_TEST_ADDR and logs what it does.
func TestMain(m *testing.M) {
	if os.Getenv("FAULTLINE_TEST_ROLE") == "listen" {
		ln, err := net.Listen("tcp4", os.Getenv("FAULTLINE_TEST_ADDR"))
		if err != nil {
			fmt.Println("listen:", err)
			os.Exit(1)
		}
		fmt.Println("listening on", ln.Addr())
		for {
			c, err := ln.Accept()
			if err != nil {
				os.Exit(1)
			}
			c.Close()
		}
	}
	os.Exit(m.Run())
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestDaemonLifecycle(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("skipping: needs /proc")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := local.New()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	port := freePort(t)
	o := DaemonOpts{
		Bin:     self,
		Env:     map[string]string{"FAULTLINE_TEST_ROLE": "listen", "FAULTLINE_TEST_ADDR": fmt.Sprintf("127.0.0.1:%d", port), "GORACE": "atexit_sleep_ms=0"},
		Dir:     dir,
		Logfile: filepath.Join(dir, "log", "d.log"),
		Pidfile: filepath.Join(dir, "run", "d.pid"),
	}
	started, err := StartDaemon(ctx, r, "n1", o)
	if err != nil || !started {
		t.Fatalf("StartDaemon = %v, %v", started, err)
	}
	t.Cleanup(func() { StopDaemon(context.Background(), r, "n1", o.Pidfile, 0) })
	if started, err := StartDaemon(ctx, r, "n1", o); err != nil || started {
		t.Errorf("second StartDaemon = %v, %v; want already running", started, err)
	}
	if err := AwaitTCP(ctx, r, "n1", "127.0.0.1", port); err != nil {
		t.Fatal(err)
	}
	pidb, _ := os.ReadFile(o.Pidfile)
	pid := strings.TrimSpace(string(pidb))
	// The daemon runs in a session of its own, in Dir.
	if cwd, _ := os.Readlink("/proc/" + pid + "/cwd"); cwd != dir {
		t.Errorf("daemon cwd %q, want %q", cwd, dir)
	}
	if err := Signal(ctx, r, "n1", o.Pidfile, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// A stopped daemon still stops: StopDaemon resumes it after SIGTERM.
	start := time.Now()
	if err := StopDaemon(ctx, r, "n1", o.Pidfile, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("StopDaemon of a daemon that dies on SIGTERM took %v", d)
	}
	if _, err := os.Stat(o.Pidfile); !os.IsNotExist(err) {
		t.Errorf("pidfile still there: %v", err)
	}
	if err := AwaitExit(ctx, r, "n1", o.Pidfile); err != nil {
		t.Errorf("AwaitExit after stop: %v", err)
	}
	if err := StopDaemon(ctx, r, "n1", o.Pidfile, time.Second); err != nil {
		t.Errorf("StopDaemon without pidfile: %v", err)
	}
	logs, err := DownloadLogs(ctx, r, "n1", []string{o.Logfile, filepath.Join(dir, "nope.log")}, filepath.Join(dir, "store", "n1"))
	if err != nil || len(logs) != 1 {
		t.Fatalf("DownloadLogs = %v, %v", logs, err)
	}
	b, _ := os.ReadFile(logs[0])
	if !strings.Contains(string(b), "faultline: starting "+self) || !strings.Contains(string(b), "listening on 127.0.0.1:") {
		t.Errorf("log:\n%s", b)
	}
}

func TestAwaitTimesOut(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := AwaitTCP(ctx, local.New(), "n1", "127.0.0.1", freePort(t))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "not open") {
		t.Errorf("err = %v", err)
	}
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "self.pid")
	os.WriteFile(pidfile, []byte(fmt.Sprint(os.Getpid())), 0o644)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	if err := AwaitExit(ctx2, local.New(), "n1", pidfile); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("AwaitExit of a live process: %v", err)
	}
	if err := Signal(context.Background(), local.New(), "n1", filepath.Join(dir, "none.pid"), syscall.SIGCONT); err == nil || !strings.Contains(err.Error(), "no pidfile") {
		t.Errorf("Signal without pidfile: %v", err)
	}
}

func TestStartDaemonNeedsFiles(t *testing.T) {
	if _, err := StartDaemon(context.Background(), local.New(), "n1", DaemonOpts{Bin: "true"}); err == nil {
		t.Error("StartDaemon without logfile and pidfile accepted")
	}
}

// writeTarGz writes a tarball holding files under top/ (or at the root when
// top is "").
func writeTarGz(t *testing.T, path, top string, files map[string]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	if top != "" {
		tw.WriteHeader(&tar.Header{Name: top + "/", Typeflag: tar.TypeDir, Mode: 0o755})
	}
	for name, body := range files {
		if top != "" {
			name = top + "/" + name
		}
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	f.Close()
}

func TestInstallArchive(t *testing.T) {
	ctx := context.Background()
	cache := t.TempDir()
	r := local.New()
	dir := t.TempDir()
	one := filepath.Join(dir, "app-1.0.tar.gz")
	writeTarGz(t, one, "app-1.0", map[string]string{"bin/app": "#!/bin/sh\necho app\n", "README": "hi"})
	flat := filepath.Join(dir, "flat.tgz")
	writeTarGz(t, flat, "", map[string]string{"a": "A", "b": "B"})
	bin := filepath.Join(dir, "tool")
	os.WriteFile(bin, []byte("#!/bin/sh\necho tool\n"), 0o644)

	dest := filepath.Join(dir, "opt", "app")
	if err := installArchive(ctx, r, "n1", "file://"+one, dest, cache); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "bin", "app")); string(b) != "#!/bin/sh\necho app\n" {
		t.Errorf("single top folder not stripped: %q", b)
	}
	// Installing again replaces dest (no stale files).
	os.WriteFile(filepath.Join(dest, "stale"), nil, 0o644)
	if err := installArchive(ctx, r, "n1", "file://"+flat, dest, cache); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dest)
	if len(ents) != 2 {
		t.Errorf("flat archive: %v", ents)
	}
	toolDest := filepath.Join(dir, "opt", "bin", "tool")
	if err := installArchive(ctx, r, "n1", "file://"+bin, toolDest, cache); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(toolDest); err != nil || st.Mode()&0o100 == 0 {
		t.Errorf("plain file not installed executable: %v %v", st, err)
	}
	if err := installArchive(ctx, r, "n1", "ftp://x/y", dest, cache); err == nil {
		t.Error("ftp URL accepted")
	}
	if err := installArchive(ctx, r, "n1", "file://"+filepath.Join(dir, "missing.tgz"), dest, cache); err == nil {
		t.Error("missing file accepted")
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "opt")); len(ents) != 2 {
		t.Errorf("temporary folders left in opt: %v", ents)
	}
}

func TestInstallArchiveHTTP(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv(EnvArchiveUser, "")
	t.Setenv(EnvArchiveToken, "")
	dir := t.TempDir()
	arch := filepath.Join(dir, "srv.tar.gz")
	writeTarGz(t, arch, "srv", map[string]string{"x": "X"})
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		hits.Add(1)
		if u, p, ok := req.BasicAuth(); !ok || u != "bob" || p != "s3cret" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		http.ServeFile(w, req, arch)
	}))
	defer srv.Close()
	ctx := context.Background()
	r := local.New()
	cache := t.TempDir()
	dest := filepath.Join(dir, "out")
	err := installArchive(ctx, r, "n1", srv.URL+"/srv.tar.gz", dest, cache)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("without credentials: %v", err)
	}
	u := strings.Replace(srv.URL, "http://", "http://bob:s3cret@", 1) + "/srv.tar.gz"
	if err := installArchive(ctx, r, "n1", u, dest, cache); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "x")); string(b) != "X" {
		t.Errorf("installed %q", b)
	}
	t.Setenv(EnvArchiveUser, "bob")
	t.Setenv(EnvArchivePassword, "s3cret")
	if err := installArchive(ctx, r, "n1", srv.URL+"/srv.tar.gz", dest, cache); err != nil {
		t.Fatal(err)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("%d downloads, want 2 (the third is cached)", n)
	}
	// Errors never show the password.
	bad := strings.Replace(srv.URL, "http://", "http://bob:hunter2@", 1) + "/other.tar.gz"
	if err := installArchive(ctx, r, "n1", bad, dest, cache); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("err = %v", err)
	}
}

// fakeRemote answers Exec from a table and records the commands.
type fakeRemote struct {
	cmds    []string
	answers map[string]fakeAnswer // by prefix of the command line
}

type fakeAnswer struct {
	stdout string
	code   int
}

func (f *fakeRemote) Exec(_ context.Context, node string, c control.Cmd) (control.Result, error) {
	line := c.String()
	f.cmds = append(f.cmds, line)
	for p, a := range f.answers {
		if strings.HasPrefix(line, p) {
			res := control.Result{Stdout: a.stdout, ExitCode: a.code}
			if a.code != 0 {
				return res, &control.ExitError{Node: node, Command: line, ExitCode: a.code}
			}
			return res, nil
		}
	}
	return control.Result{}, nil
}
func (f *fakeRemote) Upload(context.Context, string, string, string) error   { return nil }
func (f *fakeRemote) Download(context.Context, string, string, string) error { return nil }
func (f *fakeRemote) Close() error                                           { return nil }

type sharedFake struct {
	fakeRemote
	host *fakeRemote
}

func (s *sharedFake) ExecHost(ctx context.Context, cmd control.Cmd) (control.Result, error) {
	return s.host.Exec(ctx, "host", cmd)
}

func TestInstallPackages(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pkgs    []string
		answers map[string]fakeAnswer
		want    []string
		err     string
	}{
		{"all installed", []string{"curl", "jq"},
			map[string]fakeAnswer{"dpkg-query": {stdout: "curl ii \njq ii \n"}},
			[]string{"dpkg-query -W -f '${Package} ${db:Status-Abbrev}\\n' curl jq"}, ""},
		{"one missing", []string{"curl", "etcd-server=3.4.23-4", "libc6:amd64"},
			map[string]fakeAnswer{"dpkg-query": {stdout: "curl ii \netcd-server ii \nlibc6 rc \n", code: 1}},
			[]string{
				"dpkg-query -W -f '${Package} ${db:Status-Abbrev}\\n' curl etcd-server libc6:amd64",
				"env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 etcd-server=3.4.23-4 libc6:amd64",
			}, ""},
		{"update and retry", []string{"jq"},
			map[string]fakeAnswer{"dpkg-query": {code: 1}, "env DEBIAN_FRONTEND=noninteractive apt-get install": {code: 100}},
			[]string{
				"dpkg-query -W -f '${Package} ${db:Status-Abbrev}\\n' jq",
				"env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 jq",
				"env DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=300",
				"env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 jq",
			}, "installing jq"},
		{"no dpkg", []string{"jq"},
			map[string]fakeAnswer{"dpkg-query": {code: 127}}, nil, "needs a Debian node"},
		{"bad name", []string{"jq; rm -rf /"}, nil, nil, "bad package name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host := &fakeRemote{answers: tc.answers}
			r := &sharedFake{host: host}
			err := InstallPackages(context.Background(), r, "n1", tc.pkgs...)
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
			if len(r.cmds) != 0 {
				t.Errorf("ran on the node, not the shared host: %q", r.cmds)
			}
			if tc.want != nil && strings.Join(host.cmds, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("commands:\n%s\nwant:\n%s", strings.Join(host.cmds, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestInstallPackagesLocal(t *testing.T) {
	if _, err := os.Stat("/var/lib/dpkg/status"); err != nil {
		t.Skip("skipping: not a Debian machine")
	}
	// coreutils is always installed: nothing to do, and no apt-get runs.
	if err := InstallPackages(context.Background(), local.New(), "n1", "coreutils"); err != nil {
		t.Fatal(err)
	}
}

func TestScriptErrorsAreShort(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "bad.pid")
	os.WriteFile(pidfile, []byte("not-a-pid"), 0o644)
	err := StopDaemon(context.Background(), local.New(), "n1", pidfile, 0)
	var ee *control.ExitError
	if !errors.As(err, &ee) || ee.Node != "n1" || ee.ExitCode != 1 {
		t.Fatalf("err = %#v", err)
	}
	want := fmt.Sprintf("stopping %s: n1: stop-daemon %s: exit 1: pidfile %s holds no process id: not-a-pid", pidfile, pidfile, pidfile)
	if err.Error() != want {
		t.Errorf("err = %q\nwant  %q", err, want)
	}
}
