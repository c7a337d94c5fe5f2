package linear

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"

	"github.com/faultline/faultline/history"
)

// simConfig describes a simulated run of a linearizable CAS register per
// key: threads issue read, write and cas ops with random think times and
// latencies; each op takes effect at a random instant inside its interval
// (so the history is linearizable), except for the faults below.
type simConfig struct {
	Ops     int     // client ops
	Keys    int     // independent keys (ops pick one uniformly)
	Threads int     // concurrent client threads
	Crash   float64 // probability an op crashes (info): it takes effect later or never, and its thread gets a new process
	Stale   float64 // probability a read returns the value before the latest one (a violation)
	Values  int     // values written are 0..Values-1 (0 means unique values)
	Seed    uint64
	// KV simulates Porcupine's kv store instead (model kv): get, put and
	// append of strings per key, every key starting as "".
	KV bool
}

type simOp struct {
	thread, process int
	key             int64
	f               string
	arg             any // write value or cas [from to]
	inv, ret, lin   float64
	crashed         bool
	applied         bool // a crashed op that took effect
	result          any  // read value
	failed          bool // a cas whose compare failed
}

// simulate produces the history of a simConfig run.
func simulate(c simConfig) []history.Op {
	r := rand.New(rand.NewPCG(c.Seed, 0xFA17))
	ops := make([]*simOp, 0, c.Ops)
	nextProcess := make([]int, c.Threads)
	clock := make([]float64, c.Threads)
	for t := range c.Threads {
		nextProcess[t] = t
		clock[t] = r.Float64()
	}
	counter := int64(0)
	val := func() int64 {
		if c.Values > 0 {
			return int64(r.IntN(c.Values))
		}
		counter++
		return counter
	}
	for len(ops) < c.Ops {
		// the thread that is free first goes next
		t := 0
		for i := range clock {
			if clock[i] < clock[t] {
				t = i
			}
		}
		o := &simOp{thread: t, process: nextProcess[t], key: int64(r.IntN(max(1, c.Keys)))}
		switch x := r.IntN(10); {
		case c.KV:
			o.f = "get"
			if x >= 4 {
				o.f = "append"
				if x == 9 {
					o.f = "put"
				}
				o.arg = "x" + strconv.FormatInt(val(), 10) + " "
			}
		case x < 5:
			o.f = "read"
		case x < 8:
			o.f, o.arg = "write", val()
		default:
			o.f, o.arg = "cas", []any{int64(r.IntN(max(1, c.Values))), val()}
		}
		o.inv = clock[t] + r.ExpFloat64()*0.2
		lat := 0.05 + r.ExpFloat64()
		if r.IntN(50) == 0 {
			lat *= 10 // a slow op now and then
		}
		o.ret = o.inv + lat
		o.lin = o.inv + r.Float64()*lat
		if r.Float64() < c.Crash {
			o.crashed = true
			o.applied = r.IntN(2) == 0
			o.lin = o.inv + r.Float64()*lat*5 // may take effect after the client gave up
			nextProcess[t] += c.Threads
		}
		clock[t] = o.ret
		ops = append(ops, o)
	}
	// Apply the ops in linearization order, per key.
	byLin := append([]*simOp(nil), ops...)
	sort.Slice(byLin, func(i, j int) bool { return byLin[i].lin < byLin[j].lin })
	state := map[int64]any{}
	prev := map[int64]any{}
	for _, o := range byLin {
		if o.crashed && !o.applied {
			continue
		}
		cur := state[o.key]
		if c.KV && cur == nil {
			cur = ""
		}
		switch o.f {
		case "get":
			o.result = cur
			if !o.crashed && c.Stale > 0 && r.Float64() < c.Stale {
				if p, ok := prev[o.key]; ok {
					o.result = p
				}
			}
		case "put":
			prev[o.key], state[o.key] = cur, o.arg
		case "append":
			prev[o.key], state[o.key] = cur, cur.(string)+o.arg.(string)
		case "read":
			o.result = cur
			if !o.crashed && c.Stale > 0 && r.Float64() < c.Stale {
				o.result = prev[o.key]
			}
		case "write":
			prev[o.key], state[o.key] = cur, o.arg
		case "cas":
			p := o.arg.([]any)
			if !history.Equal(cur, p[0]) {
				o.failed = true
				continue
			}
			prev[o.key], state[o.key] = cur, p[1]
		}
	}
	type event struct {
		at  float64
		op  *simOp
		inv bool
	}
	events := make([]event, 0, 2*len(ops))
	for _, o := range ops {
		events = append(events, event{o.inv, o, true}, event{o.ret, o, false})
	}
	sort.Slice(events, func(i, j int) bool { return events[i].at < events[j].at })
	out := make([]history.Op, 0, len(events))
	for _, e := range events {
		o := e.op
		op := history.Op{Index: len(out), Time: int64(math.Round(e.at * 1e6)), Process: o.process, F: o.f, Key: o.key}
		switch {
		case e.inv:
			op.Type = history.Invoke
			if o.f != "read" && o.f != "get" {
				op.Value = o.arg
			}
		case o.crashed:
			op.Type, op.Value = history.Info, o.arg
			op.Error = "timeout"
		case o.failed:
			op.Type, op.Value = history.Fail, o.arg
		default:
			op.Type = history.OK
			op.Value = o.arg
			if o.f == "read" || o.f == "get" {
				op.Value = o.result
			}
		}
		out = append(out, op)
	}
	return out
}
