package linear

import (
	"github.com/anishathalye/porcupine"

	"github.com/faultline/faultline/history"
)

// Porcupine models for the benchmarks, written like the models of
// Porcupine's own tests: the kv model with and without partitioning, and a
// CAS register with Jepsen's semantics (crashed ops may be no-ops, their
// return placed after the end of the history).

type pKVInput struct {
	op    uint8 // 0 get, 1 put, 2 append
	key   string
	value string
}

func pKVPartition(h []porcupine.Operation) [][]porcupine.Operation {
	idx := map[string]int{}
	var out [][]porcupine.Operation
	for _, op := range h {
		k := op.Input.(pKVInput).key
		g, ok := idx[k]
		if !ok {
			g = len(out)
			idx[k] = g
			out = append(out, nil)
		}
		out[g] = append(out[g], op)
	}
	return out
}

// pKVModel is Porcupine's kvModel: a string per partition.
var pKVModel = porcupine.Model{
	Partition: pKVPartition,
	Init:      func() any { return "" },
	Step: func(state, input, output any) (bool, any) {
		in := input.(pKVInput)
		st := state.(string)
		switch in.op {
		case 0:
			return output.(string) == st, st
		case 1:
			return true, in.value
		}
		return true, st + in.value
	},
	Hash: func(s any) uint64 { return fnv64(s.(string)) },
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// pKVNoPartitionModel is Porcupine's kvNoPartitionModel: a map state.
var pKVNoPartitionModel = porcupine.Model{
	Init: func() any { return map[string]string{} },
	Step: func(state, input, output any) (bool, any) {
		in := input.(pKVInput)
		st := state.(map[string]string)
		switch in.op {
		case 0:
			return output.(string) == st[in.key], st
		}
		next := make(map[string]string, len(st)+1)
		for k, v := range st {
			next[k] = v
		}
		if in.op == 1 {
			next[in.key] = in.value
		} else {
			next[in.key] = st[in.key] + in.value
		}
		return true, next
	},
	Hash: func(s any) uint64 {
		var h uint64
		for k, v := range s.(map[string]string) {
			h += fnv64(k) ^ fnv64(v)*31 // order-independent
		}
		return h
	},
	Equal: func(a, b any) bool {
		x, y := a.(map[string]string), b.(map[string]string)
		if len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if y[k] != v {
				return false
			}
		}
		return true
	},
}

// pKVOps converts a kv history (all ops complete, as in Porcupine's logs).
func pKVOps(h *history.History) []porcupine.Operation {
	var out []porcupine.Operation
	for i, op := range h.Ops {
		if op.Type != history.Invoke {
			continue
		}
		j := h.Pair(i)
		if j < 0 || h.Ops[j].Type != history.OK {
			continue
		}
		in := pKVInput{key: history.Format(op.Key)}
		switch op.F {
		case "put":
			in.op = 1
		case "append":
			in.op = 2
		}
		if s, ok := op.Value.(string); ok {
			in.value = s
		}
		var outv string
		if s, ok := h.Ops[j].Value.(string); ok {
			outv = s
		}
		out = append(out, porcupine.Operation{ClientId: op.Process, Input: in, Output: outv, Call: int64(i), Return: int64(j)})
	}
	return out
}

// pRegInput is a CAS register op; the state is an int64 with -1 for nil.
type pRegInput struct {
	op       uint8 // 0 read, 1 write, 2 cas
	a, b     int64 // read/write value; cas from, to (-1: nil, -2: any read)
	crashed  bool
	key      string
	readsAny bool
}

func pRegStep(st int64, in pRegInput) (int64, bool) {
	switch in.op {
	case 0:
		return st, in.readsAny || in.a == st
	case 1:
		return in.a, true
	}
	return in.b, in.a == st
}

// pRegModel is a CAS register with Jepsen's semantics for crashed ops,
// partitioned by key, with a state hash (which helps Porcupine).
func pRegModel(init int64) porcupine.Model {
	nm := porcupine.NondeterministicModel{
		Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
			idx := map[string]int{}
			var out [][]porcupine.Operation
			for _, op := range h {
				k := op.Input.(pRegInput).key
				g, ok := idx[k]
				if !ok {
					g = len(out)
					idx[k] = g
					out = append(out, nil)
				}
				out[g] = append(out[g], op)
			}
			return out
		},
		Init: func() []any { return []any{init} },
		Step: func(state, input, output any) []any {
			in := input.(pRegInput)
			st := state.(int64)
			ns, ok := pRegStep(st, in)
			switch {
			case in.crashed && ok && ns != st:
				return []any{st, ns}
			case in.crashed:
				return []any{st}
			case ok:
				return []any{ns}
			}
			return nil
		},
		Hash: func(s any) uint64 { return uint64(s.(int64)) * 0x9E3779B97F4A7C15 },
	}
	return nm.ToModel()
}

