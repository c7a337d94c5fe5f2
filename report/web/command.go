package web

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"

	"github.com/faultline/faultline/runstore"
)

// Exit codes of Command, as the CLI's.
const (
	exitOK    = 0
	exitUsage = 254
	exitCrash = 255
)

// Command runs `faultline serve [--store DIR] [--addr HOST:PORT]` with the
// arguments after "serve": it serves the store until ctx is cancelled
// (SIGINT) and returns the exit code: 0 after a clean shutdown, 254 for bad
// arguments, a missing store or an address that cannot be listened on, 255
// when the server fails.
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("faultline serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	storeDir := fs.String("store", runstore.DefaultBase, "store folder to serve")
	addr := fs.String("addr", DefaultAddr, "address to listen on (host:port); a host other than localhost exposes the store")
	verbose := fs.Bool("verbose", false, "log every refused request and download")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "faultline serve: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if st, err := os.Stat(*storeDir); err != nil || !st.IsDir() {
		fmt.Fprintf(stderr, "faultline serve: store folder %s not found (run a test first, or pass --store)\n", *storeDir)
		return exitUsage
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "faultline serve: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "faultline: serving %s at http://%s/ (Ctrl-C stops)\n", *storeDir, ln.Addr())
	if err := Serve(ctx, Options{Store: *storeDir, Listener: ln, Log: log}); err != nil {
		fmt.Fprintf(stderr, "faultline serve: %v\n", err)
		return exitCrash
	}
	return exitOK
}
