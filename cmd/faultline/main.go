// Command faultline tests distributed systems under faults: it runs a
// workload against a system on several nodes while a nemesis injects faults,
// records every operation and checks the history. See the README.
package main

import (
	"github.com/faultline/faultline/cli"
	"github.com/faultline/faultline/suites/memory"
)

func main() {
	cli.Exec(cli.Config{Suites: []cli.Suite{memory.Suite()}})
}