// pRegOps converts a register history with Jepsen semantics: fail ops
// dropped, crashed ops returning after the end, the completion's value for
// ok ops. Values must be integers (nil is -1).
func pRegOps(h *history.History) []porcupine.Operation {
	var out []porcupine.Operation
	end := int64(len(h.Ops))
	num := func(v any) int64 {
		if v == nil {
			return -1
		}
		i, _ := history.Int(v)
		return i
	}
	for i, op := range h.Ops {
		if op.Type != history.Invoke || op.Process < 0 {
			continue
		}
		j := h.Pair(i)
		in := pRegInput{key: history.Format(op.Key)}
		v := op.Value
		ret := int64(j)
		switch {
		case j < 0 || h.Ops[j].Type == history.Info:
			in.crashed = true
			end++
			ret = end
		case h.Ops[j].Type == history.Fail:
			continue
		default:
			v = h.Ops[j].Value
		}
		switch op.F {
		case "read":
			in.readsAny = v == nil
			in.a = num(v)
		case "write":
			in.op, in.a = 1, num(v)
		case "cas":
			p, _ := v.([]any)
			if len(p) != 2 {
				continue
			}
			in.op, in.a, in.b = 2, num(p[0]), num(p[1])
		}
		out = append(out, porcupine.Operation{ClientId: op.Process, Input: in, Call: int64(i), Return: ret})
	}
	return out
}

// Porcupine's own etcd model and reading of the Jepsen etcd logs
// (porcupine_test.go etcdModel, parseJepsenLog): a failed CAS executed and
// its compare failed, a failed read has an unknown result, a crashed op
// returns unknown after the last event and must still take effect.
type pEtcdInput struct {
	op         uint8 // 0 read, 1 write, 2 cas
	arg1, arg2 int
}

type pEtcdOutput struct {
	ok, exists, unknown bool
	value               int
}

const pEtcdNil = -1000000

var pEtcdModel = porcupine.Model{
	Init: func() any { return pEtcdNil },
	Step: func(state, input, output any) (bool, any) {
		st := state.(int)
		in := input.(pEtcdInput)
		out := output.(pEtcdOutput)
		switch in.op {
		case 0:
			return (!out.exists && st == pEtcdNil) || (out.exists && st == out.value) || out.unknown, st
		case 1:
			return true, in.arg1
		}
		ok := (in.arg1 == st && out.ok) || (in.arg1 != st && !out.ok) || out.unknown
		if in.arg1 == st {
			return ok, in.arg2
		}
		return ok, st
	},
}

func pEtcdOps(h *history.History) []porcupine.Operation {
	var out []porcupine.Operation
	end := int64(len(h.Ops))
	num := func(v any) int {
		i, _ := history.Int(v)
		return int(i)
	}
	for i, op := range h.Ops {
		if op.Type != history.Invoke || op.Process < 0 {
			continue
		}
		var in pEtcdInput
		switch op.F {
		case "write":
			in = pEtcdInput{op: 1, arg1: num(op.Value)}
		case "cas":
			p, _ := op.Value.([]any)
			if len(p) != 2 {
				continue
			}
			in = pEtcdInput{op: 2, arg1: num(p[0]), arg2: num(p[1])}
		}
		var o pEtcdOutput
		ret := int64(0)
		j := h.Pair(i)
		switch {
		case j < 0 || h.Ops[j].Type == history.Info:
			end++
			ret, o.unknown = end, true
		case h.Ops[j].Type == history.Fail && op.F == "read":
			ret, o.unknown = int64(j), true
		case h.Ops[j].Type == history.Fail:
			ret = int64(j)
		default:
			ret, o.ok = int64(j), true
			if op.F == "read" && h.Ops[j].Value != nil {
				o.exists, o.value = true, num(h.Ops[j].Value)
			}
		}
		out = append(out, porcupine.Operation{ClientId: op.Process, Input: in, Output: o, Call: int64(i), Return: ret})
	}
	return out
}
