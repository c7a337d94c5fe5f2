package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/faultline/faultline/generator"
	"github.com/faultline/faultline/nemesis/combined"
	"github.com/faultline/faultline/netfault"
	"github.com/faultline/faultline/workload"
)

// Faults builds the nemesis package that --nemesis and --nemesis-interval
// ask for. base supplies what the suite knows (DB, Net, Shaper, Pauser...);
// caps are the nodes' probed capabilities (nil when the suite has none to
// probe). A fault this cluster cannot inject is refused here, before the
// run, with an error wrapping netfault.ErrUnsupported (exit 254).
func Faults(ctx context.Context, o *Options, base combined.Options, caps map[string]netfault.Capabilities) (combined.Package, error) {
	faults, err := combined.ParseFaults(o.Nemesis)
	if err != nil {
		return combined.Package{}, fmt.Errorf("%w: --nemesis: %v", errUsage, err)
	}
	base.Faults = faults
	base.Interval = o.NemesisInterval
	if base.Nodes == nil {
		base.Nodes = o.Nodes
	}
	if len(faults) == 0 {
		return combined.Package{}, nil
	}
	if err := combined.Check(ctx, base, caps); err != nil {
		return combined.Package{}, err
	}
	return combined.Packages(base)
}

// Schedule assembles a test's generators from a workload and a nemesis
// package, as Jepsen's tests do: clients and faults together during the main
// phase; then the nemesis heals, the system gets recovery time, and the
// clients do the workload's final reads.
func Schedule(w workload.Workload, pkg combined.Package, recovery time.Duration) (main, final generator.Generator) {
	main = generator.Clients(w.Generator)
	var finals []generator.Generator
	if pkg.Generator != nil {
		main = generator.ClientsNemesis(w.Generator, pkg.Generator)
	}
	if pkg.FinalGenerator != nil {
		finals = append(finals, generator.Nemesis(pkg.FinalGenerator))
		if recovery > 0 {
			finals = append(finals, generator.Log(fmt.Sprintf("faults healed; waiting %s for recovery", recovery)), generator.Sleep(recovery))
		}
	}
	if w.Final != nil {
		finals = append(finals, generator.Clients(w.Final))
	}
	if len(finals) == 0 {
		return main, nil
	}
	return main, generator.Phases(finals...)
}
