//go:build memdb_linear

// A differential test against checker/linear (another package still in the
// works, so this file builds only with -tags memdb_linear).

package memdb

import (
	"context"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/checker/linear"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/model"
)

// toHistory is txnHistory for a test: it fails the test on a bad history.
func toHistory(t *testing.T, recs []rec, threads int) *history.History {
	t.Helper()
	h, err := txnHistory(recs, threads)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestAgainstCheckerLinear(t *testing.T) {
	m, err := model.ByName("cas-register", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, bug := range Bugs() {
		cl, cancel := startCluster(t, fiveNodes(), Config{Bug: bug})
		cs := openClients(t, NewInProcessClient(cl, ClientConfig{Workload: WorkloadRegister}), fiveNodes(), 10)
		recs := runOps(context.Background(), cs, 3*time.Second, time.Millisecond, registerGen(10, 100, 0), 11)
		cancel()
		bad, _ := linearizable(recs)
		r := linear.Check(context.Background(), toHistory(t, recs, 10), m, linear.Options{})
		t.Logf("bug %s: %d ops; brute force: %d bad keys; checker/linear: %s, %d failures", bug, len(recs), len(bad), r.Valid, len(r.Failures))
		if (len(bad) > 0) != (r.Valid == checker.Invalid) {
			t.Errorf("bug %s: verdicts differ: brute force %v, checker/linear %s (%s)", bug, bad, r.Valid, r.Summary())
		}
		for _, f := range r.Failures { // it may stop at the first bad key
			if !slices.Contains(bad, f.Key.(int64)) {
				t.Errorf("bug %s: checker/linear finds key %v bad, the brute force does not", bug, f.Key)
			}
		}
	}
}
