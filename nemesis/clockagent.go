package nemesis

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/faultline/faultline/control"
)

// The clock agent is the small helper a SystemClock uploads to a node with
// its own kernel (the faultline binary itself, run as `faultline
// nemesis-agent clock ...`), as Jepsen uploads and compiles its bump-time
// and strobe-time programs. It sets the node's real-time clock:
//
//	clock set --to UNIX_NS                 set the clock to that instant
//	clock bump --delta D                   add D (may be negative) to the clock
//	clock strobe --delta D --period P --duration T
//	                                       flip the clock between +D and its
//	                                       value every P, for T, locally, then
//	                                       leave it where it started
//
// The strobe runs on the node so its period holds to the millisecond,
// whatever the latency of the link to the node.

// ClockAgentMain runs the clock agent with the arguments after `clock`.
func ClockAgentMain(ctx context.Context, args []string, out io.Writer) error {
	return runClockAgent(ctx, args, out, setSystemClock, time.Now)
}

// setSystemClock sets the real-time clock (needs CAP_SYS_TIME).
func setSystemClock(t time.Time) error {
	tv := syscall.NsecToTimeval(t.UnixNano())
	return syscall.Settimeofday(&tv)
}

func runClockAgent(ctx context.Context, args []string, out io.Writer, set func(time.Time) error, now func() time.Time) error {
	if len(args) == 0 {
		return errors.New("clock agent: want set, bump or strobe")
	}
	fs := flag.NewFlagSet("clock "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	to := fs.Int64("to", 0, "instant to set, in Unix nanoseconds")
	delta := fs.Duration("delta", 0, "how far to move the clock")
	period := fs.Duration("period", 0, "strobe period")
	duration := fs.Duration("duration", 0, "strobe duration")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("clock agent %s: %w", args[0], err)
	}
	switch args[0] {
	case "set":
		if *to <= 0 {
			return errors.New("clock agent set: --to must be a Unix time in nanoseconds")
		}
		return set(time.Unix(0, *to))
	case "bump":
		if *delta == 0 {
			return errors.New("clock agent bump: --delta must not be 0")
		}
		return set(now().Add(*delta))
	case "strobe":
		if *delta == 0 || *period <= 0 || *duration <= 0 {
			return errors.New("clock agent strobe: --delta, --period and --duration must be set and above 0 (delta non-zero)")
		}
		flips := 0
		end := time.Now().Add(*duration)
		on := false
		var err error
		for time.Now().Before(end) && ctx.Err() == nil {
			d := *delta
			if on {
				d = -*delta
			}
			if err = set(now().Add(d)); err != nil {
				break
			}
			on = !on
			flips++
			select {
			case <-ctx.Done():
			case <-time.After(*period):
			}
		}
		if on { // leave the clock where it started
			if e := set(now().Add(-*delta)); err == nil {
				err = e
			}
		}
		fmt.Fprintf(out, "strobed %d times\n", flips)
		return err
	}
	return fmt.Errorf("clock agent: unknown action %q (want set, bump or strobe)", args[0])
}

// AgentPath is where a SystemClock puts the clock agent on a node.
const AgentPath = "/tmp/faultline-agent"

// agentUploads remembers which nodes already hold the agent.
type agentUploads struct {
	mu   sync.Mutex
	done map[string]bool
}

func (a *agentUploads) ensure(ctx context.Context, r control.Remote, node, local string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.done[node] {
		return nil
	}
	if err := r.Upload(ctx, node, local, AgentPath); err != nil {
		return fmt.Errorf("%s: uploading the clock agent: %w", node, err)
	}
	if _, err := r.Exec(ctx, node, control.Cmd{Args: []string{"chmod", "755", AgentPath}}); err != nil {
		return err
	}
	if a.done == nil {
		a.done = map[string]bool{}
	}
	a.done[node] = true
	return nil
}

// agentArgs renders a clock agent command line.
func agentArgs(action string, kv ...string) []string {
	args := []string{AgentPath, "nemesis-agent", "clock", action}
	for i := 0; i+1 < len(kv); i += 2 {
		args = append(args, "--"+kv[i], kv[i+1])
	}
	return args
}

func nsString(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }

func durString(d time.Duration) string { return strings.TrimSpace(d.String()) }
