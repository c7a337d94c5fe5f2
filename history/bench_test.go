package history

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// benchOps is a synthetic history shaped like a test's: register ops
// (read/write/cas on independent keys) and list-append transactions, from
// 20 processes, with nemesis ops now and then.
func benchOps(n int) []Op {
	rng := rand.New(rand.NewPCG(1, 2))
	ops := make([]Op, 0, n)
	t := int64(1_000_000)
	pending := map[int]Op{}
	for len(ops) < n {
		p := rng.IntN(20)
		t += int64(rng.IntN(50_000))
		if len(ops)%500 == 499 {
			ops = append(ops, Op{Index: len(ops), Time: t, Type: Info, Process: NemesisProcess, F: "start", Value: Map{{"n1", []any{"n2", "n3"}}}})
			continue
		}
		if inv, ok := pending[p]; ok {
			c := inv
			c.Index, c.Time, c.Type = len(ops), t, OK
			if c.F == "read" {
				c.Value = int64(rng.IntN(5))
			}
			if c.F == "txn" {
				mops := c.Value.([]any)
				out := make([]any, len(mops))
				for i, m := range mops {
					m := m.([]any)
					if m[0] == "r" {
						out[i] = []any{"r", m[1], []any{int64(1), int64(2), int64(3), int64(rng.IntN(100))}}
					} else {
						out[i] = m
					}
				}
				c.Value = out
			}
			if rng.IntN(10) == 0 {
				c.Type, c.Error = Fail, "timeout"
			}
			delete(pending, p)
			ops = append(ops, c)
			continue
		}
		op := Op{Index: len(ops), Time: t, Type: Invoke, Process: p, Key: int64(rng.IntN(10))}
		switch rng.IntN(4) {
		case 0:
			op.F = "read"
		case 1:
			op.F, op.Value = "write", int64(rng.IntN(5))
		case 2:
			op.F, op.Value = "cas", []any{int64(rng.IntN(5)), int64(rng.IntN(5))}
		default:
			op.F, op.Key = "txn", nil
			op.Value = []any{[]any{"append", int64(rng.IntN(50)), int64(rng.IntN(1000))}, []any{"r", int64(rng.IntN(50)), nil}}
		}
		pending[p] = op
		ops = append(ops, op)
	}
	return ops
}

