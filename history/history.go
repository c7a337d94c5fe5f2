package history

import "fmt"

// History is an ordered list of ops with the pairing of invocations and
// completions. Build one with New (which checks it) or NewLenient; the ops
// must not be modified afterwards.
type History struct {
	Ops []Op
	// pair[i] is the position of the op paired with Ops[i]: the completion of
	// an invocation, or the invocation of a completion; -1 when there is none
	// (an invocation that never completed, or a nemesis op without partner).
	pair []int32
}

// Problem describes one op that does not fit the rules of a history, with
// where it came from when that is known. Readers also use it for input they
// could not decode at all (a syntax error): then Index is -1 and Source holds
// the offending text.
type Problem struct {
	File  string // file name, or ""
	Line  int    // 1-based line in File, or 0
	Index int    // position of the op in the history (or in the file, for readers); -1 when no op could be decoded
	Op    Op
	Msg   string
	// Source is the op's text as read, when the op could not be decoded
	// completely; Error shows it instead of Op. Empty otherwise.
	Source string
}

// Error renders the problem as "file:line: op N (op): message", or
// "file:line: message (near `source`)" when no op could be decoded.
func (p Problem) Error() string {
	loc := ""
	if p.File != "" {
		loc = p.File + ":"
	}
	if p.Line > 0 {
		loc += fmt.Sprintf("%d:", p.Line)
	}
	if loc != "" {
		loc += " "
	}
	if p.Index < 0 {
		if p.Source != "" {
			return fmt.Sprintf("%s%s (near `%s`)", loc, p.Msg, p.Source)
		}
		return loc + p.Msg
	}
	what := p.Source
	if what == "" {
		what = p.Op.String()
	}
	return fmt.Sprintf("%sop %d (%s): %s", loc, p.Index, what, p.Msg)
}

// Len returns the number of ops.
func (h *History) Len() int { return len(h.Ops) }

// Pair returns the position of the op paired with the op at position i, or -1.
func (h *History) Pair(i int) int { return int(h.pair[i]) }

// Completion returns the completion of the invocation at position i.
func (h *History) Completion(i int) (Op, bool) {
	j := h.pair[i]
	if j < 0 || int(j) < i {
		return Op{}, false
	}
	return h.Ops[j], true
}

// Invocation returns the invocation of the completion at position i.
func (h *History) Invocation(i int) (Op, bool) {
	j := h.pair[i]
	if j < 0 || int(j) > i {
		return Op{}, false
	}
	return h.Ops[j], true
}

// New pairs the ops of a history and checks Jepsen's rules: every completion
// follows an invocation by the same process, a process does not invoke while
// its previous op is pending, a process whose op ended in info never invokes
// again, and every type is a real op type. It returns the first problem as an
// error. Op.Index is kept as given.
func New(ops []Op) (*History, error) {
	h, probs := NewLenient(ops)
	if len(probs) > 0 {
		return nil, probs[0]
	}
	return h, nil
}

// NewLenient is New that drops the ops breaking the rules instead of failing,
// and returns what it dropped. Callers that analyse a history with dropped ops
// must not call it valid.
func NewLenient(ops []Op) (*History, []Problem) {
	p := NewPairer()
	kept := make([]Op, 0, len(ops))
	var probs []Problem
	for i := range ops {
		if msg := p.Check(&ops[i]); msg != "" {
			probs = append(probs, Problem{Index: i, Op: ops[i], Msg: msg})
			continue
		}
		kept = append(kept, ops[i])
	}
	return pairOps(kept), probs
}

// pairOps builds a History from ops already known to follow the rules.
func pairOps(ops []Op) *History {
	h := &History{Ops: ops, pair: make([]int32, len(ops))}
	var open procTable[int32] // process -> position of its open op + 1
	for i := range ops {
		h.pair[i] = -1
		op := &ops[i]
		switch {
		case op.Type == Invoke || (op.Process == NemesisProcess && op.Type == Info && open.get(op.Process) == 0):
			open.set(op.Process, int32(i)+1)
		default:
			if j := open.get(op.Process) - 1; j >= 0 {
				h.pair[i] = j
				h.pair[j] = int32(i)
				open.set(op.Process, 0)
			}
		}
	}
	return h
}

// procTable maps process numbers to values, zero meaning none: a slice for
// the usual small process numbers, a map for the others.
type procTable[V uint8 | int32] struct {
	dense  []V
	sparse map[int]V
}

// denseProcs bounds the process numbers kept in procTable's slice.
const denseProcs = 1 << 16

func (t *procTable[V]) get(p int) V {
	if uint(p) < uint(len(t.dense)) {
		return t.dense[p]
	}
	if p >= 0 && p < denseProcs {
		return 0
	}
	return t.sparse[p]
}

func (t *procTable[V]) set(p int, v V) {
	if p >= 0 && p < denseProcs {
		if p >= len(t.dense) {
			grown := make([]V, min(max(p+1, 2*len(t.dense), 64), denseProcs))
			copy(grown, t.dense)
			t.dense = grown
		}
		t.dense[p] = v
		return
	}
	if v == 0 {
		delete(t.sparse, p)
		return
	}
	if t.sparse == nil {
		t.sparse = map[int]V{}
	}
	t.sparse[p] = v
}

// Pairer checks ops one at a time against the rules of a history; readers use
// it to report problems with the line they came from.
type Pairer struct {
	procs procTable[uint8] // pairPending and pairCrashed bits per process
}

const (
	pairPending uint8 = 1 << iota // the process has an open invocation
	pairCrashed                   // the process's last op ended in info
)

// NewPairer returns a Pairer for an empty history.
func NewPairer() *Pairer {
	return &Pairer{}
}

// Check accepts op into the pairing, or returns why it breaks the rules
// (and leaves the state unchanged).
func (p *Pairer) Check(op *Op) string {
	switch op.Type {
	case Invoke, OK, Fail, Info:
	default:
		return fmt.Sprintf("op type %q is not invoke, ok, fail or info", op.Type.String())
	}
	st := p.procs.get(op.Process)
	if op.Process == NemesisProcess {
		// Nemesis ops are info on both ends in Jepsen; accept any pairing.
		if st&pairPending != 0 {
			if op.Type != Invoke {
				p.procs.set(op.Process, st&^pairPending)
			}
			return ""
		}
		p.procs.set(op.Process, st|pairPending)
		return ""
	}
	if op.Process < 0 {
		return fmt.Sprintf("process %d is not a client process or the nemesis", op.Process)
	}
	open := st&pairPending != 0
	if op.Type == Invoke {
		if open {
			return fmt.Sprintf("process %d invokes while its previous op is still pending", op.Process)
		}
		if st&pairCrashed != 0 {
			return fmt.Sprintf("process %d invokes after its op crashed (info); Jepsen gives the thread a new process", op.Process)
		}
		p.procs.set(op.Process, st|pairPending)
		return ""
	}
	if !open {
		return fmt.Sprintf("%s completion for process %d, which has no pending invocation", op.Type, op.Process)
	}
	st &^= pairPending
	if op.Type == Info {
		st |= pairCrashed
	}
	p.procs.set(op.Process, st)
	return ""
}
