package memdb

import (
	"cmp"
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
	opTxn        = "txn"         // Txn micro-ops, applied atomically; reads see the state at At (0: now)
)

// Micro-op names of a txn command.
const (
	mopRead   = "r"      // K: the list, or the register's value, in Reads
	mopAppend = "append" // K, V: append V to the list at K
	mopWrite  = "w"      // K, V: set the register at K to V
	mopCheck  = "check"  // K, At: fail with write-conflict if K was written after index At
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
	errConflict     = "write-conflict" // a txn's check failed: nothing of it was applied
	errAborted      = "aborted"        // the non-atomic bug gave up on a txn part-way
	errBadTxn       = "bad-txn"        // a snapshot read (At > 0) that also writes
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
	Txn  []micro `json:"txn,omitempty"` // opTxn
	At   uint64  `json:"at,omitempty"`  // opTxn: read the state as of this log index
}

// micro is one micro-op of a txn command.
type micro struct {
	F  string `json:"f"`
	K  string `json:"k"`
	V  int64  `json:"v,omitempty"`
	At uint64 `json:"at,omitempty"` // mopCheck
}

func (m *micro) writes() bool { return m.F == mopAppend || m.F == mopWrite }

// isRead reports whether c leaves the state unchanged (served through the
// read path instead of the log).
func (c *command) isRead() bool {
	switch c.Op {
	case opRegRead, opSetRead, opCtrRead, opBankRead:
		return true
	case opTxn:
		for i := range c.Txn {
			if c.Txn[i].F != mopRead {
				return false
			}
		}
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
	// Reads holds, for each micro-op of a txn, what a read saw: the list,
	// or the register's value as a one-element list (empty when unset);
	// nil for the other micro-ops.
	Reads [][]int64 `json:"reads,omitempty"`
	// At is the log index of the state a txn saw.
	At uint64 `json:"at,omitempty"`
}

// machine is the replicated state: one map per data type.
type machine struct {
	regs   map[string]int64
	sets   map[string]map[int64]struct{}
	ctrs   map[string]int64
	banks  map[string]map[int64]int64
	queues map[string][]int64
	lastID int64
	txkeys map[string]*versions // keys of txn commands
	// index is the log index of the entry being applied, or of the last
	// one applied while a read is answered.
	index uint64
}

// versions is a key of the transactional workloads with every value it
// took and the log index at which it took it, so that reads can see the
// key as it was at an earlier index (snapshots). A list's state is all
// its values; a register's is its last one.
type versions struct {
	list bool
	vals []int64
	at   []uint64 // nondecreasing
}

// upTo returns how many of the key's values were written at or before
// index at (at 0: all of them).
func (v *versions) upTo(at uint64) int {
	if at == 0 {
		return len(v.vals)
	}
	n, _ := slices.BinarySearchFunc(v.at, at+1, func(a, t uint64) int { return cmp.Compare(a, t) })
	return n
}

// read returns the key's state at index at (0: now), as a fresh slice.
func (v *versions) read(at uint64) []int64 {
	n := v.upTo(at)
	switch {
	case n == 0:
		return []int64{}
	case v.list:
		return slices.Clone(v.vals[:n])
	default:
		return []int64{v.vals[n-1]}
	}
}

func newMachine() *machine {
	return &machine{
		regs:   map[string]int64{},
		sets:   map[string]map[int64]struct{}{},
		ctrs:   map[string]int64{},
		banks:  map[string]map[int64]int64{},
		queues: map[string][]int64{},
		txkeys: map[string]*versions{},
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
	case opTxn:
		return m.txn(c)
	}
	return result{Err: errUnknownOp}
}

// txn applies a txn command: first its checks, which fail the whole
// command when a key was written after the index they name; then its
// micro-ops in order, reads seeing the state as of c.At (or the current
// state, the command's own writes included).
func (m *machine) txn(c *command) result {
	if c.At > 0 && !c.isRead() {
		return result{Err: errBadTxn}
	}
	for i := range c.Txn {
		mo := &c.Txn[i]
		switch mo.F {
		case mopRead, mopAppend, mopWrite:
		case mopCheck:
			if v := m.txkeys[mo.K]; v != nil && len(v.at) > 0 && v.at[len(v.at)-1] > mo.At {
				return result{Err: errConflict}
			}
		default:
			return result{Err: errUnknownOp}
		}
	}
	res := result{Reads: make([][]int64, len(c.Txn)), At: m.index}
	if c.At > 0 {
		res.At = c.At
	}
	for i := range c.Txn {
		mo := &c.Txn[i]
		v := m.txkeys[mo.K]
		switch mo.F {
		case mopRead:
			if v == nil {
				res.Reads[i] = []int64{}
			} else {
				res.Reads[i] = v.read(c.At)
			}
		case mopAppend, mopWrite:
			if v == nil {
				v = &versions{list: mo.F == mopAppend}
				m.txkeys[mo.K] = v
			}
			v.vals = append(v.vals, mo.V)
			v.at = append(v.at, m.index)
		}
	}
	return res
}
