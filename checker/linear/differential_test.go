package linear

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/model"
)

// TestDifferential checks random small histories against the brute-force
// oracle and against Porcupine with Jepsen semantics encoded.
func TestDifferential(t *testing.T) {
	n := 400 // per configuration
	if testing.Short() {
		n = 100
	}
	if s := os.Getenv("FAULTLINE_DIFF_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	cfgs := []struct {
		model              string
		init               any
		procs, nops, nkeys int
		independent        bool
	}{
		{"cas-register", nil, 3, 7, 1, false},
		{"cas-register", int64(0), 4, 8, 1, false},
		{"cas-register", int64(0), 5, 8, 1, false},
		{"register", int64(0), 3, 8, 1, false},
		{"cas-register", int64(0), 3, 12, 3, false},
		{"cas-register", int64(0), 3, 12, 3, true},
		{"mutex", nil, 3, 8, 1, false},
		{"set", nil, 3, 7, 1, false},
		{"unordered-queue", nil, 3, 7, 1, false},
		{"fifo-queue", nil, 3, 7, 1, false},
		{"multi-register", history.Map{{Key: "x", Val: int64(0)}, {Key: "y", Val: int64(0)}}, 3, 7, 1, false},
		{"kv", nil, 3, 7, 2, false},
	}
	total := map[checker.Validity]int{}
	for ci, cfg := range cfgs {
		m := mustModel(t, cfg.model, cfg.init)
		om := oracleModel(cfg.model, cfg.init)
		pm := porcupineModel(om)
		r := rand.New(rand.NewPCG(uint64(ci), 42))
		counts := map[checker.Validity]int{}
		for i := range n {
			ops := genRandom(r, cfg.model, cfg.procs, cfg.nops, cfg.nkeys, cfg.init)
			h, err := history.New(ops)
			if err != nil {
				t.Fatalf("generator made a bad history: %v", err)
			}
			want := bruteLinearizable(ops, om)
			pres := porcupine.CheckOperationsTimeout(pm, porcupineOps(ops), 10*time.Second)
			opts := Options{}
			hh := h
			if cfg.independent {
				// the same history with keys moved into [k v] tuples
				iops := make([]history.Op, len(ops))
				for j, op := range ops {
					op.Value, op.Key = []any{op.Key, op.Value}, nil
					iops[j] = op
				}
				hh, _ = history.New(iops)
				opts.Independent = true
			}
			got := Check(context.Background(), hh, m, opts)
			counts[got.Valid]++
			dump := func() string {
				b, _ := json.Marshal(ops)
				return string(b)
			}
			if (got.Valid == checker.Valid) != want || got.Valid == checker.Unknown {
				t.Fatalf("%s #%d: faultline %v, brute force linearizable=%v\nhistory: %s\nresult: %+v", cfg.model, i, got.Valid, want, dump(), got)
			}
			if (pres == porcupine.Ok) != want || pres == porcupine.Unknown {
				t.Fatalf("%s #%d: porcupine %v, brute force linearizable=%v\nhistory: %s", cfg.model, i, pres, want, dump())
			}
			if got.Valid == checker.Invalid && (got.Op == nil || got.Reason == "") {
				t.Fatalf("%s #%d: invalid without evidence: %+v", cfg.model, i, got)
			}
		}
		t.Logf("%-16s procs=%d ops=%d keys=%d independent=%v: %d valid, %d invalid", cfg.model, cfg.procs, cfg.nops, cfg.nkeys, cfg.independent, counts[checker.Valid], counts[checker.Invalid])
		for _, v := range []checker.Validity{checker.Valid, checker.Invalid} {
			if counts[v] < n/20 {
				t.Errorf("%s: only %d %v histories out of %d: the generator does not exercise both verdicts", cfg.model, counts[v], v, n)
			}
			total[v] += counts[v]
		}
	}
	t.Logf("total: %d valid, %d invalid", total[checker.Valid], total[checker.Invalid])
}

