package history

import (
	"errors"
	"io"
	"math"
	"math/big"
	"strings"
	"testing"
)

// readEDNValue reads one op {:type :ok :process 0 :value <src>} and returns
// its value.
func readEDNValue(t *testing.T, src string) (any, error) {
	t.Helper()
	r := NewEDNReader(strings.NewReader("{:type :ok, :process 0, :value "+src+"}"), "v.edn")
	op, err := r.Next()
	if err != nil {
		return nil, err
	}
	return op.Value, nil
}

func bigInt(s string) *big.Int {
	b, _ := new(big.Int).SetString(s, 10)
	return b
}

func TestEDNValues(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want any
	}{
		{"nil", "nil", nil},
		{"true", "true", true},
		{"false", "false", false},
		{"int", "42", int64(42)},
		{"negative", "-7", int64(-7)},
		{"plus", "+7", int64(7)},
		{"max int64", "9223372036854775807", int64(math.MaxInt64)},
		{"bigint overflow", "92233720368547758070", bigInt("92233720368547758070")},
		{"N suffix small", "5N", int64(5)},
		{"N suffix big", "123456789012345678901234567890N", bigInt("123456789012345678901234567890")},
		{"negative big", "-92233720368547758070", bigInt("-92233720368547758070")},
		{"hex", "0x1F", int64(31)},
		{"float", "1.5", 1.5},
		{"float exp", "-2.5e3", -2500.0},
		{"float exp no dot", "1e3", 1000.0},
		{"M suffix", "1.25M", 1.25},
		{"ratio integral", "4/2", int64(2)},
		{"ratio fraction", "1/4", 0.25},
		{"inf", "##Inf", math.Inf(1)},
		{"-inf", "##-Inf", math.Inf(-1)},
		{"nan", "##NaN", math.NaN()},
		{"string", `"hi there"`, "hi there"},
		{"string escapes", `"a\"b\\c\nd\te\u00e9"`, "a\"b\\c\nd\te\u00e9"},
		{"string surrogate pair", `"\ud83d\ude00"`, "\U0001F600"},
		{"string multiline", "\"a\nb\"", "a\nb"},
		{"keyword", ":read", "read"},
		{"namespaced keyword", ":jepsen.history/op", "jepsen.history/op"},
		{"keyword with punctuation", ":valid?", "valid?"},
		{"symbol", "foo.bar/baz", "foo.bar/baz"},
		{"symbol minus", "-", "-"},
		{"char", `\a`, "a"},
		{"char newline", `\newline`, "\n"},
		{"char space", `\space`, " "},
		{"char tab", `\tab`, "\t"},
		{"char unicode", `\u00e9`, "é"},
		{"char paren", `\(`, "("},
		{"vector", "[1 2 3]", []any{int64(1), int64(2), int64(3)}},
		{"vector commas", "[1, 2,3]", []any{int64(1), int64(2), int64(3)}},
		{"list", "(1 :a \"b\")", []any{int64(1), "a", "b"}},
		{"empty vector", "[]", []any{}},
		{"nested", "[[:append 5 3] [:r 5 [1 2]]]", []any{[]any{"append", int64(5), int64(3)}, []any{"r", int64(5), []any{int64(1), int64(2)}}}},
		{"set", "#{1 2}", Set{int64(1), int64(2)}},
		{"map", "{:x 0, :y 1}", Map{{"x", int64(0)}, {"y", int64(1)}}},
		{"map non-string keys", "{0 100 1 [2]}", Map{{int64(0), int64(100)}, {int64(1), []any{int64(2)}}}},
		{"inst", `#inst "2024-01-02T03:04:05.000-00:00"`, Tagged{"inst", "2024-01-02T03:04:05.000-00:00"}},
		{"uuid", `#uuid "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"`, Tagged{"uuid", "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"}},
		{"object", `#object[clojure.core$future 0x4bd07fe5 {:status :pending}]`, Tagged{"object", []any{"clojure.core$future", int64(0x4bd07fe5), Map{{"status", "pending"}}}}},
		{"record in a value", `#jepsen.Foo{:a 1}`, Tagged{"jepsen.Foo", Map{{"a", int64(1)}}}},
		{"discard", "[1 #_ 2 3]", []any{int64(1), int64(3)}},
		{"discard nested", "[1 #_ #_ 2 3 4]", []any{int64(1), int64(4)}},
		{"comment inside", "[1 ; two\n 3]", []any{int64(1), int64(3)}},
		{"metadata dropped", "^:foo [1]", []any{int64(1)}},
		{"regex", `#"a.b"`, Tagged{"regex", "a.b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readEDNValue(t, tt.src)
			if err != nil {
				t.Fatalf("%s: %v", tt.src, err)
			}
			if !Equal(got, tt.want) {
				t.Errorf("%s: got %s (%T), want %s", tt.src, Format(got), got, Format(tt.want))
			}
		})
	}
}

