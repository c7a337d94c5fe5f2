package memory

import (
	"context"
	"testing"
	"time"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/cli"
)

func options(wl string, set map[string]string) *cli.Options {
	o := &cli.Options{
		Nodes:       []string{"n1", "n2", "n3", "n4", "n5"},
		Concurrency: 10,
		TimeLimit:   2 * time.Second,
		Workload:    wl,
		Nemesis:     "none",
		Set:         map[string]string{"bug": "none", "rate": "2000"},
	}
	for k, v := range set {
		o.Set[k] = v
	}
	return o
}

func runWorkload(t *testing.T, wl string, set map[string]string) *faultline.Result {
	t.Helper()
	return runWorkloadFor(t, wl, set, 2*time.Second)
}

func runWorkloadFor(t *testing.T, wl string, set map[string]string, limit time.Duration) *faultline.Result {
	t.Helper()
	o := options(wl, set)
	o.TimeLimit = limit
	test, cleanup, err := newTest(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if cleanup != nil {
		defer cleanup()
	}
	test.NoStore = true
	res, err := faultline.Run(context.Background(), test)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Every workload runs end to end against the correct store and is valid.
func TestEveryWorkloadValidWithoutBug(t *testing.T) {
	for _, wl := range Suite().Workloads {
		t.Run(wl, func(t *testing.T) {
			res := runWorkload(t, wl, nil)
			if res.Valid != checker.Valid {
				t.Fatalf("%s: verdict %s: %s", wl, res.Valid, res.Summary())
			}
			if res.Counts.OK < 100 {
				t.Fatalf("%s: only %d ok ops: %s", wl, res.Counts.OK, res.Summary())
			}
		})
	}
}

// The lost-writes bug is visible to the set and counter checkers too, not
// only to the linearizability checker.
func TestLostWritesFoundBySet(t *testing.T) {
	res := runWorkload(t, "set", map[string]string{"bug": "lost-writes"})
	if res.Valid != checker.Invalid {
		t.Fatalf("set with lost writes: verdict %s: %s", res.Valid, res.Summary())
	}
}

// The snapshot-isolation bug lets write skew through: the append
// workload's history is not strict serializable (the default models), nor
// serializable, yet it is snapshot isolated; --consistency-models reaches
// the checker, and analyze rebuilds the same checker from the run's record.
func TestSnapshotIsolationBugFoundByAppend(t *testing.T) {
	for _, c := range []struct {
		models string
		want   checker.Validity
	}{
		{"", checker.Invalid},
		{"serializable", checker.Invalid},
		{"snapshot-isolation", checker.Valid},
	} {
		// As fast as the clients go: write skew needs concurrent transactions.
		set := map[string]string{"bug": "snapshot-isolation", "rate": "-1"}
		if c.models != "" {
			set["consistency-models"] = c.models
		}
		res := runWorkloadFor(t, "append", set, time.Second)
		if res.Valid != c.want {
			t.Errorf("append with the snapshot-isolation bug, models %q: verdict %s, want %s: %s", c.models, res.Valid, c.want, res.Summary())
		}
	}
}

func TestRebuiltCheckerKeepsModels(t *testing.T) {
	test, _, err := newTest(context.Background(), options("wr", map[string]string{"consistency-models": "read-committed,snapshot-isolation"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := test.Options["consistency-models"]; got != "read-committed,snapshot-isolation" {
		t.Fatalf("recorded consistency-models %q", got)
	}
	for _, rec := range []faultline.TestRecord{{Options: test.Options}, {}} {
		if _, err := rebuildChecker("wr", rec); err != nil {
			t.Errorf("rebuilding the checker of %v: %v", rec.Options, err)
		}
	}
	if _, err := rebuildChecker("append", faultline.TestRecord{Options: map[string]string{"consistency-models": "sturdy"}}); err == nil {
		t.Error("an unknown recorded model was accepted")
	}
}

func TestBadOptions(t *testing.T) {
	for _, set := range []map[string]string{{"bug": "nope"}, {"rate": "fast"}, {"consistency-models": "serializable,sturdy"}} {
		if _, _, err := newTest(context.Background(), options("register", set)); err == nil {
			t.Errorf("%v accepted", set)
		}
	}
	o := options("register", nil)
	o.Nemesis = "packet"
	if _, _, err := newTest(context.Background(), o); err == nil {
		t.Error("packet faults were accepted for the in-process store, which has no network to shape")
	}
	o.Nemesis = "flood"
	if _, _, err := newTest(context.Background(), o); err == nil {
		t.Error("an unknown fault was accepted")
	}
}
