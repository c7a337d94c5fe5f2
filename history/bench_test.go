package history

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
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
