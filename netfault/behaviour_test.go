package netfault

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/history"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestParseBehaviour(t *testing.T) {
	for _, tc := range []struct {
		in, str, netem, err string
	}{
		{in: "delay=100ms/20ms/normal~25%", str: "delay=100ms/20ms/normal~25%", netem: "delay 100000us 20000us 25% distribution normal"},
		{in: "delay=50ms", str: "delay=50ms", netem: "delay 50000us"},
		{in: "loss=20%~75%,duplicate=5", str: "loss=20%~75%,duplicate=5%", netem: "loss random 20% 75% duplicate 5%"},
		{in: "delay=10ms,reorder=25%,corrupt=1%,rate=8mbit", str: "delay=10ms,reorder=25%,corrupt=1%,rate=8mbit", netem: "delay 10000us reorder 25% corrupt 1% rate 8mbit"},
		{in: "rate=1mbps", str: "rate=8mbit", netem: "rate 8mbit"},
		{in: "rate=1500kbit", str: "rate=1500kbit", netem: "rate 1500kbit"},
		{in: "reorder=25%", err: "reorder needs a delay"},
		{in: "loss=120%", err: "at most 100"},
		{in: "loss=0", err: "more than 0"},
		{in: "delay=-5ms", err: "delay above 0"},
		{in: "delay=5ms/0ms/normal", err: "needs a jitter"},
		{in: "delay=5ms/1ms/gauss", err: "unknown delay distribution"},
		{in: "rate=fast", err: "bad rate"},
		{in: "jitter=5ms", err: "unknown part"},
		{in: "loss", err: "KEY=VALUE"},
		{in: "", err: "empty"},
	} {
		b, err := ParseBehaviour(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseBehaviour(%q) = %v, %v; want error %q", tc.in, b, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("ParseBehaviour(%q): %v", tc.in, err)
		}
		if b.String() != tc.str {
			t.Errorf("String(%q) = %q, want %q", tc.in, b.String(), tc.str)
		}
		if got := strings.Join(b.NetemArgs(), " "); got != tc.netem {
			t.Errorf("NetemArgs(%q) = %q, want %q", tc.in, got, tc.netem)
		}
		// Round trips: string and history value.
		if b2, err := ParseBehaviour(b.String()); err != nil || b2.String() != b.String() {
			t.Errorf("string round trip of %q: %v, %v", tc.in, b2, err)
		}
		if b3, err := BehaviourFromValue(b.Value()); err != nil || b3.String() != b.String() {
			t.Errorf("value round trip of %q (%s): %v, %v", tc.in, history.Format(b.Value()), b3, err)
		}
	}
}

func TestBehaviourFromValue(t *testing.T) {
	// Jepsen-style maps with defaults for empty parts.
	v := history.Map{
		{Key: "delay", Val: history.Map{}},
		{Key: "loss", Val: history.Map{{Key: "percent", Val: "33%"}}},
	}
	b, err := BehaviourFromValue(v)
	if err != nil {
		t.Fatal(err)
	}
	if b.Delay.Time != 50*time.Millisecond || b.Delay.Jitter != 10*time.Millisecond || b.Loss.Percent != 33 {
		t.Errorf("got %s", b)
	}
	if _, err := BehaviourFromValue(history.Map{{Key: "delay", Val: history.Map{{Key: "time", Val: true}}}}); err == nil {
		t.Error("bad delay accepted")
	}
	if _, err := BehaviourFromValue(int64(3)); err == nil {
		t.Error("a number accepted as a behaviour")
	}
}

