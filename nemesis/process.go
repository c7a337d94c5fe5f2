package nemesis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"syscall"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/db"
	"github.com/faultline/faultline/history"
)

// Process fs, as in jepsen.nemesis.combined's db-nemesis.
const (
	FKill   = "kill"
	FStart  = "start"
	FPause  = "pause"
	FResume = "resume"
)

// Kill kills and restarts the DB's processes through db.Killer. Ops:
// kill (value: a node spec) and start (value: a node spec, default all);
// completion values map each node to "killed" or "started". Teardown
// starts every node it killed.
type Kill struct {
	DB db.Killer
	// Nodes the specs choose among (nil: env.Nodes).
	Nodes     []string
	Primaries db.Primaries

	t      *targets
	mu     sync.Mutex
	killed []string
}

func (k *Kill) Fs() []string { return []string{FKill, FStart} }

func (k *Kill) Setup(ctx context.Context, env *control.Env) (Nemesis, error) {
	if k.DB == nil {
		return nil, errors.New("kill nemesis: the DB cannot kill and start its processes (db.Killer)")
	}
	return &Kill{DB: k.DB, Nodes: k.Nodes, Primaries: k.Primaries, t: newTargets(env, k.Nodes, k.Primaries, 2)}, nil
}

func (k *Kill) Invoke(ctx context.Context, env *control.Env, op history.Op) (history.Op, error) {
	switch op.F {
	case FKill:
		nodes, err := k.t.resolve(ctx, env, op.Value, nil)
		if err != nil {
			return op, err
		}
		if len(nodes) == 0 {
			return info(op, "no-target"), nil
		}
		k.mark(nodes, true)
		v, err := onNodes(ctx, nodes, "killed", func(ctx context.Context, n string) error { return k.DB.Kill(ctx, env, n) })
		return info(op, v), err
	case FStart:
		nodes, err := k.t.resolve(ctx, env, op.Value, SpecAll)
		if err != nil {
			return op, err
		}
		v, err := onNodes(ctx, nodes, "started", func(ctx context.Context, n string) error { return k.DB.Start(ctx, env, n) })
		if err == nil {
			k.mark(nodes, false)
		}
		return info(op, v), err
	}
	return op, fmt.Errorf("kill nemesis cannot handle f %q", op.F)
}

func (k *Kill) mark(nodes []string, killed bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, n := range nodes {
		i := slices.Index(k.killed, n)
		switch {
		case killed && i < 0:
			k.killed = append(k.killed, n)
		case !killed && i >= 0:
			k.killed = slices.Delete(k.killed, i, i+1)
		}
	}
}

func (k *Kill) Teardown(ctx context.Context, env *control.Env) error {
	k.mu.Lock()
	nodes := slices.Clone(k.killed)
	k.mu.Unlock()
	if len(nodes) == 0 || k.DB == nil {
		return nil
	}
	_, err := onNodes(ctx, nodes, "started", func(ctx context.Context, n string) error { return k.DB.Start(ctx, env, n) })
	if err == nil {
		k.mark(nodes, false)
	}
	return err
}

// Pause pauses and resumes the DB's processes through db.Pauser (for
// example PidfilePauser). Ops: pause (value: a node spec) and resume
// (value: a node spec, default all); completion values map each node to
// "paused" or "resumed". Teardown resumes every node it paused.
type Pause struct {
	DB db.Pauser
	// Nodes the specs choose among (nil: env.Nodes).
	Nodes     []string
	Primaries db.Primaries

	t      *targets
	mu     sync.Mutex
	paused []string
}

func (p *Pause) Fs() []string { return []string{FPause, FResume} }

func (p *Pause) Setup(ctx context.Context, env *control.Env) (Nemesis, error) {
	if p.DB == nil {
		return nil, errors.New("pause nemesis: nothing to pause with (a db.Pauser, e.g. nemesis.PidfilePauser)")
	}
	return &Pause{DB: p.DB, Nodes: p.Nodes, Primaries: p.Primaries, t: newTargets(env, p.Nodes, p.Primaries, 3)}, nil
}

