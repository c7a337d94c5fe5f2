package history

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sameValue reports whether a and b are the same value of the same type
// (stricter than Equal: 1 and 1.0 differ, NaN is NaN, -0 is not 0).
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case int64:
		y, ok := b.(int64)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case string:
		y, ok := b.(string)
		return ok && x == y
	case *big.Int:
		y, ok := b.(*big.Int)
		return ok && x.Cmp(y) == 0
	case []any:
		y, ok := b.([]any)
		return ok && sameValues(x, y)
	case Set:
		y, ok := b.(Set)
		return ok && sameValues(x, y)
	case Map:
		y, ok := b.(Map)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValue(x[i].Key, y[i].Key) || !sameValue(x[i].Val, y[i].Val) {
				return false
			}
		}
		return true
	case Tagged:
		y, ok := b.(Tagged)
		return ok && x.Tag == y.Tag && sameValue(x.Value, y.Value)
	}
	return false
}

func sameValues(x, y []any) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if !sameValue(x[i], y[i]) {
			return false
		}
	}
	return true
}

func sameOp(a, b Op) bool {
	return a.Index == b.Index && a.Time == b.Time && a.Type == b.Type && a.Process == b.Process && a.F == b.F &&
		a.Node == b.Node && sameValue(a.Value, b.Value) && sameValue(a.Error, b.Error) && sameValue(a.Key, b.Key) &&
		(len(a.Extra) == 0 && len(b.Extra) == 0 || sameValue(a.Extra, b.Extra))
}

// gatheredDiff describes how two readings differ, or returns "".
func gatheredDiff(a, b *gathered, errA, errB error) string {
	if (errA == nil) != (errB == nil) || errA != nil && errA.Error() != errB.Error() {
		return fmt.Sprintf("errors differ: %v / %v", errA, errB)
	}
	if errA != nil {
		return ""
	}
	opsA, metasA, probsA := a.concat()
	opsB, metasB, probsB := b.concat()
	if len(opsA) != len(opsB) {
		return fmt.Sprintf("%d ops / %d ops", len(opsA), len(opsB))
	}
	for i := range opsA {
		if !sameOp(opsA[i], opsB[i]) {
			return fmt.Sprintf("op %d: %v / %v", i, opsA[i], opsB[i])
		}
		if metasA[i] != metasB[i] {
			return fmt.Sprintf("op %d: record %+v / %+v", i, metasA[i], metasB[i])
		}
	}
	if len(probsA) != len(probsB) {
		return fmt.Sprintf("%d problems / %d problems", len(probsA), len(probsB))
	}
	for k, p := range probsA {
		if probsB[k] != p {
			return fmt.Sprintf("problem at %d: %+v / %+v", k, p, probsB[k])
		}
	}
	return ""
}

// errReader fails after its data, like a disk that fails mid-file.
type errReader struct {
	data []byte
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, fmt.Errorf("disk on fire")
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// checkChunked reads data sequentially with the streaming reader (a byte at
// a time, and all at once) and in chunks of several sizes with several
// workers, and fails when any reading differs.
func checkChunked(t *testing.T, data []byte, format FileFormat, opts []chunkOptions) {
	t.Helper()
	seq := func(r func() recordReader) (*gathered, error) {
		var g gathered
		err := g.readAll(r())
		return &g, err
	}
	newSeq := func(in func() any) func() recordReader {
		return func() recordReader {
			r := in().(interface{ Read([]byte) (int, error) })
			if format == FormatEDN {
				return NewEDNReader(r, "x")
			}
			return NewJSONLReader(r, "x")
		}
	}
	want, werr := seq(newSeq(func() any { return bytes.NewReader(data) }))
	if len(data) <= 4<<10 {
		g, err := seq(newSeq(func() any { return &oneByteReader{s: string(data)} }))
		if d := gatheredDiff(want, g, werr, err); d != "" {
			t.Fatalf("%s: one byte at a time: %s\ninput: %q", format, d, data)
		}
	}
	for _, o := range opts {
		// Without a size, with the right one, and with wrong ones (a file
		// may grow or shrink while it is read).
		for _, size := range []int64{0, int64(len(data)), int64(len(data) / 3), int64(3*len(data)) + 10} {
			o.size = size
			var g gathered
			err := g.readChunked(bytes.NewReader(data), "x", format, o)
			want, werr := seq(newSeq(func() any { return bytes.NewReader(data) }))
			if d := gatheredDiff(want, &g, werr, err); d != "" {
				t.Fatalf("%s: chunks %+v: %s\ninput: %q", format, o, d, data)
			}
		}
	}
	// A read error is reported as such, wherever it falls.
	var g gathered
	err := g.readChunked(&errReader{data: data}, "x", format, chunkOptions{block: 7, workers: 2})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("%s: read error lost: %v", format, err)
	}
}

