package web

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faultline/faultline/report"
	"github.com/faultline/faultline/runstore"
)

// startServer runs Serve on a free loopback port until the test ends.
func startServer(t *testing.T, storeDir string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, Options{Store: storeDir, Listener: ln}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// rawGet sends a request line as is (no client-side cleaning of the path)
// and returns the status code and body.
func rawGet(t *testing.T, addr, target string) (int, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, addr)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s: %v", target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// traversals are requests that try to leave the store.
var traversals = []string{
	"/files/../../etc/passwd",
	"/files/../secret.txt",
	"/files/%2e%2e/%2e%2e/etc/passwd",
	"/files/%2E%2E/secret.txt",
	"/files/..%2f..%2fetc%2fpasswd",
	"/files/..%2Fsecret.txt",
	"/files/%2fetc%2fpasswd",
	"/files//etc/passwd",
	"/files/./../secret.txt",
	"/files/..\\secret.txt",
	"/files/..%5csecret.txt",
	"/files/memory-register/%00/passwd",
	"/files/etc/passwd",
	"/files/escape-dir/secret.txt",
	"/files/memory-register/latest/escape-file",
	"/files/latest/../../secret.txt",
	"/run/../../etc/passwd",
	"/run/%2e%2e/secret.txt",
	"/run/escape-dir/secret.txt",
	"/run/memory-register/latest/escape-file",
	"/zip/..",
	"/zip/%2e%2e",
	"/zip/escape-dir",
	"/zip/etc",
	"http://127.0.0.1/files/../../etc/passwd",
	"/files/.%2e/.%2e/secret.txt",
}

func leaks(body string) bool {
	return strings.Contains(body, secretText) || strings.Contains(body, "root:x:0:0") || strings.Contains(body, "secret.txt")
}

func TestTraversalOverTheWire(t *testing.T) {
	ts := newTestStore(t)
	addr := startServer(t, ts.dir)
	for _, target := range traversals {
		code, body := rawGet(t, addr, target)
		if code == http.StatusOK || leaks(body) {
			t.Errorf("GET %s: %d, leaked=%v", target, code, leaks(body))
		}
		if code != http.StatusBadRequest && code != http.StatusForbidden && code != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 400, 403 or 404", target, code)
		}
	}
	// The same server serves what is inside, also through store/latest.
	if code, body := rawGet(t, addr, "/files/memory-register/latest/test.json"); code != 200 || !strings.Contains(body, "memory-register") {
		t.Errorf("latest link inside the store: %d", code)
	}
}

