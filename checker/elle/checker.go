package elle

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
)

// Options tune the list-append and rw-register checkers. The zero value
// checks strict serializability with Elle's defaults.
type Options struct {
	// ConsistencyModels are the models the history should satisfy, by
	// Elle's names (see Models and ParseModels). When both this and
	// Anomalies are empty, the default is strict-serializable.
	ConsistencyModels []string
	// Anomalies are further anomaly types that make the history invalid
	// (e.g. "G1", "G2-item"), expanded as Elle does to every anomaly that
	// implies one of them.
	Anomalies []string
	// CycleSearchTimeout bounds the search for cycles of specific shapes
	// in each strongly connected component (default 1s, as Elle). When it
	// runs out, the component still proves that some cycle exists, and the
	// result reports cycle-search-timeout (so it is at best unknown for the
	// models that cycle would not rule out). A negative value gives no time
	// at all (the search times out at once; useful for tests).
	CycleSearchTimeout time.Duration
	// SearchTimeout bounds the cycle search over all components together
	// (default 60s); components left when it runs out get no search time.
	SearchTimeout time.Duration
	// MaxAnomalies is how many anomalies of each type the result lists
	// (default 32); AnomalyCounts has the full numbers.
	MaxAnomalies int
	// MaxFiles is how many cycle drawings of each type are written under
	// Dir/elle (default 10).
	MaxFiles int

	// For rw-register only: how to infer each key's version order besides
	// "nil precedes every value".

	// LinearizableKeys assumes each key is linearizable and uses real-time
	// order to infer versions (Elle's :linearizable-keys?).
	LinearizableKeys bool
	// SequentialKeys assumes each key is sequentially consistent and uses
	// process order (Elle's :sequential-keys?).
	SequentialKeys bool
	// WFRKeys assumes writes follow reads within a transaction (Elle's
	// :wfr-keys?).
	WFRKeys bool
	// TransactionOrder gives a known commit order: the op index of a
	// transaction's completion to its position in that order (Elle's
	// :transaction-order).
	TransactionOrder map[int]int64
}

// DefaultModel is the consistency model checked when none is given.
const DefaultModel = "strict-serializable"

func (o Options) withDefaults() Options {
	if len(o.ConsistencyModels) == 0 && len(o.Anomalies) == 0 {
		o.ConsistencyModels = []string{DefaultModel}
	}
	if o.CycleSearchTimeout == 0 {
		o.CycleSearchTimeout = time.Second
	}
	if o.CycleSearchTimeout < 0 {
		o.CycleSearchTimeout = 0
	}
	if o.SearchTimeout <= 0 {
		o.SearchTimeout = time.Minute
	}
	if o.MaxAnomalies <= 0 {
		o.MaxAnomalies = 32
	}
	if o.MaxFiles <= 0 {
		o.MaxFiles = 10
	}
	return o
}

// validate checks the model and anomaly names.
func (o Options) validate(l *lattice) error {
	for _, m := range o.ConsistencyModels {
		if !l.knownModel(m) {
			return fmt.Errorf("unknown consistency model %q; known models: %s", m, strings.Join(l.modelNames(), ", "))
		}
	}
	for _, an := range o.Anomalies {
		if !l.knownAnomaly(an) {
			return fmt.Errorf("unknown anomaly %q; known anomalies: %s", an, strings.Join(Anomalies(), ", "))
		}
	}
	return nil
}

type elleChecker struct {
	name string
	w    workload
	opts Options
	lat  *lattice
}

// ListAppend returns Elle's list-append checker ("list-append"): every op
// is a transaction whose value is a list of micro-ops [append k v] (append
// v, unique per key, to the list at k) and [r k vs] (read the list at k).
// See the package documentation for what it finds.
func ListAppend(o Options) checker.Checker {
	return &elleChecker{name: "list-append", w: listAppend, opts: o, lat: newLattice()}
}

// RWRegister returns Elle's rw-register checker ("rw-register"): every op
// is a transaction of micro-ops [w k v] (set register k to v, unique per
// key) and [r k v] (read register k; nil when never written).
func RWRegister(o Options) checker.Checker {
	return &elleChecker{name: "rw-register", w: rwRegister, opts: o, lat: newLattice()}
}

func (c *elleChecker) Name() string { return c.name }

// Check implements checker.Checker. An unknown model or anomaly name is an
// error; a history of the wrong shape (an op whose value is not a list of
// micro-ops of the workload, duplicate appends or writes) gives an unknown
// result naming the op.
func (c *elleChecker) Check(ctx context.Context, h *history.History, opts checker.Options) (checker.Result, error) {
	return check(ctx, c.lat, c.w, c.opts, h.Ops, opts)
}

// ValueDecoder implements checker.ValueDecoding: see the package function
// ValueDecoder.
func (c *elleChecker) ValueDecoder() func() history.ValueDecoder { return ValueDecoder() }

// check analyses ops (a history in order, paired by process) with the
// lattice l (read only; nil builds one).
func check(ctx context.Context, l *lattice, w workload, o Options, ops []history.Op, copts checker.Options) (*Result, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if l == nil {
		l = newLattice()
	}
	if err := o.validate(l); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	a := &analysis{ctx: ctx, opts: o, lat: l, w: w, anoms: map[string]*anomalyList{}}
	p, err := parse(ctx, ops, w)
	if err != nil {
		if es, ok := err.(*errShape); ok {
			return a.shapeError(es), nil
		}
		return nil, err
	}
	a.p = p
	res, err := a.run()
	if err != nil {
		if es, ok := err.(*errShape); ok {
			return a.shapeError(es), nil
		}
		return nil, err
	}
	if copts.Dir != "" && res.Valid != checker.Valid {
		if err := a.writeFiles(copts.Dir, res); err != nil && copts.Log != nil {
			copts.Log.Warn("elle: could not write evidence files", "dir", copts.Dir, "error", err)
		}
	}
	return res, nil
}

func (a *analysis) shapeError(es *errShape) *Result {
	return &Result{Valid: checker.Unknown, AnomalyTypes: []string{}, Not: []string{}, AlsoNot: []string{},
		ConsistencyModels: a.opts.ConsistencyModels,
		Error:             fmt.Sprintf("cannot analyse this history as %s: %s", a.w, es.Error())}
}
