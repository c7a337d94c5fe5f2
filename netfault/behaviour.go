package netfault

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/history"
)

// Behaviour is what happens to packets on shaped links, after tc netem
// (and Jepsen's net/shape!). Nil parts are left alone; the zero Behaviour
// changes nothing.
type Behaviour struct {
	Delay     *Delay   `json:"delay,omitempty"`
	Loss      *Percent `json:"loss,omitempty"`
	Duplicate *Percent `json:"duplicate,omitempty"`
	// Reorder sends Percent of the packets at once while the others wait
	// for Delay (netem's reorder), so it needs Delay.
	Reorder *Percent `json:"reorder,omitempty"`
	Corrupt *Percent `json:"corrupt,omitempty"`
	Rate    *Rate    `json:"rate,omitempty"`
}

// Delay holds packets back.
type Delay struct {
	Time   time.Duration
	Jitter time.Duration
	// Correlation (percent) ties each delay's random part to the last one.
	Correlation float64
	// Distribution of the jitter: "" or "uniform", "normal", "pareto",
	// "paretonormal".
	Distribution string
}

// Percent is a share of packets, with an optional correlation (percent)
// to the previous decision.
type Percent struct {
	Percent     float64
	Correlation float64
}

// Rate limits the bandwidth.
type Rate struct {
	// BitsPerSecond is the rate, > 0.
	BitsPerSecond uint64
}

// Distributions are the jitter distributions netem and the delay agent
// know.
var Distributions = []string{"uniform", "normal", "pareto", "paretonormal"}

// IsZero reports whether b changes nothing.
func (b Behaviour) IsZero() bool {
	return b.Delay == nil && b.Loss == nil && b.Duplicate == nil && b.Reorder == nil && b.Corrupt == nil && b.Rate == nil
}

// Parts names the parts b sets, in a fixed order.
func (b Behaviour) Parts() []string {
	var out []string
	for _, p := range []struct {
		name string
		set  bool
	}{{"delay", b.Delay != nil}, {"loss", b.Loss != nil}, {"duplicate", b.Duplicate != nil},
		{"reorder", b.Reorder != nil}, {"corrupt", b.Corrupt != nil}, {"rate", b.Rate != nil}} {
		if p.set {
			out = append(out, p.name)
		}
	}
	return out
}

// Validate checks ranges and combinations.
func (b Behaviour) Validate() error {
	if b.IsZero() {
		return errors.New("packet behaviour: nothing to do (set delay, loss, duplicate, reorder, corrupt or rate)")
	}
	pct := func(what string, p *Percent) error {
		if p == nil {
			return nil
		}
		if !(p.Percent > 0 && p.Percent <= 100) {
			return fmt.Errorf("packet behaviour: %s %v%%: want more than 0 and at most 100", what, p.Percent)
		}
		if !(p.Correlation >= 0 && p.Correlation <= 100) {
			return fmt.Errorf("packet behaviour: %s correlation %v%%: want 0 to 100", what, p.Correlation)
		}
		return nil
	}
	for _, x := range []struct {
		what string
		p    *Percent
	}{{"loss", b.Loss}, {"duplicate", b.Duplicate}, {"reorder", b.Reorder}, {"corrupt", b.Corrupt}} {
		if err := pct(x.what, x.p); err != nil {
			return err
		}
	}
	if d := b.Delay; d != nil {
		if d.Time <= 0 || d.Jitter < 0 {
			return fmt.Errorf("packet behaviour: delay %v jitter %v: want a delay above 0 and a jitter of at least 0", d.Time, d.Jitter)
		}
		if d.Time > time.Minute || d.Jitter > time.Minute {
			return fmt.Errorf("packet behaviour: delay %v jitter %v: at most one minute", d.Time, d.Jitter)
		}
		if !(d.Correlation >= 0 && d.Correlation <= 100) {
			return fmt.Errorf("packet behaviour: delay correlation %v%%: want 0 to 100", d.Correlation)
		}
		if d.Distribution != "" && !slices.Contains(Distributions, d.Distribution) {
			return fmt.Errorf("packet behaviour: unknown delay distribution %q (have %s)", d.Distribution, strings.Join(Distributions, ", "))
		}
		if d.Distribution != "" && d.Distribution != "uniform" && d.Jitter == 0 {
			return fmt.Errorf("packet behaviour: a %s distribution needs a jitter", d.Distribution)
		}
	}
	if b.Reorder != nil && b.Delay == nil {
		return errors.New("packet behaviour: reorder needs a delay (the packets that are not reordered wait for it)")
	}
	if b.Rate != nil && b.Rate.BitsPerSecond == 0 {
		return errors.New("packet behaviour: rate must be above 0")
	}
	return nil
}