func TestTraversalHandler(t *testing.T) {
	ts := newTestStore(t)
	h := Handler(ts.dir)
	for _, target := range traversals {
		if strings.HasPrefix(target, "http://") {
			continue
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RequestURI = target
		u, err := url.ParseRequestURI(target)
		if err != nil {
			continue // the server would not accept it either
		}
		req.URL = u
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK || leaks(rec.Body.String()) {
			t.Errorf("%s: %d, leaked=%v", target, rec.Code, leaks(rec.Body.String()))
		}
	}
}

func TestResolve(t *testing.T) {
	ts := newTestStore(t)
	s := newServer(ts.dir, slog.New(slog.DiscardHandler), time.Second)
	for _, tc := range []struct {
		rel  string
		want error
	}{
		{"", nil},
		{"latest", nil},
		{"memory-register/latest/other-test.json", nil},
		{"..", errBadPath},
		{"a/../b", errBadPath},
		{"/etc", errBadPath},
		{".", errBadPath},
		{"a\x00", errBadPath},
		{`a\b`, errBadPath},
		{"escape-dir", errOutside},
		{"etc", errOutside},
		{"memory-register/latest/escape-file", errOutside},
		{"missing", os.ErrNotExist},
	} {
		_, err := s.resolve(tc.rel)
		if tc.want == nil && err != nil || tc.want != nil && !errorsIs(err, tc.want) {
			t.Errorf("resolve(%q) = %v, want %v", tc.rel, err, tc.want)
		}
	}
}

func errorsIs(err, target error) bool {
	for e := err; e != nil; {
		if e == target || (target == os.ErrNotExist && os.IsNotExist(e)) {
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func relRun(t *testing.T, ts *testStore, which string) string {
	rel, err := filepath.Rel(ts.dir, ts.runs[which])
	if err != nil {
		t.Fatal(err)
	}
	return filepath.ToSlash(rel)
}

func TestPages(t *testing.T) {
	ts := newTestStore(t)
	h := Handler(ts.dir)
	valid := relRun(t, ts, "valid")
	hist, err := os.ReadFile(filepath.Join(ts.runs["valid"], runstore.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		method, target string
		hdr            map[string]string
		code           int
		contains       string
		header         [2]string
	}{
		{"GET", "/files/" + valid + "/history.jsonl", nil, 200, string(hist[:50]), [2]string{"Content-Type", "text/plain; charset=utf-8"}},
		{"GET", "/files/" + valid + "/history.jsonl", map[string]string{"Range": "bytes=0-9"}, 206, string(hist[:10]), [2]string{"Content-Range", fmt.Sprintf("bytes 0-9/%d", len(hist))}},
		{"HEAD", "/files/" + valid + "/history.jsonl", nil, 200, "", [2]string{"Content-Length", fmt.Sprint(len(hist))}},
		{"GET", "/files/" + relRun(t, ts, "invalid") + "/other-test.json", nil, 200, "memory-register", [2]string{}},
		{"GET", "/files/" + valid + "/latency-raw.svg", nil, 200, "<svg", [2]string{"Content-Type", "image/svg+xml"}},
		{"GET", "/files/" + valid, nil, 301, "", [2]string{"Location", "/files/" + strings.ReplaceAll(valid, "+", "+") + "/"}},
		{"GET", "/files/" + valid + "/", nil, 200, "timeline.html", [2]string{}},
		{"GET", "/files/", nil, 200, "memory-register/", [2]string{}},
		{"GET", "/run/" + valid + "/", nil, 200, "<h1>memory-register</h1>", [2]string{"Content-Type", "text/html; charset=utf-8"}},
		{"GET", "/run/" + valid + "/timeline.html", nil, 200, `id="data"`, [2]string{}},
		{"GET", "/run/" + valid, nil, 301, "", [2]string{}},
		{"GET", "/run/memory-register/", nil, 302, "", [2]string{"Location", "/?name=memory-register"}},
		{"GET", "/run/", nil, 302, "", [2]string{"Location", "/"}},
		{"GET", "/run/latest/", nil, 200, "faultline analyze", [2]string{}}, // the bare run: a listing
		{"GET", "/run/" + valid + "/n1/", nil, 200, "db.log", [2]string{}},
		{"GET", "/files/missing", nil, 404, "", [2]string{}},
		{"POST", "/", nil, 405, "", [2]string{"Allow", "GET, HEAD"}},
		{"GET", "/nowhere", nil, 404, "", [2]string{}},
		{"GET", "/", nil, 200, "Faultline runs", [2]string{"X-Content-Type-Options", "nosniff"}},
	}
	for _, tc := range cases {
		rec := get(t, h, tc.method, tc.target, tc.hdr)
		if rec.Code != tc.code {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.target, rec.Code, tc.code)
			continue
		}
		if !strings.Contains(rec.Body.String(), tc.contains) {
			t.Errorf("%s %s: body lacks %q", tc.method, tc.target, tc.contains)
		}
		if tc.header[0] != "" && rec.Header().Get(tc.header[0]) != tc.header[1] {
			t.Errorf("%s %s: %s = %q, want %q", tc.method, tc.target, tc.header[0], rec.Header().Get(tc.header[0]), tc.header[1])
		}
	}
}

// listedRuns returns the run folder names of a run list page, in order.
func listedRuns(body string) []string {
	re := regexp.MustCompile(`<a class="runlink" href="/run/[^/"]+/([^/"]+)/">`)
	var out []string
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

func TestRunList(t *testing.T) {
	ts := newTestStore(t)
	h := Handler(ts.dir)
	folder := func(which string) string { return filepath.Base(ts.runs[which]) }
	cases := []struct {
		query string
		want  []string
	}{
		{"", []string{folder("bare"), folder("unknown"), folder("invalid"), folder("valid")}},
		{"?sort=time&order=asc", []string{folder("valid"), folder("invalid"), folder("unknown"), folder("bare")}},
		{"?verdict=invalid", []string{folder("invalid")}},
		{"?verdict=none", []string{folder("bare")}},
		{"?name=etcd-append", []string{folder("bare"), folder("unknown")}},
		{"?q=register+read", []string{folder("invalid")}}, // the summary names the failing read
		{"?q=TIMEOUT", []string{folder("unknown")}},
		{"?sort=ops&order=asc", []string{folder("bare"), folder("unknown"), folder("invalid"), folder("valid")}},
		{"?sort=verdict", []string{folder("invalid"), folder("unknown"), folder("bare"), folder("valid")}},
		{"?sort=name&order=desc", []string{folder("invalid"), folder("valid"), folder("bare"), folder("unknown")}},
		{"?verdict=bogus&sort=bogus", []string{folder("bare"), folder("unknown"), folder("invalid"), folder("valid")}},
	}
	for _, tc := range cases {
		rec := get(t, h, "GET", "/"+tc.query, nil)
		if rec.Code != 200 {
			t.Fatalf("%s: %d", tc.query, rec.Code)
		}
		got := listedRuns(rec.Body.String())
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("/%s lists %v, want %v", tc.query, got, tc.want)
		}
	}
	body := get(t, h, "GET", "/", nil).Body.String()
	for _, want := range []string{">60<", ">40<", "not analysed", "can&#39;t read 3 from register 1", "4 of 4 runs"} {
		if !strings.Contains(body, want) {
			t.Errorf("run list lacks %q", want)
		}
	}
	// A changed results.json shows at once (the cache checks the files).
	res := filepath.Join(ts.runs["valid"], runstore.ResultsFile)
	must(t, os.WriteFile(res, []byte(invalidResults), 0o644))
	later := time.Now().Add(time.Hour)
	must(t, os.Chtimes(res, later, later))
	if got := listedRuns(get(t, h, "GET", "/?verdict=invalid", nil).Body.String()); len(got) != 2 {
		t.Errorf("after results.json changed, invalid runs: %v", got)
	}
}

func TestRunListMissingStore(t *testing.T) {
	rec := get(t, Handler(filepath.Join(t.TempDir(), "nope")), "GET", "/", nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "does not exist") {
		t.Errorf("%d %s", rec.Code, rec.Body.String())
	}
}

func TestRunListPaging(t *testing.T) {
	base := filepath.Join(t.TempDir(), "store")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ops := genOps(2, 1, 1)
	for i := range runsPerPage + 5 {
		writeRun(t, base, "many", t0.Add(time.Duration(i)*time.Second), ops, fmt.Sprintf(validResults, 2), false)
	}
	h := Handler(base)
	first := get(t, h, "GET", "/", nil).Body.String()
	second := get(t, h, "GET", "/?page=2", nil).Body.String()
	if n := len(listedRuns(first)); n != runsPerPage {
		t.Errorf("first page lists %d runs", n)
	}
	if n := len(listedRuns(second)); n != 5 || !strings.Contains(second, "page 2 of 2") {
		t.Errorf("second page lists %d runs", n)
	}
}

func TestZip(t *testing.T) {
	ts := newTestStore(t)
	h := Handler(ts.dir)
	valid := relRun(t, ts, "invalid")
	rec := get(t, h, "GET", "/zip/"+valid, nil)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/zip" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	if cd := rec.Header().Get("Content-Disposition"); !strings.Contains(cd, "memory-register-"+filepath.Base(ts.runs["invalid"])+".zip") {
		t.Errorf("Content-Disposition %q", cd)
	}
	zr, err := zip.NewReader(bytes.NewReader(rec.Body.Bytes()), int64(rec.Body.Len()))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	top := filepath.Base(ts.runs["invalid"])
	for _, f := range zr.File {
		names[f.Name] = true
		if f.Name == top+"/"+runstore.HistoryFile {
			rc, _ := f.Open()
			got, _ := io.ReadAll(rc)
			rc.Close()
			want, _ := os.ReadFile(filepath.Join(ts.runs["invalid"], runstore.HistoryFile))
			if !bytes.Equal(got, want) {
				t.Error("history.jsonl differs in the zip")
			}
		}
	}
	for _, want := range []string{runstore.HistoryFile, runstore.TestFile, report.IndexFile, report.TimelineFile, "n1/db.log", "other-test.json"} {
		if !names[top+"/"+want] {
			t.Errorf("zip lacks %s (has %v)", want, names)
		}
	}
	if names[top+"/escape-file"] || bytes.Contains(rec.Body.Bytes(), []byte(secretText)) {
		t.Error("the zip holds a file from outside the store")
	}
	if rec := get(t, h, "GET", "/zip/"+valid+"/history.jsonl", nil); rec.Code != 400 {
		t.Errorf("zip of a file: %d", rec.Code)
	}
}

// bigRun adds to a run folder bigfiles/zeros.bin, 32 MiB of zeros (sparse),
// and bigzip/random.gz, 12 MiB of random bytes (stored as is in zips, so
// that zipping it costs no compression).
func bigRun(t *testing.T, dir string) {
	must(t, os.MkdirAll(filepath.Join(dir, "bigfiles"), 0o755))
	must(t, os.MkdirAll(filepath.Join(dir, "bigzip"), 0o755))
	f, err := os.Create(filepath.Join(dir, "bigfiles", "zeros.bin"))
	must(t, err)
	must(t, f.Truncate(32<<20))
	must(t, f.Close())
	b := make([]byte, 12<<20)
	_, _ = rand.Read(b)
	must(t, os.WriteFile(filepath.Join(dir, "bigzip", "random.gz"), b, 0o644))
}

// TestClientDisconnectsMidDownload starts large downloads, reads a little
// and hangs up: the server goes on serving others and its goroutines go
// back to where they were.
func TestClientDisconnectsMidDownload(t *testing.T) {
	ts := newTestStore(t)
	bigRun(t, ts.runs["valid"])
	addr := startServer(t, ts.dir)
	valid := relRun(t, ts, "valid")
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}
	fetch := func(path string) int64 {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, err)
		}
		return n
	}
	fetch("/")
	time.Sleep(100 * time.Millisecond)
	base := runtime.NumGoroutine()
	for i := range 12 {
		target := "/files/" + valid + "/bigfiles/zeros.bin"
		if i%2 == 1 {
			target = "/zip/" + valid + "/bigzip"
		}
		c, err := net.Dial("tcp", addr)
		must(t, err)
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", target)
		buf := make([]byte, 64<<10)
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		c.Close() // hang up mid-download
	}
	// Others are served meanwhile, whole.
	if n := fetch("/files/" + valid + "/bigfiles/zeros.bin"); n != 32<<20 {
		t.Errorf("full download got %d bytes", n)
	}
	if n := fetch("/zip/" + valid + "/bigzip"); n < 12<<20 {
		t.Errorf("zip download got %d bytes", n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base+2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base+2 {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines, %d before the downloads: leak\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

// TestStalledReader: a client that stops reading is dropped after the
// write idle time; the handler returns.
func TestStalledReader(t *testing.T) {
	ts := newTestStore(t)
	bigRun(t, ts.runs["valid"])
	var active atomic.Int32
	s := newServer(ts.dir, slog.New(slog.DiscardHandler), 300*time.Millisecond)
	done := make(chan struct{}, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		active.Add(1)
		defer func() { active.Add(-1); done <- struct{}{} }()
		s.ServeHTTP(w, r)
	}))
	defer srv.Close()
	valid := relRun(t, ts, "valid")
	for _, target := range []string{"/files/" + valid + "/bigzip/random.gz", "/zip/" + valid + "/bigzip"} {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		must(t, err)
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", target)
		select {
		case <-done:
			c.Close()
		case <-time.After(15 * time.Second):
			t.Errorf("%s: the handler is still writing to a client that reads nothing", target)
			c.Close() // lets the handler end, so that the server can close
			<-done
		}
	}
	if n := active.Load(); n != 0 {
		t.Errorf("%d handlers still active", n)
	}
}

func TestServeAndCommand(t *testing.T) {
	ts := newTestStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, Options{Store: ts.dir, Listener: ln}) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	must(t, err)
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not stop")
	}
	if err := Serve(context.Background(), Options{Store: filepath.Join(ts.dir, "missing")}); err == nil {
		t.Error("Serve of a missing store did not fail")
	}
	srv := newHTTPServer(context.Background(), http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	if srv.ReadHeaderTimeout == 0 || srv.ReadTimeout == 0 || srv.IdleTimeout == 0 || srv.MaxHeaderBytes == 0 {
		t.Errorf("server without timeouts: %+v", srv)
	}

	var out, errb bytes.Buffer
	if code := Command(context.Background(), []string{"--bogus"}, &out, &errb); code != exitUsage {
		t.Errorf("bad flag: exit %d", code)
	}
	if code := Command(context.Background(), []string{"--store", filepath.Join(ts.dir, "missing")}, &out, &errb); code != exitUsage {
		t.Errorf("missing store: exit %d", code)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer busy.Close()
	if code := Command(context.Background(), []string{"--store", ts.dir, "--addr", busy.Addr().String()}, &out, &errb); code != exitUsage {
		t.Errorf("address in use: exit %d", code)
	}
	cctx, ccancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer ccancel()
	out.Reset()
	if code := Command(cctx, []string{"--store", ts.dir, "--addr", "127.0.0.1:0"}, &out, &errb); code != exitOK {
		t.Errorf("serve until cancelled: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "http://127.0.0.1:") {
		t.Errorf("no URL printed: %q", out.String())
	}
}

func TestNonLoopbackWarning(t *testing.T) {
	if isLoopback(&net.TCPAddr{IP: net.IPv4zero}) || !isLoopback(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}) || !isLoopback(&net.TCPAddr{IP: net.IPv6loopback}) {
		t.Error("isLoopback")
	}
}

// FuzzResolve: whatever the path, resolve either refuses it or returns a
// location inside the store; and no request path serves the secret file
// beside the store.
func FuzzResolve(f *testing.F) {
	ts := newTestStore(f)
	s := newServer(ts.dir, slog.New(slog.DiscardHandler), time.Second)
	root, err := s.storeRoot()
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range traversals {
		f.Add(strings.TrimPrefix(strings.TrimPrefix(seed, "/files/"), "/run/"))
	}
	f.Add("memory-register/latest/test.json")
	f.Add("escape-dir/secret.txt")
	f.Fuzz(func(t *testing.T, rel string) {
		if real, err := s.resolve(rel); err == nil && !inside(root, real) {
			t.Fatalf("resolve(%q) = %s, outside %s", rel, real, root)
		}
		for _, prefix := range []string{"/files/", "/run/", "/zip/"} {
			u, err := url.ParseRequestURI(prefix + rel)
			if err != nil {
				continue
			}
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.URL, req.RequestURI = u, prefix+rel
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if strings.Contains(rec.Body.String(), secretText) {
				t.Fatalf("%s%s served the secret file", prefix, rel)
			}
		}
	})
}
