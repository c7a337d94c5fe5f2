package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/faultline/faultline/internal/gctune"
)

// supervisedEnv marks the child process of Exec.
const supervisedEnv = "FAULTLINE_SUPERVISED"

// readStopRequests passes each byte the parent writes on stopFD as a stop
// request.
func readStopRequests(out chan<- string) {
	f := os.NewFile(stopFD, "stop-requests")
	if f == nil {
		return
	}
	buf := make([]byte, 1)
	for {
		if _, err := f.Read(buf); err != nil {
			return
		}
		select {
		case out <- "interrupt":
		default:
		}
	}
}

// Exec is the whole main function of a Faultline program:
//
//	func main() { cli.Exec(cli.Config{Suites: []cli.Suite{mySuite}}) }
//
// For test, test-all and analyze it runs the work in a child process and
// watches it, so that a panic in any goroutine (including one of a database
// driver's) ends with exit code 255 and a clear message, never with the Go
// runtime's exit status 2, which would read as "unknown". Signals are
// forwarded once; the child dies with its parent.
func Exec(cfg Config) {
	args := os.Args[1:]
	if os.Getenv(supervisedEnv) != "" {
		// This is the child. Programs it starts (daemons on nodes, which may
		// be this same binary) must inherit neither the mark nor the pipes
		// to the parent.
		os.Unsetenv(supervisedEnv)
		syscall.CloseOnExec(codeFD)
		syscall.CloseOnExec(stopFD)
		gctune.ForAnalysis()
		code := run(args, cfg, true)
		reportCode(code)
		os.Exit(code)
	}
	if len(args) == 0 || !supervised(args[0]) {
		os.Exit(Main(args, cfg))
	}
	os.Exit(supervise(args, cfg))
}

func supervised(cmd string) bool {
	return cmd == "test" || cmd == "test-all" || cmd == "analyze"
}

// File descriptors of the child of Exec: the exit code goes to the parent
// on codeFD; stop requests (one byte each) come from it on stopFD.
const (
	codeFD = 3
	stopFD = 4
)

// reportCode tells the supervising parent the exit code the child chose.
func reportCode(code int) {
	f := os.NewFile(codeFD, "exit-code")
	if f == nil {
		return
	}
	_, _ = io.WriteString(f, strconv.Itoa(code))
	_ = f.Close()
}

func supervise(args []string, cfg Config) int {
	stderr := cfg.Stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	prog := cfg.Program
	if prog == "" {
		prog = "faultline"
	}
	self, err := os.Executable()
	if err != nil {
		// Cannot re-execute: run in this process.
		return Main(args, cfg)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return Main(args, cfg)
	}
	stopR, stopW, err := os.Pipe()
	if err != nil {
		r.Close()
		w.Close()
		return Main(args, cfg)
	}
	defer stopW.Close()
	// Pdeathsig is tied to the thread that starts the child: keep it.
	runtime.LockOSThread()
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), supervisedEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{w, stopR} // fds 3 and 4
	// Own process group: a terminal's Ctrl-C reaches only this process, which
	// forwards it once, so the child sees one signal per Ctrl-C.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		w.Close()
		r.Close()
		stopR.Close()
		signal.Stop(sigs)
		return Main(args, cfg)
	}
	w.Close()
	stopR.Close()
	codeCh := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(r)
		r.Close()
		codeCh <- strings.TrimSpace(string(b))
	}()
	waitCh := make(chan error, 1)
	go func() { waitCh <- cmd.Wait() }()
	var waitErr error
loop:
	for {
		select {
		case <-sigs:
			_, _ = stopW.Write([]byte{1}) // one stop request per signal

		case waitErr = <-waitCh:
			break loop
		}
	}
	var reported string
	select {
	case reported = <-codeCh:
	case <-time.After(2 * time.Second):
		// A program the child started still holds the pipe open; the
		// child is gone, and it reported nothing before.
		_ = r.SetReadDeadline(time.Now())
		reported = <-codeCh
	}
	if code, err := strconv.Atoi(reported); err == nil {
		return code
	}
	// The child ended without choosing an exit code: it crashed.
	var ee *exec.ExitError
	switch {
	case errors.As(waitErr, &ee) && ee.ProcessState != nil:
		if ws, ok := ee.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			fmt.Fprintf(stderr, "%s: crashed: killed by %s\n", prog, ws.Signal())
		} else {
			fmt.Fprintf(stderr, "%s: crashed (exit status %d: a Go panic or fatal error, see above)\n", prog, ee.ExitCode())
		}
	case waitErr != nil:
		fmt.Fprintf(stderr, "%s: crashed: %v\n", prog, waitErr)
	default:
		fmt.Fprintf(stderr, "%s: crashed: the worker exited without a verdict\n", prog)
	}
	return ExitCrash
}
