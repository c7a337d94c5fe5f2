package memdb

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestSoakDetectionRate measures how reliably each bug shows up: runs of a
// 10-second register test (Jepsen's shape, concurrency 10, five nodes), and
// the share of runs in which the brute-force checker finds a
// non-linearizable key. Set FAULTLINE_SOAK=1; FAULTLINE_SOAK_RUNS (default
// 20), FAULTLINE_SOAK_SECONDS (default 10) and FAULTLINE_SOAK_GAP (mean
// pause between a thread's ops, default 0) tune it.
func TestSoakDetectionRate(t *testing.T) {
	if os.Getenv("FAULTLINE_SOAK") == "" {
		t.Skip("set FAULTLINE_SOAK=1 to measure detection rates")
	}
	env := func(k string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(k)); err == nil {
			return v
		}
		return def
	}
	runs := env("FAULTLINE_SOAK_RUNS", 20)
	dur := time.Duration(env("FAULTLINE_SOAK_SECONDS", 10)) * time.Second
	gap, _ := time.ParseDuration(os.Getenv("FAULTLINE_SOAK_GAP"))
	for _, bug := range Bugs() {
		t.Run(string(bug), func(t *testing.T) {
			var detected, ops, firstSum int
			for run := range runs {
				cl, cancel := startCluster(t, fiveNodes(), Config{Bug: bug, Seed: int64(run)})
				cs := openClients(t, NewInProcessClient(cl, ClientConfig{Workload: WorkloadRegister}), fiveNodes(), 10)
				recs := runOps(context.Background(), cs, dur, gap, registerGen(10, 100, 0), uint64(run))
				cancel()
				ops += len(recs)
				bad, _ := linearizable(recs)
				if len(bad) > 0 {
					detected++
					// when did the first bad key start?
					first := int64(-1)
					for _, r := range recs {
						if r.in.Key.(int64) == bad[0] && (first < 0 || r.call < first) {
							first = r.call
						}
					}
					firstSum += int(time.Duration(first) / time.Millisecond)
				}
			}
			msg := ""
			if detected > 0 {
				msg = " first bad key starts at " + (time.Duration(firstSum/detected) * time.Millisecond).String() + " on average;"
			}
			t.Logf("bug %s, gap %v: anomaly in %d of %d runs of %v;%s %d ops per run", bug, gap, detected, runs, dur, msg, ops/runs)
			if bug == BugNone && detected > 0 {
				t.Errorf("bug none produced anomalies in %d runs", detected)
			}
		})
	}
}
