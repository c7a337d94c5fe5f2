package netfault

import (
	"container/heap"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	nfqueue "github.com/florianl/go-nfqueue/v2"
	"github.com/mdlayher/netlink"
)

// AgentConfig configures the packet-delay agent.
type AgentConfig struct {
	// Queue is the NFQUEUE number to bind (the iptables rules send the
	// shaped traffic there).
	Queue uint16
	// Delay, Jitter, Distribution and Correlation are as in Delay.
	Delay        time.Duration
	Jitter       time.Duration
	Distribution string
	Correlation  float64
	// Reorder is the percent of packets let through at once, ahead of the
	// delayed ones (netem's reorder); ReorderCorrelation ties each choice
	// to the last.
	Reorder            float64
	ReorderCorrelation float64
	// Seed seeds the random source (0: a fixed default, so runs repeat).
	Seed int64
	// MaxQueue bounds the packets held at once (default 10000); past it the
	// kernel lets packets through unqueued.
	MaxQueue uint32
	// Log receives progress; nil discards it.
	Log *slog.Logger
	// Ready, when set, is called once the queue is bound.
	Ready func()
}

// AgentSubcommand is the first argument of the agent's command line after
// the program (and its "nemesis-agent" subcommand): `faultline
// nemesis-agent delay --queue 7 ...`.
const AgentSubcommand = "delay"

// AgentReadyLine is what AgentMain prints once the queue is bound; NodeNet
// waits for it in the agent's log.
const AgentReadyLine = "faultline-agent: ready"

// Args is cfg as the agent's command-line arguments, starting with
// AgentSubcommand; AgentMain reads them back.
func (cfg AgentConfig) Args() []string {
	a := []string{AgentSubcommand, "--queue", strconv.Itoa(int(cfg.Queue)), "--delay", cfg.Delay.String()}
	if cfg.Jitter > 0 {
		a = append(a, "--jitter", cfg.Jitter.String())
	}
	if cfg.Distribution != "" {
		a = append(a, "--distribution", cfg.Distribution)
	}
	if cfg.Correlation > 0 {
		a = append(a, "--correlation", fmtFloat(cfg.Correlation))
	}
	if cfg.Reorder > 0 {
		a = append(a, "--reorder", fmtFloat(cfg.Reorder))
	}
	if cfg.ReorderCorrelation > 0 {
		a = append(a, "--reorder-correlation", fmtFloat(cfg.ReorderCorrelation))
	}
	if cfg.Seed != 0 {
		a = append(a, "--seed", strconv.FormatInt(cfg.Seed, 10))
	}
	return a
}

