package db

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/faultline/faultline/control"
)

// DaemonOpts describes a daemon for StartDaemon. Relative paths are taken
// from the directory commands start in on the node (the node's folder on a
// netns cluster, the login directory over SSH).
type DaemonOpts struct {
	// Bin is the program; Args its arguments.
	Bin  string
	Args []string
	// Env is added to the daemon's environment.
	Env map[string]string
	// Dir is the daemon's working directory ("" leaves it unchanged).
	Dir string
	// Logfile receives stdout and stderr (appended). Required.
	Logfile string
	// Pidfile receives the daemon's process id. Required.
	Pidfile string
}

// aliveFn defines alive(): $pid exists and is not a zombie.
const aliveFn = `alive() { kill -0 "$pid" 2>/dev/null && [ "$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' /proc/"$pid"/status 2>/dev/null)" != Z ]; }
`

// readPid reads the pidfile $f into $pid; it exits 0 when there is none.
const readPid = `[ -s "$f" ] || exit 0
pid=$(cat "$f")
case $pid in ''|*[!0-9]*) echo "pidfile $f holds no process id: $pid" >&2; exit 1;; esac
`

const startScript = aliveFn + `f=$1 log=$2 dir=$3; shift 3
if [ -s "$f" ]; then
	pid=$(cat "$f")
	if alive && tr '\0' ' ' < /proc/"$pid"/cmdline 2>/dev/null | grep -qF -- "$1"; then
		echo "already running: $pid"; exit 0
	fi
fi
mkdir -p "$(dirname "$f")" "$(dirname "$log")" || exit 1
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) faultline: starting $*" >> "$log" || exit 1
(
	if [ -n "$dir" ]; then cd "$dir" || exit 1; fi
	exec setsid "$@"
) >> "$log" 2>&1 < /dev/null &
echo $! > "$f" || exit 1
echo "started: $!"
`

// StartDaemon starts a daemon on node in the background, in a session of its
// own so it outlives the command that started it, with its output appended
// to the logfile and its process id written to the pidfile. When the pidfile
// names a live process running Bin, it does nothing and reports
// started = false (Jepsen's :already-running).
func StartDaemon(ctx context.Context, r control.Remote, node string, o DaemonOpts) (started bool, err error) {
	if o.Bin == "" || o.Logfile == "" || o.Pidfile == "" {
		return false, fmt.Errorf("%s: StartDaemon needs Bin, Logfile and Pidfile", node)
	}
	args := append([]string{"sh", "-c", startScript, "faultline-start", o.Pidfile, o.Logfile, o.Dir, o.Bin}, o.Args...)
	res, err := r.Exec(ctx, node, control.Cmd{Args: args, Env: o.Env})
	if err != nil {
		return false, fmt.Errorf("starting %s: %w", o.Bin, scriptErr("start-daemon "+o.Bin, err))
	}
	return strings.HasPrefix(res.Stdout, "started"), nil
}

const stopScript = aliveFn + `f=$1 n=$2
` + readPid + `if alive && [ "$n" -gt 0 ]; then
	kill -TERM "$pid" 2>/dev/null; kill -CONT "$pid" 2>/dev/null
	i=0; while alive && [ $i -lt "$n" ]; do sleep 0.05; i=$((i+1)); done
fi
if alive; then
	kill -KILL "$pid" 2>/dev/null
	i=0; while alive && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
fi
if alive; then echo "process $pid from $f did not exit" >&2; exit 1; fi
rm -f "$f"
`

// StopDaemon stops the daemon whose pidfile is given: SIGTERM (and SIGCONT,
// should it be paused), then SIGKILL when it is still running after grace
// (at once when grace is 0); it waits for the process to be gone and
// removes the pidfile. No pidfile means nothing to stop. It never kills by
// name: nodes may share one PID space.
func StopDaemon(ctx context.Context, r control.Remote, node, pidfile string, grace time.Duration) error {
	ticks := int((grace + 49*time.Millisecond) / (50 * time.Millisecond))
	_, err := r.Exec(ctx, node, control.Cmd{Args: []string{"sh", "-c", stopScript, "faultline-stop", pidfile, strconv.Itoa(ticks)}})
	if err != nil {
		return fmt.Errorf("stopping %s: %w", pidfile, scriptErr("stop-daemon "+pidfile, err))
	}
	return nil
}

