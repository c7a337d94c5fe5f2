// Command faultline tests distributed systems under faults: it runs a
// workload against a system on several nodes while a nemesis injects faults,
// records every operation and checks the history. See the README.
package main

import (
	"context"
	"fmt"

	"github.com/faultline/faultline/cli"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/netfault"
	"github.com/faultline/faultline/suites/etcd"
	"github.com/faultline/faultline/suites/memory"
)

func main() {
	cli.Exec(cli.Config{
		Suites:   []cli.Suite{memory.Suite(), etcd.Suite()},
		Commands: []cli.Command{memory.Command(), agentCommand()},
	})
}

// agentCommand is the hidden `nemesis-agent` subcommand: the packet-delay
// agent that netfault starts on a node when its kernel has no netem
// (`nemesis-agent delay ...`), and the clock agent that the clock nemesis
// uploads to nodes with their own kernel (`nemesis-agent clock ...`).
func agentCommand() cli.Command {
	return cli.Command{
		Name:   "nemesis-agent",
		Hidden: true,
		Run: func(ctx context.Context, args []string, env *cli.Env) int {
			run := netfault.AgentMain
			if len(args) > 0 && args[0] == "clock" {
				run, args = nemesis.ClockAgentMain, args[1:]
			}
			if err := run(ctx, args, env.Stdout); err != nil {
				fmt.Fprintf(env.Stderr, "faultline nemesis-agent: %v\n", err)
				return 1
			}
			return 0
		},
	}
}
