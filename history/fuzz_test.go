package history

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeedDir returns the shared reference data folder, or "" when it is
// absent (fuzz targets then run on their built-in seeds only).
func fuzzSeedDir() string {
	if d := os.Getenv("FAULTLINE_SHARED_DATA"); d != "" {
		return d
	}
	for _, d := range []string{filepath.Join("..", "..", "shared", "data"), filepath.Join("..", "testdata", "shared")} {
		if _, err := os.Stat(filepath.Join(d, "MANIFEST.md")); err == nil {
			return d
		}
	}
	return ""
}

// addSharedSeeds adds the reference histories matching the patterns as
// seeds, cut to 4 KiB so that fuzzing stays fast.
func addSharedSeeds(f *testing.F, patterns ...string) {
	dir := fuzzSeedDir()
	if dir == "" {
		return
	}
	for _, pat := range patterns {
		files, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				continue
			}
			if len(b) > 4<<10 {
				b = b[:4<<10]
			}
			f.Add(b)
		}
	}
}

// fuzzRead reads data leniently in format ff and, for what it accepts,
// checks that writing it and reading it back gives the same ops.
func fuzzRead(t *testing.T, data []byte, ff FileFormat) {
	h, probs, err := Read(bytes.NewReader(data), "fuzz", ReadOptions{Format: ff, Lenient: true})
	if err != nil {
		t.Fatalf("lenient read failed on in-memory input: %v", err)
	}
	for _, p := range probs {
		_ = p.Error() // rendering a problem must not panic either
	}
	// Strict mode agrees: it fails exactly when there are problems.
	if _, _, serr := Read(bytes.NewReader(data), "fuzz", ReadOptions{Format: ff}); (serr != nil) != (len(probs) > 0) {
		t.Fatalf("strict error %v, but %d lenient problems", serr, len(probs))
	}
	var buf bytes.Buffer
	var out FileFormat
	switch ff {
	case FormatJSONL:
		out = FormatJSONL
		if err := WriteJSONL(&buf, h.Ops); err != nil {
			t.Fatal(err)
		}
	case FormatEDN:
		out = FormatEDN
		if err := WriteEDN(&buf, h.Ops); err != nil {
			t.Fatal(err)
		}
	default:
		out = FormatText
		if err := WriteText(&buf, h.Ops); err != nil {
			t.Fatal(err)
		}
	}
	back, probs, err := Read(bytes.NewReader(buf.Bytes()), "back", ReadOptions{Format: out})
	if err != nil || len(probs) > 0 {
		t.Fatalf("reading what was written: %v %v\n%s", err, probs, buf.Bytes())
	}
	if back.Len() != h.Len() {
		t.Fatalf("wrote %d ops, read back %d\n%s", h.Len(), back.Len(), buf.Bytes())
	}
	for i := range h.Ops {
		a, b := h.Ops[i], back.Ops[i]
		if out == FormatText {
			// Text has no index, time, key, node or extra fields.
			a = Op{Type: a.Type, Process: a.Process, F: a.F, Value: a.Value, Error: a.Error}
			b = Op{Type: b.Type, Process: b.Process, F: b.F, Value: b.Value, Error: b.Error}
		}
		if !opsEqual(a, b) {
			t.Fatalf("op %d changed in a round trip:\n %v\n %v\nwritten: %s", i, a, b, buf.Bytes())
		}
	}
}

func FuzzReadJSONL(f *testing.F) {
	for _, s := range []string{
		`{"index":0,"time":1,"type":"invoke","process":3,"f":"read","value":null}`,
		`{"index":0,"time":1,"type":"invoke","process":3,"f":"read","value":null}` + "\n" + `{"index":1,"time":2,"type":"ok","process":3,"f":"read","value":[1,2.5,"x",{"a":true}]}` + "\n",
		`{"type":"info","process":"nemesis","f":"start","value":{"#tag":"inst","value":"2024"},"error":"x","key":[1],"node":"n1","other":1e5}`,
		`{"type":"invoke","process":0,"value":123456789012345678901234567890}`,
		`{"type":"invoke","process":0,"value":"\ud83d\ude00\u0000\"\\"}`,
		`{"type":"invoke","process":0,"value":-0.0}`,
		`{"type":"invoke","process":0,"f":"r"}` + "\n" + `{"type":"ok","process":0,"f":"r"`,
		"\n\n",
		`[1,2]`,
		`{"type":"invoke"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, data, FormatJSONL) })
}

func FuzzReadEDN(f *testing.F) {
	for _, s := range []string{
		`{:index 0 :time 1 :type :invoke :process 3 :f :read :value nil}`,
		"[{:process 0, :type :invoke, :f :txn, :value [[:append 5 3] [:r 5 nil]]}\n {:process 0, :type :ok, :f :txn, :value [[:append 5 3] [:r 5 [1 2 3]]]}]",
		"({:process :nemesis :type :info :f :start :value #{\"n1\" \"n2\"}})",
		`#jepsen.history.Op{:index 0, :type :invoke, :process 0, :f :w, :value 1N, :x 1.5M, :y 1/3, :z \newline, :q ##NaN, :t #inst "2024"}`,
		"; comment\n#_ {:bad} {:process 0 :type :invoke :value \"a\\u00e9\\\"\" :error [:timeout \"x\"]}",
		"{:process 0 :type :invoke}\n{:process 0 :type :ok",
		"[{:process 0 :type :invoke}",
		"{:index 0 :type :invoke :value [[:append 253 1]]}",
		"{:time -5 :process 0 :type :invoke :f \"a b\" :value [-0.0 1e400 \\u00e9]}",
		`{:process 0 :type :invoke :value {1 2 "1" 3 #{} []}}`,
		`{:process 0 :type :invoke :value #object[foo 0x1 {:a ^:m [1]}]}`,
	} {
		f.Add([]byte(s))
	}
	addSharedSeeds(f, "knossos/data/*/*/*.edn", "elle/histories/*.edn", "porcupine/test_data/kv/c01-*.txt")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, data, FormatEDN) })
}

func FuzzReadText(f *testing.F) {
	for _, s := range []string{
		"3\t:invoke\t:read\tnil\n3\t:ok\t:read\t2\n",
		"INFO  jepsen.util - 4\t:invoke\t:write\t1\nINFO  jepsen.util - 4\t:info\t:write\t:timed-out\n",
		"0 :invoke :cas [1 2]\n0 :fail :cas [1 2] java.lang.Exception: boom\n",
		":nemesis\t:info\t:start\t{\"n1\" #{\"n2\"}}\n",
		"noise line\nINFO x - 1 :invoke :read nil\n",
		"1\t:invoke\t:read\t[1 2\n",
	} {
		f.Add([]byte(s))
	}
	addSharedSeeds(f, "porcupine/test_data/jepsen/etcd_00*.log")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, FormatText)
		fuzzRead(t, data, FormatLog)
		_ = DetectFormat(data)
	})
}
