package workload

import (
	"fmt"

	"github.com/faultline/faultline/checker/linear"
	"github.com/faultline/faultline/generator"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/model"
)

// Register is Jepsen's linearizable-register workload: reads, writes and
// compare-and-sets of small values over many independent keys, a few
// threads per key and a bounded number of operations per key, checked for
// linearizability key by key against a compare-and-set register that starts
// empty (nil).
func Register(o Options) (Workload, error) {
	if o.Concurrency < 1 {
		return Workload{}, fmt.Errorf("register workload: concurrency %d", o.Concurrency)
	}
	per := o.ThreadsPerKey
	if per <= 0 {
		per = 10
	}
	per = largestDivisor(o.Concurrency, per)
	opsPerKey := o.OpsPerKey
	if opsPerKey <= 0 {
		opsPerKey = 100
	}
	value := func(ctx *generator.Context) int64 { return ctx.Rand().Int64N(5) }
	r := generator.Fn(func(*generator.Context) (history.Op, bool) {
		return generator.Invocation("read", nil), true
	})
	w := generator.Fn(func(ctx *generator.Context) (history.Op, bool) {
		return generator.Invocation("write", value(ctx)), true
	})
	cas := generator.Fn(func(ctx *generator.Context) (history.Op, bool) {
		return generator.Invocation("cas", []any{value(ctx), value(ctx)}), true
	})
	gen := generator.ConcurrentGeneratorSeq(per, generator.IntKeys(), func(any) generator.Generator {
		return generator.Limit(opsPerKey, generator.Mix(r, w, cas))
	})
	return Workload{
		Name:      "register",
		Generator: o.paced(gen),
		Checker:   linear.New(model.CASRegister(nil), allKeys(o.Linear)),
	}, nil
}

// largestDivisor returns the largest d <= limit dividing n.
func largestDivisor(n, limit int) int {
	for d := min(n, limit); d > 1; d-- {
		if n%d == 0 {
			return d
		}
	}
	return 1
}

// allKeys makes the linearizability checker report every failing key, as
// Jepsen's independent checker does; a run's keys are small, so this is cheap.
func allKeys(o linear.Options) linear.Options {
	o.AllKeys = true
	return o
}