func TestEDNValueErrors(t *testing.T) {
	tests := []struct {
		src  string
		want string
	}{
		{"[1 2", "expected ']'"},
		{`"abc`, "end of input"},
		{"{:a}", "key without a value"},
		{"{:a 1 :a 2}", "duplicate map key"},
		{"[1 2}", "unexpected"},
		{"1abc", "bad number"},
		{"1.2.3", "bad number"},
		{"::foo", "auto-resolved"},
		{`"\q"`, "unknown escape"},
		{`\foo`, "unknown character"},
		{"##Foo", "unknown symbolic"},
		{"#?(:clj 1)", "unsupported dispatch"},
		{"1/0", "divides by zero"},
		{"@x", "not EDN"},
		{strings.Repeat("[", maxDepth+5), "nested deeper"},
	}
	for _, tt := range tests {
		_, err := readEDNValue(t, tt.src)
		if err == nil {
			t.Errorf("%q: no error", tt.src)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "v.edn:1") {
			t.Errorf("%q: error %q does not name v.edn:1 and %q", tt.src, err, tt.want)
		}
	}
}

func TestEDNOpFields(t *testing.T) {
	src := `{:index 7, :time 12, :type :info, :process :nemesis, :f :start, :value nil, :error [:timeout "x"], :key 3, :node "n1", :exception {:via []}, :extra 1}`
	op, err := NewEDNReader(strings.NewReader(src), "f.edn").Next()
	if err != nil {
		t.Fatal(err)
	}
	want := Op{Index: 7, Time: 12, Type: Info, Process: NemesisProcess, F: "start", Error: []any{"timeout", "x"}, Key: int64(3), Node: "n1",
		Extra: Map{{"exception", Map{{"via", []any{}}}}, {"extra", int64(1)}}}
	if !opsEqual(op, want) {
		t.Errorf("got %+v, want %+v", op, want)
	}
}

func TestEDNShapes(t *testing.T) {
	one := `{:process 0, :type :invoke, :f :read, :value nil}
{:process 0, :type :ok, :f :read, :value 1}
`
	tests := []struct {
		name string
		src  string
	}{
		{"line per op", one},
		{"vector", "[" + one + "]"},
		{"list", "(" + one + ")"},
		{"vector with commas", "[{:process 0, :type :invoke, :f :read, :value nil},\n {:process 0, :type :ok, :f :read, :value 1}]"},
		{"multi-line maps", "[{:type :invoke,\n :f :read,\n :value nil,\n :process 0}\n{:type :ok,\n :f :read,\n :value 1,\n :process 0}]"},
		{"records", "#jepsen.history.Op{:process 0, :type :invoke, :f :read, :value nil}\n#jepsen.history.Op{:process 0, :type :ok, :f :read, :value 1}\n"},
		{"comments and discards", "; a history\n" + `#_{:process 9, :type :invoke} {:process 0, :type :invoke, :f :read, :value nil} ; first` + "\n;; second\n" + `{:process 0, :type :ok, :f :read, :value 1}`},
		{"no final newline", strings.TrimSpace(one)},
		{"crlf", strings.ReplaceAll(one, "\n", "\r\n")},
		{"bom", "\xEF\xBB\xBF" + one},
	}
	want := []Op{
		{Index: 0, Time: -1, Type: Invoke, Process: 0, F: "read"},
		{Index: 1, Time: -1, Type: OK, Process: 0, F: "read", Value: int64(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, probs, err := Read(strings.NewReader(tt.src), "s.edn", ReadOptions{})
			if err != nil || len(probs) > 0 {
				t.Fatalf("err %v, problems %v", err, probs)
			}
			if !opSlicesEqual(h.Ops, want) {
				t.Errorf("got %v, want %v", h.Ops, want)
			}
		})
	}
}

