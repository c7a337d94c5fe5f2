package memory

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/checker/elle"
	"github.com/faultline/faultline/internal/memdb"
)

// TestSoakTransactionalBugs measures, through the whole path (the append
// and wr workloads' generators, the interpreter, the client, the store,
// the recorded history), how reliably each bug of the store shows: for
// each bug and transactional workload, FAULTLINE_SOAK_RUNS (default 10)
// runs of FAULTLINE_SOAK_SECONDS (default 2) at FAULTLINE_SOAK_RATE
// (default 2000; -1: unlimited) transactions a second. Each history is
// analysed again for a model the bug violates and one it keeps; the test
// logs how often each verdict came out as expected and which anomaly types
// showed. Set FAULTLINE_SOAK=1; FAULTLINE_SOAK_BUGS limits the bugs.
func TestSoakTransactionalBugs(t *testing.T) {
	if os.Getenv("FAULTLINE_SOAK") == "" {
		t.Skip("set FAULTLINE_SOAK=1 to measure detection rates")
	}
	runs := 10
	if n, err := strconv.Atoi(os.Getenv("FAULTLINE_SOAK_RUNS")); err == nil {
		runs = n
	}
	dur := 2 * time.Second
	if s, err := strconv.ParseFloat(os.Getenv("FAULTLINE_SOAK_SECONDS"), 64); err == nil {
		dur = time.Duration(s * float64(time.Second))
	}
	rate := "2000"
	if r := os.Getenv("FAULTLINE_SOAK_RATE"); r != "" {
		rate = r
	}
	// The model each bug violates and one it keeps ("": none).
	models := map[memdb.Bug][2]string{
		memdb.BugNone:              {"", "strict-serializable"},
		memdb.BugStaleReads:        {"strict-serializable", "serializable"},
		memdb.BugLostWrites:        {"strict-serializable", ""},
		memdb.BugReadCommitted:     {"repeatable-read", "read-committed"},
		memdb.BugSnapshotIsolation: {"serializable", "snapshot-isolation"},
		memdb.BugLostUpdate:        {"snapshot-isolation", "read-atomic"},
		memdb.BugNonAtomic:         {"read-committed", ""},
	}
	for _, bug := range memdb.Bugs() {
		if only := os.Getenv("FAULTLINE_SOAK_BUGS"); only != "" && !slices.Contains(strings.Split(only, ","), string(bug)) {
			continue
		}
		for _, wl := range []string{memdb.WorkloadAppend, memdb.WorkloadWR} {
			t.Run(string(bug)+"/"+wl, func(t *testing.T) {
				forbid, keep := models[bug][0], models[bug][1]
				var ms []string
				for _, m := range []string{forbid, keep, "read-uncommitted", "read-committed", "repeatable-read",
					"snapshot-isolation", "serializable", "strict-serializable", "read-atomic", "update-atomic"} {
					if m != "" && !slices.Contains(ms, m) {
						ms = append(ms, m)
					}
				}
				c := elle.ListAppend(elle.Options{ConsistencyModels: ms})
				if wl == memdb.WorkloadWR {
					c = elle.RWRegister(elle.Options{ConsistencyModels: ms})
				}
				var caught, kept, txns int
				seen := map[string]int{}
				for run := range runs {
					res := runWorkloadFor(t, wl, map[string]string{"bug": string(bug), "rate": rate}, dur)
					txns += res.Counts.Invoked
					r, err := c.Check(context.Background(), res.History, checker.Options{})
					if err != nil {
						t.Fatal(err)
					}
					er := r.(*elle.Result)
					if forbid == "" || er.Models[forbid] == checker.Invalid {
						caught++
					}
					if keep == "" || er.Models[keep] == checker.Valid {
						kept++
					} else {
						t.Logf("run %d: %s is %s: %s", run, keep, er.Models[keep], er.Summary())
					}
					for a := range er.Anomalies {
						seen[a]++
					}
				}
				var freq []string
				for _, a := range slices.Sorted(maps.Keys(seen)) {
					freq = append(freq, fmt.Sprintf("%s %d", a, seen[a]))
				}
				t.Logf("%s/%s, %d runs of %v at rate %s (%d txns per run): invalid under %q in %d, valid under %q in %d; anomaly types: %s",
					bug, wl, runs, dur, rate, txns/runs, forbid, caught, keep, kept, strings.Join(freq, ", "))
				if bug == memdb.BugNone && kept < runs {
					t.Errorf("the correct store was not strict serializable in %d runs", runs-kept)
				}
			})
		}
	}
}
