package memdb

import (
	"fmt"
	"math"
	"sort"

	"github.com/faultline/faultline/history"
)

// A tiny brute-force linearizability checker for registers (the oracle of
// these tests; the real checker lives in checker/linear). It searches the
// orders Wing & Gong's algorithm allows, remembering visited (linearized
// set, value) states. Like Knossos' cas-register model, it takes a read of
// nil to mean "unknown value": such a read is always legal.

// regOp is one completed register op: ok, or info (may or may not have
// happened; ret is +inf).
type regOp struct {
	call, ret int64
	f         string
	a, b      int64 // write value, cas old/new, read result
	nilRead   bool  // a read that saw nil
	ok        bool
}

type regVal struct {
	v   int64
	nil bool
}

// checkRegister reports whether ops are linearizable from a nil register.
// decided is false when the search gave up after maxStates states.
func checkRegister(ops []regOp, maxStates int) (ok, decided bool) {
	sort.Slice(ops, func(i, j int) bool { return ops[i].call < ops[j].call })
	needed := 0
	for _, o := range ops {
		if o.ok {
			needed++
		}
	}
	seen := map[string]bool{}
	done := make([]byte, (len(ops)+7)/8)
	var search func(n int, v regVal) (bool, bool)
	search = func(n int, v regVal) (bool, bool) {
		if n == needed {
			return true, true
		}
		key := fmt.Sprintf("%s|%d|%t", done, v.v, v.nil)
		if seen[key] {
			return false, true
		}
		if len(seen) >= maxStates {
			return false, false
		}
		seen[key] = true
		minRet := int64(math.MaxInt64)
		for i, o := range ops {
			if done[i/8]&(1<<(i%8)) == 0 && o.ret < minRet {
				minRet = o.ret
			}
		}
		for i, o := range ops {
			if done[i/8]&(1<<(i%8)) != 0 {
				continue
			}
			if o.call > minRet {
				break // sorted by call: no later op can go first either
			}
			nv, fits := stepRegister(o, v)
			if !fits {
				continue
			}
			done[i/8] |= 1 << (i % 8)
			c := 0
			if o.ok {
				c = 1
			}
			found, dec := search(n+c, nv)
			done[i/8] &^= 1 << (i % 8)
			if found || !dec {
				return found, dec
			}
		}
		return false, true
	}
	return search(0, regVal{nil: true})
}

func stepRegister(o regOp, v regVal) (regVal, bool) {
	switch o.f {
	case "read":
		return v, o.nilRead || !v.nil && o.a == v.v
	case "write":
		return regVal{v: o.a}, true
	case "cas":
		if v.nil || v.v != o.a {
			return v, false
		}
		return regVal{v: o.b}, true
	}
	return v, false
}

// registerHistories splits completed ops by key for checkRegister. Failed
// ops and reads of unknown outcome are left out: they did not happen or
// changed nothing.
func registerHistories(recs []rec) map[int64][]regOp {
	out := map[int64][]regOp{}
	for _, r := range recs {
		if r.out.Type == history.Fail || r.out.Type == history.Info && r.in.F == "read" {
			continue
		}
		o := regOp{call: r.call, ret: r.ret, f: r.in.F, ok: r.out.Type == history.OK}
		if !o.ok {
			o.ret = math.MaxInt64
		}
		switch r.in.F {
		case "read":
			if r.out.Value == nil {
				o.nilRead = true
			} else {
				o.a = r.out.Value.(int64)
			}
		case "write":
			o.a = r.in.Value.(int64)
		case "cas":
			p := r.in.Value.([]any)
			o.a, o.b = p[0].(int64), p[1].(int64)
		}
		k := r.in.Key.(int64)
		out[k] = append(out[k], o)
	}
	return out
}

// linearizable checks every key; it returns the keys found not
// linearizable and the number of keys it could not decide.
func linearizable(recs []rec) (bad []int64, undecided int) {
	for k, ops := range registerHistories(recs) {
		ok, dec := checkRegister(ops, 200000)
		switch {
		case !dec:
			undecided++
		case !ok:
			bad = append(bad, k)
		}
	}
	sort.Slice(bad, func(i, j int) bool { return bad[i] < bad[j] })
	return bad, undecided
}
