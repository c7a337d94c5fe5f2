package workload

import (
	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/generator"
	"github.com/faultline/faultline/history"
)

// Bank transfers amounts between accounts and reads all balances: every read
// must show the same total and no negative balance (snapshot isolation over
// the accounts).
func Bank(o Options) Workload {
	accounts := o.Accounts
	if len(accounts) == 0 {
		accounts = []int64{0, 1, 2, 3, 4, 5, 6, 7}
	}
	total := o.Total
	if total == 0 {
		total = 100
	}
	transfer := generator.Fn(func(ctx *generator.Context) (history.Op, bool) {
		r := ctx.Rand()
		from := accounts[r.IntN(len(accounts))]
		to := accounts[r.IntN(len(accounts))]
		for to == from && len(accounts) > 1 {
			to = accounts[r.IntN(len(accounts))]
		}
		return generator.Invocation("transfer", history.Map{
			{Key: "from", Val: from}, {Key: "to", Val: to}, {Key: "amount", Val: 1 + r.Int64N(5)},
		}), true
	})
	read := generator.Lit(generator.Invocation("read", nil))
	acc := make([]any, len(accounts))
	for i, a := range accounts {
		acc[i] = a
	}
	return Workload{
		Name:      "bank",
		Generator: o.paced(generator.Mix(transfer, generator.Repeat(read))),
		Final:     generator.Once(read),
		Checker:   checker.Bank(checker.BankOptions{Accounts: acc, Total: total}),
	}
}
