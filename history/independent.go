package history

import "fmt"

// UnwrapIndependent moves the key of a Jepsen independent op into Op.Key:
// Jepsen's independent workloads carry [key value] tuples as the value of
// every client op, e.g. {:f :read, :value [3 nil]}. If op has no Key yet and
// its value is a two-element vector, the returned op has Key 3 and Value
// nil, and ok is true; otherwise op is returned unchanged and ok is false.
//
// Readers never do this on their own: a two-element value may just as well be
// a cas [from to]. Call it (or SplitIndependent) when the history is known
// to come from an independent workload.
func UnwrapIndependent(op Op) (Op, bool) {
	if op.Key != nil {
		return op, false
	}
	t, ok := op.Value.([]any)
	if !ok || len(t) != 2 {
		return op, false
	}
	op.Key = t[0]
	op.Value = t[1]
	return op, true
}

// SplitIndependent returns a copy of ops with UnwrapIndependent applied to
// every client op (nemesis ops are kept as they are). It fails, naming the
// op, when a client op has neither a Key nor a [key value] tuple value, or
// when an invocation and its completion disagree on the key: then the
// history is not an independent one.
func SplitIndependent(ops []Op) ([]Op, error) {
	out := make([]Op, len(ops))
	open := map[int]any{} // process -> key of its pending invocation
	for i, op := range ops {
		if op.Process == NemesisProcess {
			out[i] = op
			continue
		}
		u, ok := UnwrapIndependent(op)
		if !ok && op.Key == nil {
			return nil, Problem{Index: op.Index, Op: op, Msg: "value is not an independent [key value] tuple"}
		}
		switch {
		case u.Type == Invoke:
			open[u.Process] = u.Key
		case u.Type.IsCompletion():
			if k, pending := open[u.Process]; pending {
				delete(open, u.Process)
				if !Equal(k, u.Key) {
					return nil, Problem{Index: op.Index, Op: op, Msg: fmt.Sprintf("completion key %s differs from its invocation's key %s", Format(u.Key), Format(k))}
				}
			}
		}
		out[i] = u
	}
	return out, nil
}
