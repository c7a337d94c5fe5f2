package history

import (
	"fmt"
	"strconv"
)

// Type is the kind of an operation: an invocation or one of the three
// completions. Sleep and Log are generator pseudo-ops that the interpreter acts
// on but never records.
type Type uint8

const (
	// TypeNone is the zero Type: not set.
	TypeNone Type = iota
	// Invoke starts an operation.
	Invoke
	// OK means the operation took place.
	OK
	// Fail means the operation certainly did not take place.
	Fail
	// Info means the outcome is unknown: the operation may take effect at
	// any later time, or never.
	Info
	// Sleep is a generator pseudo-op: the worker sleeps for Value seconds.
	Sleep
	// Log is a generator pseudo-op: the interpreter logs Value.
	Log
)

var typeNames = [...]string{TypeNone: "", Invoke: "invoke", OK: "ok", Fail: "fail", Info: "info", Sleep: "sleep", Log: "log"}

// String returns the Jepsen name of t ("invoke", "ok", "fail", "info").
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// ParseType maps a Jepsen type name (without colon) to a Type.
func ParseType(s string) (Type, error) {
	switch s {
	case "invoke":
		return Invoke, nil
	case "ok":
		return OK, nil
	case "fail":
		return Fail, nil
	case "info":
		return Info, nil
	case "sleep":
		return Sleep, nil
	case "log":
		return Log, nil
	}
	return TypeNone, fmt.Errorf("unknown op type %q (want invoke, ok, fail or info)", s)
}

// IsCompletion reports whether t ends an operation (ok, fail or info).
func (t Type) IsCompletion() bool { return t == OK || t == Fail || t == Info }

// NemesisProcess is the process (and thread) number of the nemesis. In JSON
// Lines it is written as the string "nemesis", in EDN as :nemesis.
const NemesisProcess = -1

// Op is one event of a history: an invocation or a completion.
//
// Jepsen semantics: an ok completion means the operation happened; fail means
// it did not; info means it may happen at any time after its invocation, or
// never. A process whose operation ended in info never invokes again.
type Op struct {
	// Index is the op's position in its history (Jepsen's :index).
	Index int
	// Time is nanoseconds since the start of the test; -1 when unknown.
	Time int64
	Type Type
	// Process is the logical process, or NemesisProcess.
	Process int
	// F is the function, e.g. "read", "write", "cas", "txn".
	F string
	// Value is the argument (on invoke) or the result (on completion).
	Value any
	// Error is the reason a completion failed or is unknown, or nil.
	Error any
	// Key is the independent key of the op when the history is keyed, or nil.
	Key any
	// Node is the node the op was sent to, when recorded.
	Node string
	// Extra holds any other fields the op carried, in their original order.
	Extra Map
}

// IsNemesis reports whether op belongs to the nemesis.
func (op *Op) IsNemesis() bool { return op.Process == NemesisProcess }

// IsClient reports whether op belongs to a client process.
func (op *Op) IsClient() bool { return op.Process >= 0 }

// ProcessString renders a process number as Jepsen does: "nemesis" or the number.
func ProcessString(p int) string {
	if p == NemesisProcess {
		return "nemesis"
	}
	return strconv.Itoa(p)
}

// String renders op compactly for messages, e.g. `3 ok read 5`.
func (op Op) String() string {
	s := fmt.Sprintf("%d %s %s %s", op.Index, ProcessString(op.Process), op.Type, op.F)
	if op.Key != nil {
		s += " key=" + Format(op.Key)
	}
	s += " " + Format(op.Value)
	if op.Error != nil {
		s += " error=" + Format(op.Error)
	}
	return s
}
