package memory

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/faultline/faultline/cli"
	"github.com/faultline/faultline/internal/memdb"
)

// Command is `faultline memdb serve --node N --peers n1=host:port,... --data-dir DIR
// [--listen ADDR] [--bug B]`: one replica of the built-in store, as the
// networked memory suite starts on every node.
func Command() cli.Command {
	return cli.Command{
		Name: "memdb",
		Help: "run one replica of the built-in replicated store (memdb serve --node N --peers ...)",
		Run: func(ctx context.Context, args []string, env *cli.Env) int {
			if len(args) == 0 || args[0] != "serve" {
				fmt.Fprintln(env.Stderr, "usage: faultline memdb serve --node N --peers n1=host:port,... --data-dir DIR [--listen ADDR] [--bug B]\nbugs: "+memdb.BugNames())
				return cli.ExitUsage
			}
			cfg, err := memdb.ParseServerFlags(args[1:])
			if err != nil {
				fmt.Fprintf(env.Stderr, "faultline memdb serve: %v\n", err)
				return cli.ExitUsage
			}
			cfg.Logger = slog.New(slog.NewTextHandler(env.Stderr, nil))
			if err := memdb.Serve(ctx, cfg); err != nil {
				fmt.Fprintf(env.Stderr, "faultline memdb serve: %v\n", err)
				return 1
			}
			return 0
		},
	}
}
