package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/runstore"
)

// DefaultAddr is where Serve listens unless told otherwise: localhost only.
const DefaultAddr = "127.0.0.1:8080"

// Server timeouts. Downloads have no overall deadline; instead every write
// must make progress within writeIdle, so a client that stops reading is
// dropped.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	writeIdle         = time.Minute
	shutdownGrace     = 5 * time.Second
	maxHeaderBytes    = 64 << 10
)

// Options configure Serve.
type Options struct {
	// Store is the store folder to serve (default "store").
	Store string
	// Addr is the address to listen on (default 127.0.0.1:8080). An address
	// that is not a loopback one exposes the store to the network: Serve
	// logs a warning.
	Addr string
	// Listener, when set, is used instead of listening on Addr.
	Listener net.Listener
	// Log receives the server's messages; nil discards them.
	Log *slog.Logger
}

// Serve serves the store over HTTP until ctx is cancelled, then shuts down
// (in-flight requests get a few seconds to finish). It returns nil after a
// shutdown caused by ctx, or the error that stopped the server.
func Serve(ctx context.Context, o Options) error {
	if o.Store == "" {
		o.Store = runstore.DefaultBase
	}
	if o.Addr == "" {
		o.Addr = DefaultAddr
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	st, err := os.Stat(o.Store)
	if err != nil {
		return fmt.Errorf("serve: store %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("serve: store %s is not a folder", o.Store)
	}
	ln := o.Listener
	if ln == nil {
		ln, err = net.Listen("tcp", o.Addr)
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
	}
	if !isLoopback(ln.Addr()) {
		log.Warn("serving on an address that is not loopback: anyone who can reach it can read the store", "addr", ln.Addr().String())
	}
	srv := newHTTPServer(ctx, newServer(o.Store, log, writeIdle), log)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	abs, _ := filepath.Abs(o.Store)
	log.Info("serving the store", "store", abs, "url", "http://"+ln.Addr().String()+"/")
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			_ = srv.Close()
		}
		<-errc
		return nil
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	}
}

// newHTTPServer is the server Serve runs: bounded header and body reads,
// idle connections closed, request contexts cancelled with ctx.
func newHTTPServer(ctx context.Context, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
}

// isLoopback reports whether a listener's address is a loopback one.
func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// Handler serves the store folder: the run list at /, run pages under
// /run/, files under /files/ and zip downloads under /zip/. Only files
// inside the store are served.
func Handler(storeDir string) http.Handler {
	return newServer(storeDir, slog.New(slog.DiscardHandler), writeIdle)
}

// server is the handler; it caches run summaries by file times.
type server struct {
	store     string
	log       *slog.Logger
	writeIdle time.Duration

	mu    sync.Mutex
	cache map[string]cachedRun
}

func newServer(storeDir string, log *slog.Logger, idle time.Duration) *server {
	return &server{store: storeDir, log: log, writeIdle: idle, cache: map[string]cachedRun{}}
}

// Errors of path resolution.
var (
	errBadPath = errors.New("bad path")
	errOutside = errors.New("path leads outside the store")
)

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self' 'unsafe-inline' data:; frame-ancestors 'self'")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// Encoded separators and NULs have no place in a path to a file: a
	// client sending them is probing.
	raw := strings.ToLower(r.RequestURI)
	if raw == "" {
		raw = strings.ToLower(r.URL.EscapedPath())
	}
	if q := strings.IndexByte(raw, '?'); q >= 0 {
		raw = raw[:q]
	}
	if strings.Contains(raw, "%2f") || strings.Contains(raw, "%5c") || strings.Contains(raw, "%00") {
		s.refuse(w, r, errBadPath)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/":
		s.list(w, r)
	case p == "/favicon.ico":
		http.NotFound(w, r)
	case strings.HasPrefix(p, "/run/") || p == "/run":
		s.run(w, r, strings.TrimPrefix(strings.TrimPrefix(p, "/run"), "/"))
	case strings.HasPrefix(p, "/files/") || p == "/files":
		s.files(w, r, strings.TrimPrefix(strings.TrimPrefix(p, "/files"), "/"), "/files/")
	case strings.HasPrefix(p, "/zip/"):
		s.zip(w, r, strings.TrimPrefix(p, "/zip/"))
	default:
		http.NotFound(w, r)
	}
}

// refuse answers a request for a path that is not served.
func (s *server) refuse(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errBadPath):
		s.log.Warn("refused a bad path", "uri", r.RequestURI, "remote", r.RemoteAddr)
		http.Error(w, "bad path", http.StatusBadRequest)
	case errors.Is(err, errOutside):
		s.log.Warn("refused a path leading outside the store", "uri", r.RequestURI, "remote", r.RemoteAddr)
		http.Error(w, "forbidden", http.StatusForbidden)
	case errors.Is(err, os.ErrNotExist):
		http.NotFound(w, r)
	default:
		s.log.Warn("cannot serve", "uri", r.RequestURI, "err", err)
		http.Error(w, "cannot read this path", http.StatusInternalServerError)
	}
}

// resolve maps a slash path relative to the store to the real path of an
// existing file or folder inside the store. It refuses absolute paths, "."
// and ".." segments, backslashes and NULs (errBadPath), and paths whose
// real location, after following every symbolic link, is outside the
// store's real location (errOutside). Links inside the store, such as
// store/latest, are followed.
func (s *server) resolve(rel string) (string, error) {
	if strings.ContainsAny(rel, "\x00\\") || strings.HasPrefix(rel, "/") || filepath.IsAbs(rel) {
		return "", errBadPath
	}
	for _, seg := range strings.Split(rel, "/") {
		if seg == ".." || seg == "." {
			return "", errBadPath
		}
	}
	root, err := filepath.Abs(s.store)
	if err != nil {
		return "", err
	}
	root, err = filepath.EvalSymlinks(root)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return "", err
	}
	if !inside(root, real) {
		return "", errOutside
	}
	return real, nil
}

// inside reports whether path p is root or below it.
func inside(root, p string) bool {
	if p == root {
		return true
	}
	return strings.HasPrefix(p, strings.TrimSuffix(root, string(filepath.Separator))+string(filepath.Separator))
}

// storeRoot is the store's real location.
func (s *server) storeRoot() (string, error) {
	root, err := filepath.Abs(s.store)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(root)
}

// progressWriter gives every write writeIdle to complete, so that a client
// that stops reading does not hold the handler forever.
type progressWriter struct {
	http.ResponseWriter
	rc   *http.ResponseController
	idle time.Duration
}

func newProgressWriter(w http.ResponseWriter, idle time.Duration) *progressWriter {
	return &progressWriter{ResponseWriter: w, rc: http.NewResponseController(w), idle: idle}
}

func (p *progressWriter) Write(b []byte) (int, error) {
	_ = p.rc.SetWriteDeadline(time.Now().Add(p.idle)) // not every writer supports it (httptest)
	return p.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (p *progressWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }
