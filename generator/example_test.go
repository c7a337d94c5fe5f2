package generator_test

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/generator"
	"github.com/faultline/faultline/history"
)

// A register workload with a nemesis that starts and stops a fault every
// five seconds, for thirty seconds; then the fault is healed and every
// client reads until one read succeeds.
func Example() {
	read := generator.Lit(generator.Invocation("read", nil))
	g := generator.Phases(
		generator.TimeLimit(30*time.Second, generator.ClientsNemesis(
			generator.Stagger(10*time.Millisecond, generator.Mix(
				generator.Repeat(read),
				generator.Fn(func(ctx *generator.Context) (history.Op, bool) {
					return generator.Invocation("write", ctx.Rand().IntN(5)), true
				}),
			)),
			generator.Cycle(generator.Seq(
				generator.Sleep(5*time.Second),
				generator.Lit(history.Op{Type: history.Info, F: "start"}),
				generator.Sleep(5*time.Second),
				generator.Lit(history.Op{Type: history.Info, F: "stop"}),
			)),
		)),
		generator.Log("healing"),
		generator.Nemesis(generator.Lit(history.Op{Type: history.Info, F: "stop"})),
		generator.Clients(generator.EachThread(generator.UntilOK(generator.Repeat(read)))),
	)
	ops, err := generator.Simulate(g, generator.SimOptions{Concurrency: 5, Nemesis: true, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	count := map[string]int{}
	var last history.Op
	for _, op := range generator.Invocations(ops) {
		count[op.F]++
		last = op
	}
	fmt.Println("nemesis:", count["start"], "starts,", count["stop"], "stops")
	fmt.Println("about 3000 reads and writes:", count["read"]+count["write"] > 2700 && count["read"]+count["write"] < 3300)
	fmt.Println("last op:", last.F, "after", time.Duration(last.Time).Round(time.Second))
	// Output:
	// nemesis: 3 starts, 3 stops
	// about 3000 reads and writes: true
	// last op: read after 30s
}
