package memdb

import (
	"slices"
)

// Command names of the replicated state machine. Keys are namespaced by
// the client ("register:3"), so each key holds one data type.
const (
	opNoop       = "noop"
	opStatus     = "status" // answered by the replica itself, never logged
	opRegRead    = "reg-read"
	opRegWrite   = "reg-write"   // A
	opRegCAS     = "reg-cas"     // A old, B new
	opSetAdd     = "set-add"     // A
	opSetRead    = "set-read"    //
	opCtrAdd     = "ctr-add"     // A
	opCtrRead    = "ctr-read"    //
	opBankInit   = "bank-init"   // Ints accounts, A total; only when absent
	opBankXfer   = "bank-xfer"   // A from, B to, C amount
	opBankRead   = "bank-read"   //
	opGenID      = "gen-id"      //
	opQueueEnq   = "queue-enq"   // A
	opQueueDeq   = "queue-deq"   //
	opQueueDrain = "queue-drain" //
)

// Definite failure codes: the operation did not take place.
const (
	errNotLeader    = "not-leader"
	errNoLeader     = "no-leader"
	errNodeDown     = "node-down"
	errNotSent      = "not-sent" // the replica did not take the request in time
	errCASMismatch  = "cas-mismatch"
	errEmpty        = "empty"
	errInsufficient = "insufficient-funds"
	errNoAccount    = "no-such-account"
	errUnknownOp    = "unknown-op"
	errUnknownNode  = "unknown-node"
)

// Indeterminate outcomes: the operation may or may not take place.
const (
	indefTimeout  = "timeout"
	indefDeposed  = "leadership-lost"
	indefStopped  = "node-stopped"
	indefConnLost = "connection-lost"
)

// command is one state-machine operation; which fields matter depends on Op.
type command struct {
	Op   string  `json:"op"`
	Key  string  `json:"key,omitempty"`
	A    int64   `json:"a,omitempty"`
	B    int64   `json:"b,omitempty"`
	C    int64   `json:"c,omitempty"`
	Ints []int64 `json:"ints,omitempty"`
}

// isRead reports whether c leaves the state unchanged (served through the
// read path instead of the log).
func (c *command) isRead() bool {
	switch c.Op {
	case opRegRead, opSetRead, opCtrRead, opBankRead:
		return true
	}
	return false
}

// result is the answer to a command. At most one of Err (definite failure)
// and Indef (unknown outcome) is set.
type result struct {
	Err    string  `json:"err,omitempty"`
	Indef  string  `json:"indef,omitempty"`
	Nil    bool    `json:"nil,omitempty"`
	Int    int64   `json:"int,omitempty"`
	Ints   []int64 `json:"ints,omitempty"`
	Vals   []int64 `json:"vals,omitempty"` // bank balances, parallel to Ints
	Status *Status `json:"status,omitempty"`
}

// machine is the replicated state: one map per data type.
type machine struct {
	regs   map[string]int64
	sets   map[string]map[int64]struct{}
	ctrs   map[string]int64
	banks  map[string]map[int64]int64
	queues map[string][]int64
	lastID int64
}

func newMachine() *machine {
	return &machine{
		regs:   map[string]int64{},
		sets:   map[string]map[int64]struct{}{},
		ctrs:   map[string]int64{},
		banks:  map[string]map[int64]int64{},
		queues: map[string][]int64{},
	}
}

// apply executes c deterministically and returns its result. Read commands
// do not change the state.
func (m *machine) apply(c *command) result {
	k := c.Key
	switch c.Op {
	case opNoop:
		return result{}
	case opRegRead:
		v, ok := m.regs[k]
		return result{Nil: !ok, Int: v}
	case opRegWrite:
		m.regs[k] = c.A
		return result{}
	case opRegCAS:
		if v, ok := m.regs[k]; !ok || v != c.A {
			return result{Err: errCASMismatch}
		}
		m.regs[k] = c.B
		return result{}
	case opSetAdd:
		s := m.sets[k]
		if s == nil {
			s = map[int64]struct{}{}
			m.sets[k] = s
		}
		s[c.A] = struct{}{}
		return result{}
	case opSetRead:
		out := make([]int64, 0, len(m.sets[k]))
		for v := range m.sets[k] {
			out = append(out, v)
		}
		slices.Sort(out)
		return result{Ints: out}
	case opCtrAdd:
		m.ctrs[k] += c.A
		return result{}
	case opCtrRead:
		return result{Int: m.ctrs[k]}
	case opBankInit:
		if _, ok := m.banks[k]; ok || len(c.Ints) == 0 {
			return result{}
		}
		b := make(map[int64]int64, len(c.Ints))
		n := int64(len(c.Ints))
		for i, a := range c.Ints {
			b[a] = c.A / n
			if int64(i) < c.A%n {
				b[a]++
			}
		}
		m.banks[k] = b
		return result{}
	case opBankXfer:
		b := m.banks[k]
		from, ok1 := b[c.A]
		_, ok2 := b[c.B]
		switch {
		case !ok1 || !ok2:
			return result{Err: errNoAccount}
		case c.C < 0 || from < c.C:
			return result{Err: errInsufficient}
		}
		b[c.A] -= c.C
		b[c.B] += c.C
		return result{}
	case opBankRead:
		b := m.banks[k]
		accts := make([]int64, 0, len(b))
		for a := range b {
			accts = append(accts, a)
		}
		slices.Sort(accts)
		bals := make([]int64, len(accts))
		for i, a := range accts {
			bals[i] = b[a]
		}
		return result{Ints: accts, Vals: bals}
	case opGenID:
		m.lastID++
		return result{Int: m.lastID}
	case opQueueEnq:
		m.queues[k] = append(m.queues[k], c.A)
		return result{}
	case opQueueDeq:
		q := m.queues[k]
		if len(q) == 0 {
			return result{Err: errEmpty}
		}
		m.queues[k] = q[1:]
		return result{Int: q[0]}
	case opQueueDrain:
		q := m.queues[k]
		delete(m.queues, k)
		return result{Ints: append([]int64{}, q...)}
	}
	return result{Err: errUnknownOp}
}