// TestEDNSmallReads feeds the reader one byte at a time, so that every
// form is cut at every possible place.
func TestEDNSmallReads(t *testing.T) {
	src := `; header
[{:index 0, :time 1, :type :invoke, :process 0, :f :txn, :value [[:append 5 3] [:r 5 nil]], :note "a \"q\" \u00e9"}
 {:index 1, :time 2, :type :ok, :process 0, :f :txn, :value [[:append 5 3] [:r 5 [1 2 3]]], :s #{1 2}, :c \newline, :n ##NaN}
 #_ {:index 9}
 #jepsen.history.Op{:index 2, :time 3, :type :info, :process :nemesis, :f :start, :value 123456789012345678901234N}]`
	whole, _, err := Read(strings.NewReader(src), "a.edn", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := NewEDNReader(&oneByteReader{s: src}, "a.edn")
	var got []Op
	for {
		op, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, op)
	}
	if !opSlicesEqual(got, whole.Ops) || len(got) != 3 {
		t.Errorf("byte-at-a-time read differs:\n%v\n%v", got, whole.Ops)
	}
}

type oneByteReader struct {
	s string
	i int
}

func (r *oneByteReader) Read(p []byte) (int, error) {
	if r.i >= len(r.s) {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.s[r.i]
	r.i++
	return 1, nil
}

func TestEDNLargeOpGrowsBuffer(t *testing.T) {
	big := strings.Repeat("1 ", 100_000) // 200 KB value, more than the 64 KiB window
	src := "{:process 0, :type :invoke, :f :w, :value [" + big + "]}\n{:process 0, :type :ok, :f :w, :value nil}\n"
	h, _, err := Read(strings.NewReader(src), "big.edn", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(h.Ops[0].Value.([]any)); n != 100_000 {
		t.Errorf("value has %d elements, want 100000", n)
	}
	if h.Len() != 2 {
		t.Errorf("%d ops, want 2", h.Len())
	}
}

func TestEDNStreamingRecovers(t *testing.T) {
	src := `{:process 0, :type :invoke, :f :read, :value nil}
{:process 0, :type :ok, :f :read, :value [1 2}
{:process 1, :type :invoke, :f :read, :value nil}
`
	for _, in := range []io.Reader{strings.NewReader(src), &oneByteReader{s: src}} {
		checkRecovery(t, NewEDNReader(in, "rec.edn"))
	}
}

func checkRecovery(t *testing.T, r *EDNReader) {
	t.Helper()
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	_, err := r.Next()
	var p Problem
	if !errors.As(err, &p) || p.Line != 2 || !strings.Contains(err.Error(), "rec.edn:2") {
		t.Fatalf("want a problem on line 2, got %v", err)
	}
	op, err := r.Next()
	if err != nil || op.Process != 1 || r.Line() != 3 {
		t.Fatalf("did not recover: %v %v line %d", op, err, r.Line())
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("want EOF, got %v", err)
	}
}

func opsEqual(a, b Op) bool {
	return a.Index == b.Index && a.Time == b.Time && a.Type == b.Type && a.Process == b.Process && a.F == b.F &&
		Equal(a.Value, b.Value) && Equal(a.Error, b.Error) && Equal(a.Key, b.Key) && a.Node == b.Node &&
		extraEqual(a.Extra, b.Extra)
}

func extraEqual(a, b Map) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !Equal(a[i].Key, b[i].Key) || !Equal(a[i].Val, b[i].Val) {
			return false
		}
	}
	return true
}

func opSlicesEqual(a, b []Op) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !opsEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestParseEDNValue(t *testing.T) {
	v, err := ParseEDNValue(" {:x 0 :y [1 2]} ; initial state")
	if err != nil || !Equal(v, Map{{"x", int64(0)}, {"y", []any{int64(1), int64(2)}}}) {
		t.Errorf("got %v, %v", v, err)
	}
	for _, bad := range []string{"", "  ", "1 2", "[1", "{:a}"} {
		if _, err := ParseEDNValue(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
