package workload

import (
	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/generator"
)

// UniqueIDs asks for identifiers that must all differ.
func UniqueIDs(o Options) Workload {
	return Workload{
		Name:      "unique-ids",
		Generator: o.paced(generator.Repeat(generator.Lit(generator.Invocation("generate", nil)))),
		Checker:   checker.UniqueIDs(),
	}
}