func TestCheckBehaviour(t *testing.T) {
	here := Capabilities{Node: "n1", Root: true, Nft: true, Numgen: true, Dup: true, Iptables: true, NFQueue: true, Tc: true, Tbf: true, Htb: true, U32: true, Agent: true}
	must := func(s string) Behaviour {
		b, err := ParseBehaviour(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, s := range []string{"delay=100ms/20ms/normal", "loss=30%", "duplicate=10%", "rate=8mbit", "delay=50ms,reorder=20%,loss=5%"} {
		if err := here.CheckBehaviour(must(s), true); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	for _, tc := range []struct {
		caps func(c *Capabilities)
		b    string
		want string
	}{
		{func(*Capabilities) {}, "corrupt=1%", "packet corrupt is not supported on n1: the kernel has no netem"},
		{func(*Capabilities) {}, "loss=10%~50%", "correlation"},
		{func(c *Capabilities) { c.Agent = false }, "delay=10ms", "packet-delay agent cannot run"},
		{func(c *Capabilities) { c.NFQueue = false }, "delay=10ms", "NFQUEUE"},
		{func(c *Capabilities) { c.Nft = false }, "loss=10%", "nft with numgen"},
		{func(c *Capabilities) { c.U32 = false }, "rate=1mbit", "htb and u32"},
	} {
		c := here
		tc.caps(&c)
		err := c.CheckBehaviour(must(tc.b), true)
		var ue *UnsupportedError
		if !errors.Is(err, ErrUnsupported) || !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) || ue.Hint == "" {
			t.Errorf("%s: %v; want ErrUnsupported mentioning %q", tc.b, err, tc.want)
		}
	}
	netem := Capabilities{Node: "n2", Netem: true, Htb: true, U32: true}
	if err := netem.CheckBehaviour(must("corrupt=1%,delay=1ms"), true); err != nil {
		t.Errorf("netem: %v", err)
	}
	if err := (Capabilities{Node: "n3"}).CheckPartition(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("CheckPartition without tools: %v", err)
	}
}

func TestParseProbe(t *testing.T) {
	c := parseProbe("n1", "uid=0\nbootid=abc\nnft=1\nnumgen=1\nnote=iptables: not installed\ntc=1\ntbf=1\nfaketime=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1\n")
	if !c.Root || !c.Nft || !c.Numgen || c.Iptables || !c.Tbf || c.Netem || c.BootID != "abc" || c.Faketime == "" || len(c.Notes) != 1 {
		t.Errorf("parseProbe: %+v", c)
	}
	if s := c.Summary(); !strings.Contains(s, "has root nft numgen") || !strings.Contains(s, "lacks") {
		t.Errorf("Summary: %s", s)
	}
}

func TestParseResolve(t *testing.T) {
	out := "@n2\n10.213.0.12     STREAM n2\n10.213.0.12     DGRAM  \n@n3\n@n4\nfe80::1 STREAM n4\n127.0.1.1 STREAM n4\n10.0.0.4 STREAM n4\n"
	m := parseResolve(out)
	if strings.Join(m["n2"], " ") != "10.213.0.12" || len(m["n3"]) != 0 || strings.Join(m["n4"], " ") != "fe80::1 10.0.0.4" {
		t.Errorf("parseResolve: %v", m)
	}
}

// TestScripts compares the generated nft and tc scripts with golden files
// (go test -run TestScripts -update rewrites them).
func TestScripts(t *testing.T) {
	b, _ := ParseBehaviour("delay=100ms/10ms/normal,loss=20%,duplicate=5%")
	var got strings.Builder
	got.WriteString("# PartitionNft drop\n" + PartitionNft([]string{"10.0.0.12", "10.0.0.13", "fd00::3"}, false))
	got.WriteString("# PartitionNft reject\n" + PartitionNft([]string{"10.0.0.12"}, true))
	got.WriteString("# partitionIptables\n" + partitionIptables([]string{"10.0.0.12"}, true))
	got.WriteString("# PacketNft all\n" + PacketNft("eth0", nil, b))
	got.WriteString("# PacketNft links\n" + PacketNft("eth0", []string{"10.0.0.12", "10.0.0.13"}, b))
	got.WriteString("# RateScript all\n" + RateScript("eth0", nil, 8e6))
	got.WriteString("# RateScript links\n" + RateScript("eth0", []string{"10.0.0.12"}, 1e6))
	got.WriteString("# NetemScript all\n" + NetemScript("eth0", nil, b))
	got.WriteString("# NetemScript links\n" + NetemScript("eth0", []string{"10.0.0.12"}, b))
	got.WriteString("# delayIptables links\n" + delayIptables("eth0", []string{"10.0.0.12"}, 7217))
	got.WriteString("# delayIptables all\n" + delayIptables("eth0", nil, 7217))
	path := filepath.Join("testdata", "scripts.golden")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got.String() != string(want) {
		t.Errorf("scripts differ from %s (run with -update after checking):\n%s", path, got.String())
	}
}

func FuzzParseBehaviour(f *testing.F) {
	for _, s := range []string{"delay=100ms/20ms/normal~25%", "loss=20%~75%,duplicate=5", "rate=8mbit", "reorder=1,delay=1s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseBehaviour(s)
		if err != nil {
			return
		}
		b2, err := ParseBehaviour(b.String())
		if err != nil || b2.String() != b.String() {
			t.Fatalf("%q: round trip %q: %v", s, b.String(), err)
		}
	})
}

func TestAgentArgs(t *testing.T) {
	cfg := AgentConfig{Queue: 12, Delay: 100 * time.Millisecond, Jitter: 20 * time.Millisecond, Distribution: "normal", Correlation: 25, Reorder: 10, ReorderCorrelation: 5, Seed: 7}
	back, err := ParseAgentArgs(cfg.Args())
	if err != nil {
		t.Fatal(err)
	}
	if back.Args() == nil || strings.Join(back.Args(), " ") != strings.Join(cfg.Args(), " ") || back.Queue != 12 || back.Jitter != cfg.Jitter || back.Seed != 7 {
		t.Errorf("round trip: %+v, want %+v", back, cfg)
	}
	for _, args := range [][]string{nil, {"loss"}, {"delay", "--delay", "0s"}, {"delay", "--queue", "70000", "--delay", "1ms"}, {"delay", "--delay", "1ms", "extra"}} {
		if _, err := ParseAgentArgs(args); err == nil {
			t.Errorf("ParseAgentArgs(%q) accepted", args)
		}
	}
}

func TestDelaySampler(t *testing.T) {
	median := func(d []time.Duration) time.Duration { return d[len(d)/2] }
	for _, dist := range []string{"uniform", "normal", "pareto", "paretonormal"} {
		d := sampleDelays(AgentConfig{Delay: 100 * time.Millisecond, Jitter: 20 * time.Millisecond, Distribution: dist, Seed: 1}, 20000)
		if m := median(d); m < 80*time.Millisecond || m > 120*time.Millisecond {
			t.Errorf("%s: median %v, want about 100ms", dist, m)
		}
		if d[0] == d[len(d)-1] {
			t.Errorf("%s: no jitter", dist)
		}
		if dist == "uniform" && (d[0] < 80*time.Millisecond || d[len(d)-1] > 120*time.Millisecond) {
			t.Errorf("uniform: range %v..%v, want within 80..120ms", d[0], d[len(d)-1])
		}
	}
	d := sampleDelays(AgentConfig{Delay: 50 * time.Millisecond, Reorder: 30, Seed: 2}, 10000)
	zero := 0
	for _, x := range d {
		if x == 0 {
			zero++
		} else if x != 50*time.Millisecond {
			t.Fatalf("reorder without jitter gave %v", x)
		}
	}
	if zero < 2700 || zero > 3300 {
		t.Errorf("reorder 30%%: %d of 10000 undelayed", zero)
	}
	// Correlation narrows the spread of consecutive draws.
	s := newDelaySampler(AgentConfig{Delay: 100 * time.Millisecond, Jitter: 20 * time.Millisecond, Distribution: "normal", Correlation: 90, Seed: 3})
	var jumps time.Duration
	prev := s.next()
	for range 1000 {
		x := s.next()
		jumps += max(x-prev, prev-x)
		prev = x
	}
	if jumps/1000 > 5*time.Millisecond {
		t.Errorf("90%% correlation: mean jump %v", jumps/1000)
	}
}

// BenchmarkDelaySampler is the agent's per-packet cost of drawing a delay.
func BenchmarkDelaySampler(b *testing.B) {
	s := newDelaySampler(AgentConfig{Delay: 100 * time.Millisecond, Jitter: 20 * time.Millisecond, Distribution: "paretonormal", Correlation: 25, Reorder: 10, Seed: 1})
	for b.Loop() {
		s.next()
	}
}

func BenchmarkMakeGrudge(b *testing.B) {
	nodes := []string{"n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9"}
	r := rng(1)
	for b.Loop() {
		if _, err := MakeGrudge(ShapeMajoritiesRing, nodes, nil, r); err != nil {
			b.Fatal(err)
		}
	}
}
