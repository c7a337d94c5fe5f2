package checker

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/faultline/faultline/history"
)

// BankOptions configure Bank.
type BankOptions struct {
	// Accounts are the account ids (int64 or string; 3 and "3" are the same
	// account). A read naming another account is an "unexpected-key"
	// error. Nil accepts any account.
	Accounts []any
	// Total is what the balances of every read must add up to.
	Total int64
	// NegativeBalances allows balances below zero.
	NegativeBalances bool
}

// BankError is one bad read.
type BankError struct {
	// Type is "unexpected-key", "nil-balance", "wrong-total" or
	// "negative-value".
	Type string `json:"type"`
	// Unexpected are the unknown accounts (unexpected-key).
	Unexpected Values `json:"unexpected,omitempty"`
	// Nils are the accounts read without a balance (nil-balance).
	Nils map[string]any `json:"nils,omitempty"`
	// Total is the sum read (wrong-total).
	Total *Value `json:"total,omitempty"`
	// Negative are the negative balances (negative-value).
	Negative Values `json:"negative,omitempty"`
	Op       OpJSON `json:"op"`

	badness float64
	total   float64
}

// BankErrors summarises the errors of one type.
type BankErrors struct {
	Count int        `json:"count"`
	First *BankError `json:"first"`
	Worst *BankError `json:"worst"`
	Last  *BankError `json:"last"`
	// Lowest and Highest are the wrong-total errors with the lowest and
	// highest totals.
	Lowest  *BankError `json:"lowest,omitempty"`
	Highest *BankError `json:"highest,omitempty"`
}

// BankResult is the result of Bank, with Jepsen's keys.
type BankResult struct {
	Valid      Validity               `json:"valid"`
	ReadCount  int                    `json:"read-count"`
	ErrorCount int                    `json:"error-count"`
	FirstError *BankError             `json:"first-error"`
	Errors     map[string]*BankErrors `json:"errors"`

	total int64
}

// Verdict implements Result.
func (r *BankResult) Verdict() Validity { return r.Valid }

// Summary names the kinds of bad reads with an example each.
func (r *BankResult) Summary() string {
	if r.ErrorCount == 0 {
		return fmt.Sprintf("all %d reads of the accounts add up to %d", r.ReadCount, r.total)
	}
	types := make([]string, 0, len(r.Errors))
	for t := range r.Errors {
		types = append(types, t)
	}
	sort.Strings(types)
	var parts []string
	for _, t := range types {
		e := r.Errors[t]
		parts = append(parts, fmt.Sprintf("%d %s (first: op %d %s)", e.Count, t, e.First.Op.Index, e.First.detail(r.total)))
	}
	return fmt.Sprintf("%d of %d bank reads are wrong: %s", r.ErrorCount, r.ReadCount, strings.Join(parts, "; "))
}

