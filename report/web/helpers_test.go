package web

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/report"
	"github.com/faultline/faultline/runstore"
)

// testStore is a store folder with real run folders (reports written by
// package report), links, and a secret file outside the store.
type testStore struct {
	dir    string // the store
	secret string // a file outside the store
	runs   map[string]string
}

const secretText = "TOPSECRET-outside-the-store"

// genOps makes a small register history: threads processes, n
// invocations, a partition in the middle; some reads fail or crash.
func genOps(n, threads int, seed uint64) []history.Op {
	rng := rand.New(rand.NewPCG(seed, 1))
	var ops []history.Op
	t := int64(0)
	add := func(op history.Op) {
		op.Index = len(ops)
		op.Time = t
		ops = append(ops, op)
		t += int64(rng.IntN(2000000)) + 1000
	}
	proc := make([]int, threads)
	for i := range proc {
		proc[i] = i
	}
	for i := 0; i < n; i++ {
		if i == n/3 {
			add(history.Op{Type: history.Info, Process: history.NemesisProcess, F: "start-partition"})
			add(history.Op{Type: history.Info, Process: history.NemesisProcess, F: "start-partition", Value: "majorities-ring"})
		}
		if i == 2*n/3 {
			add(history.Op{Type: history.Info, Process: history.NemesisProcess, F: "stop-partition"})
			add(history.Op{Type: history.Info, Process: history.NemesisProcess, F: "stop-partition"})
		}
		th := i % threads
		p := proc[th]
		f, v := "read", any(nil)
		if rng.IntN(2) == 0 {
			f, v = "write", int64(rng.IntN(5))
		}
		add(history.Op{Type: history.Invoke, Process: p, F: f, Value: v, Key: int64(i % 3)})
		out, res := history.OK, v
		switch r := rng.IntN(20); {
		case r == 0:
			out = history.Info
		case r < 3:
			out = history.Fail
		case f == "read":
			res = int64(rng.IntN(5))
		}
		add(history.Op{Type: out, Process: p, F: f, Value: res, Key: int64(i % 3)})
		if out == history.Info {
			proc[th] += threads
		}
	}
	return ops
}

// writeRun makes a run folder like faultline test leaves it and writes its
// report.
func writeRun(t testing.TB, base, name string, start time.Time, ops []history.Op, results string, withReport bool) string {
	t.Helper()
	dir, err := runstore.Create(base, name, start)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := history.WriteJSONL(&b, ops); err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(dir, runstore.HistoryFile), b.Bytes(), 0o644))
	test := fmt.Sprintf(`{"name": %q, "nodes": ["n1", "n2"], "concurrency": 3, "seed": 7, "started": %q}`, name, start.Format(time.RFC3339Nano))
	must(t, os.WriteFile(filepath.Join(dir, runstore.TestFile), []byte(test), 0o644))
	if results != "" {
		must(t, os.WriteFile(filepath.Join(dir, runstore.ResultsFile), []byte(results), 0o644))
	}
	must(t, os.MkdirAll(filepath.Join(dir, "n1"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "n1", "db.log"), []byte("started\n"), 0o644))
	if withReport {
		if err := report.WriteFromDir(dir); err != nil {
			t.Fatal(err)
		}
	}
	must(t, runstore.Finish(base, dir))
	return dir
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

const (
	validResults   = `{"valid": true, "checkers": {"stats": {"valid": true, "count": %d, "ok-count": 1}}}`
	invalidResults = `{"valid": false, "checkers": {"linear": {"valid": false, "model": "cas-register", "key": 1,
  "op": {"process": 2, "type": "ok", "f": "read", "value": 3, "index": 9, "invoke-index": 8}, "reason": "can't read 3 from register 1"},
  "stats": {"valid": true, "count": 40}}}`
	unknownResults = `{"valid": "unknown", "checkers": {"linear": {"valid": "unknown", "model": "cas-register", "ops": 3, "cause": "timeout", "explored": 5}}}`
)

// newTestStore builds a store with four runs of three tests, the links
// faultline makes (latest, <test>/latest), links that lead outside the
// store, and a secret file beside the store.
func newTestStore(t testing.TB) *testStore {
	t.Helper()
	root := t.TempDir()
	ts := &testStore{dir: filepath.Join(root, "store"), secret: filepath.Join(root, "secret.txt"), runs: map[string]string{}}
	must(t, os.MkdirAll(ts.dir, 0o755))
	must(t, os.WriteFile(ts.secret, []byte(secretText), 0o600))
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ts.runs["valid"] = writeRun(t, ts.dir, "memory-register", t0, genOps(60, 3, 1), fmt.Sprintf(validResults, 60), true)
	ts.runs["invalid"] = writeRun(t, ts.dir, "memory-register", t0.Add(time.Minute), genOps(40, 3, 2), invalidResults, true)
	ts.runs["unknown"] = writeRun(t, ts.dir, "etcd-append", t0.Add(2*time.Minute), genOps(20, 3, 3), unknownResults, true)
	ts.runs["bare"] = writeRun(t, ts.dir, "etcd-append", t0.Add(3*time.Minute), genOps(10, 2, 4), "", false)
	// Links that must not be followed out of the store.
	must(t, os.Symlink(root, filepath.Join(ts.dir, "escape-dir")))
	// (memory-register/latest is the invalid run.)
	must(t, os.Symlink(ts.secret, filepath.Join(ts.runs["invalid"], "escape-file")))
	must(t, os.Symlink("/etc", filepath.Join(ts.dir, "etc")))
	// A link inside the store, to a file of another run: allowed.
	must(t, os.Symlink(filepath.Join(ts.runs["valid"], runstore.TestFile), filepath.Join(ts.runs["invalid"], "other-test.json")))
	return ts
}
