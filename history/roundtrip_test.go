package history

import (
	"bytes"
	"flag"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// sampleOps is a small history using every field and value type that
// survives every format.
func sampleOps() []Op {
	return []Op{
		{Index: 0, Time: 1000, Type: Invoke, Process: 0, F: "read"},
		{Index: 1, Time: 2000, Type: Invoke, Process: 1, F: "write", Value: int64(3), Node: "n2"},
		{Index: 2, Time: 2500, Type: OK, Process: 0, F: "read", Value: int64(3)},
		{Index: 3, Time: 3000, Type: Info, Process: 1, F: "write", Value: int64(3), Error: "timed-out"},
		{Index: 4, Time: 3100, Type: Info, Process: NemesisProcess, F: "start"},
		{Index: 5, Time: 3200, Type: Info, Process: NemesisProcess, F: "start", Value: Map{{"n1", []any{"n2", "n3"}}}},
		{Index: 6, Time: 4000, Type: Invoke, Process: 6, F: "txn", Value: []any{[]any{"append", int64(5), int64(3)}, []any{"r", int64(5), nil}}},
		{Index: 7, Time: 5000, Type: OK, Process: 6, F: "txn", Value: []any{[]any{"append", int64(5), int64(3)}, []any{"r", int64(5), []any{int64(1), int64(2), int64(3)}}}},
		{Index: 8, Time: 6000, Type: Invoke, Process: 2, F: "cas", Value: []any{int64(1), int64(2)}, Key: "k1"},
		{Index: 9, Time: 7000, Type: Fail, Process: 2, F: "cas", Value: []any{int64(1), int64(2)}, Key: "k1",
			Error: []any{"duplicate-key", "etcdserver: duplicate key \"x\"\tgiven"}},
		{Index: 10, Time: 7100, Type: Invoke, Process: 3, F: "add", Value: 2.5,
			Extra: Map{{"exception", Map{{"via", []any{Map{{"type", "java.net.SocketException"}}}}}}, {"attempt", int64(2)}}},
		{Index: 11, Time: 7200, Type: OK, Process: 3, F: "add", Value: bigInt("123456789012345678901234567890")},
		{Index: 12, Time: 7300, Type: Invoke, Process: 4, F: "read", Value: "\u00e9\U0001F600 \x01"},
		{Index: 13, Time: 7400, Type: OK, Process: 4, F: "read", Value: Map{{"bal", Map{{"a", int64(10)}, {"b", int64(-10)}}}, {"ok?", true}, {"none", false}}},
	}
}

// ednOnlyOps uses values that only EDN keeps exactly.
func ednOnlyOps() []Op {
	return []Op{
		{Index: 0, Time: -1, Type: Invoke, Process: 0, F: "add", Value: Set{int64(1), "a", nil}},
		{Index: 1, Time: -1, Type: OK, Process: 0, F: "add", Value: []any{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 1e300, 5e-324}},
		{Index: 2, Time: 5, Type: Invoke, Process: 1, F: "at", Value: Tagged{"inst", "2024-01-02T03:04:05Z"}},
		{Index: 3, Time: 6, Type: OK, Process: 1, F: "at", Value: Map{{int64(1), "one"}, {"1", "string one"}, {Set{int64(2)}, []any{}}}},
		{Index: 4, Time: 7, Type: Invoke, Process: 2, F: "weird name", Value: "x", Extra: Map{{int64(7), "seven"}, {"key with space", nil}}},
		{Index: 5, Time: 8, Type: OK, Process: 2, F: "bank", Value: Map{{int64(0), int64(10)}, {int64(1), int64(-10)}}},
	}
}

func readAll(t *testing.T, b []byte, name string, f FileFormat) []Op {
	t.Helper()
	h, probs, err := Read(bytes.NewReader(b), name, ReadOptions{Format: f})
	if err != nil || len(probs) > 0 {
		t.Fatalf("reading %s back: %v %v\n%s", name, err, probs, b)
	}
	return h.Ops
}

func encode(t *testing.T, f FileFormat, ops []Op) []byte {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch f {
	case FormatJSONL:
		err = WriteJSONL(&buf, ops)
	case FormatEDN:
		err = WriteEDN(&buf, ops)
	case FormatText:
		err = WriteText(&buf, ops)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTripSample(t *testing.T) {
	ops := sampleOps()
	for _, f := range []FileFormat{FormatJSONL, FormatEDN} {
		b := encode(t, f, ops)
		if got := readAll(t, b, "s."+f.String(), FormatUnknown); !opSlicesEqual(got, ops) {
			t.Errorf("%s round trip:\n got %v\nwant %v", f, got, ops)
		}
		if DetectFormat(b) != f {
			t.Errorf("%s output detected as %s", f, DetectFormat(b))
		}
	}
	// EDN keeps what JSON cannot.
	eops := ednOnlyOps()
	if got := readAll(t, encode(t, FormatEDN, eops), "e.edn", FormatEDN); !opSlicesEqual(got, eops) {
		t.Errorf("EDN-only round trip:\n got %v\nwant %v", got, eops)
	}
	// Text keeps process, type, f, value and error; index becomes position.
	var want []Op
	for _, op := range ops {
		want = append(want, Op{Index: op.Index, Time: -1, Type: op.Type, Process: op.Process, F: op.F, Value: op.Value, Error: op.Error})
	}
	if got := readAll(t, encode(t, FormatText, ops), "s.txt", FormatText); !opSlicesEqual(got, want) {
		t.Errorf("text round trip:\n got %v\nwant %v", got, want)
	}
}

func TestJSONLossyValues(t *testing.T) {
	ops := ednOnlyOps()
	got := readAll(t, encode(t, FormatJSONL, ops), "l.jsonl", FormatJSONL)
	want := []any{
		[]any{int64(1), "a", nil},
		[]any{"NaN", "Infinity", "-Infinity", math.Copysign(0, -1), 1e300, 5e-324},
		Tagged{"inst", "2024-01-02T03:04:05Z"},
		// {1 "one", "1" "string one", #{2} []}: keys render alike, so pairs.
		[]any{[]any{int64(1), "one"}, []any{"1", "string one"}, []any{[]any{int64(2)}, []any{}}},
		"x",
		Map{{"0", int64(10)}, {"1", int64(-10)}},
	}
	for i := range want {
		if !Equal(got[i].Value, want[i]) {
			t.Errorf("op %d: value %s, want %s", i, Format(got[i].Value), Format(want[i]))
		}
	}
	if e := got[4].Extra; len(e) != 2 || e[0].Key != "7" {
		t.Errorf("extra %v", e)
	}
	if _, isFloat := got[1].Value.([]any)[3].(float64); !isFloat {
		t.Error("-0.0 did not stay a float")
	}
}

func TestGolden(t *testing.T) {
	ops := sampleOps()
	for _, f := range []FileFormat{FormatJSONL, FormatEDN, FormatText} {
		name := filepath.Join("testdata", "golden", "sample."+map[FileFormat]string{FormatJSONL: "jsonl", FormatEDN: "edn", FormatText: "txt"}[f])
		got := encode(t, f, ops)
		if *update {
			if err := os.WriteFile(name, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the golden file:\n%s", name, got)
		}
	}
}

func TestWriterShapes(t *testing.T) {
	op := Op{Index: 0, Time: 123456, Type: Invoke, Process: 3, F: "read"}
	if got := string(AppendJSON(nil, op)); got != `{"index":0,"time":123456,"type":"invoke","process":3,"f":"read","value":null}` {
		t.Errorf("JSON %s", got)
	}
	if got := string(AppendEDN(nil, op)); got != `{:index 0, :time 123456, :type :invoke, :process 3, :f :read, :value nil}` {
		t.Errorf("EDN %s", got)
	}
	if got := string(AppendText(nil, op)); got != "3\t:invoke\t:read\tnil" {
		t.Errorf("text %q", got)
	}
	n := Op{Index: 1, Time: -1, Type: Info, Process: NemesisProcess, F: "kill", Value: []any{"n1"}, Error: "timeout"}
	if got := string(AppendJSON(nil, n)); got != `{"index":1,"time":-1,"type":"info","process":"nemesis","f":"kill","value":["n1"],"error":"timeout"}` {
		t.Errorf("JSON %s", got)
	}
	if got := string(AppendEDN(nil, n)); got != `{:index 1, :type :info, :process :nemesis, :f :kill, :value ["n1"], :error :timeout}` {
		t.Errorf("EDN %s", got)
	}
	txn := Op{Type: OK, Process: 1, F: "txn", Value: []any{[]any{"append", int64(5), int64(3)}, []any{"r", int64(5), []any{int64(1), int64(2)}}, []any{"w", "k", "v"}}, Key: int64(9)}
	if got := string(AppendEDN(nil, txn)); got != `{:index 0, :time 0, :type :ok, :process 1, :f :txn, :value [[:append 5 3] [:r 5 [1 2]] [:w "k" "v"]], :key 9}` {
		t.Errorf("EDN %s", got)
	}
	// Extra entries shadowing a field are not written twice.
	dup := Op{Type: OK, Process: 1, Extra: Map{{"type", "x"}, {"z", int64(1)}}}
	if got := string(AppendJSON(nil, dup)); strings.Count(got, `"type"`) != 1 || !strings.Contains(got, `"z":1`) {
		t.Errorf("JSON %s", got)
	}
	// Non-canonical Go values are normalised.
	odd := Op{Type: OK, Process: 1, Value: map[string]any{"b": []int{1, 2}, "a": uint8(7)}}
	if got := string(AppendJSON(nil, odd)); !strings.HasSuffix(got, `"value":{"a":7,"b":[1,2]}}`) {
		t.Errorf("JSON %s", got)
	}
}

func TestJSONLToEDNAndBack(t *testing.T) {
	ops := sampleOps()
	j := encode(t, FormatJSONL, ops)
	fromJ := readAll(t, j, "a.jsonl", FormatJSONL)
	e := encode(t, FormatEDN, fromJ)
	fromE := readAll(t, e, "a.edn", FormatEDN)
	j2 := encode(t, FormatJSONL, fromE)
	if !opSlicesEqual(fromJ, fromE) || !bytes.Equal(j, j2) {
		t.Errorf("JSONL -> EDN -> JSONL changed the history:\n%s\n%s", j, j2)
	}
}

func TestBigAndFloatNumbersJSON(t *testing.T) {
	src := `{"process":0,"type":"invoke","value":[1,-1,1.0,1e2,123456789012345678901234567890,-0,0.5e-3]}` + "\n"
	ops := readAll(t, []byte(src), "n.jsonl", FormatJSONL)
	v := ops[0].Value.([]any)
	wantTypes := []string{"int64", "int64", "float64", "float64", "*big.Int", "int64", "float64"}
	for i, w := range wantTypes {
		if got := typeName(v[i]); got != w {
			t.Errorf("element %d (%s) is %s, want %s", i, Format(v[i]), got, w)
		}
	}
	if _, _, err := Read(strings.NewReader(`{"process":0,"type":"invoke","value":1e999}`), "n.jsonl", ReadOptions{}); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("1e999: %v", err)
	}
	for _, bad := range []string{"01", "1.", ".5", "-", "1e", "+1", "0x10", "NaN"} {
		src := `{"process":0,"type":"invoke","value":` + bad + `}`
		if _, _, err := Read(strings.NewReader(src), "n.jsonl", ReadOptions{Format: FormatJSONL}); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func typeName(v any) string {
	switch v.(type) {
	case int64:
		return "int64"
	case float64:
		return "float64"
	case *big.Int:
		return "*big.Int"
	}
	return "other"
}

func TestJSONStrings(t *testing.T) {
	src := `{"process":0,"type":"invoke","value":"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\ud800x"}`
	ops := readAll(t, []byte(src), "s.jsonl", FormatJSONL)
	if want := "a\"\\/\b\f\n\r\t\u00e9\U0001F600\uFFFDx"; ops[0].Value != want {
		t.Errorf("got %q, want %q", ops[0].Value, want)
	}
	// Invalid UTF-8 is replaced on reading, so that it round-trips.
	raw := []byte(`{"process":0,"type":"invoke","value":"a` + "\xff" + `b"}`)
	ops = readAll(t, raw, "s.jsonl", FormatJSONL)
	if ops[0].Value != "a\uFFFDb" {
		t.Errorf("got %q", ops[0].Value)
	}
	if _, _, err := Read(strings.NewReader("{\"process\":0,\"type\":\"invoke\",\"value\":\"a\tb\"}"), "s.jsonl", ReadOptions{}); err == nil {
		t.Error("raw tab in a JSON string accepted")
	}
}

func TestOddFieldValuesRoundTrip(t *testing.T) {
	ops := []Op{
		{Index: 0, Time: -5, Type: Invoke, Process: 0, F: "nil", Value: "-1"},
		{Index: 7, Time: 0, Type: OK, Process: 0, F: "a/b", Value: Map{{"nil", "."}, {"+", "'"}, {"a/", "a//b"}}},
		{Index: 8, Time: -1, Type: Invoke, Process: 2147483647, F: "", Value: []any{"", "x y", "é"}},
	}
	for _, f := range []FileFormat{FormatJSONL, FormatEDN} {
		if got := readAll(t, encode(t, f, ops), "odd", f); !opSlicesEqual(got, ops) {
			t.Errorf("%s:\n got %v\nwant %v", f, got, ops)
		}
	}
}

func TestQuotedStrings(t *testing.T) {
	for _, tc := range []struct {
		in               string
		json, edn, embed string
	}{
		{"plain", `"plain"`, `"plain"`, `"plain"`},
		{"a\"b\\c", `"a\"b\\c"`, `"a\"b\\c"`, `"a\"b\\c"`},
		{"\n\r\t\x01\x7f", `"\n\r\t\u0001` + "\x7f" + `"`, `"\n\r\t\u0001\u007f"`, `"\n\r\t\u0001` + "\x7f" + `"`},
		{"</a>&", `"</a>&"`, `"</a>&"`, `"\u003c/a\u003e\u0026"`},
		{"\u2028\u2029é", "\"\u2028\u2029é\"", "\"\u2028\u2029é\"", `"\u2028\u2029` + "é\""},
		{"x\xffy", "\"x\uFFFDy\"", "\"x\uFFFDy\"", `"x\ufffdy"`},
	} {
		if got := string(appendJSONString(nil, tc.in)); got != tc.json {
			t.Errorf("JSON %q: got %s, want %s", tc.in, got, tc.json)
		}
		if got := string(appendEDNString(nil, tc.in)); got != tc.edn {
			t.Errorf("EDN %q: got %s, want %s", tc.in, got, tc.edn)
		}
		if got := string(AppendScriptJSONString(nil, tc.in)); got != tc.embed {
			t.Errorf("script %q: got %s, want %s", tc.in, got, tc.embed)
		}
	}
}

func TestAppendJSONValueMatchesOps(t *testing.T) {
	for _, op := range sampleOps() {
		line := string(AppendJSON(nil, op))
		want := `,"value":` + string(AppendJSONValue(nil, op.Value))
		if !strings.Contains(line, want) {
			t.Errorf("%s lacks %s", line, want)
		}
	}
}