// ParseAgentArgs reads the arguments Args wrote.
func ParseAgentArgs(args []string) (AgentConfig, error) {
	var cfg AgentConfig
	if len(args) == 0 || args[0] != AgentSubcommand {
		return cfg, fmt.Errorf("nemesis-agent: want %q as the first argument, got %q", AgentSubcommand, args)
	}
	fs := flag.NewFlagSet("nemesis-agent delay", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	queue := fs.Uint("queue", 0, "NFQUEUE number")
	fs.DurationVar(&cfg.Delay, "delay", 0, "delay")
	fs.DurationVar(&cfg.Jitter, "jitter", 0, "jitter")
	fs.StringVar(&cfg.Distribution, "distribution", "", "jitter distribution")
	fs.Float64Var(&cfg.Correlation, "correlation", 0, "delay correlation, percent")
	fs.Float64Var(&cfg.Reorder, "reorder", 0, "percent of packets sent at once")
	fs.Float64Var(&cfg.ReorderCorrelation, "reorder-correlation", 0, "reorder correlation, percent")
	fs.Int64Var(&cfg.Seed, "seed", 0, "random seed")
	if err := fs.Parse(args[1:]); err != nil {
		return cfg, fmt.Errorf("nemesis-agent delay: %w", err)
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("nemesis-agent delay: unexpected arguments %q", fs.Args())
	}
	if *queue > math.MaxUint16 {
		return cfg, fmt.Errorf("nemesis-agent delay: queue %d out of range", *queue)
	}
	cfg.Queue = uint16(*queue)
	return cfg, cfg.validate()
}

func (cfg AgentConfig) validate() error {
	d := Delay{Time: cfg.Delay, Jitter: cfg.Jitter, Distribution: cfg.Distribution, Correlation: cfg.Correlation}
	b := Behaviour{Delay: &d}
	if cfg.Reorder > 0 {
		b.Reorder = &Percent{Percent: cfg.Reorder, Correlation: cfg.ReorderCorrelation}
	}
	if err := b.Validate(); err != nil {
		return fmt.Errorf("nemesis-agent delay: %w", err)
	}
	return nil
}

// AgentMain is the body of the hidden `faultline nemesis-agent` command:
// args are what follows "nemesis-agent" (see AgentConfig.Args). It runs the
// agent until ctx ends (the caller cancels ctx on SIGTERM and SIGINT),
// printing AgentReadyLine to out once the queue is bound, and returns nil
// after a clean stop.
func AgentMain(ctx context.Context, args []string, out io.Writer) error {
	cfg, err := ParseAgentArgs(args)
	if err != nil {
		return err
	}
	cfg.Log = slog.New(slog.NewTextHandler(out, nil))
	cfg.Ready = func() {
		fmt.Fprintf(out, "%s queue=%d delay=%v jitter=%v\n", AgentReadyLine, cfg.Queue, cfg.Delay, cfg.Jitter)
	}
	return RunDelayAgent(ctx, cfg)
}

// RunDelayAgent holds the packets that reach NFQUEUE cfg.Queue for the
// configured delay (plus jitter), then lets them through; with Reorder some
// go through at once. It must run in the network namespace of the node
// whose packets it delays, as root. It returns when ctx ends (letting every
// held packet through first) or when the queue fails.
func RunDelayAgent(ctx context.Context, cfg AgentConfig) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	maxQueue := cfg.MaxQueue
	if maxQueue == 0 {
		maxQueue = 10000
	}
	nf, err := nfqueue.Open(&nfqueue.Config{
		NfQueue:      cfg.Queue,
		MaxPacketLen: 0,
		MaxQueueLen:  maxQueue,
		Copymode:     nfqueue.NfQnlCopyMeta,
		Flags:        nfqueue.NfQaCfgFlagFailOpen,
		WriteTimeout: 100 * time.Millisecond,
	})
	if err != nil {
		return fmt.Errorf("nemesis-agent: opening NFQUEUE %d: %w (needs root in the node's network namespace)", cfg.Queue, err)
	}
	defer nf.Close()
	if err := nf.SetOption(netlink.NoENOBUFS, true); err != nil {
		log.Warn("cannot set NoENOBUFS", "err", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	in := make(chan held, 4096)
	fatal := make(chan error, 1)
	hook := func(a nfqueue.Attribute) int {
		if a.PacketID == nil {
			return 0
		}
		select {
		case in <- held{id: *a.PacketID, arrived: time.Now()}:
		case <-ctx.Done():
			nf.SetVerdict(*a.PacketID, nfqueue.NfAccept)
		}
		return 0
	}
	onErr := func(e error) int {
		if ctx.Err() != nil {
			return 1
		}
		var op *netlink.OpError
		if errors.As(e, &op) && (op.Timeout() || op.Temporary()) {
			return 0
		}
		select {
		case fatal <- e:
		default:
		}
		return 1
	}
	if err := nf.RegisterWithErrorFunc(ctx, hook, onErr); err != nil {
		return fmt.Errorf("nemesis-agent: binding NFQUEUE %d: %w", cfg.Queue, err)
	}
	log.Info("delay agent bound", "queue", cfg.Queue, "delay", cfg.Delay, "jitter", cfg.Jitter, "distribution", cfg.Distribution, "reorder", cfg.Reorder)
	if cfg.Ready != nil {
		cfg.Ready()
	}
	s := newDelaySampler(cfg)
	var pending heldHeap
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var count, released uint64
	release := func(now time.Time) {
		for len(pending) > 0 && !pending[0].at.After(now) {
			p := heap.Pop(&pending).(held)
			if err := nf.SetVerdict(p.id, nfqueue.NfAccept); err != nil {
				log.Debug("verdict", "id", p.id, "err", err)
			}
			released++
		}
	}
	for {
		if len(pending) > 0 {
			timer.Reset(time.Until(pending[0].at))
		}
		select {
		case p := <-in:
			count++
			p.at = p.arrived.Add(s.next())
			heap.Push(&pending, p)
			release(time.Now())
		case <-timer.C:
			release(time.Now())
		case err := <-fatal:
			release(time.Now().Add(time.Hour))
			return fmt.Errorf("nemesis-agent: NFQUEUE %d: %w", cfg.Queue, err)
		case <-ctx.Done():
			// Let every held packet go, and whatever is still arriving.
			for {
				select {
				case p := <-in:
					heap.Push(&pending, p)
					continue
				default:
				}
				break
			}
			release(time.Now().Add(24 * time.Hour))
			log.Info("delay agent stopped", "packets", count, "released", released)
			return nil
		}
	}
}

// held is a packet waiting for its verdict.
type held struct {
	id      uint32
	arrived time.Time
	at      time.Time
}

type heldHeap []held

func (h heldHeap) Len() int           { return len(h) }
func (h heldHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h heldHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *heldHeap) Push(x any)        { *h = append(*h, x.(held)) }
func (h *heldHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// delaySampler draws per-packet delays the way netem does, approximately:
// the random part follows the distribution with Jitter as its scale, each
// draw tied to the last by the correlation; Reorder percent of packets get
// no delay at all.
type delaySampler struct {
	cfg      AgentConfig
	rng      *rand.Rand
	lastZ    float64
	lastR    float64
	haveLast bool
}

func newDelaySampler(cfg AgentConfig) *delaySampler {
	seed := uint64(cfg.Seed)
	return &delaySampler{cfg: cfg, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// noise is a draw of the jitter distribution with scale 1 and mean 0.
func (s *delaySampler) noise() float64 {
	switch s.cfg.Distribution {
	case "normal":
		return s.rng.NormFloat64()
	case "pareto":
		return pareto(s.rng)
	case "paretonormal":
		return 0.25*s.rng.NormFloat64() + 0.75*pareto(s.rng)
	}
	return 2*s.rng.Float64() - 1 // uniform in [-1, 1)
}

// pareto draws from a Pareto distribution (shape 3) shifted to mean 0.
func pareto(rng *rand.Rand) float64 {
	const a = 3.0
	u := 1 - rng.Float64() // (0, 1]
	return math.Pow(u, -1/a) - a/(a-1)
}

// next returns the delay for the next packet.
func (s *delaySampler) next() time.Duration {
	if s.cfg.Reorder > 0 {
		r := s.rng.Float64() * 100
		if rho := s.cfg.ReorderCorrelation / 100; s.haveLast && rho > 0 {
			r = (1-rho)*r + rho*s.lastR
		}
		s.lastR = r
		if r < s.cfg.Reorder {
			s.haveLast = true
			return 0
		}
	}
	z := 0.0
	if s.cfg.Jitter > 0 {
		z = s.noise()
		if rho := s.cfg.Correlation / 100; s.haveLast && rho > 0 {
			z = (1-rho)*z + rho*s.lastZ
		}
		s.lastZ = z
	}
	s.haveLast = true
	d := float64(s.cfg.Delay) + z*float64(s.cfg.Jitter)
	return time.Duration(max(d, 0))
}

// sampleDelays draws n delays (for tests of the distributions).
func sampleDelays(cfg AgentConfig, n int) []time.Duration {
	s := newDelaySampler(cfg)
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = s.next()
	}
	slices.Sort(out)
	return out
}
