package workload

import (
	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/generator"
	"github.com/faultline/faultline/history"
)

// Set adds distinct integers to a set and reads it once at the end; the
// set-full checker reports lost, stale and never-read elements.
func Set(o Options) Workload {
	adds := generator.Indexed(func(i int64) (history.Op, bool) {
		return generator.Invocation("add", i), true
	})
	return Workload{
		Name:      "set",
		Generator: o.paced(adds),
		Final:     generator.Once(generator.Lit(generator.Invocation("read", nil))),
		Checker:   checker.SetFull(checker.SetFullOptions{}),
	}
}
