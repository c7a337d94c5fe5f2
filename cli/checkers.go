package cli

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/checker/elle"
	"github.com/faultline/faultline/checker/linear"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/model"
	"github.com/faultline/faultline/workload"
)

// basicCheckers are the checkers `analyze --checker` knows by name.
var basicCheckers = map[string]func() checker.Checker{
	"stats":                checker.Stats,
	"unhandled-exceptions": checker.UnhandledExceptions,
	"counter":              checker.Counter,
	"set":                  checker.Set,
	"set-full":             func() checker.Checker { return checker.SetFull(checker.SetFullOptions{}) },
	"queue":                checker.Queue,
	"total-queue":          checker.TotalQueue,
	"unique-ids":           checker.UniqueIDs,
	"bank":                 func() checker.Checker { return checker.Bank(checker.BankOptions{}) },
	"long-fork":            func() checker.Checker { return checker.LongFork(0) },
	"perf":                 func() checker.Checker { return checker.Perf(checker.PerfOptions{}) },
}

// checkerNames lists what --checker accepts.
func checkerNames() []string {
	names := []string{"linear", "list-append", "rw-register"}
	for n := range basicCheckers {
		names = append(names, n)
	}
	for _, w := range workload.Names() {
		if !slices.Contains(names, w) {
			names = append(names, w)
		}
	}
	sort.Strings(names)
	return names
}

func modelNames() []string { return model.Names() }

// CheckerByName builds the checker `analyze --checker NAME` asks for:
// "linear" (alias "linearizable", with --model and --initial), a basic
// checker, or a built-in workload's checker.
func CheckerByName(name string, a *AnalyzeFlags) (checker.Checker, error) {
	switch name {
	case "list-append", "rw-register":
		eo, err := elleOptions(a)
		if err != nil {
			return nil, err
		}
		if name == "list-append" {
			return elle.ListAppend(eo), nil
		}
		return elle.RWRegister(eo), nil
	case "linear", "linearizable", "linearizability":
		mname := a.Model
		if mname == "" {
			mname = "cas-register"
		}
		var initial any
		if a.Initial != "" {
			v, err := history.ParseEDNValue(a.Initial)
			if err != nil {
				return nil, fmt.Errorf("%w: --initial: %v", errUsage, err)
			}
			initial = v
		}
		m, err := model.ByName(mname, initial)
		if err != nil {
			return nil, fmt.Errorf("%w: --model: %v", errUsage, err)
		}
		return linear.New(m, linear.Options{TimeBudget: a.TimeBudget, MemoryBudget: a.MemoryBudget,
			Independent: a.Independent, AllKeys: a.AllKeys, NoSplit: a.NoSplit}), nil
	}
	if a.Model != "" {
		return nil, fmt.Errorf("%w: --model applies to the linear checker, not %q", errUsage, name)
	}
	if mk, ok := basicCheckers[name]; ok {
		c := mk()
		if a.Independent {
			c = checker.Independent(c)
		}
		return c, nil
	}
	if slices.Contains(workload.Names(), name) {
		c, err := workload.CheckerByName(name, workload.Options{Linear: linear.Options{TimeBudget: a.TimeBudget, MemoryBudget: a.MemoryBudget}})
		if err != nil {
			return nil, err
		}
		return workload.Standard(c), nil
	}
	return nil, fmt.Errorf("%w: unknown checker %q; known: %s", errUsage, name, strings.Join(checkerNames(), ", "))
}

// elleOptions reads the transactional checker's flags.
func elleOptions(a *AnalyzeFlags) (elle.Options, error) {
	var o elle.Options
	var err error
	if a.ConsistencyModels != "" {
		if o.ConsistencyModels, err = elle.ParseModels(a.ConsistencyModels); err != nil {
			return o, fmt.Errorf("%w: --consistency-models: %v", errUsage, err)
		}
	}
	if a.Anomalies != "" {
		if o.Anomalies, err = elle.ParseAnomalies(a.Anomalies); err != nil {
			return o, fmt.Errorf("%w: --anomalies: %v", errUsage, err)
		}
	}
	o.CycleSearchTimeout = a.CycleSearchTimeout
	o.LinearizableKeys, o.SequentialKeys, o.WFRKeys = a.LinearizableKeys, a.SequentialKeys, a.WFRKeys
	return o, nil
}
