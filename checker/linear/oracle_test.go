package linear

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/anishathalye/porcupine"

	"github.com/faultline/faultline/history"
)

// This file holds an oracle that shares nothing with the checker: its own
// pairing of invocations and completions, its own model semantics over plain
// Go values, and a brute-force search over every order of the ops (no
// memo, no reductions). The same model semantics drive Porcupine, with
// Jepsen's semantics encoded: fail ops dropped, crashed ops returning after
// everything else and allowed to be no-ops.

// ocall is one op for the oracle.
type ocall struct {
	inv, ret int // ret is -1 when the op crashed
	f        string
	v        any
	key      any
	process  int
}

func (c *ocall) crashed() bool { return c.ret < 0 }

// oracleCalls pairs ops by process, Jepsen style.
func oracleCalls(ops []history.Op) []ocall {
	var calls []ocall
	open := map[int]int{}
	for i, op := range ops {
		if op.Process < 0 {
			continue
		}
		switch op.Type {
		case history.Invoke:
			open[op.Process] = len(calls)
			calls = append(calls, ocall{inv: i, ret: -1, f: op.F, v: op.Value, key: op.Key, process: op.Process})
		case history.OK:
			if j, ok := open[op.Process]; ok {
				calls[j].ret = i
				calls[j].v = op.Value
				delete(open, op.Process)
			}
		case history.Fail:
			if j, ok := open[op.Process]; ok {
				calls[j].f = "" // dropped below
				delete(open, op.Process)
			}
		case history.Info:
			delete(open, op.Process)
		}
	}
	out := calls[:0]
	for _, c := range calls {
		if c.f != "" {
			out = append(out, c)
		}
	}
	return out
}

// omodel is a model for the oracle over plain Go values.
type omodel struct {
	init     func() any
	step     func(s any, c *ocall) (any, bool)
	keyAware bool // reads keys itself (kv): never split
}

func fmtv(v any) string { return history.Format(v) }

func oracleModel(name string, init any) omodel {
	switch name {
	case "register", "cas-register":
		return omodel{init: func() any { return fmtv(init) }, step: func(s any, c *ocall) (any, bool) {
			cur := s.(string)
			switch c.f {
			case "read":
				return cur, c.v == nil || fmtv(c.v) == cur
			case "write":
				return fmtv(c.v), true
			case "cas":
				p := c.v.([]any)
				return fmtv(p[1]), fmtv(p[0]) == cur
			}
			panic("bad f " + c.f)
		}}
	case "mutex":
		return omodel{init: func() any { return false }, step: func(s any, c *ocall) (any, bool) {
			held := s.(bool)
			if c.f == "acquire" {
				return true, !held
			}
			return false, held
		}}
	case "set", "unordered-queue", "fifo-queue":
		return omodel{init: func() any { return "" }, step: func(s any, c *ocall) (any, bool) {
			var els []string
			if s.(string) != "" {
				els = strings.Split(s.(string), ",")
			}
			switch {
			case c.f == "add":
				for _, e := range els {
					if e == fmtv(c.v) {
						return s, true
					}
				}
				els = append(els, fmtv(c.v))
				sort.Strings(els)
				return strings.Join(els, ","), true
			case c.f == "read":
				if c.v == nil {
					return s, false
				}
				var want []string
				for _, e := range c.v.(history.Set) {
					want = append(want, fmtv(e))
				}
				sort.Strings(want)
				w := want[:0]
				for i, e := range want {
					if i == 0 || e != want[i-1] {
						w = append(w, e)
					}
				}
				return s, strings.Join(w, ",") == s.(string)
			case c.f == "enqueue":
				els = append(els, fmtv(c.v))
				if name == "unordered-queue" {
					sort.Strings(els)
				}
				return strings.Join(els, ","), true
			case name == "fifo-queue":
				if len(els) == 0 || els[0] != fmtv(c.v) {
					return s, false
				}
				return strings.Join(els[1:], ","), true
			default:
				for i, e := range els {
					if e == fmtv(c.v) {
						return strings.Join(append(append([]string{}, els[:i]...), els[i+1:]...), ","), true
					}
				}
				return s, false
			}
		}}
	case "multi-register":
		return omodel{init: func() any {
			m := map[string]string{}
			if im, ok := init.(history.Map); ok {
				for _, e := range im {
					m[fmtv(e.Key)] = fmtv(e.Val)
				}
			}
			return m
		}, step: func(s any, c *ocall) (any, bool) {
			cur := s.(map[string]string)
			next := map[string]string{}
			for k, v := range cur {
				next[k] = v
			}
			for _, mop := range c.v.([]any) {
				t := mop.([]any)
				k := fmtv(t[1])
				if t[0] == "write" {
					next[k] = fmtv(t[2])
					continue
				}
				have, ok := next[k]
				if !ok {
					have = "nil"
				}
				if t[2] != nil && fmtv(t[2]) != have {
					return s, false
				}
			}
			return next, true
		}}
	case "kv":
		return omodel{keyAware: true, init: func() any { return map[string]string{} }, step: func(s any, c *ocall) (any, bool) {
			cur := s.(map[string]string)
			k := fmtv(c.key)
			switch c.f {
			case "get":
				return s, c.v == nil || cur[k] == c.v.(string)
			}
			next := map[string]string{}
			for kk, v := range cur {
				next[kk] = v
			}
			if c.f == "put" {
				next[k] = c.v.(string)
			} else {
				next[k] = cur[k] + c.v.(string)
			}
			return next, true
		}}
	}
	panic("no oracle model " + name)
}

