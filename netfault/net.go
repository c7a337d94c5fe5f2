package netfault

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// Net cuts and heals the links between nodes. Implementations: NodeNet
// (firewall rules on the nodes, through control.Remote) and whatever an
// in-process cluster offers (memdb's Partition and Heal fit it through a
// small adapter).
type Net interface {
	// Drop makes every node n drop the packets of the nodes in g[n],
	// replacing any cut made before: nodes absent from g hear everyone
	// again.
	Drop(ctx context.Context, g Grudge) error
	// Heal removes every cut. It is idempotent and safe to call after a
	// failed Drop.
	Heal(ctx context.Context) error
}

// Shaper changes how packets travel instead of cutting links.
type Shaper interface {
	// Shape applies b to the links given, replacing any behaviour those
	// nodes had.
	Shape(ctx context.Context, links Links, b Behaviour) error
	// Unshape removes every behaviour from every node. It is idempotent.
	Unshape(ctx context.Context) error
}

// Links selects the links a Behaviour applies to: Links[n] lists the nodes
// whose traffic from n is affected; an empty list means all of n's
// traffic on its network interface.
type Links map[string][]string

// AllFrom is the Links value for all traffic leaving each of nodes.
func AllFrom(nodes ...string) Links {
	l := Links{}
	for _, n := range nodes {
		l[n] = nil
	}
	return l
}

// Between is the Links value for the traffic from each node of a to each
// node of b, and back.
func Between(a, b []string) Links {
	l := Links{}
	for _, x := range a {
		for _, y := range b {
			if x == y {
				continue
			}
			if !slices.Contains(l[x], y) {
				l[x] = append(l[x], y)
			}
			if !slices.Contains(l[y], x) {
				l[y] = append(l[y], x)
			}
		}
	}
	return l
}

// Sources returns the nodes whose traffic is affected, sorted.
func (l Links) Sources() []string {
	out := make([]string, 0, len(l))
	for n := range l {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// ErrUnsupported is wrapped by every error that says a fault cannot be
// injected here at all (a missing tool or kernel feature): a run that asks
// for it is refused before it starts (exit code 254).
var ErrUnsupported = errors.New("fault not supported")

// UnsupportedError says which fault cannot be injected on which node, why,
// and what would make it possible.
type UnsupportedError struct {
	Node   string // "" when it is not about one node
	Fault  string // e.g. "packet corrupt", "partition"
	Reason string
	Hint   string
}

func (e *UnsupportedError) Error() string {
	var b strings.Builder
	b.WriteString(e.Fault + " is not supported")
	if e.Node != "" {
		b.WriteString(" on " + e.Node)
	}
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	if e.Hint != "" {
		b.WriteString(" (" + e.Hint + ")")
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrUnsupported) true.
func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }
