package history

import (
	"strings"
	"testing"
)

func TestTextLines(t *testing.T) {
	tests := []struct {
		name string
		log  bool
		src  string
		want []Op
	}{
		{"tabs", false, "3\t:invoke\t:read\tnil\n3\t:ok\t:read\t2\n", []Op{
			{Index: 0, Time: -1, Type: Invoke, Process: 3, F: "read"},
			{Index: 1, Time: -1, Type: OK, Process: 3, F: "read", Value: int64(2)},
		}},
		{"spaces", false, "3   :invoke :cas    [1 2]\n3  :fail   :cas    [1 2]\n", []Op{
			{Index: 0, Time: -1, Type: Invoke, Process: 3, F: "cas", Value: []any{int64(1), int64(2)}},
			{Index: 1, Time: -1, Type: Fail, Process: 3, F: "cas", Value: []any{int64(1), int64(2)}},
		}},
		{"nemesis and maps", false, ":nemesis\t:info\t:start\tnil\n:nemesis\t:info\t:start\t{\"n1\" #{\"n2\"}}\n", []Op{
			{Index: 0, Time: -1, Type: Info, Process: NemesisProcess, F: "start"},
			{Index: 1, Time: -1, Type: Info, Process: NemesisProcess, F: "start", Value: Map{{"n1", Set{"n2"}}}},
		}},
		{"error column", false, "1\t:invoke\t:write\t4\n1\t:info\t:write\t4\t:timeout\n2\t:invoke\t:read\tnil\n2\t:fail\t:read\tnil\tjava.net.SocketTimeoutException: Read timed out\n", []Op{
			{Index: 0, Time: -1, Type: Invoke, Process: 1, F: "write", Value: int64(4)},
			{Index: 1, Time: -1, Type: Info, Process: 1, F: "write", Value: int64(4), Error: "timeout"},
			{Index: 2, Time: -1, Type: Invoke, Process: 2, F: "read"},
			{Index: 3, Time: -1, Type: Fail, Process: 2, F: "read", Error: "java.net.SocketTimeoutException: Read timed out"},
		}},
		{"error vector", false, "1\t:invoke\t:txn\t[[:r 1 nil]]\n1\t:fail\t:txn\t[[:r 1 nil]]\t[:abort \"conflict\"]\n", []Op{
			{Index: 0, Time: -1, Type: Invoke, Process: 1, F: "txn", Value: []any{[]any{"r", int64(1), nil}}},
			{Index: 1, Time: -1, Type: Fail, Process: 1, F: "txn", Value: []any{[]any{"r", int64(1), nil}}, Error: []any{"abort", "conflict"}},
		}},
		// Old Jepsen: the reason of a fail/info sits in the value column.
		{"keyword reason in the value column", true, "INFO  jepsen.util - 4\t:invoke\t:write\t1\nINFO  jepsen.util - 4\t:info\t:write\t:timed-out\nINFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:fail\t:read\t:timed-out\n", []Op{
			{Index: 0, Time: -1, Type: Invoke, Process: 4, F: "write", Value: int64(1)},
			{Index: 1, Time: -1, Type: Info, Process: 4, F: "write", Value: int64(1), Error: "timed-out"},
			{Index: 2, Time: -1, Type: Invoke, Process: 0, F: "read"},
			{Index: 3, Time: -1, Type: Fail, Process: 0, F: "read", Error: "timed-out"},
		}},
		// ...but not a keyword the invocation carried, not a string, not on ok.
		{"keyword values that stay values", false, "1\t:invoke\t:acquire\t:lock\n1\t:fail\t:acquire\t:lock\n2\t:invoke\t:read\tnil\n2\t:fail\t:read\t\"timed-out\"\n3\t:invoke\t:read\tnil\n3\t:ok\t:read\t:x\n:nemesis\t:info\t:kill\t:n1\n", []Op{
			{Index: 0, Time: -1, Type: Invoke, Process: 1, F: "acquire", Value: "lock"},
			{Index: 1, Time: -1, Type: Fail, Process: 1, F: "acquire", Value: "lock"},
			{Index: 2, Time: -1, Type: Invoke, Process: 2, F: "read"},
			{Index: 3, Time: -1, Type: Fail, Process: 2, F: "read", Value: "timed-out"},
			{Index: 4, Time: -1, Type: Invoke, Process: 3, F: "read"},
			{Index: 5, Time: -1, Type: OK, Process: 3, F: "read", Value: "x"},
			{Index: 6, Time: -1, Type: Info, Process: NemesisProcess, F: "kill", Value: "n1"},
		}},
		{"log with other output", true, "INFO  jepsen.core - Running test with 5 nodes\nDEBUG something :ok happened\n2024-01-01 12:00:00,000{GMT}\tINFO\t[jepsen worker 0] jepsen.util: 0\t:invoke\t:read\tnil\nWARN  done 12 :info stuff\n   \nINFO  jepsen.util - :nemesis :info :stop \"healed\"\n", []Op{
			{Index: 0, Time: -1, Type: Invoke, Process: 0, F: "read"},
			{Index: 1, Time: -1, Type: Info, Process: NemesisProcess, F: "stop", Value: "healed"},
		}},
		{"missing value column", false, "0\t:invoke\t:read\n", []Op{
			{Index: 0, Time: -1, Type: Invoke, Process: 0, F: "read"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := FormatText
			if tt.log {
				f = FormatLog
			}
			h, probs, err := Read(strings.NewReader(tt.src), "t", ReadOptions{Format: f, Lenient: true})
			if err != nil || len(probs) > 0 {
				t.Fatalf("%v %v", err, probs)
			}
			if !opSlicesEqual(h.Ops, tt.want) {
				t.Errorf("got  %v\nwant %v", h.Ops, tt.want)
			}
		})
	}
}

func TestTextLineErrors(t *testing.T) {
	for _, src := range []string{
		"x\t:invoke\t:read\tnil\n",
		"1\t:invoke\t:read\t[1 2\n",
		"1\t:begin\t:read\tnil\n",
		"1\n",
		"INFO  jepsen.util - 1\t:invoke\t:read\tnil\n",
	} {
		_, _, err := Read(strings.NewReader(src), "h.txt", ReadOptions{Format: FormatText})
		if err == nil || !strings.HasPrefix(err.Error(), "h.txt:1: ") {
			t.Errorf("%q: %v", src, err)
		}
	}
	// In a log, a line with an op whose value is broken is a problem, not
	// other output.
	_, probs, err := Read(strings.NewReader("INFO  jepsen.util - 1\t:invoke\t:read\t[1 2\n"), "j.log", ReadOptions{Format: FormatLog, Lenient: true})
	if err != nil || len(probs) != 1 || probs[0].Line != 1 {
		t.Errorf("broken op in a log: %v %v", probs, err)
	}
}

func TestFindOpStart(t *testing.T) {
	tests := []struct {
		line string
		want int
	}{
		{"3\t:invoke\t:read\tnil", 0},
		{"INFO  jepsen.util - 3\t:invoke\t:read\tnil", 20},
		{"x - :nemesis :info :start nil", 4},
		{"WARN done 12 :info stuff", -1},
		{"3 :ok", -1},
		{"INFO :invoke :read", -1},
		{"INFO a3 :invoke", -1},
		{"12:ok", -1},
		{"2 :invoked", -1},
		{"", -1},
	}
	for _, tt := range tests {
		if got := findOpStart([]byte(tt.line)); got != tt.want {
			t.Errorf("findOpStart(%q) = %d, want %d", tt.line, got, tt.want)
		}
	}
}
