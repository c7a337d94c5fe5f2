package checker

import (
	"strings"
	"testing"

	"github.com/faultline/faultline/history"
)

func balances(kvs ...any) history.Map {
	var m history.Map
	for i := 0; i+1 < len(kvs); i += 2 {
		m = append(m, history.Entry{Key: norm(kvs[i]), Val: norm(kvs[i+1])})
	}
	return m
}

func transfer(from, to, amount int) history.Map {
	return balances("from", from, "to", to, "amount", amount)
}

func TestBank(t *testing.T) {
	accts := []any{int64(0), int64(1), int64(2)}
	opts := BankOptions{Accounts: accts, Total: 30}
	tests := []struct {
		name    string
		opts    BankOptions
		ops     []history.Op
		want    Validity
		errors  map[string]int
		summary string
	}{
		{name: "empty", opts: opts, want: Valid, summary: "all 0 reads of the accounts add up to 30"},
		{name: "good", opts: opts, ops: []history.Op{
			invoke(0, "read", nil), ok(0, "read", balances(0, 10, 1, 10, 2, 10)),
			invoke(1, "transfer", transfer(0, 1, 5)), ok(1, "transfer", transfer(0, 1, 5)),
			nemesis("start", nil), nemesis("start", nil),
			invoke(0, "read", nil), ok(0, "read", balances(0, 5, 1, 15, 2, 10)),
			invoke(2, "read", nil), fail(2, "read", nil),
			invoke(3, "read", nil), info(3, "read", nil),
		}, want: Valid},
		{name: "string keys from JSON match int accounts", opts: opts, ops: []history.Op{
			invoke(0, "read", nil), ok(0, "read", balances("0", 10, "1", 10, "2", 10)),
		}, want: Valid},
		{name: "every error type", opts: opts, ops: []history.Op{
			invoke(0, "read", nil), ok(0, "read", balances(0, 10, 1, 10, 2, 11)), // wrong-total 31
			invoke(0, "read", nil), ok(0, "read", balances(0, 10, 1, 10, 2, 5)), // wrong-total 25
			invoke(0, "read", nil), ok(0, "read", balances(0, 40, 1, -5, 2, -5)), // negative
			invoke(0, "read", nil), ok(0, "read", balances(0, 10, 1, nil, 2, 20)), // nil
			invoke(0, "read", nil), ok(0, "read", balances(0, 10, 1, 10, 2, 5, 9, 5)), // unexpected
			invoke(0, "read", nil), ok(0, "read", balances(0, 10, 1, 10, 2, 10)),
		}, want: Invalid, errors: map[string]int{"wrong-total": 2, "negative-value": 1, "nil-balance": 1, "unexpected-key": 1},
			summary: "5 of 6 bank reads are wrong: 1 negative-value (first: op 5 read negative balances -5, -5); 1 nil-balance (first: op 7 read no balance for accounts 1); 1 unexpected-key (first: op 9 read unknown accounts 9); 2 wrong-total (first: op 1 read a total of 31, not 30)"},
		{name: "negative balances allowed", opts: BankOptions{Accounts: accts, Total: 30, NegativeBalances: true}, ops: []history.Op{
			invoke(0, "read", nil), ok(0, "read", balances(0, 40, 1, -5, 2, -5)),
		}, want: Valid},
		{name: "any account when none given; float balances", opts: BankOptions{Total: 10}, ops: []history.Op{
			invoke(0, "read", nil), ok(0, "read", balances("a", 2.5, "b", 7.5)),
			invoke(0, "read", nil), ok(0, "read", balances("a", 2.5, "b", 7.0)),
		}, want: Invalid, errors: map[string]int{"wrong-total": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, Bank(tt.opts), hist(t, tt.ops...)).(*BankResult)
			wantVerdict(t, r, tt.want)
			got := map[string]int{}
			for k, e := range r.Errors {
				got[k] = e.Count
			}
			if len(got) != len(tt.errors) {
				t.Errorf("errors %v, want %v", got, tt.errors)
			}
			for k, n := range tt.errors {
				if got[k] != n {
					t.Errorf("errors %v, want %v", got, tt.errors)
				}
			}
			if tt.summary != "" && r.Summary() != tt.summary {
				t.Errorf("summary %q\n     want %q", r.Summary(), tt.summary)
			}
		})
	}
}