func stateKey(s any) string { return fmt.Sprintf("%v", s) }

// groups splits calls per key unless the model reads keys.
func oracleGroups(calls []ocall, m omodel) [][]ocall {
	if m.keyAware {
		return [][]ocall{calls}
	}
	idx := map[string]int{}
	var out [][]ocall
	for _, c := range calls {
		k := fmtv(c.key)
		g, ok := idx[k]
		if !ok {
			g = len(out)
			idx[k] = g
			out = append(out, nil)
		}
		out[g] = append(out[g], c)
	}
	return out
}

// bruteLinearizable tries every order of every subset of crashed ops with
// all ok ops, respecting real time.
func bruteLinearizable(ops []history.Op, m omodel) bool {
	for _, g := range oracleGroups(oracleCalls(ops), m) {
		if !bruteGroup(g, m) {
			return false
		}
	}
	return true
}

func bruteGroup(calls []ocall, m omodel) bool {
	need := 0
	for i := range calls {
		if !calls[i].crashed() {
			need++
		}
	}
	placed := make([]bool, len(calls))
	var dfs func(s any, done int) bool
	dfs = func(s any, done int) bool {
		if done == need {
			return true
		}
		for i := range calls {
			if placed[i] {
				continue
			}
			blocked := false
			for j := range calls {
				if !placed[j] && j != i && !calls[j].crashed() && calls[j].ret < calls[i].inv {
					blocked = true
					break
				}
			}
			if blocked {
				continue
			}
			ns, ok := m.step(s, &calls[i])
			if !ok {
				continue
			}
			placed[i] = true
			d := done
			if !calls[i].crashed() {
				d++
			}
			if dfs(ns, d) {
				return true
			}
			placed[i] = false
		}
		return false
	}
	return dfs(m.init(), 0)
}