func (e *BankError) detail(want int64) string {
	switch e.Type {
	case "unexpected-key":
		return "read unknown accounts " + examples(e.Unexpected, 3)
	case "nil-balance":
		ks := make([]string, 0, len(e.Nils))
		for k := range e.Nils {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return "read no balance for accounts " + strings.Join(ks, ", ")
	case "wrong-total":
		return fmt.Sprintf("read a total of %s, not %d", history.Format(e.Total.V), want)
	case "negative-value":
		return "read negative balances " + examples(e.Negative, 3)
	}
	return e.Type
}

type bank struct{ opts BankOptions }

// Bank checks a bank, like Jepsen's tests/bank checker: "transfer" ops move
// money between accounts ({"from", "to", "amount"}; not examined) and ok
// "read" ops return every balance as a map from account to balance. Each
// read must name only known accounts, have a balance for each, add up to
// Total and, unless NegativeBalances, hold no negative balance; the first
// rule a read breaks (in that order) is its error. Errors are grouped by
// type with their count and first, worst and last examples. Balances may be
// integers or floats; a balance of another kind is an error of the history.
func Bank(opts BankOptions) Checker { return &bank{opts: opts} }

func (c *bank) Name() string { return "bank" }

func (c *bank) Check(_ context.Context, h *history.History, _ Options) (Result, error) {
	var accounts map[string]bool
	if c.opts.Accounts != nil {
		accounts = make(map[string]bool, len(c.opts.Accounts))
		for _, a := range c.opts.Accounts {
			accounts[keyString(a)] = true
		}
	}
	r := &BankResult{Errors: map[string]*BankErrors{}, total: c.opts.Total}
	var errs []*BankError
	for i := range h.Ops {
		op := &h.Ops[i]
		if !op.IsClient() || op.F != "read" || op.Type != history.OK {
			continue
		}
		r.ReadCount++
		e, err := c.checkRead(op, accounts)
		if err != nil {
			return nil, err
		}
		if e != nil {
			errs = append(errs, e)
		}
	}
	for _, e := range errs {
		g := r.Errors[e.Type]
		if g == nil {
			g = &BankErrors{First: e, Worst: e}
			r.Errors[e.Type] = g
		}
		g.Count++
		g.Last = e
		if e.badness > g.Worst.badness {
			g.Worst = e
		}
		if e.Type == "wrong-total" {
			if g.Lowest == nil || e.total < g.Lowest.total {
				g.Lowest = e
			}
			if g.Highest == nil || e.total > g.Highest.total {
				g.Highest = e
			}
		}
		if r.FirstError == nil {
			r.FirstError = e // errs are in history order
		}
	}
	r.ErrorCount = len(errs)
	r.Valid = Valid
	if r.ErrorCount > 0 {
		r.Valid = Invalid
	}
	return r, nil
}

func (c *bank) checkRead(op *history.Op, accounts map[string]bool) (*BankError, error) {
	m, ok := op.Value.(history.Map)
	if !ok {
		return nil, fmt.Errorf("bank: op %d (%s): read value is not a map of account to balance", op.Index, op.String())
	}
	var unexpected Values
	var nils map[string]any
	for _, e := range m {
		if accounts != nil && !accounts[keyString(e.Key)] {
			unexpected = append(unexpected, e.Key)
		}
		if e.Val == nil {
			if nils == nil {
				nils = map[string]any{}
			}
			nils[keyString(e.Key)] = nil
		}
	}
	if len(unexpected) > 0 {
		return &BankError{Type: "unexpected-key", Unexpected: unexpected, Op: OpJSON(*op), badness: float64(len(unexpected))}, nil
	}
	if len(nils) > 0 {
		return &BankError{Type: "nil-balance", Nils: nils, Op: OpJSON(*op), badness: float64(len(nils))}, nil
	}
	var isum int64
	var fsum float64
	floats := false
	var negative Values
	var negSum float64
	for _, e := range m {
		if n, ok := history.Int(e.Val); ok {
			isum += n
			fsum += float64(n)
			if n < 0 {
				negative = append(negative, n)
				negSum += float64(n)
			}
			continue
		}
		f, ok := e.Val.(float64)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("bank: op %d (%s): balance of account %s is %s, not a number", op.Index, op.String(), keyString(e.Key), history.Format(e.Val))
		}
		floats = true
		fsum += f
		if f < 0 {
			negative = append(negative, f)
			negSum += f
		}
	}
	var total any = isum
	wrong := isum != c.opts.Total
	if floats {
		total = fsum
		wrong = fsum != float64(c.opts.Total)
	}
	if wrong {
		return &BankError{Type: "wrong-total", Total: &Value{total}, Op: OpJSON(*op), badness: math.Abs(fsum - float64(c.opts.Total)), total: fsum}, nil
	}
	if !c.opts.NegativeBalances && len(negative) > 0 {
		return &BankError{Type: "negative-value", Negative: negative, Op: OpJSON(*op), badness: -negSum}, nil
	}
	return nil, nil
}