func TestBankDetails(t *testing.T) {
	r := run(t, Bank(BankOptions{Accounts: []any{int64(0), int64(1)}, Total: 20}), hist(t,
		invoke(0, "read", nil), ok(0, "read", balances(0, 10, 1, 11)),
		invoke(0, "read", nil), ok(0, "read", balances(0, 10, 1, 5)),
		invoke(0, "read", nil), ok(0, "read", balances(0, 10, 1, 12)),
	)).(*BankResult)
	wt := r.Errors["wrong-total"]
	if wt.First.Op.Index != 1 || wt.Last.Op.Index != 5 || wt.Worst.Op.Index != 3 || wt.Lowest.Op.Index != 3 || wt.Highest.Op.Index != 5 {
		t.Errorf("first/last/worst/lowest/highest wrong:\n%s", toJSON(t, wt))
	}
	if r.FirstError.Op.Index != 1 || r.ErrorCount != 3 || r.ReadCount != 3 {
		t.Errorf("%s", toJSON(t, r))
	}
	golden(t, "bank-wrong-total", r)

	bad := Check(t.Context(), Bank(BankOptions{Total: 1}), hist(t, invoke(0, "read", nil), ok(0, "read", balances(0, "x"))), Options{})
	wantVerdict(t, bad, Unknown)
	if !strings.Contains(bad.(*ErrorResult).Error, "not a number") {
		t.Errorf("%#v", bad)
	}
	bad = Check(t.Context(), Bank(BankOptions{Total: 1}), hist(t, invoke(0, "read", nil), ok(0, "read", []int{1})), Options{})
	wantVerdict(t, bad, Unknown)
}

func TestLongFork(t *testing.T) {
	mops := func(f string, kvs ...any) []any {
		var out []any
		for i := 0; i+1 < len(kvs); i += 2 {
			out = append(out, []any{f, norm(kvs[i]), norm(kvs[i+1])})
		}
		return out
	}
	read := func(kvs ...any) []any { return mops("r", kvs...) }
	w := func(k int) []any { return mops("w", k, 1) }
	t.Run("jepsen", func(t *testing.T) {
		h := hist(t,
			invoke(0, "read", read(0, nil, 1, nil, 2, nil)),
			invoke(1, "read", read(2, nil, 0, nil, 1, nil)),
			ok(0, "read", read(0, 1, 1, 1, 2, nil)),
			ok(1, "read", read(2, 1, 0, 1, 1, nil)),
		)
		r := run(t, LongFork(3), h).(*LongForkResult)
		wantVerdict(t, r, Invalid)
		jsonEq(t, r, `{"valid":false,"early-read-count":0,"late-read-count":0,"reads-count":2,"fork-count":1,
			"forks":[[{"index":2,"time":2000000,"type":"ok","process":0,"f":"read","value":[["r",0,1],["r",1,1],["r",2,null]]},
			          {"index":3,"time":3000000,"type":"ok","process":1,"f":"read","value":[["r",2,1],["r",0,1],["r",1,null]]}]]}`)
		if s := r.Summary(); !strings.HasPrefix(s, "1 long forks: op 2 read") {
			t.Errorf("summary %q", s)
		}
	})
	tests := []struct {
		name  string
		ops   []history.Op
		want  Validity
		early int
		late  int
	}{
		{"empty", nil, Valid, 0, 0},
		{"consistent order", []history.Op{
			invoke(0, "write", w(0)), ok(0, "write", w(0)),
			invoke(1, "read", read(0, nil, 1, nil)), ok(1, "read", read(0, nil, 1, nil)),
			invoke(1, "read", read(0, nil, 1, nil)), ok(1, "read", read(1, nil, 0, 1)),
			nemesis("start", nil), nemesis("start", nil),
			invoke(0, "write", w(1)), ok(0, "write", w(1)),
			invoke(1, "read", read(0, nil, 1, nil)), ok(1, "read", read(0, 1, 1, 1)),
			invoke(2, "read", read(2, nil, 3, nil)), ok(2, "read", read(2, nil, 3, nil)),
		}, Valid, 2, 1},
		{"fork", []history.Op{
			invoke(0, "write", w(0)), invoke(1, "write", w(1)),
			ok(0, "write", w(0)), ok(1, "write", w(1)),
			invoke(2, "read", nil), ok(2, "read", read(0, 1, 1, nil)),
			invoke(3, "read", nil), ok(3, "read", read(0, nil, 1, 1)),
			invoke(3, "read", nil), fail(3, "read", read(0, nil, 1, nil)),
		}, Invalid, 0, 0},
		{"multiple writes to one key", []history.Op{
			invoke(0, "write", w(0)), ok(0, "write", w(0)),
			invoke(0, "write", w(0)), fail(0, "write", w(0)),
		}, Unknown, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, LongFork(2), hist(t, tt.ops...)).(*LongForkResult)
			wantVerdict(t, r, tt.want)
			if r.EarlyReadCount != tt.early || r.LateReadCount != tt.late {
				t.Errorf("early %d late %d, want %d %d", r.EarlyReadCount, r.LateReadCount, tt.early, tt.late)
			}
		})
	}
	t.Run("illegal histories", func(t *testing.T) {
		for name, ops := range map[string][]history.Op{
			"wrong group size": {invoke(0, "read", nil), ok(0, "read", read(0, nil))},
			"two values for a key": {
				invoke(0, "read", nil), ok(0, "read", read(0, 1, 1, nil)),
				invoke(0, "read", nil), ok(0, "read", read(0, 2, 1, nil)),
			},
		} {
			r := Check(t.Context(), LongFork(2), hist(t, ops...), Options{})
			if _, isErr := r.(*ErrorResult); !isErr || r.Verdict() != Unknown {
				t.Errorf("%s: %s", name, toJSON(t, r))
			}
		}
	})
}
