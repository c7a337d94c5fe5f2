package memdb

import (
	"context"
	"testing"
	"time"
)

func TestExperiment(t *testing.T) {
	for _, bug := range []Bug{BugLostWrites} {
		for _, opk := range []int64{100, 10000} {
			for _, gap := range []time.Duration{0, 200 * time.Microsecond, time.Millisecond, 10 * time.Millisecond} {
				cl, cancel := startCluster(t, fiveNodes(), Config{Bug: bug})
				cs := openClients(t, NewInProcessClient(cl, ClientConfig{Workload: WorkloadRegister}), fiveNodes(), 10)
				recs := runOps(context.Background(), cs, 5*time.Second, gap, registerGen(10, opk, 0), 1)
				bad, und := linearizable(recs)
				t.Logf("bug %s opk %d gap %v: %s; bad keys %d undecided %d", bug, opk, gap, counts(recs), len(bad), und)
				cancel()
			}
		}
	}
}