var smallChunks = []chunkOptions{
	{block: 1, workers: 1}, {block: 1, workers: 2}, {block: 2, workers: 3}, {block: 3, workers: 2},
	{block: 5, workers: 2}, {block: 16, workers: 2}, {block: 64, workers: 3}, {block: 256, workers: 2},
	{block: 4, maxLine: 16, workers: 2}, {block: 1 << 20, workers: 2},
}

func TestChunkedMatchesSequential(t *testing.T) {
	cases := map[string]string{
		"one per line":     "{:index 0, :type :invoke, :process 0, :f :read, :value nil}\n{:index 1, :type :ok, :process 0, :f :read, :value 3}\n",
		"no final newline": "{:type :invoke, :process 0, :f :read}\n{:type :ok, :process 0, :f :read}",
		"vector":           "[{:type :invoke, :process 0}\n{:type :ok, :process 0}\n{:type :invoke, :process 1}\n]\n",
		"vector unclosed":  "[{:type :invoke, :process 0}\n{:type :ok, :process 0}\n",
		"list indented":    "({:type :invoke, :process 0}\n {:type :ok, :process 0})\n",
		"multi-line maps":  "{:type :invoke,\n :process 0,\n :value\n {:a 1}\n}\n{:type :ok,\n :process 0}\n",
		"map keys at col0": "{:type :invoke, :process 0, :value {\n{:k 1} 2}}\n{:type :ok, :process 0}\n",
		"string with {":    "{:type :invoke, :process 0, :value \"a\n{:type :ok}\nb\"}\n{:type :ok, :process 0}\n",
		"comments":         "; c\n{:type :invoke, :process 0} ; c\n; {:x\n{:type :ok, :process 0}\n#_\n{:type :ok}\n{:type :info, :process 1}\n",
		"syntax errors":    "{:type :invoke, :process 0\n{:type :ok, :process 0}\n{:type :invoke :process 1 :value [1 2}\n)\n{:type :ok, :process 1}\n]\n{:x}\n",
		"stray bytes":      "x {:type :invoke}\n  ]\n{:type :ok}\n  y\n{:type :ok, :process 0}\n",
		"resync over ops":  "{:type :invoke, :value [1 2\n  3 4\n  ]\n{:type :ok}\n",
		"char newline":     "{:type :invoke, :process 0, :value \\\n}\n{:type :ok, :process 0}\n{:type :invoke, :process 1}\n",
		"records":          "#jepsen.history.Op{:type :invoke, :process 0}\n#jepsen.history.Op {:type :ok, :process 0}\n#inst \"x\"\n",
		"not maps":         "1\n[1 2]\n\"s\"\n{:type :ok}\n",
		"bom":              "\xEF\xBB\xBF{:type :invoke, :process 0}\n{:type :ok, :process 0}\n",
		"crlf":             "{:type :invoke, :process 0}\r\n{:type :ok, :process 0}\r\n",
		"unclosed string":  "{:type :invoke, :value \"abc\n{:type :ok}\n",
		"blank":            "\n\n  \n",
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) { checkChunked(t, []byte(src), FormatEDN, smallChunks) })
	}
	jcases := map[string]string{
		"lines":       `{"type":"invoke","process":0}` + "\n" + `{"type":"ok","process":0,"value":[1,2]}` + "\n",
		"blank lines": "\n\n" + `{"type":"invoke","process":0}` + "\n\n" + `{"type":"ok","process":0}`,
		"errors":      `{"type":"invoke"` + "\n[1]\n" + `{"index":-1,"time":"x","process":1e3}` + "\n" + `{"index":99999999999999999999}`,
		"crlf":        `{"type":"invoke","process":0}` + "\r\n" + `{"type":"ok","process":0}` + "\r\n",
	}
	for name, src := range jcases {
		t.Run("jsonl "+name, func(t *testing.T) { checkChunked(t, []byte(src), FormatJSONL, smallChunks) })
	}
}