// TestDifferentialMedium checks larger random histories (too large for the
// brute force) against Porcupine only: few values, so that many ops are
// identical (exercising the symmetry and dominance reductions), and many
// crashed ops.
func TestDifferentialMedium(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 60
	}
	if s := os.Getenv("FAULTLINE_DIFF_N"); s != "" {
		n, _ = strconv.Atoi(s)
		n /= 10
	}
	cfgs := []struct {
		model       string
		init        any
		procs, nops int
	}{
		{"cas-register", int64(0), 5, 30},
		{"register", int64(0), 6, 30},
		{"mutex", nil, 4, 24},
		{"unordered-queue", nil, 4, 20},
		{"kv", nil, 5, 24},
	}
	for ci, cfg := range cfgs {
		m := mustModel(t, cfg.model, cfg.init)
		pm := porcupineModel(oracleModel(cfg.model, cfg.init))
		r := rand.New(rand.NewPCG(uint64(ci), 4242))
		counts := map[checker.Validity]int{}
		skipped := 0
		for i := range n {
			ops := genRandom(r, cfg.model, cfg.procs, cfg.nops, 1, cfg.init)
			h, err := history.New(ops)
			if err != nil {
				t.Fatal(err)
			}
			pres := porcupine.CheckOperationsTimeout(pm, porcupineOps(ops), 2*time.Second)
			if pres == porcupine.Unknown {
				skipped++
				continue
			}
			got := Check(context.Background(), h, m, Options{})
			counts[got.Valid]++
			if (got.Valid == checker.Valid) != (pres == porcupine.Ok) || got.Valid == checker.Unknown {
				b, _ := json.Marshal(ops)
				t.Fatalf("%s #%d: faultline %v, porcupine %v\nhistory: %s", cfg.model, i, got.Valid, pres, b)
			}
		}
		t.Logf("%-16s procs=%d ops=%d: %d valid, %d invalid, %d too hard for porcupine", cfg.model, cfg.procs, cfg.nops, counts[checker.Valid], counts[checker.Invalid], skipped)
		if counts[checker.Valid] == 0 || counts[checker.Invalid] == 0 {
			t.Errorf("%s: verdicts not mixed: %v", cfg.model, counts)
		}
	}
}

// diffSimulated checks n simulated runs, cfg(i) each, with model m against
// Porcupine's pm on the ops pops converts (given limit per history; runs
// Porcupine cannot finish are skipped). It wants both verdicts, each at
// least minEach times.
func diffSimulated(t *testing.T, n, minEach int, cfg func(i int) simConfig, m model.Model, pm porcupine.Model,
	pops func([]history.Op, *history.History) []porcupine.Operation, limit time.Duration) {
	t.Helper()
	counts := map[checker.Validity]int{}
	skipped := 0
	for i := range n {
		c := cfg(i)
		ops := simulate(c)
		h, err := history.New(ops)
		if err != nil {
			t.Fatal(err)
		}
		pres := porcupine.CheckOperationsTimeout(pm, pops(ops, h), limit)
		if pres == porcupine.Unknown {
			skipped++
			continue
		}
		got := Check(context.Background(), h, m, Options{AllKeys: true})
		counts[got.Valid]++
		if (got.Valid == checker.Valid) != (pres == porcupine.Ok) || got.Valid == checker.Unknown {
			b, _ := json.Marshal(ops)
			t.Fatalf("%+v: faultline %v (%s), porcupine %v\nhistory: %s", c, got.Valid, got.Summary(), pres, b)
		}
	}
	t.Logf("%d valid, %d invalid, %d too hard for porcupine", counts[checker.Valid], counts[checker.Invalid], skipped)
	if counts[checker.Valid] < minEach || counts[checker.Invalid] < minEach {
		t.Errorf("verdicts not mixed: %v", counts)
	}
}

// diffRuns is the number of simulated runs: def, short in -short mode, or
// FAULTLINE_DIFF_N/per.
func diffRuns(def, short, per int) int {
	n := def
	if testing.Short() {
		n = short
	}
	if s := os.Getenv("FAULTLINE_DIFF_N"); s != "" {
		n, _ = strconv.Atoi(s)
		n /= per
	}
	return n
}

// TestDifferentialSimulated checks simulated register runs (crashed ops,
// stale reads, several keys) against Porcupine: the search's reductions
// matter most on histories like these.
func TestDifferentialSimulated(t *testing.T) {
	cfg := func(i int) simConfig {
		return simConfig{Ops: 300 + 20*(i%10), Keys: 1 + i%3, Threads: 3 + i%6, Crash: 0.05, Stale: 0.01 * float64(i%3), Values: 2 + i%4, Seed: uint64(1000 + i)}
	}
	pops := func(_ []history.Op, h *history.History) []porcupine.Operation { return pRegOps(h) }
	diffSimulated(t, diffRuns(40, 10, 50), 1, cfg, model.CASRegister(nil), pRegModel(-1), pops, 3*time.Second)
}

// TestDifferentialSimulatedKV checks simulated kv runs (appends, puts and
// gets of strings, crashed ops, stale gets) against Porcupine with Jepsen
// semantics: reads name the whole string, so the model's prefix pruning
// (model.Prefixed) decides most of these searches.
func TestDifferentialSimulatedKV(t *testing.T) {
	cfg := func(i int) simConfig {
		return simConfig{KV: true, Ops: 40 + 8*(i%10), Keys: 1 + i%2, Threads: 3 + i%5, Crash: 0.03 * float64(i%3), Stale: 0.1 * float64(i%2), Values: (i % 3) * 2, Seed: uint64(5000 + i)}
	}
	pops := func(ops []history.Op, _ *history.History) []porcupine.Operation { return porcupineOps(ops) }
	n := diffRuns(40, 15, 20)
	diffSimulated(t, n, max(1, n/10), cfg, mustModel(t, "kv", nil), porcupineModel(oracleModel("kv", nil)), pops, time.Second)
}
