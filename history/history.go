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
	open := map[int]int32{}
	for i := range ops {
		h.pair[i] = -1
		op := &ops[i]
		switch {
		case op.Type == Invoke || (op.Process == NemesisProcess && op.Type == Info && !hasKey(open, op.Process)):
			open[op.Process] = int32(i)
		default:
			if j, ok := open[op.Process]; ok {
				h.pair[i] = j
				h.pair[j] = int32(i)
				delete(open, op.Process)
			}
		}
	}
	return h
}

func hasKey(m map[int]int32, k int) bool { _, ok := m[k]; return ok }

// Pairer checks ops one at a time against the rules of a history; readers use
// it to report problems with the line they came from.
type Pairer struct {
	pending map[int]Type // process -> type of its open invocation
	crashed map[int]bool // processes whose last op ended in info
}

// NewPairer returns a Pairer for an empty history.
func NewPairer() *Pairer {
	return &Pairer{pending: map[int]Type{}, crashed: map[int]bool{}}
}

// Check accepts op into the pairing, or returns why it breaks the rules
// (and leaves the state unchanged).
func (p *Pairer) Check(op *Op) string {
	switch op.Type {
	case Invoke, OK, Fail, Info:
	default:
		return fmt.Sprintf("op type %q is not invoke, ok, fail or info", op.Type.String())
	}
	if op.Process == NemesisProcess {
		// Nemesis ops are info on both ends in Jepsen; accept any pairing.
		if _, open := p.pending[op.Process]; open {
			if op.Type != Invoke {
				delete(p.pending, op.Process)
			}
			return ""
		}
		p.pending[op.Process] = op.Type
		return ""
	}
	if op.Process < 0 {
		return fmt.Sprintf("process %d is not a client process or the nemesis", op.Process)
	}
	_, open := p.pending[op.Process]
	if op.Type == Invoke {
		if open {
			return fmt.Sprintf("process %d invokes while its previous op is still pending", op.Process)
		}
		if p.crashed[op.Process] {
			return fmt.Sprintf("process %d invokes after its op crashed (info); Jepsen gives the thread a new process", op.Process)
		}
		p.pending[op.Process] = Invoke
		return ""
	}
	if !open {
		return fmt.Sprintf("%s completion for process %d, which has no pending invocation", op.Type, op.Process)
	}
	delete(p.pending, op.Process)
	if op.Type == Info {
		p.crashed[op.Process] = true
	}
	return ""
}
