package history

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestDetectFormat(t *testing.T) {
	tests := []struct {
		name string
		head string
		want FileFormat
	}{
		{"jsonl", `{"index":0,"type":"invoke"}`, FormatJSONL},
		{"jsonl spaced", "  \n{ \"type\" : \"invoke\"}", FormatJSONL},
		{"jsonl empty object", "{}", FormatJSONL},
		{"edn map", "{:index 0 :type :invoke}", FormatEDN},
		{"edn map string keys", `{"type" :invoke}`, FormatEDN},
		{"edn vector", "[{:type :invoke}]", FormatEDN},
		{"edn list", "({:type :invoke})", FormatEDN},
		{"edn comment", "; hello\n{:type :invoke}", FormatEDN},
		{"edn record", "#jepsen.history.Op{:index 0}", FormatEDN},
		{"edn bom", "\xEF\xBB\xBF{:index 0}", FormatEDN},
		{"text", "3\t:invoke\t:read\tnil\n", FormatText},
		{"text nemesis", ":nemesis\t:info\t:start\tnil\n", FormatText},
		{"text spaces", "12  :ok     :read   4\n", FormatText},
		{"log", "INFO  jepsen.util - 3\t:invoke\t:read\tnil\n", FormatLog},
		{"log after other output", "INFO  jepsen.core - Running test\nWARN something\n2024-01-01 INFO [worker 3] jepsen.util: 3\t:ok\t:read\t2\n", FormatLog},
		{"log timestamp first", "2024-01-01 12:00:00,123 INFO jepsen.util - 0\t:invoke\t:write\t1\n", FormatLog},
		{"blank", " \n\t\n", FormatUnknown},
		{"empty", "", FormatUnknown},
		{"prose", "hello world\nthis is not a history\n", FormatUnknown},
		{"keyword without process", "INFO :invoke :read\n", FormatUnknown},
	}
	for _, tt := range tests {
		if got := DetectFormat([]byte(tt.head)); got != tt.want {
			t.Errorf("%s: DetectFormat = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestMalformed checks that strict mode names file, line and op for every
// kind of bad input, and that lenient mode reports it and keeps the rest.
func TestMalformed(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		src    string
		line   int
		want   string // in the strict error
		kept   int    // ops kept in lenient mode
		nprobs int    // problems in lenient mode
	}{
		{"unknown type edn", "h.edn", "{:process 0, :type :invoke, :f :read}\n{:process 0, :type :okay, :f :read}\n", 2, `unknown op type "okay"`, 1, 1},
		{"unknown type jsonl", "h.jsonl", `{"process":0,"type":"invoke","f":"read"}` + "\n" + `{"process":0,"type":"done","f":"read"}` + "\n", 2, `unknown op type "done"`, 1, 1},
		{"unknown type text", "h.txt", "0\t:invoke\t:read\tnil\n0\t:okay\t:read\t1\n", 2, `unknown op type "okay"`, 1, 1},
		{"sleep is not a history op", "h.edn", "{:process 0, :type :sleep, :value 1}\n", 1, "is not invoke, ok, fail or info", 0, 1},
		{"completion without invocation", "h.edn", "{:process 0, :type :invoke, :f :read}\n{:process 0, :type :ok, :f :read}\n{:process 1, :type :ok, :f :read, :value 3}\n", 3, "has no pending invocation", 2, 1},
		{"second invoke on a busy process", "h.jsonl", `{"process":4,"type":"invoke","f":"read"}` + "\n" + `{"process":4,"type":"invoke","f":"write","value":1}` + "\n", 2, "invokes while its previous op is still pending", 1, 1},
		{"invoke after crash", "h.txt", "2\t:invoke\t:write\t1\n2\t:info\t:write\t1\n2\t:invoke\t:read\tnil\n", 3, "invokes after its op crashed", 2, 1},
		{"truncated jsonl line", "h.jsonl", `{"process":0,"type":"invoke","f":"read","value":null}` + "\n" + `{"process":0,"type":"ok","f":"re`, 2, "truncated file", 1, 1},
		{"truncated edn line", "h.edn", "{:process 0, :type :invoke, :f :read}\n{:process 0, :type :ok, :f :re", 2, "truncated file", 1, 1},
		{"truncated edn vector", "h.edn", "[{:process 0, :type :invoke, :f :read}\n{:process 0, :type :ok, :f :read}\n", 3, "lacks its closing", 2, 1},
		{"bad syntax edn", "h.edn", "{:process 0, :type :invoke, :f :read}\n{:process 0 :type :ok :f :read :value [1 2}\n{:process 1, :type :invoke, :f :read}\n", 2, "syntax error", 2, 1},
		{"bad syntax jsonl", "h.jsonl", `{"process":0,"type":"invoke"}` + "\n" + `{"process":0,"type":"ok",}` + "\n", 2, "syntax error", 1, 1},
		{"not an op map", "h.edn", "{:process 0, :type :invoke}\n[1 2 3]\n", 2, "expected an op map", 1, 2},
		{"missing type", "h.edn", "{:process 0, :f :read}\n", 1, "missing :type", 0, 1},
		{"missing process", "h.jsonl", `{"type":"invoke","f":"read"}` + "\n", 1, "missing :process", 1, 1},
		{"bad process", "h.edn", "{:process :client-3, :type :invoke}\n", 1, "process must be an integer or nemesis", 0, 1},
		{"negative process", "h.jsonl", `{"process":-2,"type":"invoke"}` + "\n", 1, "out of range", 0, 1},
		{"bad index", "h.edn", "{:index -1, :process 0, :type :invoke}\n", 1, "index must be a non-negative integer", 0, 1},
		{"bad time", "h.edn", "{:time \"noon\", :process 0, :type :invoke}\n", 1, "time must be an integer", 0, 1},
		{"bad f", "h.jsonl", `{"process":0,"type":"invoke","f":3}` + "\n", 1, "f must be a keyword or string", 0, 1},
		{"duplicate field", "h.jsonl", `{"process":0,"type":"invoke","type":"ok"}` + "\n", 1, "duplicate field type", 0, 1},
		{"duplicate extra field", "h.edn", "{:process 0, :type :invoke, :x 1, :x 2}\n", 1, "duplicate field x", 0, 1},
		{"text line that is not an op", "h.txt", "0\t:invoke\t:read\tnil\nhello there\n0\t:ok\t:read\t1\n", 2, "process must be an integer or nemesis", 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Read(strings.NewReader(tt.src), tt.file, ReadOptions{})
			if err == nil {
				t.Fatal("strict read accepted it")
			}
			p, ok := IsProblem(err)
			if !ok {
				t.Fatalf("error %v is not a Problem", err)
			}
			if p.File != tt.file || p.Line != tt.line {
				t.Errorf("problem at %s:%d, want %s:%d (%v)", p.File, p.Line, tt.file, tt.line, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q lacks %q", msg, tt.want)
			}
			if !strings.HasPrefix(msg, tt.file+":"+strconv.Itoa(tt.line)+": ") {
				t.Errorf("error %q does not start with file:line", msg)
			}
			// The op is named: by its decoded fields or by its text.
			if p.Index >= 0 && !strings.Contains(msg, "op ") {
				t.Errorf("error %q does not name the op", msg)
			}
			if p.Index < 0 && p.Source == "" && !strings.Contains(msg, "end of input") {
				t.Errorf("syntax problem %q carries no source text", msg)
			}

			h, probs, err := Read(strings.NewReader(tt.src), tt.file, ReadOptions{Lenient: true})
			if err != nil {
				t.Fatalf("lenient: %v", err)
			}
			if h.Len() != tt.kept || len(probs) != tt.nprobs {
				t.Errorf("lenient: kept %d ops with %d problems %v, want %d and %d", h.Len(), len(probs), probs, tt.kept, tt.nprobs)
			}
		})
	}
}

func TestProblemsInFileOrder(t *testing.T) {
	src := "{:process 0, :type :ok}\n{:process 1, :type :bogus}\n{:process 2 :type}\n"
	_, probs, err := Read(strings.NewReader(src), "o.edn", ReadOptions{Lenient: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != 3 {
		t.Fatalf("problems %v", probs)
	}
	for i, p := range probs {
		if p.Line != i+1 {
			t.Errorf("problem %d on line %d: %v", i, p.Line, p)
		}
	}
	_, _, err = Read(strings.NewReader(src), "o.edn", ReadOptions{})
	if p, _ := IsProblem(err); p.Line != 1 {
		t.Errorf("strict mode returned %v, want the line 1 problem", err)
	}
}

func TestEmptyHistories(t *testing.T) {
	for _, src := range []string{"", "\n\n", "[]", "()", "; nothing\n", "[\n]\n", " \t"} {
		h, probs, err := Read(strings.NewReader(src), "e", ReadOptions{})
		if err != nil || len(probs) > 0 || h == nil || h.Len() != 0 {
			t.Errorf("%q: %v %v %v", src, h, probs, err)
		}
	}
	for _, f := range []FileFormat{FormatJSONL, FormatEDN, FormatText, FormatLog} {
		h, _, err := Read(strings.NewReader(""), "e", ReadOptions{Format: f})
		if err != nil || h.Len() != 0 {
			t.Errorf("%s: %v %v", f, h, err)
		}
	}
	if _, _, err := Read(strings.NewReader("not a history\n"), "prose.txt", ReadOptions{}); err == nil || !strings.Contains(err.Error(), "prose.txt") {
		t.Errorf("prose: %v", err)
	}
}

func TestIndexRule(t *testing.T) {
	// Every op has an index: kept, even with gaps (Elle's si-without-g-single).
	h, _, err := Read(strings.NewReader("{:index 10 :process 2 :type :invoke}\n{:index 11 :process 2 :type :ok}\n"), "i.edn", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h.Ops[0].Index != 10 || h.Ops[1].Index != 11 {
		t.Errorf("indices %d %d, want 10 11", h.Ops[0].Index, h.Ops[1].Index)
	}
	// Some lack one: all become positions.
	h, _, err = Read(strings.NewReader("{:index 10 :process 2 :type :invoke}\n{:process 2 :type :ok}\n{:index 5 :process 3 :type :invoke}\n"), "i.edn", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, op := range h.Ops {
		if op.Index != i {
			t.Errorf("op %d has index %d", i, op.Index)
		}
	}
	// Dropped ops keep their position in lenient mode.
	h, _, err = Read(strings.NewReader("{:process 2 :type :invoke}\n{:process 9 :type :ok}\n{:process 2 :type :ok}\n"), "i.edn", ReadOptions{Lenient: true})
	if err != nil {
		t.Fatal(err)
	}
	if h.Len() != 2 || h.Ops[1].Index != 2 {
		t.Errorf("ops %v", h.Ops)
	}
}

func TestMissingProcessLenient(t *testing.T) {
	src := `{:index 0 :type :invoke :value [[:append 1 1]]}
{:index 1 :type :ok :value [[:append 1 1]]}
{:index 2 :process 4 :type :invoke :f :txn :value [[:r 1 nil]]}
{:index 3 :type :invoke :value [[:append 1 2]]}
{:index 4 :process 4 :type :ok :f :txn :value [[:r 1 [1]]]}
{:index 5 :type :ok :value [[:append 1 2]]}
`
	_, _, err := Read(strings.NewReader(src), "p.edn", ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "p.edn:1: op 0") || !strings.Contains(err.Error(), "missing :process") {
		t.Fatalf("strict: %v", err)
	}
	h, probs, err := Read(strings.NewReader(src), "p.edn", ReadOptions{Lenient: true})
	if err != nil {
		t.Fatal(err)
	}
	if h.Len() != 6 || len(probs) != 4 {
		t.Fatalf("kept %d ops, %d problems: %v", h.Len(), len(probs), probs)
	}
	// Fresh processes above every process in the file (4).
	if h.Ops[0].Process != 5 || h.Ops[1].Process != 5 || h.Ops[3].Process != 6 || h.Ops[5].Process != 6 {
		t.Errorf("processes %d %d %d %d", h.Ops[0].Process, h.Ops[1].Process, h.Ops[3].Process, h.Ops[5].Process)
	}
	if c, ok := h.Completion(3); !ok || c.Index != 5 {
		t.Errorf("op 3 pairs with %v", c)
	}
	// Two process-less invocations pending: the completion cannot be paired.
	amb := "{:type :invoke}\n{:type :invoke}\n{:type :ok}\n"
	h, probs, err = Read(strings.NewReader(amb), "a.edn", ReadOptions{Lenient: true})
	if err != nil || h.Len() != 2 || len(probs) != 3 || !strings.Contains(probs[2].Msg, "cannot pair") {
		t.Errorf("ambiguous: %d ops, %v, %v", h.Len(), probs, err)
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "history.jsonl")
	ops := sampleOps()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteJSONL(f, ops); err != nil {
		t.Fatal(err)
	}
	f.Close()
	h, probs, err := ReadFile(path, ReadOptions{})
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	if !opSlicesEqual(h.Ops, ops) {
		t.Errorf("read back %v", h.Ops)
	}
	if _, _, err := ReadFile(filepath.Join(dir, "missing"), ReadOptions{}); err == nil {
		t.Error("missing file read")
	}
}

func TestForcedFormat(t *testing.T) {
	// A log read as history.txt: its prefixed lines are errors.
	src := "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"
	if _, _, err := Read(strings.NewReader(src), "x.txt", ReadOptions{Format: FormatText}); err == nil {
		t.Error("log lines accepted as history.txt")
	}
	h, _, err := Read(strings.NewReader(src), "x.log", ReadOptions{Format: FormatLog})
	if err != nil || h.Len() != 1 {
		t.Errorf("log: %v %v", h, err)
	}
	for _, name := range []string{"jsonl", "edn", "text", "log"} {
		f, err := ParseFormat(name)
		if err != nil || f.String() != name {
			t.Errorf("ParseFormat(%q) = %v, %v", name, f, err)
		}
	}
	if _, err := ParseFormat("yaml"); err == nil {
		t.Error("ParseFormat(yaml) accepted")
	}
}
