package checker

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/internal/refdata"
)

// TestSharedHistories runs the history-agnostic checkers over every EDN
// reference history (Knossos and Elle): none may fail, and their counts must
// agree with a direct count of the history.
func TestSharedHistories(t *testing.T) {
	root := refdata.SharedData(t)
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".edn") {
			return err
		}
		h, _, err := history.ReadFile(path, history.ReadOptions{Lenient: true})
		if err != nil {
			return nil // not a history (e.g. an analysis file); the history package tests the reader
		}
		n++
		c := Compose("all", Stats(), Perf(PerfOptions{}), UnhandledExceptions())
		r := run(t, c, h).(*Composed)
		for name, sub := range r.Checkers {
			if e, isErr := sub.(*ErrorResult); isErr {
				t.Errorf("%s: %s failed: %s", path, name, e.Error)
			}
		}
		completions := 0
		for _, op := range h.Ops {
			if op.IsClient() && op.Type.IsCompletion() {
				completions++
			}
		}
		if got := r.Checkers["stats"].(*StatsResult).Count; got != completions {
			t.Errorf("%s: stats counts %d completions, the history has %d", path, got, completions)
		}
		perf := r.Checkers["perf"].(*PerfResult)
		sum := 0
		for _, byType := range perf.Counts {
			for _, c := range byType {
				sum += c
			}
		}
		if sum != completions {
			t.Errorf("%s: perf counts %d completions, the history has %d", path, sum, completions)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no EDN history found in the shared data")
	}
	t.Logf("%d reference histories checked", n)
}
