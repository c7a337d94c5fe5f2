package memdb

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/checker/elle"
	"github.com/faultline/faultline/client"
	"github.com/faultline/faultline/history"
)

// txnGen makes transactions shaped like the workload package's: 1 to 4
// micro-ops, half of them reads, over a window of keys that moves on every
// keyEvery ops (so each key takes a bounded number of writes), the first
// key of the window most likely and each further one half as likely.
// Values are unique: 8 times the op number plus the micro-op's position.
func txnGen(workload string, keys int, keyEvery int64) gen {
	write := mopAppend
	if workload == WorkloadWR {
		write = mopWrite
	}
	return func(rng *rand.Rand, _ int, n int64) history.Op {
		base := n / keyEvery
		txn := make([]any, 1+rng.IntN(4))
		for i := range txn {
			k := base
			for j := 1; j < keys && rng.IntN(2) == 0; j++ {
				k++
			}
			if rng.IntN(2) == 0 {
				txn[i] = []any{mopRead, k, nil}
			} else {
				txn[i] = []any{write, k, 8*n + int64(i)}
			}
		}
		return history.Op{Type: history.Invoke, F: "txn", Value: txn}
	}
}

// txnHistory turns test records into a history (of any workload):
// invocations and completions in time order, a thread becoming a new
// process after an info.
func txnHistory(recs []rec, threads int) (*history.History, error) {
	recs = slices.Clone(recs)
	sort.Slice(recs, func(i, j int) bool { return recs[i].call < recs[j].call })
	proc := make([]int, threads)
	for i := range proc {
		proc[i] = i
	}
	var ops []history.Op
	for _, r := range recs {
		inv, out := r.in, r.out
		inv.Process, out.Process = proc[r.thread], proc[r.thread]
		inv.Time, out.Time = r.call, r.ret
		inv.Type = history.Invoke
		ops = append(ops, inv, out)
		if out.Type == history.Info {
			proc[r.thread] += threads
		}
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].Time < ops[j].Time })
	for i := range ops {
		ops[i].Index = i
	}
	return history.New(ops)
}

// txnRun is one transactional run and Elle's verdicts on it.
type txnRun struct {
	recs []rec
	res  *elle.Result
}

// anomalies lists every anomaly type found (reported or not), sorted.
func (r txnRun) anomalies() []string {
	var out []string
	for a := range r.res.Anomalies {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

func (r txnRun) valid(model string) checker.Validity { return r.res.Models[model] }

func (r txnRun) String() string {
	var ms []string
	for _, m := range slices.Sorted(maps.Keys(r.res.Models)) {
		ms = append(ms, fmt.Sprintf("%s=%s", m, r.res.Models[m]))
	}
	return fmt.Sprintf("%s; %d txns; anomalies %v; not %v; %s", counts(r.recs), r.res.TxnCount, r.anomalies(), r.res.Not, strings.Join(ms, " "))
}

// checkedModels are the models every transactional run is checked
// against, so that Result.Anomalies holds every anomaly type they forbid.
func checkedModels() []string {
	return []string{"strict-serializable", "serializable", "snapshot-isolation", "repeatable-read",
		"read-atomic", "update-atomic", "read-committed", "read-uncommitted"}
}

// checkTxns runs Elle over recs of workload. With wfr, rw-register
// histories are checked assuming writes follow reads within a transaction
// (Elle's wfr-keys), which holds in this store with or without a bug: a
// value a transaction read was applied before the one it then writes.
func checkTxns(t testing.TB, workload string, recs []rec, threads int, wfr bool) *elle.Result {
	t.Helper()
	res, err := checkTxnsErr(workload, recs, threads, wfr)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func checkTxnsErr(workload string, recs []rec, threads int, wfr bool) (*elle.Result, error) {
	o := elle.Options{ConsistencyModels: checkedModels(), CycleSearchTimeout: 5 * time.Second, WFRKeys: wfr}
	c := elle.ListAppend(o)
	if workload == WorkloadWR {
		c = elle.RWRegister(o)
	}
	h, err := txnHistory(recs, threads)
	if err != nil {
		return nil, err
	}
	res, err := c.Check(context.Background(), h, checker.Options{})
	if err != nil {
		return nil, err
	}
	return res.(*elle.Result), nil
}

// runTxns drives a five-node in-process cluster with the bug through dur
// of transactions from ten clients, 2000 a second, and checks the history.
func runTxns(t testing.TB, bug Bug, workload string, dur time.Duration, seed uint64, wfr bool) txnRun {
	t.Helper()
	r, err := runTxnsErr(bug, workload, dur, seed, wfr)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// runTxnsErr is runTxns for any goroutine: it reports failures as errors.
func runTxnsErr(bug Bug, workload string, dur time.Duration, seed uint64, wfr bool) (txnRun, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cl := NewCluster(fiveNodes(), Config{Bug: bug, Seed: int64(seed)})
	if err := cl.Start(ctx); err != nil {
		return txnRun{}, err
	}
	proto := NewInProcessClient(cl, ClientConfig{Workload: workload})
	cs := make([]client.Client, 10)
	for i := range cs {
		c, err := proto.Open(ctx, nil, fiveNodes()[i%5])
		if err != nil {
			return txnRun{}, err
		}
		cs[i] = c
	}
	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	defer scancel()
	if err := cs[0].Setup(sctx, nil); err != nil {
		return txnRun{}, err
	}
	recs := runOps(ctx, cs, dur, -250*time.Microsecond, txnGen(workload, 6, 40), seed)
	res, err := checkTxnsErr(workload, recs, 10, wfr)
	return txnRun{recs: recs, res: res}, err
}
