package nemesis

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/history"
)

// Compose combines nemeses into one that routes each op by its f: fs maps
// every f to the nemesis that handles it (Jepsen's compose with a map).
// Setup sets up each distinct nemesis once; Teardown tears every one of
// them down, also when some fail or panic, and joins the errors.
func Compose(fs map[string]Nemesis) Nemesis {
	c := &composed{routes: map[string]int{}}
	keys := make([]string, 0, len(fs))
	for f := range fs {
		keys = append(keys, f)
	}
	slices.Sort(keys)
	for _, f := range keys {
		n := fs[f]
		i := slices.IndexFunc(c.nemeses, func(m Nemesis) bool { return sameNemesis(m, n) })
		if i < 0 {
			i = len(c.nemeses)
			c.nemeses = append(c.nemeses, n)
		}
		c.routes[f] = i
	}
	return c
}

// sameNemesis compares two nemeses without panicking on uncomparable ones.
func sameNemesis(a, b Nemesis) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// ComposeAll combines nemeses that report their fs (Reflection) into one
// that routes each op by f (Jepsen's compose with a collection). Two
// nemeses claiming one f, or one that does not report its fs, is an error.
func ComposeAll(ns ...Nemesis) (Nemesis, error) {
	fs := map[string]Nemesis{}
	owner := map[string]int{}
	for i, n := range ns {
		r, ok := n.(Reflection)
		if !ok {
			return nil, fmt.Errorf("nemesis %d (%T) does not report its fs (nemesis.Reflection): use Compose with an explicit map", i, n)
		}
		for _, f := range r.Fs() {
			if j, dup := owner[f]; dup {
				return nil, fmt.Errorf("nemeses %d (%T) and %d (%T) both handle f %q", j, ns[j], i, n, f)
			}
			owner[f] = i
			fs[f] = n
		}
	}
	return Compose(fs), nil
}

type composed struct {
	routes  map[string]int
	nemeses []Nemesis
}

// Fs lists the fs the composition handles, sorted.
func (c *composed) Fs() []string {
	out := make([]string, 0, len(c.routes))
	for f := range c.routes {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

func (c *composed) Setup(ctx context.Context, env *control.Env) (Nemesis, error) {
	out := &composed{routes: c.routes, nemeses: make([]Nemesis, len(c.nemeses))}
	for i, n := range c.nemeses {
		s, err := safeSetup(ctx, env, n)
		if err != nil {
			// Heal what the others did before failing.
			terr := (&composed{nemeses: out.nemeses[:i]}).Teardown(ctx, env)
			return nil, errors.Join(err, terr)
		}
		out.nemeses[i] = s
	}
	return out, nil
}

func safeSetup(ctx context.Context, env *control.Env, n Nemesis) (s Nemesis, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("nemesis %T: Setup panicked: %v\n%s", n, p, debug.Stack())
		}
	}()
	s, err = n.Setup(ctx, env)
	if err == nil && s == nil {
		err = fmt.Errorf("nemesis %T: Setup returned no nemesis", n)
	}
	return s, err
}

func (c *composed) Invoke(ctx context.Context, env *control.Env, op history.Op) (history.Op, error) {
	i, ok := c.routes[op.F]
	if !ok {
		return op, fmt.Errorf("no nemesis handles f %q (have %s)", op.F, strings.Join(c.Fs(), ", "))
	}
	return c.nemeses[i].Invoke(ctx, env, op)
}

func (c *composed) Teardown(ctx context.Context, env *control.Env) error {
	var errs []error
	for _, n := range c.nemeses {
		if n == nil {
			continue
		}
		errs = append(errs, SafeTeardown(ctx, env, n))
	}
	return errors.Join(errs...)
}

// SafeTeardown calls n.Teardown, turning a panic into an error.
func SafeTeardown(ctx context.Context, env *control.Env, n Nemesis) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("nemesis %T: Teardown panicked: %v", n, p)
		}
	}()
	return n.Teardown(ctx, env)
}
