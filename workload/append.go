package workload

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/faultline/faultline/checker/elle"
	"github.com/faultline/faultline/generator"
	"github.com/faultline/faultline/history"
)

// This file holds the transactional workloads' shared generator (Elle's
// wr-txns: elle.txn/wr-txns) and the list-append workload; wr.go holds the
// read-write register one.
//
// Operations, as clients must implement them (f is "txn", the value a list
// of micro-ops; an ok completion carries the same list with each read's
// result filled in):
//
//	append   ["append", k, v] appends v to the list at key k; ["r", k, nil] reads
//	         the list at k → ["r", k, [v1 v2 ...]] ([] or nil when never appended)
//	wr       ["w", k, v] sets register k to v; ["r", k, nil] reads it → ["r", k, v]
//	         (nil when never written)
//
// Keys and values are int64. Values are unique per key (1, 2, 3, ...); a
// key retires after a bounded number of writes and a fresh key takes its
// place, so histories stay analysable however long the test runs. A
// transaction must take effect entirely or not at all: fail when it
// certainly did not commit, info when unsure.

// TxnOptions tune the transactional workloads (append and wr). The zero
// value gives Elle's defaults.
type TxnOptions struct {
	// KeyCount is the number of keys in use at any time (default 10; 3
	// with the uniform distribution).
	KeyCount int
	// MinTxnLength and MaxTxnLength bound the micro-ops per transaction
	// (default 1 and 4).
	MinTxnLength, MaxTxnLength int
	// MaxWritesPerKey is the most writes a key gets before a fresh key
	// replaces it (default 32). Each key's own limit is drawn from a Zipf
	// distribution up to it, as Elle does.
	MaxWritesPerKey int
	// KeyDist picks keys: "exponential" (default: each key half as likely as
	// the one before) or "uniform".
	KeyDist string
	// ReadFraction is the fraction of micro-ops that are reads (default
	// 0.5).
	ReadFraction float64
	// Checker tunes the checker (consistency models, search time, version
	// inference for registers). Its zero value checks strict
	// serializability.
	Checker elle.Options
}

func (t TxnOptions) withDefaults() (TxnOptions, error) {
	if t.KeyDist == "" {
		t.KeyDist = "exponential"
	}
	if t.KeyDist != "exponential" && t.KeyDist != "uniform" {
		return t, fmt.Errorf("key distribution %q: want exponential or uniform", t.KeyDist)
	}
	if t.KeyCount <= 0 {
		t.KeyCount = 10
		if t.KeyDist == "uniform" {
			t.KeyCount = 3
		}
	}
	if t.MinTxnLength <= 0 {
		t.MinTxnLength = 1
	}
	if t.MaxTxnLength <= 0 {
		t.MaxTxnLength = max(4, t.MinTxnLength)
	}
	if t.MaxTxnLength < t.MinTxnLength {
		return t, fmt.Errorf("max transaction length %d is below the minimum %d", t.MaxTxnLength, t.MinTxnLength)
	}
	if t.MaxWritesPerKey <= 0 {
		t.MaxWritesPerKey = 32
	}
	if t.ReadFraction == 0 {
		t.ReadFraction = 0.5
	}
	if t.ReadFraction < 0 || t.ReadFraction > 1 {
		return t, fmt.Errorf("read fraction %g is not between 0 and 1", t.ReadFraction)
	}
	return t, nil
}

// Append is Jepsen's list-append workload (jepsen.tests.cycle.append):
// transactions of appends and reads over a rotating set of keys, checked by
// Elle's list-append analysis (strict serializability unless
// TxnOptions.Checker says otherwise). See AppendWith.
func Append(o Options) Workload {
	w, _ := AppendWith(o, TxnOptions{}) // the zero TxnOptions are always valid
	return w
}

// AppendWith is Append with transactional options.
func AppendWith(o Options, t TxnOptions) (Workload, error) {
	t, err := t.withDefaults()
	if err != nil {
		return Workload{}, fmt.Errorf("append workload: %w", err)
	}
	return Workload{
		Name:      "append",
		Generator: o.paced(newTxnGen(t, "append")),
		Checker:   elle.ListAppend(t.Checker),
	}, nil
}