// String renders b in the syntax ParseBehaviour reads.
func (b Behaviour) String() string {
	var parts []string
	if d := b.Delay; d != nil {
		s := "delay=" + d.Time.String()
		if d.Jitter > 0 || d.Distribution != "" {
			s += "/" + d.Jitter.String()
		}
		if d.Distribution != "" {
			s += "/" + d.Distribution
		}
		if d.Correlation > 0 {
			s += "~" + fmtFloat(d.Correlation) + "%"
		}
		parts = append(parts, s)
	}
	for _, x := range []struct {
		name string
		p    *Percent
	}{{"loss", b.Loss}, {"duplicate", b.Duplicate}, {"reorder", b.Reorder}, {"corrupt", b.Corrupt}} {
		if x.p == nil {
			continue
		}
		s := x.name + "=" + fmtFloat(x.p.Percent) + "%"
		if x.p.Correlation > 0 {
			s += "~" + fmtFloat(x.p.Correlation) + "%"
		}
		parts = append(parts, s)
	}
	if b.Rate != nil {
		parts = append(parts, "rate="+FormatRate(b.Rate.BitsPerSecond))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// ParseBehaviour reads a behaviour written as comma-separated parts:
//
//	delay=100ms[/20ms[/normal]][~25%]   delay, jitter, distribution, correlation
//	loss=20%[~75%]                       percent and correlation
//	duplicate=5%  reorder=25%  corrupt=1%
//	rate=8mbit                           bit/s, kbit, mbit, gbit (also kbps... in bytes)
func ParseBehaviour(s string) (Behaviour, error) {
	var b Behaviour
	s = strings.TrimSpace(s)
	if s == "" {
		return b, errors.New("empty packet behaviour")
	}
	for _, part := range strings.Split(s, ",") {
		key, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return b, fmt.Errorf("packet behaviour %q: want KEY=VALUE", part)
		}
		val = strings.TrimSpace(val)
		var err error
		switch key {
		case "delay":
			b.Delay, err = parseDelay(val)
		case "loss":
			b.Loss, err = parsePercentCorr(val)
		case "duplicate":
			b.Duplicate, err = parsePercentCorr(val)
		case "reorder":
			b.Reorder, err = parsePercentCorr(val)
		case "corrupt":
			b.Corrupt, err = parsePercentCorr(val)
		case "rate":
			var bps uint64
			bps, err = ParseRate(val)
			b.Rate = &Rate{BitsPerSecond: bps}
		default:
			return b, fmt.Errorf("packet behaviour %q: unknown part %q (have delay, loss, duplicate, reorder, corrupt, rate)", part, key)
		}
		if err != nil {
			return b, fmt.Errorf("packet behaviour %q: %w", part, err)
		}
	}
	return b, b.Validate()
}

func parseDelay(s string) (*Delay, error) {
	d := &Delay{}
	s, corr, hasCorr := strings.Cut(s, "~")
	if hasCorr {
		c, err := parsePercent(corr)
		if err != nil {
			return nil, err
		}
		d.Correlation = c
	}
	f := strings.Split(s, "/")
	if len(f) > 3 {
		return nil, fmt.Errorf("delay %q: want TIME[/JITTER[/DISTRIBUTION]]", s)
	}
	var err error
	if d.Time, err = time.ParseDuration(f[0]); err != nil {
		return nil, err
	}
	if len(f) > 1 {
		if d.Jitter, err = time.ParseDuration(f[1]); err != nil {
			return nil, err
		}
	}
	if len(f) > 2 {
		d.Distribution = f[2]
	}
	return d, nil
}

func parsePercentCorr(s string) (*Percent, error) {
	p := &Percent{}
	s, corr, hasCorr := strings.Cut(s, "~")
	var err error
	if p.Percent, err = parsePercent(s); err != nil {
		return nil, err
	}
	if hasCorr {
		if p.Correlation, err = parsePercent(corr); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func parsePercent(s string) (float64, error) {
	s = strings.TrimSuffix(strings.TrimSpace(s), "%")
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("bad percentage %q", s)
	}
	return f, nil
}

var rateUnits = []struct {
	suffix string
	mult   float64
}{
	{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}, {"bit", 1},
	{"gbps", 8e9}, {"mbps", 8e6}, {"kbps", 8e3}, {"bps", 8},
}

// ParseRate reads a rate as tc writes it: "8mbit", "512kbit", "100bit",
// "1mbps" (bytes per second), or a bare number of bits per second.
func ParseRate(s string) (uint64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := 1.0
	for _, u := range rateUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSuffix(t, u.suffix), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) || f*mult > 1e13 {
		return 0, fmt.Errorf("bad rate %q (want e.g. 8mbit, 512kbit)", s)
	}
	return uint64(f * mult), nil
}

// FormatRate writes bits per second the way tc reads them.
func FormatRate(bps uint64) string {
	switch {
	case bps >= 1e9 && bps%1e9 == 0:
		return fmt.Sprintf("%dgbit", bps/1e9)
	case bps >= 1e6 && bps%1e6 == 0:
		return fmt.Sprintf("%dmbit", bps/1e6)
	case bps >= 1e3 && bps%1e3 == 0:
		return fmt.Sprintf("%dkbit", bps/1e3)
	}
	return fmt.Sprintf("%dbit", bps)
}

// Value is b as a history value (a Map keyed by part), for nemesis ops.
func (b Behaviour) Value() history.Map {
	var m history.Map
	pct := func(p *Percent) history.Map {
		v := history.Map{{Key: "percent", Val: p.Percent}}
		if p.Correlation > 0 {
			v = append(v, history.Entry{Key: "correlation", Val: p.Correlation})
		}
		return v
	}
	if d := b.Delay; d != nil {
		v := history.Map{{Key: "time", Val: d.Time.String()}}
		if d.Jitter > 0 {
			v = append(v, history.Entry{Key: "jitter", Val: d.Jitter.String()})
		}
		if d.Correlation > 0 {
			v = append(v, history.Entry{Key: "correlation", Val: d.Correlation})
		}
		if d.Distribution != "" {
			v = append(v, history.Entry{Key: "distribution", Val: d.Distribution})
		}
		m = append(m, history.Entry{Key: "delay", Val: v})
	}
	for _, x := range []struct {
		name string
		p    *Percent
	}{{"loss", b.Loss}, {"duplicate", b.Duplicate}, {"reorder", b.Reorder}, {"corrupt", b.Corrupt}} {
		if x.p != nil {
			m = append(m, history.Entry{Key: x.name, Val: pct(x.p)})
		}
	}
	if b.Rate != nil {
		m = append(m, history.Entry{Key: "rate", Val: history.Map{{Key: "rate", Val: FormatRate(b.Rate.BitsPerSecond)}}})
	}
	return m
}

// BehaviourFromValue reads a behaviour from a history value: a string in
// ParseBehaviour's syntax, or a Map as Value writes it (Jepsen's
// {:delay {:time "100ms" :jitter "20ms"} :loss {:percent 20}}); percents
// may be numbers or strings like "20%", times strings like "100ms" or
// numbers of milliseconds.
func BehaviourFromValue(v any) (Behaviour, error) {
	switch x := v.(type) {
	case string:
		return ParseBehaviour(x)
	case history.Map:
		var b Behaviour
		for _, e := range x {
			key, _ := e.Key.(string)
			m, ok := e.Val.(history.Map)
			if !ok && e.Val != nil {
				return b, fmt.Errorf("packet behaviour %s: want a map, got %s", key, history.Format(e.Val))
			}
			var err error
			switch key {
			case "delay":
				d := &Delay{Time: 50 * time.Millisecond, Jitter: 10 * time.Millisecond, Distribution: "normal"}
				if len(m) > 0 {
					d = &Delay{}
				}
				for _, f := range m {
					switch f.Key {
					case "time":
						d.Time, err = durationValue(f.Val)
					case "jitter":
						d.Jitter, err = durationValue(f.Val)
					case "correlation":
						d.Correlation, err = percentValue(f.Val)
					case "distribution":
						d.Distribution, _ = f.Val.(string)
					default:
						err = fmt.Errorf("unknown delay field %s", history.Format(f.Key))
					}
					if err != nil {
						return b, fmt.Errorf("packet behaviour delay: %w", err)
					}
				}
				b.Delay = d
			case "loss", "duplicate", "reorder", "corrupt":
				p := &Percent{Percent: 20}
				for _, f := range m {
					switch f.Key {
					case "percent":
						p.Percent, err = percentValue(f.Val)
					case "correlation":
						p.Correlation, err = percentValue(f.Val)
					default:
						err = fmt.Errorf("unknown %s field %s", key, history.Format(f.Key))
					}
					if err != nil {
						return b, fmt.Errorf("packet behaviour %s: %w", key, err)
					}
				}
				switch key {
				case "loss":
					b.Loss = p
				case "duplicate":
					b.Duplicate = p
				case "reorder":
					b.Reorder = p
				case "corrupt":
					b.Corrupt = p
				}
			case "rate":
				r := &Rate{BitsPerSecond: 1e6}
				if v, ok := m.Get("rate"); ok {
					s, isStr := v.(string)
					if !isStr {
						s = history.Format(v)
					}
					r.BitsPerSecond, err = ParseRate(s)
				}
				b.Rate = r
			default:
				return b, fmt.Errorf("unknown packet behaviour %q (have delay, loss, duplicate, reorder, corrupt, rate)", key)
			}
			if err != nil {
				return b, fmt.Errorf("packet behaviour %s: %w", key, err)
			}
		}
		return b, b.Validate()
	}
	return Behaviour{}, fmt.Errorf("packet behaviour: want a string or a map, got %s", history.Format(v))
}

func durationValue(v any) (time.Duration, error) {
	switch x := v.(type) {
	case string:
		return time.ParseDuration(x)
	case int64:
		return time.Duration(x) * time.Millisecond, nil
	case float64:
		return time.Duration(x * float64(time.Millisecond)), nil
	}
	return 0, fmt.Errorf("bad duration %s (want \"100ms\" or milliseconds)", history.Format(v))
}

func percentValue(v any) (float64, error) {
	switch x := v.(type) {
	case string:
		return parsePercent(x)
	case int64:
		return float64(x), nil
	case float64:
		return x, nil
	}
	return 0, fmt.Errorf("bad percentage %s", history.Format(v))
}

// NetemArgs is b as the arguments of `tc qdisc ... netem`.
func (b Behaviour) NetemArgs() []string {
	var a []string
	pctArgs := func(p *Percent) []string {
		out := []string{fmtFloat(p.Percent) + "%"}
		if p.Correlation > 0 {
			out = append(out, fmtFloat(p.Correlation)+"%")
		}
		return out
	}
	if d := b.Delay; d != nil {
		a = append(a, "delay", usec(d.Time))
		if d.Jitter > 0 {
			a = append(a, usec(d.Jitter))
			if d.Correlation > 0 {
				a = append(a, fmtFloat(d.Correlation)+"%")
			}
			if d.Distribution != "" && d.Distribution != "uniform" {
				a = append(a, "distribution", d.Distribution)
			}
		}
	}
	if b.Loss != nil {
		a = append(append(a, "loss", "random"), pctArgs(b.Loss)...)
	}
	if b.Duplicate != nil {
		a = append(append(a, "duplicate"), pctArgs(b.Duplicate)...)
	}
	if b.Reorder != nil {
		a = append(append(a, "reorder"), pctArgs(b.Reorder)...)
	}
	if b.Corrupt != nil {
		a = append(append(a, "corrupt"), pctArgs(b.Corrupt)...)
	}
	if b.Rate != nil {
		a = append(a, "rate", FormatRate(b.Rate.BitsPerSecond))
	}
	return a
}

func usec(d time.Duration) string { return strconv.FormatInt(d.Microseconds(), 10) + "us" }
