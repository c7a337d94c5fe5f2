package elle

import (
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
)

// The differential tests compare the list-append checker's serializable
// verdict with a brute-force search for a serial order of the committed
// transactions that explains every read. The oracle knows nothing of
// graphs: it executes transactions one after another on empty lists.

type laMop struct {
	read bool
	key  int
	val  int   // append
	seen []int // read
}

type laTxn []laMop

// serialOrderExists reports whether some order of txns, run one at a time
// from empty lists, makes every read see exactly what it saw.
func serialOrderExists(txns []laTxn, keys int) bool {
	used := make([]bool, len(txns))
	state := make([][]int, keys)
	var dfs func(done int) bool
	dfs = func(done int) bool {
		if done == len(txns) {
			return true
		}
		for i, tx := range txns {
			if used[i] {
				continue
			}
			saved := make([]int, keys)
			for k := range state {
				saved[k] = len(state[k])
			}
			okay := true
			for _, m := range tx {
				if m.read {
					if !slices.Equal(state[m.key], m.seen) {
						okay = false
						break
					}
				} else {
					state[m.key] = append(state[m.key], m.val)
				}
			}
			if okay {
				used[i] = true
				if dfs(done + 1) {
					return true
				}
				used[i] = false
			}
			for k := range state {
				state[k] = state[k][:saved[k]]
			}
		}
		return false
	}
	return dfs(0)
}

// randomListAppend makes a small random history: transactions of appends
// and reads run in a random serial order, then (with perturb) some reads
// changed to another prefix of the key's final list, or the append order
// of a key shuffled. With final, a last transaction reads every key, so
// every append is observed and every version order is known.
func randomListAppend(rng *rand.Rand, perturb, final bool) ([]laTxn, int) {
	keys := 1 + rng.IntN(3)
	n := 2 + rng.IntN(5)
	next := make([]int, keys)
	txns := make([]laTxn, n)
	for i := range txns {
		for range 1 + rng.IntN(4) {
			k := rng.IntN(keys)
			if rng.IntN(2) == 0 {
				next[k]++
				txns[i] = append(txns[i], laMop{key: k, val: next[k]})
			} else {
				txns[i] = append(txns[i], laMop{read: true, key: k})
			}
		}
	}
	// Every key gets at least one append, so the graph is never empty.
	for k := range keys {
		if next[k] == 0 {
			next[k]++
			i := rng.IntN(n)
			txns[i] = append(txns[i], laMop{key: k, val: next[k]})
		}
	}
	// Execute in a random serial order. Without final reads, the store may
	// also lose an append (later reads miss it, so it is never observed).
	lose := [2]int{-1, -1}
	if perturb && !final && rng.IntN(3) == 0 {
		i := rng.IntN(n)
		lose = [2]int{i, rng.IntN(len(txns[i]))}
	}
	state := make([][]int, keys)
	for _, i := range rng.Perm(n) {
		for j := range txns[i] {
			m := &txns[i][j]
			if m.read {
				m.seen = append([]int(nil), state[m.key]...)
			} else if lose != [2]int{i, j} {
				state[m.key] = append(state[m.key], m.val)
			}
		}
	}
	if perturb {
		switch rng.IntN(3) {
		case 0, 1: // a read sees another prefix of the final list
			for tries := 0; tries < 10; tries++ {
				i := rng.IntN(n)
				j := rng.IntN(len(txns[i]))
				if m := &txns[i][j]; m.read {
					fin := state[m.key]
					m.seen = append([]int(nil), fin[:rng.IntN(len(fin)+1)]...)
					break
				}
			}
		case 2: // the store applied a key's appends in another order
			k := rng.IntN(keys)
			rng.Shuffle(len(state[k]), func(a, b int) { state[k][a], state[k][b] = state[k][b], state[k][a] })
		}
	}
	if final {
		var tx laTxn
		for k := range keys {
			tx = append(tx, laMop{read: true, key: k, seen: append([]int(nil), state[k]...)})
		}
		txns = append(txns, tx)
	}
	return txns, keys
}

func laOps(txns []laTxn) []history.Op {
	var ops []history.Op
	for i, tx := range txns {
		var v []any
		for _, m := range tx {
			if m.read {
				seen := make([]any, len(m.seen))
				for j, e := range m.seen {
					seen[j] = int64(e)
				}
				v = append(v, []any{"r", int64(m.key), seen})
			} else {
				v = append(v, []any{"append", int64(m.key), int64(m.val)})
			}
		}
		ops = append(ops, history.Op{Index: i, Time: -1, Type: history.OK, Process: i, F: "txn", Value: v})
	}
	return ops
}

func differentialRuns() int {
	if s := os.Getenv("FAULTLINE_ELLE_DIFF"); s != "" {
		if n, err := strconv.Atoi(s); err == nil {
			return n
		}
	}
	if testing.Short() {
		return 1000
	}
	return 5000
}

// TestDifferentialFullyKnown: every append is read at the end, so version
// orders are complete and the verdict must match the oracle exactly.
func TestDifferentialFullyKnown(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	agree, ser, nonser := 0, 0, 0
	for run := 0; run < differentialRuns(); run++ {
		txns, keys := randomListAppend(rng, rng.IntN(2) == 0, true)
		oracle := serialOrderExists(txns, keys)
		r := runCheck(t, listAppend, models("serializable"), laOps(txns))
		if oracle {
			ser++
		} else {
			nonser++
		}
		if (r.Valid == checker.Valid) != oracle || r.Valid == checker.Unknown {
			t.Fatalf("run %d: oracle serializable=%v, checker %v %v\nhistory: %s", run, oracle, r.Valid, r.AnomalyTypes, fmtOps(laOps(txns)))
		}
		agree++
	}
	t.Logf("%d agreements (%d serializable, %d not)", agree, ser, nonser)
	if ser < agree/10 || nonser < agree/10 {
		t.Errorf("unbalanced sample: %d serializable, %d not", ser, nonser)
	}
}

// TestDifferentialPartiallyKnown: without the final reads some appends
// are never observed; the checker may then miss anomalies (as Elle does),
// but every anomaly it reports must be real.
func TestDifferentialPartiallyKnown(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	missed, caught := 0, 0
	for run := 0; run < differentialRuns(); run++ {
		txns, keys := randomListAppend(rng, rng.IntN(2) == 0, false)
		oracle := serialOrderExists(txns, keys)
		r := runCheck(t, listAppend, models("serializable"), laOps(txns))
		if r.Valid == checker.Invalid && oracle {
			t.Fatalf("run %d: checker reports %v but a serial order exists\nhistory: %s", run, r.AnomalyTypes, fmtOps(laOps(txns)))
		}
		if !oracle {
			if r.Valid == checker.Invalid {
				caught++
			} else {
				missed++
			}
		}
	}
	t.Logf("non-serializable histories: %d caught, %d missed (unobserved appends)", caught, missed)
}

func fmtOps(ops []history.Op) string {
	s := ""
	for _, o := range ops {
		s += "\n  " + o.String()
	}
	return s
}
