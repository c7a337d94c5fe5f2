package workload

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/checker/linear"
	"github.com/faultline/faultline/generator"
)

// Workload is what a test runs and how its history is judged.
type Workload struct {
	// Name is the workload's name, e.g. "register".
	Name string
	// Generator emits client operations; it runs until the test's time limit.
	Generator generator.Generator
	// Final emits client operations after the main phase and healing (final
	// reads); nil when the workload has none.
	Final generator.Generator
	// Checker judges the history.
	Checker checker.Checker
}

// Options tune the built-in workloads. The zero value gives the defaults.
type Options struct {
	// Concurrency is the test's number of client threads (required by
	// workloads that group threads per key).
	Concurrency int
	// Rate is the total rate of client operations per second; 0 means
	// DefaultRate, a negative rate means as fast as the clients go.
	Rate float64
	// ThreadsPerKey is how many threads work on one register key at a time
	// (default 10, reduced to a divisor of Concurrency).
	ThreadsPerKey int
	// OpsPerKey is how many operations each register key gets (default 100).
	OpsPerKey int
	// Linear tunes the linearizability checker of the register workload.
	Linear linear.Options
	// Accounts and Total configure the bank workload (default 8 accounts, 100).
	Accounts []int64
	Total    int64
}

// DefaultRate is the default total rate of client operations per second.
const DefaultRate = 1000

// Names lists the built-in workloads.
func Names() []string {
	return []string{"register", "set", "counter", "bank", "unique-ids", "queue", "append", "wr"}
}

// ByName returns the built-in workload called name.
func ByName(name string, o Options) (Workload, error) {
	switch name {
	case "register":
		return Register(o)
	case "set":
		return Set(o), nil
	case "counter":
		return Counter(o), nil
	case "bank":
		return Bank(o), nil
	case "unique-ids":
		return UniqueIDs(o), nil
	case "queue":
		return Queue(o), nil
	case "append":
		return Append(o), nil
	case "wr":
		return WR(o), nil
	}
	return Workload{}, fmt.Errorf("unknown workload %q; known: %s", name, strings.Join(Names(), ", "))
}

// CheckerByName returns only the checker of a built-in workload, for
// analysing a stored run again.
func CheckerByName(name string, o Options) (checker.Checker, error) {
	if !slices.Contains(Names(), name) {
		return nil, fmt.Errorf("unknown workload %q; known: %s", name, strings.Join(Names(), ", "))
	}
	if o.Concurrency == 0 {
		o.Concurrency = 10
	}
	w, err := ByName(name, o)
	return w.Checker, err
}

// Standard adds the checkers every test runs (stats, unhandled exceptions,
// performance) to a workload's checker, as Jepsen's test compositions do.
// nemeses name the fault ops for the performance checker's intervals.
func Standard(c checker.Checker, nemeses ...checker.NemesisSpec) checker.Checker {
	return checker.Compose("faultline", c, checker.Stats(), checker.UnhandledExceptions(), checker.Perf(checker.PerfOptions{Nemeses: nemeses}))
}

// paced applies the workload's rate to g.
func (o Options) paced(g generator.Generator) generator.Generator {
	rate := o.Rate
	if rate == 0 {
		rate = DefaultRate
	}
	if rate < 0 {
		return g
	}
	return generator.Stagger(time.Duration(float64(time.Second)/rate), g)
}