func (p *Pause) Invoke(ctx context.Context, env *control.Env, op history.Op) (history.Op, error) {
	switch op.F {
	case FPause:
		nodes, err := p.t.resolve(ctx, env, op.Value, nil)
		if err != nil {
			return op, err
		}
		if len(nodes) == 0 {
			return info(op, "no-target"), nil
		}
		p.mark(nodes, true)
		v, err := onNodes(ctx, nodes, "paused", func(ctx context.Context, n string) error { return p.DB.Pause(ctx, env, n) })
		return info(op, v), err
	case FResume:
		nodes, err := p.t.resolve(ctx, env, op.Value, SpecAll)
		if err != nil {
			return op, err
		}
		v, err := onNodes(ctx, nodes, "resumed", func(ctx context.Context, n string) error { return p.DB.Resume(ctx, env, n) })
		if err == nil {
			p.mark(nodes, false)
		}
		return info(op, v), err
	}
	return op, fmt.Errorf("pause nemesis cannot handle f %q", op.F)
}

func (p *Pause) mark(nodes []string, paused bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range nodes {
		i := slices.Index(p.paused, n)
		switch {
		case paused && i < 0:
			p.paused = append(p.paused, n)
		case !paused && i >= 0:
			p.paused = slices.Delete(p.paused, i, i+1)
		}
	}
}

func (p *Pause) Teardown(ctx context.Context, env *control.Env) error {
	p.mu.Lock()
	nodes := slices.Clone(p.paused)
	p.mu.Unlock()
	if len(nodes) == 0 || p.DB == nil {
		return nil
	}
	_, err := onNodes(ctx, nodes, "resumed", func(ctx context.Context, n string) error { return p.DB.Resume(ctx, env, n) })
	if err == nil {
		p.mark(nodes, false)
	}
	return err
}

// PidfilePauser pauses a daemon with SIGSTOP and resumes it with SIGCONT,
// finding it by its pidfile on the node (as db.StartDaemon writes it), so
// it works where nodes share one PID space. With Group set it signals the
// daemon's whole process group (db.StartDaemon gives each daemon a session
// of its own, so the group is the daemon and its children).
type PidfilePauser struct {
	// Pidfile is the daemon's pidfile on the node; a relative path is
	// taken from the node's folder (netns) or login folder (SSH).
	Pidfile string
	Group   bool
	Sudo    bool
}

var _ db.Pauser = PidfilePauser{}

// pidSignalScript signals the process in pidfile $1; with $4 = 1 (resume)
// a missing pidfile or process is nothing to do.
const pidSignalScript = `f=$1 sig=$2 group=$3 lenient=$4
if [ ! -s "$f" ]; then
	[ "$lenient" = 1 ] && exit 0
	echo "no pidfile $f: is the daemon running?" >&2; exit 1
fi
pid=$(cat "$f")
case $pid in ''|*[!0-9]*) echo "pidfile $f holds no process id: $pid" >&2; exit 1;; esac
if [ "$lenient" = 1 ] && ! kill -0 "$pid" 2>/dev/null; then exit 0; fi
if [ "$group" = 1 ]; then kill -"$sig" -- -"$pid"; else kill -"$sig" "$pid"; fi
`

func (p PidfilePauser) signal(ctx context.Context, env *control.Env, node string, sig syscall.Signal) error {
	if env == nil || env.Remote == nil {
		return errors.New("pausing by pidfile needs a remote to reach the nodes")
	}
	g, lenient := "0", "0"
	if p.Group {
		g = "1"
	}
	if sig == syscall.SIGCONT {
		lenient = "1"
	}
	_, err := env.Remote.Exec(ctx, node, control.Cmd{Args: []string{"sh", "-c", pidSignalScript, "faultline-signal", p.Pidfile, strconv.Itoa(int(sig)), g, lenient}, Sudo: p.Sudo})
	if err != nil {
		var ee *control.ExitError
		if errors.As(err, &ee) {
			short := *ee
			short.Command = fmt.Sprintf("signal %v to %s", sig, p.Pidfile)
			return &short
		}
	}
	return err
}

// Pause sends SIGSTOP.
func (p PidfilePauser) Pause(ctx context.Context, env *control.Env, node string) error {
	return p.signal(ctx, env, node, syscall.SIGSTOP)
}

// Resume sends SIGCONT; a daemon that is not running (no pidfile, or its
// process gone) has nothing to resume.
func (p PidfilePauser) Resume(ctx context.Context, env *control.Env, node string) error {
	return p.signal(ctx, env, node, syscall.SIGCONT)
}