// porcupineModel encodes Jepsen's semantics for Porcupine: a crashed op may
// or may not take effect.
func porcupineModel(m omodel) porcupine.Model {
	nm := porcupine.NondeterministicModel{
		Init: func() []any { return []any{m.init()} },
		Step: func(state, input, output any) []any {
			c := input.(*ocall)
			ns, ok := m.step(state, c)
			switch {
			case c.crashed() && ok:
				return []any{state, ns}
			case c.crashed():
				return []any{state}
			case ok:
				return []any{ns}
			}
			return nil
		},
		Equal: func(a, b any) bool { return stateKey(a) == stateKey(b) },
	}
	if !m.keyAware {
		nm.Partition = func(h []porcupine.Operation) [][]porcupine.Operation {
			idx := map[string]int{}
			var out [][]porcupine.Operation
			for _, op := range h {
				k := fmtv(op.Input.(*ocall).key)
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
	}
	return nm.ToModel()
}

// porcupineOps converts a history: crashed ops return after every op, in
// invocation order.
func porcupineOps(ops []history.Op) []porcupine.Operation {
	calls := oracleCalls(ops)
	out := make([]porcupine.Operation, len(calls))
	end := int64(len(ops) + 1)
	for i := range calls {
		c := &calls[i]
		ret := int64(c.ret)
		if c.crashed() {
			ret = end + int64(i)
		}
		out[i] = porcupine.Operation{ClientId: c.process, Input: c, Call: int64(c.inv), Return: ret}
	}
	return out
}

// genRandom makes a small random history for model name: several processes,
// ok, fail and info completions, crashed processes replaced by new ones, and
// ops left without completion.
func genRandom(r *rand.Rand, name string, procs, nops, nkeys int, init any) []history.Op {
	var ops []history.Op
	// sim is a register per key, applied at completion time, so that reads
	// often return plausible values and the verdicts are mixed.
	sim := map[any]any{}
	simGet := func(k any) any {
		if v, ok := sim[k]; ok {
			return v
		}
		return init
	}
	type pend struct {
		f string
		v any
		k any
	}
	pending := map[int]*pend{}
	next := make([]int, procs) // current process id of each thread
	for t := range next {
		next[t] = t
	}
	val := func() int64 { return int64(r.IntN(3)) }
	key := func() any {
		if nkeys <= 1 {
			return nil
		}
		return int64(r.IntN(nkeys))
	}
	add := func(t history.Type, p int, f string, v, k any) {
		ops = append(ops, history.Op{Index: len(ops), Time: int64(len(ops)), Type: t, Process: p, F: f, Value: v, Key: k})
	}
	invoked := 0
	for invoked < nops || len(pending) > 0 {
		var idle []int
		for t, p := range next {
			if pending[p] == nil {
				idle = append(idle, t)
			}
		}
		if invoked < nops && len(idle) > 0 && (len(pending) == 0 || r.IntN(2) == 0) {
			p := next[idle[r.IntN(len(idle))]]
			var f string
			var v any
			k := key()
			switch name {
			case "register", "cas-register":
				fs := []string{"read", "write", "cas"}
				if name == "register" {
					fs = fs[:2]
				}
				f = fs[r.IntN(len(fs))]
				switch f {
				case "write":
					v = val()
				case "cas":
					v = []any{val(), val()}
				}
			case "mutex":
				f = []string{"acquire", "release"}[r.IntN(2)]
			case "set":
				f = []string{"add", "read"}[r.IntN(2)]
				if f == "add" {
					v = val()
				}
			case "unordered-queue", "fifo-queue":
				f = []string{"enqueue", "dequeue"}[r.IntN(2)]
				if f == "enqueue" {
					v = val()
				}
			case "multi-register":
				f = "txn"
				var txn []any
				for range 1 + r.IntN(2) {
					kk := []string{"x", "y"}[r.IntN(2)]
					if r.IntN(2) == 0 {
						txn = append(txn, []any{"read", kk, nil})
					} else {
						txn = append(txn, []any{"write", kk, val()})
					}
				}
				v = txn
			case "kv":
				f = []string{"get", "put", "append"}[r.IntN(3)]
				if f != "get" {
					v = []string{"a", "b"}[r.IntN(2)]
				}
				k = []string{"k0", "k1"}[r.IntN(max(1, nkeys))]
			}
			pending[p] = &pend{f, v, k}
			add(history.Invoke, p, f, v, k)
			invoked++
			continue
		}
		// complete a pending op
		var ps []int
		for p := range pending {
			ps = append(ps, p)
		}
		sort.Ints(ps)
		p := ps[r.IntN(len(ps))]
		op := pending[p]
		delete(pending, p)
		x := r.IntN(100)
		switch {
		case x < 8 && invoked >= nops:
			// never completes
			continue
		case x < 20:
			add(history.Fail, p, op.f, op.v, op.k)
		case op.f == "cas" && r.IntN(3) > 0 && !history.Equal(op.v.([]any)[0], simGet(op.k)):
			add(history.Fail, p, op.f, op.v, op.k)
		case x < 35:
			add(history.Info, p, op.f, nil, op.k)
			for t := range next {
				if next[t] == p {
					next[t] = p + procs
				}
			}
		default:
			v := op.v
			switch {
			case op.f == "write":
				sim[op.k] = op.v
			case op.f == "cas":
				sim[op.k] = op.v.([]any)[1]
			case op.f == "read" && (name == "register" || name == "cas-register"):
				switch r.IntN(8) {
				case 0:
					v = nil
				case 1, 2:
					v = val()
				default:
					v = simGet(op.k)
				}
			case op.f == "read":
				var s history.Set
				for e := range int64(3) {
					if r.IntN(2) == 0 {
						s = append(s, e)
					}
				}
				v = s
			case op.f == "dequeue":
				v = val()
			case op.f == "txn":
				var txn []any
				for _, m := range op.v.([]any) {
					t := m.([]any)
					if t[0] == "read" {
						rv := any(val())
						if r.IntN(6) == 0 {
							rv = nil
						}
						txn = append(txn, []any{"read", t[1], rv})
					} else {
						txn = append(txn, t)
					}
				}
				v = txn
			case op.f == "get":
				v = []string{"", "a", "b", "ab", "ba", "aa"}[r.IntN(6)]
			}
			add(history.OK, p, op.f, v, op.k)
		}
	}
	return ops
}