const signalScript = `f=$1
[ -s "$f" ] || { echo "no pidfile $f" >&2; exit 1; }
pid=$(cat "$f")
case $pid in ''|*[!0-9]*) echo "pidfile $f holds no process id: $pid" >&2; exit 1;; esac
kill -"$2" "$pid"
`

// Signal sends sig to the process in pidfile (SIGSTOP and SIGCONT pause and
// resume it).
func Signal(ctx context.Context, r control.Remote, node, pidfile string, sig syscall.Signal) error {
	_, err := r.Exec(ctx, node, control.Cmd{Args: []string{"sh", "-c", signalScript, "faultline-signal", pidfile, strconv.Itoa(int(sig))}})
	if err != nil {
		return fmt.Errorf("signal %v to %s: %w", sig, pidfile, scriptErr("signal "+pidfile, err))
	}
	return nil
}

// waitScript waits up to about a second for the process in pidfile to
// exit; exit 3 means still running.
const waitScript = aliveFn + `f=$1
` + readPid + `i=0; while alive && [ $i -lt 20 ]; do sleep 0.05; i=$((i+1)); done
alive && exit 3
exit 0
`

// AwaitExit waits until the process in pidfile has exited (or there is no
// pidfile), until ctx ends.
func AwaitExit(ctx context.Context, r control.Remote, node, pidfile string) error {
	return poll(ctx, func() error {
		_, err := r.Exec(ctx, node, control.Cmd{Args: []string{"sh", "-c", waitScript, "faultline-wait", pidfile}})
		return scriptErr("await-exit "+pidfile, err)
	}, fmt.Sprintf("process in %s still running", pidfile))
}

// poll runs step until it succeeds, fails other than with exit code 3
// (still waiting), or ctx ends.
func poll(ctx context.Context, step func() error, waiting string) error {
	for {
		err := step()
		var ee *control.ExitError
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return fmt.Errorf("%s: %w", waiting, ctx.Err())
		case errors.As(err, &ee) && ee.ExitCode == 3 && ee.Err == nil:
		default:
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", waiting, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

const tcpScript = `h=$1 p=$2
probe() {
	if command -v bash >/dev/null 2>&1; then timeout 1 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$h" "$p" 2>/dev/null
	elif command -v nc >/dev/null 2>&1; then nc -z -w 1 "$h" "$p" 2>/dev/null
	else echo "AwaitTCP needs bash or nc on the node" >&2; exit 127
	fi
}
i=0; while [ $i -lt 10 ]; do probe && exit 0; sleep 0.1; i=$((i+1)); done
exit 3
`

// AwaitTCPTimeout bounds AwaitTCP when ctx has no earlier deadline (as
// Jepsen's await-tcp-port does).
const AwaitTCPTimeout = 60 * time.Second

// AwaitTCP waits until a TCP connection from inside node to host:port
// succeeds, until ctx ends or AwaitTCPTimeout has passed. It probes every
// 100 ms with bash's /dev/tcp (or nc), within one command per second or so.
func AwaitTCP(ctx context.Context, r control.Remote, node, host string, port int) error {
	ctx, cancel := context.WithTimeout(ctx, AwaitTCPTimeout)
	defer cancel()
	return poll(ctx, func() error {
		_, err := r.Exec(ctx, node, control.Cmd{Args: []string{"sh", "-c", tcpScript, "faultline-await", host, strconv.Itoa(port)}})
		return scriptErr(fmt.Sprintf("await-tcp %s %d", host, port), err)
	}, fmt.Sprintf("%s: port %s:%d not open", node, host, port))
}

// scriptErr shortens the error of a helper script: its stderr and exit code
// say what went wrong, the script's text is noise. The result is still a
// *control.ExitError.
func scriptErr(what string, err error) error {
	var ee *control.ExitError
	if errors.As(err, &ee) {
		short := *ee
		short.Command = what
		return &short
	}
	return err
}
