//go:build memdb_linear

package memdb

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/faultline/faultline/checker/linear"
	"github.com/faultline/faultline/model"
)

func TestDbgCross(t *testing.T) {
	m, _ := model.ByName("cas-register", nil)
	cl, cancel := startCluster(t, fiveNodes(), Config{Bug: BugStaleReads})
	cs := openClients(t, NewInProcessClient(cl, ClientConfig{Workload: WorkloadRegister}), fiveNodes(), 10)
	recs := runOps(context.Background(), cs, 2*time.Second, time.Millisecond, registerGen(10, 100, 0), 11)
	cancel()
	bad, _ := linearizable(recs)
	r := linear.Check(context.Background(), toHistory(t, recs, 10), m, linear.Options{})
	theirs := map[int64]bool{}
	for _, f := range r.Failures {
		theirs[f.Key.(int64)] = true
	}
	for _, k := range bad {
		if !theirs[k] {
			var ks []rec
			for _, x := range recs {
				if x.in.Key.(int64) == k {
					ks = append(ks, x)
				}
			}
			sort.Slice(ks, func(i, j int) bool { return ks[i].call < ks[j].call })
			for _, x := range ks {
				t.Logf("%9d %9d t%d %s %v -> %s %v", x.call, x.ret, x.thread, x.in.F, x.in.Value, x.out.Type, x.out.Value)
			}
			return
		}
	}
}
