package model

import (
	"fmt"
	"sort"
	"strings"

	"github.com/faultline/faultline/history"
)

// Op is an operation as a model sees it: its function and value. For an
// operation that completed ok, Value is the completion's value (Jepsen's
// history/complete: a read's result is known only at completion); for a
// crashed (info) operation it is the invocation's value.
type Op struct {
	F     string
	Value any
	// Key is the independent key the op belongs to, or nil. Most models
	// ignore it (the checker splits keyed histories); kv reads it.
	Key any
}

func (o Op) String() string {
	s := o.F
	if o.Key != nil {
		s += " key=" + history.Format(o.Key)
	}
	return s + " " + history.Format(o.Value)
}

// Model is a sequential specification: the behaviour of a single-threaded
// object. A checker compiles it for the ops of one history (or one partition
// of it) and then steps compact states.
type Model interface {
	// Name is the model's name, e.g. "cas-register".
	Name() string
	// Compile prepares the model for checking ops. Op indices of the
	// returned Machine are indices into ops. It fails when an op is not
	// one the model understands (unknown f, malformed value).
	Compile(ops []Op) (Machine, error)
}

// Partitioner is implemented by models whose histories split into
// independent parts (P-compositionality): the history is linearizable if and
// only if every part is. Partition returns groups of indices into ops; every
// op must be in exactly one group.
type Partitioner interface {
	Partition(ops []Op) [][]int
}

// KeyAware is implemented by models that read Op.Key themselves (kv): a
// checker may then check a keyed history without splitting it per key.
type KeyAware interface {
	KeyAware() bool
}

// Flags describe an op's effect independently of the state.
type Flags uint8

const (
	// ReadOnly: whenever the op is legal it leaves the state unchanged.
	ReadOnly Flags = 1 << iota
	// AlwaysLegal: the op is legal in every state (e.g. a read whose result
	// is unknown).
	AlwaysLegal
)

// Machine is a model compiled for a fixed list of ops. States are opaque
// 64-bit handles: equal handles mean equal states and different handles
// different states, so a checker can memoise and compare them directly.
// A Machine is used by one goroutine at a time.
type Machine interface {
	// Init is the initial state.
	Init() uint64
	// Step applies op (an index into the compiled ops) to state s and
	// returns the new state, or false when the op is not legal in s.
	// Step must not allocate once a transition has been seen.
	Step(s uint64, op int) (uint64, bool)
	// Flags returns what is known about op regardless of state.
	Flags(op int) Flags
	// Class returns a number shared exactly by ops that have the same
	// effect in every state (same f and value).
	Class(op int) uint64
	// Describe renders a state for people, e.g. "3" or `{x 1, y 2}`.
	Describe(s uint64) string
	// Explain says why op is not legal in s, e.g. "can't read 3 from register 4".
	Explain(s uint64, op int) string
	// MemoryBytes estimates the memory the machine holds (interned states,
	// transition caches), for memory budgets.
	MemoryBytes() int64
}

// Guarded is implemented by machines that know, for some read-only ops, the
// one state in which the op is legal (a read of v: the state v). A checker
// then finds a legal read by the current state instead of trying each.
type Guarded interface {
	// Guard returns the only state in which op is legal, or false when op
	// is not read-only or may be legal in several states.
	Guard(op int) (uint64, bool)
}

// Prefixed is implemented by machines whose state-changing ops either
// extend the state (an append: the state before is a prefix of the state
// after) or set it whatever it was (a put). A read that needs state t can
// then be reached from state s only through a setting op, unless s is a
// prefix of t: a checker rules out a configuration at once when no setting
// op that could help may still run before the read.
type Prefixed interface {
	// Sets returns the state op sets, whatever the state before, or false
	// when op extends the state (or is read-only).
	Sets(op int) (uint64, bool)
	// MayExtend reports whether state s may be a prefix of state t. False
	// must be certain; true may be wrong (a hash collision).
	MayExtend(s, t uint64) bool
}

// OrderHint is implemented by machines that know in which order a checker
// should try the ops that may go next. By default a checker tries the op
// with the earliest completion first, which suits registers (a later write
// hides an earlier one); appends to a string do better in invocation
// order. Only speed depends on it, never the verdict.
type OrderHint interface {
	PreferInvocationOrder() bool
}

// Timing tells a Prechecker when the compiled ops were invoked and completed,
// as positions on any increasing clock (history positions will do). Return
// is -1 for an op that may never have completed (info, crashed): it may take
// effect at any time after its invocation, or never.
type Timing struct {
	Invoke []int64
	Return []int64
}

// Prechecker is implemented by machines that can prove, from the real-time
// order alone, that some op can never be linearized (a read of a value that
// nothing wrote in time). Precheck returns such an op (the one completing
// first) with the reason, or -1.
type Prechecker interface {
	Precheck(t Timing) (op int, reason string)
}

// Names lists the models ByName knows, in alphabetical order.
func Names() []string {
	names := []string{"cas-register", "fifo-queue", "kv", "multi-register", "mutex", "noop", "register", "set", "unordered-queue"}
	sort.Strings(names)
	return names
}

// ByName returns the model with Knossos' name (see Names) and initial value.
// initial is nil for the model's default: nil for registers, {} for
// multi-register, free for mutex, empty for set and queues, "" for every kv
// key.
func ByName(name string, initial any) (Model, error) {
	switch name {
	case "register":
		return Register(initial), nil
	case "cas-register":
		return CASRegister(initial), nil
	case "multi-register":
		return NewMultiRegister(initial)
	case "mutex":
		return NewMutex(initial)
	case "set":
		return NewSet(initial)
	case "unordered-queue":
		return NewUnorderedQueue(initial)
	case "fifo-queue":
		return NewFIFOQueue(initial)
	case "kv":
		return NewKV(initial)
	case "noop":
		if initial != nil {
			return nil, fmt.Errorf("model noop takes no initial value, got %s", history.Format(initial))
		}
		return Noop(), nil
	}
	return nil, fmt.Errorf("unknown model %q (known models: %s)", name, strings.Join(Names(), ", "))
}

// opError names the op a model could not compile.
func opError(model string, i int, op Op, format string, args ...any) error {
	return fmt.Errorf("model %s: op %d (%s): %s", model, i, op.String(), fmt.Sprintf(format, args...))
}
