package workload

import (
	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/generator"
)

// Counter increments a counter and reads it; every read must lie between the
// acknowledged increments before it and all increments that may have
// happened by its completion.
func Counter(o Options) Workload {
	add := generator.Lit(generator.Invocation("add", int64(1)))
	read := generator.Lit(generator.Invocation("read", nil))
	gen := generator.Mix(generator.Repeat(add), generator.Repeat(add), generator.Repeat(add), generator.Repeat(read))
	return Workload{
		Name:      "counter",
		Generator: o.paced(gen),
		Final:     generator.Once(read),
		Checker:   checker.Counter(),
	}
}
