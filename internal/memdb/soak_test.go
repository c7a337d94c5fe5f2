package memdb

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSoakDetectionRate measures how reliably each bug shows up: runs of a
// 10-second register test (Jepsen's shape, concurrency 10, five nodes, 100
// ops per key), and the share of runs in which the brute-force checker
// (Knossos semantics) finds a non-linearizable key. Set FAULTLINE_SOAK=1;
// FAULTLINE_SOAK_RUNS (default 20), FAULTLINE_SOAK_SECONDS (default 10)
// and FAULTLINE_SOAK_GAPS (mean pauses between a thread's ops, default
// "1ms,10ms"; negative: between any two ops, as the workload package's
// --rate) tune it. FAULTLINE_SOAK_MIX=1 draws ops as the workload package's
// register workload does (read/write/cas 1:1:1 on every thread);
// FAULTLINE_SOAK_BUGS (e.g. "lost-writes") limits the bugs.
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
	gaps := os.Getenv("FAULTLINE_SOAK_GAPS")
	if gaps == "" {
		gaps = "1ms,10ms"
	}
	for g := range strings.SplitSeq(gaps, ",") {
		gap, err := time.ParseDuration(g)
		if err != nil {
			t.Fatal(err)
		}
		for _, bug := range Bugs() {
			if only := os.Getenv("FAULTLINE_SOAK_BUGS"); only != "" && !strings.Contains(only, string(bug)) {
				continue
			}
			t.Run(string(bug)+"/"+g, func(t *testing.T) {
				var detected, ops int
				var first time.Duration
				for run := range runs {
					cl, cancel := startCluster(t, fiveNodes(), Config{Bug: bug, Seed: int64(run)})
					cs := openClients(t, NewInProcessClient(cl, ClientConfig{Workload: WorkloadRegister}), fiveNodes(), 10)
					g := registerGen(10, 100, 0)
					if os.Getenv("FAULTLINE_SOAK_MIX") != "" {
						g = mixGen(100, 0)
					}
					recs := runOps(context.Background(), cs, dur, gap, g, uint64(run))
					cancel()
					ops += len(recs)
					bad, _ := linearizable(recs)
					if len(bad) == 0 {
						continue
					}
					detected++
					at := int64(-1) // when the first bad key ends
					for _, r := range recs {
						if r.in.Key.(int64) == bad[0] && r.ret > at {
							at = r.ret
						}
					}
					first += time.Duration(at)
				}
				msg := ""
				if detected > 0 {
					msg = fmt.Sprintf(", first bad key complete after %v on average", (first / time.Duration(detected)).Round(time.Millisecond))
				}
				t.Logf("bug %s, gap %v: anomaly in %d of %d runs of %v%s; %d ops per run", bug, gap, detected, runs, dur, msg, ops/runs)
				if bug == BugNone && detected > 0 {
					t.Errorf("bug none produced anomalies in %d runs", detected)
				}
			})
		}
	}
}
