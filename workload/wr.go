package workload

import (
	"fmt"

	"github.com/faultline/faultline/checker/elle"
)

// WR is Jepsen's read-write register transaction workload
// (jepsen.tests.cycle.wr): transactions of writes and reads over a rotating
// set of keys, each value written once per key, checked by Elle's
// rw-register analysis (strict serializability unless TxnOptions.Checker
// says otherwise). See WRWith and the operations in append.go.
func WR(o Options) Workload {
	w, _ := WRWith(o, TxnOptions{}) // the zero TxnOptions are always valid
	return w
}

// WRWith is WR with transactional options.
func WRWith(o Options, t TxnOptions) (Workload, error) {
	t, err := t.withDefaults()
	if err != nil {
		return Workload{}, fmt.Errorf("wr workload: %w", err)
	}
	return Workload{
		Name:      "wr",
		Generator: o.paced(newTxnGen(t, "w")),
		Checker:   elle.RWRegister(t.Checker),
	}, nil
}
