package elle

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/internal/gctune"
)

// genListAppend simulates a strict-serializable store running list-append
// transactions from 10 processes, the way Jepsen's append workload drives
// one: 1 to 4 micro-ops per transaction over 10 active keys, each key
// retired after 32 appends. Every transaction takes effect atomically at its
// completion. With stale > 0, that fraction of reads returns the key's state
// without its last append (a stale read: anomalies such as
// G-single-item-realtime).
func genListAppend(n int, stale float64, seed uint64) []history.Op {
	rng := rand.New(rand.NewPCG(seed, 7))
	const procs, keyCount, maxWrites = 10, 10, 32
	active := make([]int64, keyCount)
	writes := make([]int, keyCount)
	for i := range active {
		active[i] = int64(i)
	}
	nextKey := int64(keyCount)
	state := map[int64][]any{}
	type pending struct {
		txn []any
		on  bool
	}
	var busy [procs]pending
	ops := make([]history.Op, 0, 2*n)
	t := int64(0)
	started, done := 0, 0
	for done < n {
		p := rng.IntN(procs)
		t += int64(1 + rng.IntN(100_000))
		if !busy[p].on {
			if started == n {
				continue
			}
			started++
			var txn []any
			for range 1 + rng.IntN(4) {
				i := rng.IntN(keyCount)
				if rng.IntN(2) == 0 {
					txn = append(txn, []any{"r", active[i], nil})
					continue
				}
				if writes[i] == maxWrites {
					active[i], writes[i] = nextKey, 0
					nextKey++
				}
				writes[i]++
				txn = append(txn, []any{"append", active[i], int64(writes[i])})
			}
			busy[p] = pending{txn: txn, on: true}
			ops = append(ops, history.Op{Index: len(ops), Time: t, Type: history.Invoke, Process: p, F: "txn", Value: txn})
			continue
		}
		// Complete: apply atomically now.
		out := make([]any, len(busy[p].txn))
		for i, m := range busy[p].txn {
			m := m.([]any)
			k := m[1].(int64)
			if m[0] == "append" {
				state[k] = append(state[k], m[2])
				out[i] = m
				continue
			}
			l := state[k]
			if stale > 0 && len(l) > 0 && rng.Float64() < stale {
				l = l[:len(l)-1]
			}
			out[i] = []any{"r", k, append([]any{}, l...)}
		}
		busy[p].on = false
		done++
		ops = append(ops, history.Op{Index: len(ops), Time: t, Type: history.OK, Process: p, F: "txn", Value: out})
	}
	return ops
}

// benchFiles holds the generated histories, one per size and kind, for the
// whole test binary (generated once, removed by TestMain).
var benchFiles struct {
	sync.Mutex
	dir   string
	paths map[string]string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchFiles.dir != "" {
		os.RemoveAll(benchFiles.dir)
	}
	os.Exit(code)
}

