package linear

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/internal/refdata"
	"github.com/faultline/faultline/model"
)

// The side-by-side benchmarks run Faultline and Porcupine in one process on
// the same inputs, interleaved, and keep the fastest of FAULTLINE_BENCH_REPS
// runs (default 3) of each tool on each input, which damps noise from other
// processes. Porcupine gets its inputs already converted (that time is not
// counted); Faultline starts from the parsed history. Each benchmark reports
//
//	porcupine/faultline   total Porcupine time over total Faultline time,
//	                      over the histories at least one of them finished
//	                      (a Porcupine timeout counts as its time limit, a
//	                      lower bound)
//	worst-ratio           the smallest per-history ratio among histories on
//	                      which Porcupine took more than 10 ms
//	faultline-ms, porcupine-ms   totals
//	faultline-peak-MB, porcupine-peak-MB   the largest live heap seen while
//	                      checking one history (sampled every 200 µs)
//	faultline-alloc-MB, porcupine-alloc-MB  the most bytes allocated while
//	                      checking one history (bounds the peak of runs too
//	                      short to sample)
//	porcupine-timeouts    histories Porcupine did not finish in its budget
//
// Run them with: go test -run '^$' -bench VsPorcupine -benchtime 1x ./checker/linear/
// and -v to see every history.

type benchInput struct {
	name      string
	h         *history.History
	m         model.Model
	opts      Options
	pm        porcupine.Model
	pops      []porcupine.Operation
	want      checker.Validity // Unknown: not asserted
	porcLimit time.Duration
}

type benchRow struct {
	name             string
	fl, pc           time.Duration
	flMB, pcMB       float64
	flAlloc, pcAlloc float64
	flV              checker.Validity
	pcV              porcupine.CheckResult
}