// BenchmarkHistoryWrite measures the JSONL writer the test runner writes
// every op with, in MB/s and ops/s.
func BenchmarkHistoryWrite(b *testing.B) {
	ops := benchOps(10_000)
	var size int
	for i := range ops {
		size += len(AppendJSON(nil, ops[i])) + 1
	}
	w := NewWriter(io.Discard)
	b.SetBytes(int64(size) / int64(len(ops)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := w.Write(ops[i%len(ops)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkFileWriter measures FileWriter to a real file (page cache;
// fsync every 100 ms), in ops/s.
func BenchmarkFileWriter(b *testing.B) {
	ops := benchOps(10_000)
	w, err := CreateFileWriter(filepath.Join(b.TempDir(), "h.jsonl"), FileWriterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := w.Write(ops[i%len(ops)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkEDNWrite(b *testing.B) {
	ops := benchOps(10_000)
	var size int
	for i := range ops {
		size += len(AppendEDN(nil, ops[i])) + 1
	}
	w := NewEDNWriter(io.Discard)
	b.SetBytes(int64(size) / int64(len(ops)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := w.Write(ops[i%len(ops)]); err != nil {
			b.Fatal(err)
		}
	}
	_ = w.Flush()
}

// benchRead reads data (one whole history) b.N times with Read.
func benchRead(b *testing.B, data []byte, f FileFormat) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h, probs, err := Read(bytes.NewReader(data), "bench", ReadOptions{Format: f, Lenient: true})
		if err != nil || len(probs) > 0 || h.Len() == 0 {
			b.Fatal(err, probs)
		}
	}
}

func BenchmarkReadEDN(b *testing.B) {
	var buf bytes.Buffer
	if err := WriteEDN(&buf, benchOps(20_000)); err != nil {
		b.Fatal(err)
	}
	b.Run("synthetic", func(b *testing.B) { benchRead(b, buf.Bytes(), FormatEDN) })
	// Elle's huge-scc.edn (2.8 MB, a real Jepsen history) when the shared
	// data is present.
	if dir := fuzzSeedDir(); dir != "" {
		if data, err := os.ReadFile(filepath.Join(dir, "elle", "histories", "huge-scc.edn")); err == nil {
			b.Run("huge-scc", func(b *testing.B) { benchRead(b, data, FormatEDN) })
		}
	}
}

func BenchmarkReadJSONL(b *testing.B) {
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, benchOps(20_000)); err != nil {
		b.Fatal(err)
	}
	benchRead(b, buf.Bytes(), FormatJSONL)
}

func BenchmarkReadLog(b *testing.B) {
	var buf bytes.Buffer
	for _, op := range benchOps(20_000) {
		buf.WriteString("INFO  jepsen.util - ")
		buf.Write(AppendText(nil, op))
		buf.WriteByte('\n')
	}
	benchRead(b, buf.Bytes(), FormatLog)
}

func BenchmarkNormalizeCanonical(b *testing.B) {
	var v any = []any{[]any{"append", int64(5), int64(3)}, []any{"r", int64(5), []any{int64(1), int64(2)}}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = Normalize(v)
	}
}

// listAppendOps is a list-append history of n transactions from 10
// processes (1 to 4 micro-ops over 10 active keys, each key retired after 32
// appends; reads see every append), shaped like the histories Elle checks.
func listAppendOps(n int) []Op {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	const procs, keyCount, maxWrites = 10, 10, 32
	active := make([]int64, keyCount)
	writes := make([]int, keyCount)
	for i := range active {
		active[i] = int64(i)
	}
	nextKey := int64(keyCount)
	state := map[int64][]any{}
	var busy [procs][]any
	ops := make([]Op, 0, 2*n)
	t := int64(0)
	started, done := 0, 0
	for done < n {
		p := rng.IntN(procs)
		t += int64(1 + rng.IntN(100_000))
		if busy[p] == nil {
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
			busy[p] = txn
			ops = append(ops, Op{Index: len(ops), Time: t, Type: Invoke, Process: p, F: "txn", Value: txn})
			continue
		}
		out := make([]any, len(busy[p]))
		for i, m := range busy[p] {
			m := m.([]any)
			k := m[1].(int64)
			if m[0] == "append" {
				state[k] = append(state[k], m[2])
				out[i] = m
				continue
			}
			out[i] = []any{"r", k, append([]any{}, state[k]...)}
		}
		busy[p] = nil
		done++
		ops = append(ops, Op{Index: len(ops), Time: t, Type: OK, Process: p, F: "txn", Value: out})
	}
	return ops
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

// BenchmarkReadFile reads list-append histories of 100k transactions from
// a file with ReadFile (EDN and JSONL), reporting MB/s, ops/s and
// transactions/s. ReadFile parses large files on all cores.
func BenchmarkReadFile(b *testing.B) {
	const txns = 100_000
	ops := listAppendOps(txns)
	dir := b.TempDir()
	for _, format := range []FileFormat{FormatEDN, FormatJSONL} {
		path := filepath.Join(dir, "h."+format.String())
		var buf bytes.Buffer
		var err error
		if format == FormatEDN {
			err = WriteEDN(&buf, ops)
		} else {
			err = WriteJSONL(&buf, ops)
		}
		if err == nil {
			err = os.WriteFile(path, buf.Bytes(), 0o644)
		}
		if err != nil {
			b.Fatal(err)
		}
		b.Run(format.String(), func(b *testing.B) {
			b.SetBytes(int64(buf.Len()))
			b.ReportAllocs()
			runtime.GC()
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				h, probs, err := ReadFile(path, ReadOptions{})
				if err != nil || len(probs) > 0 || h.Len() != len(ops) {
					b.Fatal(err, probs)
				}
			}
			b.StopTimer()
			cpu := (cpuTime() - cpu0).Seconds()
			s := b.Elapsed().Seconds()
			b.ReportMetric(float64(len(ops))*float64(b.N)/s, "ops/s")
			b.ReportMetric(float64(txns)*float64(b.N)/s, "txn/s")
			// CPU seconds of all threads (GC included): what the read costs
			// whatever the load of the machine and the number of cores.
			b.ReportMetric(float64(txns)*float64(b.N)/cpu, "txn/cpu-s")
		})
	}
}