// txnConfig is what every txnGen of one workload shares (read only).
type txnConfig struct {
	TxnOptions
	write string  // micro-op name of writes: "append" or "w"
	scale float64 // for the exponential key distribution
}

// txnGen generates transactions. It is immutable: each Op returns the
// generator holding the keys' new state.
type txnGen struct {
	cfg     *txnConfig
	active  []int64 // keys in use
	writes  []int   // writes made to each key in use
	limit   []int   // writes each key in use may take (0: not drawn yet)
	nextKey int64
}

func newTxnGen(t TxnOptions, write string) *txnGen {
	cfg := &txnConfig{TxnOptions: t, write: write}
	if t.KeyDist == "exponential" {
		const base = 2.0
		cfg.scale = (math.Pow(base, float64(t.KeyCount)) - 1) * base / (base - 1)
	}
	g := &txnGen{cfg: cfg, active: make([]int64, t.KeyCount), writes: make([]int, t.KeyCount), limit: make([]int, t.KeyCount), nextKey: int64(t.KeyCount)}
	for i := range g.active {
		g.active[i] = int64(i)
	}
	return g
}

// keyIndex picks the index of a key in use.
func (c *txnConfig) keyIndex(r *rand.Rand) int {
	if c.KeyDist == "uniform" {
		return r.IntN(c.KeyCount)
	}
	const base = 2.0
	i := int(math.Floor(math.Log(r.Float64()*c.scale+base)/math.Log(base) - 1))
	return min(max(i, 0), c.KeyCount-1)
}

// writeLimit draws how many writes a fresh key takes: 1 + a Zipf-distributed
// number below MaxWritesPerKey.
func (c *txnConfig) writeLimit(r *rand.Rand) int {
	if c.MaxWritesPerKey == 1 {
		return 1
	}
	z := rand.NewZipf(r, 1.01, 1, uint64(c.MaxWritesPerKey-1))
	return 1 + int(z.Uint64())
}

// txn builds one transaction and the generator state after it.
func (g *txnGen) txn(r *rand.Rand) ([]any, *txnGen) {
	c := g.cfg
	n := c.MinTxnLength + r.IntN(c.MaxTxnLength-c.MinTxnLength+1)
	next := &txnGen{cfg: c, active: slices.Clone(g.active), writes: slices.Clone(g.writes), limit: slices.Clone(g.limit), nextKey: g.nextKey}
	txn := make([]any, 0, n)
	for len(txn) < n {
		i := c.keyIndex(r)
		if r.Float64() < c.ReadFraction {
			txn = append(txn, []any{"r", next.active[i], nil})
			continue
		}
		if next.limit[i] == 0 {
			next.limit[i] = c.writeLimit(r)
		}
		if next.writes[i] >= next.limit[i] {
			// The key has had its writes: a fresh key takes its place.
			next.active[i] = next.nextKey
			next.nextKey++
			next.writes[i], next.limit[i] = 0, c.writeLimit(r)
		}
		next.writes[i]++
		txn = append(txn, []any{c.write, next.active[i], int64(next.writes[i])})
	}
	return txn, next
}

// Op implements generator.Generator.
func (g *txnGen) Op(ctx *generator.Context) (history.Op, generator.Generator, generator.Status) {
	if _, ok := ctx.SomeFreeProcess(); !ok {
		return history.Op{}, nil, generator.Pending
	}
	txn, next := g.txn(ctx.Rand())
	op, st := generator.FillIn(ctx, generator.Invocation("txn", txn))
	if st != generator.Ready {
		return history.Op{}, nil, st
	}
	return op, next, generator.Ready
}

// Update implements generator.Generator; transactions do not depend on
// what happened to earlier ones.
func (g *txnGen) Update(*generator.Context, history.Op) generator.Generator { return g }