func benchReps() int {
	if s := os.Getenv("FAULTLINE_BENCH_REPS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 3
}

// peakSampler records the largest live heap while it runs, and the bytes
// allocated meanwhile (an upper bound for runs too short to sample).
type peakSampler struct {
	stop   chan struct{}
	done   chan struct{}
	peak   atomic.Uint64
	alloc0 uint64
	alloc  float64 // MB, set by mb
}

func allocBytes() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func heapBytes(s []metrics.Sample) uint64 {
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func startPeak() *peakSampler {
	p := &peakSampler{stop: make(chan struct{}), done: make(chan struct{}), alloc0: allocBytes()}
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	base := heapBytes(s)
	go func() {
		defer close(p.done)
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			if v := heapBytes(s); v > base && v-base > p.peak.Load() {
				p.peak.Store(v - base)
			}
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *peakSampler) mb() float64 {
	p.alloc = float64(allocBytes()-p.alloc0) / (1 << 20)
	close(p.stop)
	<-p.done
	return float64(p.peak.Load()) / (1 << 20)
}

func runSideBySide(b *testing.B, set string, inputs []benchInput) {
	reps := benchReps()
	for range b.N {
		rows := make([]benchRow, len(inputs))
		for i, in := range inputs {
			row := benchRow{name: in.name, fl: time.Duration(1<<63 - 1), pc: time.Duration(1<<63 - 1)}
			for rep := range reps {
				runtime.GC()
				p := startPeak()
				start := time.Now()
				r := Check(context.Background(), in.h, in.m, in.opts)
				el := time.Since(start)
				row.flMB = max(row.flMB, p.mb())
				row.flAlloc = max(row.flAlloc, p.alloc)
				row.fl = min(row.fl, el)
				row.flV = r.Valid
				if in.want != checker.Unknown && r.Valid != in.want {
					b.Fatalf("%s: faultline says %v, want %v: %s", in.name, r.Valid, in.want, r.Summary())
				}
				if rep > 0 && row.pcV == porcupine.Unknown {
					continue // Porcupine timed out once: do not wait for it again
				}
				runtime.GC()
				p = startPeak()
				start = time.Now()
				res := porcupine.CheckOperationsTimeout(in.pm, in.pops, in.porcLimit)
				el = time.Since(start)
				row.pcMB = max(row.pcMB, p.mb())
				row.pcAlloc = max(row.pcAlloc, p.alloc)
				row.pc = min(row.pc, el)
				row.pcV = res
			}
			rows[i] = row
		}
		report(b, set, rows)
	}
}

func report(b *testing.B, set string, rows []benchRow) {
	var fl, pc time.Duration
	var flMB, pcMB, flAlloc, pcAlloc float64
	worst, worstName := -1.0, ""
	timeouts := 0
	disagree := 0
	both := 0
	for _, r := range rows {
		if r.pcV == porcupine.Unknown && r.flV == checker.Unknown {
			both++ // neither finished: no comparison
			timeouts++
			continue
		}
		fl += r.fl
		pc += r.pc
		flMB, pcMB = max(flMB, r.flMB), max(pcMB, r.pcMB)
		flAlloc, pcAlloc = max(flAlloc, r.flAlloc), max(pcAlloc, r.pcAlloc)
		if r.pcV == porcupine.Unknown {
			timeouts++
		} else if r.flV == checker.Unknown {
			disagree++ // Porcupine decided, Faultline did not
		} else if (r.pcV == porcupine.Ok) != (r.flV == checker.Valid) {
			disagree++
		}
		if r.pc > 10*time.Millisecond {
			if ratio := float64(r.pc) / float64(r.fl); worst < 0 || ratio < worst {
				worst, worstName = ratio, r.name
			}
		}
	}
	if disagree > 0 {
		b.Errorf("%s: Faultline and Porcupine disagree on %d histories", set, disagree)
	}
	sorted := append([]benchRow(nil), rows...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].pc > sorted[j].pc })
	var lines []string
	for _, r := range sorted {
		lines = append(lines, fmt.Sprintf("  %-34s faultline %10.3f ms %-8v %7.1f MB peak %8.1f MB alloc | porcupine %10.3f ms %-8v %7.1f MB peak %8.1f MB alloc | ratio %8.2f",
			r.name, ms(r.fl), r.flV, r.flMB, r.flAlloc, ms(r.pc), r.pcV, r.pcMB, r.pcAlloc, float64(r.pc)/float64(r.fl)))
	}
	if testing.Verbose() {
		b.Logf("%s (%d histories):\n%s", set, len(rows), strings.Join(lines, "\n"))
	}
	b.Logf("%s: %d histories (%d finished by neither, left out of the totals), faultline %.1f ms, porcupine %.1f ms (%d timeouts, counted at the limit), ratio %.2f, worst ratio %.2f (%s), peak MB faultline %.1f porcupine %.1f",
		set, len(rows), both, ms(fl), ms(pc), timeouts, float64(pc)/float64(fl), worst, worstName, flMB, pcMB)
	b.ReportMetric(float64(pc)/float64(fl), "porcupine/faultline")
	if worst >= 0 {
		b.ReportMetric(worst, "worst-ratio")
	}
	b.ReportMetric(ms(fl), "faultline-ms")
	b.ReportMetric(ms(pc), "porcupine-ms")
	b.ReportMetric(flMB, "faultline-peak-MB")
	b.ReportMetric(pcMB, "porcupine-peak-MB")
	b.ReportMetric(flAlloc, "faultline-alloc-MB")
	b.ReportMetric(pcAlloc, "porcupine-alloc-MB")
	b.ReportMetric(float64(timeouts), "porcupine-timeouts")
	b.ReportMetric(0, "ns/op")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func porcLimit() time.Duration {
	if s := os.Getenv("FAULTLINE_BENCH_PORCUPINE_LIMIT"); s != "" {
		if d, err := time.ParseDuration(s); err == nil {
			return d
		}
	}
	return 30 * time.Second
}

// BenchmarkVsPorcupineEtcd compares with Porcupine given Jepsen's semantics
// (crashed ops may or may not take effect); BenchmarkVsPorcupineEtcdNative
// with Porcupine's own etcd model and reading of the logs (failed CAS =
// compare failed, crashed ops must take effect), which is what Porcupine's
// benchmarks measure. Both give the asserted verdicts.
func BenchmarkVsPorcupineEtcd(b *testing.B) { runSideBySide(b, "etcd", etcdInputs(b, false)) }
func BenchmarkVsPorcupineEtcdNative(b *testing.B) {
	runSideBySide(b, "etcd native", etcdInputs(b, true))
}

func etcdInputs(b *testing.B, native bool) []benchInput {
	dir := refdata.SharedData(b)
	paths, _ := filepath.Glob(filepath.Join(dir, "porcupine/test_data/jepsen/etcd_*.log"))
	sort.Strings(paths)
	m := model.CASRegister(nil)
	var inputs []benchInput
	for _, p := range paths {
		var n int
		fmt.Sscanf(filepath.Base(p), "etcd_%d.log", &n)
		if n == 95 {
			continue
		}
		h := readRef(b, p)
		want := checker.Invalid
		if etcdLinearizable[n] {
			want = checker.Valid
		}
		in := benchInput{name: filepath.Base(p), h: h, m: m, pm: pRegModel(-1), pops: pRegOps(h), want: want, porcLimit: porcLimit()}
		if native {
			in.pm, in.pops = pEtcdModel, pEtcdOps(h)
		}
		inputs = append(inputs, in)
	}
	return inputs
}

func kvInputs(b *testing.B, split bool) []benchInput {
	dir := refdata.SharedData(b)
	paths, _ := filepath.Glob(filepath.Join(dir, "porcupine/test_data/kv/*.txt"))
	sort.Strings(paths)
	m := mustModel(b, "kv", nil)
	var inputs []benchInput
	for _, p := range paths {
		h := readRef(b, p)
		want := checker.Invalid
		if strings.HasSuffix(p, "-ok.txt") {
			want = checker.Valid
		}
		in := benchInput{name: filepath.Base(p), h: h, m: m, pops: pKVOps(h), want: want, porcLimit: porcLimit(), pm: pKVModel}
		if !split {
			in.opts.NoSplit = true
			in.pm = pKVNoPartitionModel
			if strings.Contains(p, "c50") {
				// Infeasible unsplit for both (keys' orders multiply):
				// both get the same time budget, no verdict asserted.
				in.porcLimit = min(in.porcLimit, 20*time.Second)
				in.opts.TimeBudget = in.porcLimit
				in.want = checker.Unknown
			}
		}
		inputs = append(inputs, in)
	}
	return inputs
}

func BenchmarkVsPorcupineKV(b *testing.B)        { runSideBySide(b, "kv split", kvInputs(b, true)) }
func BenchmarkVsPorcupineKVNoSplit(b *testing.B) { runSideBySide(b, "kv no split", kvInputs(b, false)) }

// simConfigs are the generated histories: 10k-100k ops, 10-1000 keys, 5-50
// threads, crashed ops; some with stale reads (not linearizable).
var simConfigs = []struct {
	name string
	cfg  simConfig
}{
	{"10k-ops-10-keys-5-thr", simConfig{Ops: 10_000, Keys: 10, Threads: 5, Crash: 0.01, Values: 5, Seed: 1}},
	{"10k-ops-10-keys-5-thr-stale", simConfig{Ops: 10_000, Keys: 10, Threads: 5, Crash: 0.01, Stale: 0.01, Values: 5, Seed: 2}},
	{"20k-ops-100-keys-20-thr", simConfig{Ops: 20_000, Keys: 100, Threads: 20, Crash: 0.02, Values: 5, Seed: 3}},
	{"50k-ops-1000-keys-50-thr", simConfig{Ops: 50_000, Keys: 1000, Threads: 50, Crash: 0.01, Values: 5, Seed: 4}},
	{"100k-ops-1000-keys-50-thr", simConfig{Ops: 100_000, Keys: 1000, Threads: 50, Crash: 0.01, Values: 5, Seed: 5}},
	{"100k-ops-1000-keys-50-thr-stale", simConfig{Ops: 100_000, Keys: 1000, Threads: 50, Crash: 0.01, Stale: 0.001, Values: 5, Seed: 6}},
	{"100k-ops-100-keys-20-thr-unique", simConfig{Ops: 100_000, Keys: 100, Threads: 20, Crash: 0.01, Seed: 7}},
	{"10k-ops-10-keys-50-thr", simConfig{Ops: 10_000, Keys: 10, Threads: 50, Crash: 0.01, Values: 5, Seed: 8}},
	{"10k-ops-2-keys-50-thr", simConfig{Ops: 10_000, Keys: 2, Threads: 50, Crash: 0.01, Values: 5, Seed: 9}},
	{"10k-ops-2-keys-50-thr-stale", simConfig{Ops: 10_000, Keys: 2, Threads: 50, Crash: 0.01, Stale: 0.005, Values: 5, Seed: 10}},
}

func BenchmarkVsPorcupineGenerated(b *testing.B) {
	m := model.CASRegister(nil)
	var inputs []benchInput
	for _, sc := range simConfigs {
		h, err := history.New(simulate(sc.cfg))
		if err != nil {
			b.Fatal(err)
		}
		want := checker.Valid
		if sc.cfg.Stale > 0 {
			want = checker.Unknown // almost surely invalid; Porcupine must agree
		}
		inputs = append(inputs, benchInput{name: sc.name, h: h, m: m, pm: pRegModel(-1), pops: pRegOps(h), want: want, porcLimit: porcLimit()})
	}
	runSideBySide(b, "generated", inputs)
}