func benchFile(b *testing.B, n int, stale float64, format history.FileFormat) string {
	benchFiles.Lock()
	defer benchFiles.Unlock()
	name := fmt.Sprintf("la-%d-%g.%s", n, stale, format)
	if p, ok := benchFiles.paths[name]; ok {
		return p
	}
	if benchFiles.dir == "" {
		d, err := os.MkdirTemp("", "faultline-elle-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchFiles.dir, benchFiles.paths = d, map[string]string{}
	}
	path := filepath.Join(benchFiles.dir, name)
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	ops := genListAppend(n, stale, uint64(n))
	if format == history.FormatJSONL {
		err = history.WriteJSONL(w, ops)
	} else {
		err = history.WriteEDN(w, ops)
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		b.Fatal(err)
	}
	benchFiles.paths[name] = path
	return path
}

// peakHeap samples the heap in use until stop is closed, and returns the
// largest value seen.
func peakHeap(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak {
				peak = v
			}
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// cpuTime returns the CPU time (user and system, all threads) the process
// has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkListAppend reads a generated history file with history.ReadFile
// and the checker's ValueDecoder, as faultline analyze does, and checks it
// for strict serializability. It reports transactions per
// second including the read (txn/s), the read alone (read-txn/s), the check
// alone (check-txn/s), per CPU second used by the process (txn/cpu-s: the
// same on a busy machine), and the peak heap in use (peak-MB).
//
// The collector is set as the faultline binary sets it for analyze
// (gctune.ForAnalysis), unless GOGC or GOMEMLIMIT say otherwise; run with
// GOGC=100 for the library's defaults.
func BenchmarkListAppend(b *testing.B) {
	benchListAppend(b, ValueDecoder(), []int{10_000, 100_000, 1_000_000}, []history.FileFormat{history.FormatEDN, history.FormatJSONL})
}

// BenchmarkListAppendGeneric is BenchmarkListAppend with the generic
// value reader (no ValueDecoder), as a library caller of history.ReadFile
// gets by default: the decoder's gain.
func BenchmarkListAppendGeneric(b *testing.B) {
	benchListAppend(b, nil, []int{100_000, 1_000_000}, []history.FileFormat{history.FormatEDN})
}

func benchListAppend(b *testing.B, values func() history.ValueDecoder, sizes []int, formats []history.FileFormat) {
	defer gctune.ForAnalysis()()
	for _, n := range sizes {
		size := struct {
			name string
			n    int
		}{map[int]string{10_000: "10k", 100_000: "100k", 1_000_000: "1M"}[n], n}
		for _, kind := range []struct {
			name  string
			stale float64
		}{{"valid", 0}, {"anomalies", 0.001}} {
			for _, format := range formats {
				b.Run(fmt.Sprintf("%s/%s/%s", size.name, kind.name, format), func(b *testing.B) {
					path := benchFile(b, size.n, kind.stale, format)
					c := ListAppend(Options{})
					runtime.GC()
					stop := make(chan struct{})
					peak := peakHeap(stop)
					var readTime, checkTime time.Duration
					cpu0 := cpuTime()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						t0 := time.Now()
						h, probs, err := history.ReadFile(path, history.ReadOptions{Values: values})
						if err != nil || len(probs) > 0 {
							b.Fatal(err, probs)
						}
						t1 := time.Now()
						res, err := c.Check(context.Background(), h, checker.Options{})
						if err != nil {
							b.Fatal(err)
						}
						readTime += t1.Sub(t0)
						checkTime += time.Since(t1)
						r := res.(*Result)
						if kind.stale == 0 && r.Valid != checker.Valid || kind.stale > 0 && r.Valid != checker.Invalid {
							b.Fatalf("%s: %v %v", kind.name, r.Valid, r.AnomalyTypes)
						}
						if i == 0 && kind.stale > 0 {
							b.Logf("%s: %v (%d components)", b.Name(), r.AnomalyTypes, r.SCCCount)
						}
					}
					b.StopTimer()
					cpu := cpuTime() - cpu0
					close(stop)
					txns := float64(size.n) * float64(b.N)
					b.ReportMetric(txns/(readTime+checkTime).Seconds(), "txn/s")
					b.ReportMetric(txns/checkTime.Seconds(), "check-txn/s")
					b.ReportMetric(txns/readTime.Seconds(), "read-txn/s")
					b.ReportMetric(float64(<-peak)/(1<<20), "peak-MB")
					// The machine may be shared: throughput per CPU second
					// (all threads, GC included) does not depend on the load.
					b.ReportMetric(txns/cpu.Seconds(), "txn/cpu-s")
				})
			}
		}
	}
}

// BenchmarkCheckOnly checks an already-read history (100k transactions,
// strict serializability): the checker's own cost, without the reader.
func BenchmarkCheckOnly(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			h, err := history.New(genListAppend(n, 0.001, 3))
			if err != nil {
				b.Fatal(err)
			}
			c := ListAppend(Options{})
			runtime.GC()
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := c.Check(context.Background(), h, checker.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			txns := float64(n) * float64(b.N)
			b.ReportMetric(txns/b.Elapsed().Seconds(), "txn/s")
			b.ReportMetric(txns/(cpuTime()-cpu0).Seconds(), "txn/cpu-s")
		})
	}
}