// TestChunkedLargeHistories reads larger generated histories, whole and with
// damage, in chunks of a few KiB.
func TestChunkedLargeHistories(t *testing.T) {
	ops := benchOps(3000)
	var edn, jsonl bytes.Buffer
	if err := WriteEDN(&edn, ops); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSONL(&jsonl, ops); err != nil {
		t.Fatal(err)
	}
	opts := []chunkOptions{{block: 1000, workers: 2}, {block: 4096, workers: 3}, {block: 100, maxLine: 150, workers: 2}}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 12 {
		for _, tc := range []struct {
			data   []byte
			format FileFormat
		}{{edn.Bytes(), FormatEDN}, {jsonl.Bytes(), FormatJSONL}} {
			data := bytes.Clone(tc.data)
			if i > 0 {
				data = damage(rng, data, i)
			}
			checkChunked(t, data, tc.format, opts)
		}
	}
	// Knossos's shape: one vector, one op per line, indented.
	var vec bytes.Buffer
	vec.WriteString("[")
	for i, line := range bytes.Split(bytes.TrimSpace(edn.Bytes()), []byte("\n")) {
		if i > 0 {
			vec.WriteString("\n ")
		}
		vec.Write(line)
	}
	vec.WriteString("]\n")
	checkChunked(t, vec.Bytes(), FormatEDN, opts)
	// One vector with ops at the start of lines: every chunk after the first
	// is guessed wrong.
	checkChunked(t, bytes.ReplaceAll(vec.Bytes(), []byte("\n "), []byte("\n")), FormatEDN, opts)
}

// damage makes k random changes to data: bytes changed, lines dropped or
// doubled, brackets and quotes added.
func damage(rng *rand.Rand, data []byte, k int) []byte {
	for range k {
		if len(data) == 0 {
			return data
		}
		i := rng.IntN(len(data))
		switch rng.IntN(6) {
		case 0:
			data[i] = "{}[]()\"\\;#:, \n1x"[rng.IntN(16)]
		case 1:
			j := bytes.IndexByte(data[i:], '\n')
			if j >= 0 {
				data = append(data[:i:i], data[i+j:]...)
			}
		case 2:
			data = append(data[:i:i], append([]byte("\n{"), data[i:]...)...)
		case 3:
			data = append(data[:i:i], append([]byte("\""), data[i:]...)...)
		case 4:
			data = data[:i]
		default:
			data = append(data[:i:i], append([]byte("\n[\n"), data[i:]...)...)
		}
	}
	return data
}

// TestChunkedSharedData reads the reference histories in small chunks.
func TestChunkedSharedData(t *testing.T) {
	dir := fuzzSeedDir()
	if dir == "" {
		t.Skip("shared reference data not found (set FAULTLINE_SHARED_DATA)")
	}
	var files []string
	for _, pat := range []string{"elle/histories/*.edn", "knossos/data/*/*/*.edn", "*/*.jsonl", "*/*/*.jsonl"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Skip("no EDN or JSONL histories in the shared data")
	}
	opts := []chunkOptions{{block: 4096, workers: 2}, {block: 300, workers: 3}}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 4<<20 {
			continue
		}
		format := FormatEDN
		if strings.HasSuffix(f, ".jsonl") {
			format = FormatJSONL
		}
		t.Run(filepath.Base(f), func(t *testing.T) { checkChunked(t, data, format, opts) })
	}
}

// FuzzReadChunks checks that reading in chunks gives what a sequential
// read gives, however the input is cut.
func FuzzReadChunks(f *testing.F) {
	f.Add([]byte("{:type :invoke, :process 0}\n{:type :ok, :process 0}\n"), uint8(3), uint8(2), false)
	f.Add([]byte("[{:type :invoke}\n{:type :ok}]"), uint8(1), uint8(2), false)
	f.Add([]byte("{:a \"x\n{:b\"}\n{:c 1}\n"), uint8(2), uint8(2), false)
	f.Add([]byte(`{"type":"invoke","process":0}`+"\n"+`{"type":"ok","process":0}`), uint8(5), uint8(2), true)
	if dir := fuzzSeedDir(); dir != "" {
		files, _ := filepath.Glob(filepath.Join(dir, "elle", "histories", "*.edn"))
		for i, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b[:min(len(b), 4<<10)], uint8(i*7), uint8(i), false)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, block, workers uint8, json bool) {
		format := FormatEDN
		if json {
			format = FormatJSONL
		}
		checkChunked(t, data, format, []chunkOptions{{block: int(block%64) + 1, workers: int(workers%4) + 1}, {block: int(block%8) + 1, maxLine: int(block%32) + 1, workers: 2}})
	})
}
