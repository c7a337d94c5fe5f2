package elle

import (
	"slices"
	"testing"

	"github.com/faultline/faultline/history"
)

// These are Elle's inline list-append cases (test/elle/list_append_test.clj,
// checker-test and the deftests after it), with the verdicts Elle asserts:
// valid, anomaly types and the not set.

func TestElleListAppendG0(t *testing.T) {
	h := hist(ok(0, la("ax1ay1")), ok(0, la("ax2ay2")), ok(0, la("rx12ry21")))
	w := want{invalid, []string{"G0"}, []string{"read-uncommitted"}}
	r := runCheck(t, listAppend, anoms("G0"), h)
	expect(t, "G0", r, w)
	expect(t, "G1", runCheck(t, listAppend, anoms("G1"), h), w)
	expect(t, "G2", runCheck(t, listAppend, anoms("G2"), h), want{valid: valid})
	// The cycle: t1 -ww(x)-> t2 -ww(y)-> t1 (in some rotation).
	c := r.Anomalies["G0"][0]
	if len(c.Cycle) != 3 || c.Cycle[0].Index+c.Cycle[1].Index != 1 || c.Steps[0].Type != "ww" || c.Steps[1].Type != "ww" {
		t.Errorf("G0 cycle: %+v", c)
	}
	for _, s := range c.Steps {
		k := 0
		if s.Key.V == "y" {
			k = 1
		}
		if *s.AMopIndex != k || *s.BMopIndex != k {
			t.Errorf("G0 step: %+v", s)
		}
	}
}

func TestElleListAppendG1a(t *testing.T) {
	h := hist(failed(0, []any{[]any{"append", "x", int64(1)}}), ok(0, la("rx1")))
	expect(t, "read-uncommitted", runCheck(t, listAppend, models("read-uncommitted"), h),
		want{unknown, []string{"empty-transaction-graph"}, []string{"read-committed"}})
	r := runCheck(t, listAppend, models("read-committed"), h)
	expect(t, "read-committed", r, want{invalid, []string{"G1a", "empty-transaction-graph"}, []string{"read-committed"}})
	g := r.Anomalies["G1a"][0]
	if g.Op.Index != 1 || g.Writer.Index != 0 || !history.Equal(g.Element.V, int64(1)) {
		t.Errorf("G1a evidence: %+v", g)
	}
	expect(t, "G2", runCheck(t, listAppend, anoms("G2"), h), want{unknown, []string{"empty-transaction-graph"}, []string{"read-committed"}})
	expect(t, "repeatable-read", runCheck(t, listAppend, models("repeatable-read"), h),
		want{invalid, []string{"G1a", "empty-transaction-graph"}, []string{"read-committed"}})
}

func TestElleListAppendG1b(t *testing.T) {
	h := hist(cat(pair(ok(0, la("ax1ax2"))), pair(ok(0, la("rx1"))))...)
	expect(t, "G0", runCheck(t, listAppend, anoms("G0"), h), want{valid: valid})
	expect(t, "G1", runCheck(t, listAppend, anoms("G1"), h), want{invalid, []string{"G1b"}, []string{"read-committed"}})
	expect(t, "G2", runCheck(t, listAppend, anoms("G2"), h), want{invalid, []string{"G-single-item"}, []string{"read-committed"}})
	r := runCheck(t, listAppend, models("strict-serializable"), h)
	expect(t, "strict-serializable", r, want{invalid, []string{"G-single-item", "G1b"}, []string{"read-committed"}})
	c := r.Anomalies["G-single-item"][0]
	if c.Cycle[0].Index != 3 || c.Cycle[1].Index != 1 || c.Steps[0].Type != "rw" || c.Steps[1].Type != "wr" ||
		!history.Equal(c.Steps[0].Value.V, int64(1)) || !history.Equal(c.Steps[0].Value2.V, int64(2)) || *c.Steps[0].BMopIndex != 1 {
		t.Errorf("G-single-item cycle: %+v", c)
	}
}

func TestElleListAppendG1c(t *testing.T) {
	h := hist(ok(0, la("ax1ry1")), ok(0, la("ax2ay1")), ok(0, la("rx12ry1")))
	expect(t, "G0", runCheck(t, listAppend, anoms("G0"), h), want{valid: valid})
	r := runCheck(t, listAppend, anoms("G1"), h)
	expect(t, "G1", r, want{invalid, []string{"G1c"}, []string{"read-committed"}})
	c := r.Anomalies["G1c"][0]
	if c.Cycle[0].Index != 1 || c.Steps[0].Type != "wr" || c.Steps[1].Type != "ww" {
		t.Errorf("G1c cycle: %+v", c)
	}
	expect(t, "G2", runCheck(t, listAppend, anoms("G2"), h), want{valid: valid})
}

func TestElleListAppendGSingle(t *testing.T) {
	h := hist(ok(0, la("ax1ay1")), ok(0, la("ax2ry")), ok(0, la("rx12")))
	w := want{invalid, []string{"G-single-item"}, []string{"consistent-view", "repeatable-read"}}
	expect(t, "G0", runCheck(t, listAppend, anoms("G0"), h), want{valid: valid})
	expect(t, "G1", runCheck(t, listAppend, anoms("G1"), h), want{valid: valid})
	r := runCheck(t, listAppend, anoms("G-single"), h)
	expect(t, "G-single", r, w)
	expect(t, "G2", runCheck(t, listAppend, anoms("G2"), h), w)
	c := r.Anomalies["G-single-item"][0]
	if c.Cycle[0].Index != 1 || c.Steps[0].Type != "rw" || c.Steps[0].Value.V != nil || c.Steps[1].Type != "ww" {
		t.Errorf("G-single cycle: %+v", c)
	}
}

func TestElleListAppendG2(t *testing.T) {
	h := hist(ok(0, la("ax1ry")), ok(0, la("ay1rx")))
	for _, o := range []Options{anoms("G0"), anoms("G1"), models("read-committed")} {
		expect(t, "not G2", runCheck(t, listAppend, o, h), want{valid: valid})
	}
	for _, o := range []Options{anoms("G2"), models("serializable"), models("repeatable-read")} {
		r := runCheck(t, listAppend, o, h)
		expect(t, "G2", r, want{invalid, []string{"G2-item"}, []string{"repeatable-read"}})
		if s := r.Anomalies["G2-item"][0].Steps; len(s) != 2 || s[0].Type != "rw" || s[1].Type != "rw" {
			t.Errorf("G2-item steps: %+v", s)
		}
	}
}

// strongSI is Elle's "Strong SI violation" history; session moves the
// stale read to the process of the write it misses.
func strongSI(session bool) []history.Op {
	rp := 2
	if session {
		rp = 1
	}
	v := func(p, idx int, typ history.Type, txn []any) history.Op {
		return history.Op{Index: idx, Process: p, Type: typ, F: "txn", Value: txn, Time: -1}
	}
	return []history.Op{
		v(0, 0, history.Invoke, la("ax1")), v(0, 1, history.OK, la("ax1")),
		v(1, 2, history.Invoke, la("ax2")), v(1, 3, history.OK, la("ax2")),
		v(rp, 4, history.Invoke, la("rx")), v(rp, 5, history.OK, la("rx1")),
		v(3, 6, history.Invoke, la("rx")), v(3, 7, history.OK, la("rx12")),
	}
}

func TestElleListAppendStrongSI(t *testing.T) {
	h := strongSI(false)
	expect(t, "G2", runCheck(t, listAppend, anoms("G2"), h), want{valid: valid})
	expect(t, "serializable", runCheck(t, listAppend, models("serializable"), h), want{valid: valid})
	r := runCheck(t, listAppend, models("strict-serializable"), h)
	expect(t, "strict-serializable", r, want{invalid, []string{"G-single-item-realtime"}, []string{"strong-snapshot-isolation"}})
	c := r.Anomalies["G-single-item-realtime"][0]
	if c.Cycle[0].Index != 5 || c.Cycle[1].Index != 3 || c.Steps[0].Type != "rw" || c.Steps[1].Type != "realtime" ||
		*c.Steps[1].Completed != 3 || *c.Steps[1].Invoked != 4 {
		t.Errorf("cycle: %+v", c)
	}
}

func TestElleListAppendStrongSessionSI(t *testing.T) {
	h := strongSI(true)
	expect(t, "serializable", runCheck(t, listAppend, models("serializable"), h), want{valid: valid})
	r := runCheck(t, listAppend, models("strong-session-snapshot-isolation"), h)
	expect(t, "strong-session-SI", r, want{invalid, []string{"G-single-item-process"}, []string{"strong-session-snapshot-isolation"}})
	c := r.Anomalies["G-single-item-process"][0]
	if c.Steps[1].Type != "process" || *c.Steps[1].Process != 1 {
		t.Errorf("cycle: %+v", c)
	}
}

func TestElleListAppendGNonadjacentProcess(t *testing.T) {
	v := func(p, idx int, typ history.Type, txn []any) history.Op {
		return history.Op{Index: idx, Process: p, Type: typ, F: "txn", Value: txn, Time: -1}
	}
	h := []history.Op{
		v(0, 0, history.Invoke, []any{[]any{"r", "x", nil}, []any{"r", "z", nil}}),
		v(0, 1, history.OK, []any{[]any{"r", "x", nil}, []any{"r", "z", []any{int64(1)}}}),
		v(1, 2, history.Invoke, la("ax1")), v(1, 3, history.OK, la("ax1")),
		v(1, 4, history.Invoke, []any{[]any{"r", "z", nil}}), v(1, 5, history.OK, []any{[]any{"r", "z", nil}}),
		v(2, 6, history.Invoke, la("az1")), v(2, 7, history.OK, la("az1")),
	}
	expect(t, "serializable", runCheck(t, listAppend, models("serializable"), h), want{valid: valid})
	r := runCheck(t, listAppend, models("strong-session-snapshot-isolation"), h)
	expect(t, "strong-session-SI", r, want{invalid, []string{"G-nonadjacent-item-process"}, []string{"strong-session-snapshot-isolation"}})
	c := r.Anomalies["G-nonadjacent-item-process"][0]
	var types []string
	for _, s := range c.Steps {
		types = append(types, s.Type)
	}
	if len(c.Cycle) != 5 || !slices.Contains(types, "process") || len(types) != 4 {
		t.Errorf("cycle: %v", types)
	}
}

func TestElleListAppendContradictoryReads(t *testing.T) {
	h := hist(ok(0, la("ax1ry1")), ok(0, la("ax2")), ok(0, la("ax3ay1")), ok(0, la("rx13")), ok(0, la("rx123")))
	r := runCheck(t, listAppend, anoms("G1"), h)
	expect(t, "G1", r, want{invalid, []string{"G1c", "incompatible-order"}, []string{"read-committed"}})
	io := r.Anomalies["incompatible-order"][0]
	if !history.Equal(io.Key.V, "x") || !history.Equal(io.Values.V, []any{[]any{int64(1), int64(3)}, []any{int64(1), int64(2), int64(3)}}) {
		t.Errorf("incompatible-order: %s %s", history.Format(io.Key.V), history.Format(io.Values.V))
	}
	c := r.Anomalies["G1c"][0]
	if len(c.Cycle) != 4 {
		t.Errorf("G1c cycle: %+v", c)
	}
}

func TestElleListAppendDirtyUpdate(t *testing.T) {
	o := anoms("dirty-update")
	expect(t, "none", runCheck(t, listAppend, o, hist(failed(0, la("ax1")))),
		want{unknown, []string{"empty-transaction-graph"}, []string{}})
	r := runCheck(t, listAppend, o, hist(failed(0, la("ax1")), ok(1, la("ax2")), ok(2, la("rx12"))))
	expect(t, "direct", r, want{invalid, []string{"dirty-update"}, []string{"read-committed"}})
	d := r.Anomalies["dirty-update"][0]
	if !history.Equal(d.Values.V, []any{int64(1), int64(2)}) || d.Txns[0].Index != 0 || d.Txns[1].Index != 1 {
		t.Errorf("direct: %+v", d)
	}
	r = runCheck(t, listAppend, o, hist(failed(0, la("ax1")), info(1, la("ax2")), ok(2, la("ax3")), ok(3, la("rx123"))))
	expect(t, "indirect", r, want{invalid, []string{"dirty-update"}, []string{"read-committed"}})
	d = r.Anomalies["dirty-update"][0]
	if !history.Equal(d.Values.V, []any{int64(1), int64(2), int64(3)}) || d.Txns[0].Index != 0 || d.Txns[1].Index != 2 {
		t.Errorf("indirect: %+v", d)
	}
}

func TestElleListAppendDuplicateElements(t *testing.T) {
	h := hist(ok(0, la("ax1ry1")), ok(0, la("ax2ay1")), ok(0, la("rx121")))
	r := runCheck(t, listAppend, models("read-committed"), h)
	expect(t, "duplicates", r, want{invalid, []string{"G1c", "duplicate-elements"}, []string{"read-uncommitted"}})
	d := r.Anomalies["duplicate-elements"][0]
	if !history.Equal(d.Duplicates.V, history.Map{{Key: int64(1), Val: int64(2)}}) {
		t.Errorf("duplicates: %s", history.Format(d.Duplicates.V))
	}
}

func TestElleListAppendInternal(t *testing.T) {
	h := hist(ok(0, la("ax1ax2ax4")), ok(0, la("ax3rx1234")))
	r := runCheck(t, listAppend, anoms("internal"), h)
	expect(t, "internal", r, want{invalid, []string{"internal"}, []string{"read-uncommitted"}})
	if e := r.Anomalies["internal"][0].Expected.V; !history.Equal(e, []any{"...", int64(3)}) {
		t.Errorf("expected: %s", history.Format(e))
	}
}

func TestElleListAppendUnobservedWrite(t *testing.T) {
	w1, w2, w3 := pair(ok(0, la("ax1ay1"))), pair(ok(0, la("ax2ay2"))), pair(ok(0, la("ax3ay3")))
	rx, ry := pair(ok(0, la("rx12"))), pair(ok(0, la("ry2")))
	// Every invocation first, then every completion (processes reused as in
	// Elle's test, whose histories are not checked for that).
	h := hist(w1[0], w2[0], w3[0], rx[0], ry[0], w1[1], w2[1], w3[1], rx[1], ry[1])
	for i := range h {
		h[i].Process = i % 5
	}
	expect(t, "serializable", runCheck(t, listAppend, models("serializable"), h),
		want{invalid, []string{"G-single-item", "G0"}, []string{"read-uncommitted"}})
}

func TestElleListAppendRepeatableRead(t *testing.T) {
	h := hist(ok(0, la("rxay1")), ok(0, la("ryax1")))
	expect(t, "read-committed", runCheck(t, listAppend, models("read-committed"), h), want{valid: valid})
	expect(t, "repeatable-read", runCheck(t, listAppend, models("repeatable-read"), h), want{invalid, []string{"G2-item"}, []string{"repeatable-read"}})
}

func TestElleListAppendGNonadjacent(t *testing.T) {
	h := hist(cat(pair(ok(0, la("ax1"))), pair(ok(0, la("rx1ry"))), pair(ok(0, la("ay1"))), pair(ok(0, la("ry1rx"))))...)
	r := runCheck(t, listAppend, Options{}, h)
	expect(t, "default", r, want{invalid, []string{"G-nonadjacent-item"}, []string{"snapshot-isolation", "repeatable-read"}})
	var types []string
	for _, s := range r.Anomalies["G-nonadjacent-item"][0].Steps {
		types = append(types, s.Type)
	}
	if !slices.Equal(types, []string{"rw", "wr", "rw", "wr"}) && !slices.Equal(types, []string{"wr", "rw", "wr", "rw"}) {
		t.Errorf("steps %v", types)
	}
	h = hist(cat(pair(ok(0, la("rx5ay1"))), pair(ok(0, la("ryaz2"))), pair(ok(0, la("rzat3"))), pair(ok(0, la("rt3au4"))), pair(ok(0, la("ruax5"))))...)
	expect(t, "rw rw wr rw wr", runCheck(t, listAppend, models("snapshot-isolation"), h), want{valid: valid})
}

func TestElleListAppendLostUpdate(t *testing.T) {
	h := hist(cat(pair(ok(0, la("ax0"))), pair(ok(0, la("rx0ax1"))), pair(ok(0, la("rx0ax2"))))...)
	r := runCheck(t, listAppend, Options{}, h)
	expect(t, "lost update", r, want{invalid, []string{"G2-item", "lost-update"}, []string{"update-atomic", "cursor-stability"}})
	lu := r.Anomalies["lost-update"][0]
	if !history.Equal(lu.Value.V, []any{int64(0)}) || len(lu.Txns) != 2 || lu.Txns[0].Index != 3 || lu.Txns[1].Index != 5 {
		t.Errorf("lost update: %+v", lu)
	}
	h = hist(cat(pair(ok(0, la("rxax1ax2"))), pair(ok(0, la("rx12"))))...)
	expect(t, "one txn, double write", runCheck(t, listAppend, Options{}, h), want{valid: valid})
}

func TestElleListAppendWRProcess(t *testing.T) {
	v := func(p, idx int, typ history.Type, txn []any) history.Op {
		return history.Op{Index: idx, Process: p, Type: typ, F: "txn", Value: txn, Time: -1}
	}
	h := []history.Op{
		v(1, 0, history.Invoke, []any{[]any{"r", "x"}, []any{"append", "y", int64(1)}}),
		v(1, 1, history.OK, []any{[]any{"r", "x", []any{int64(1)}}, []any{"append", "y", int64(1)}}),
		v(2, 2, history.Invoke, []any{[]any{"r", "y"}}),
		v(2, 3, history.OK, []any{[]any{"r", "y", []any{int64(1)}}}),
		v(2, 4, history.Invoke, la("ax1")), v(2, 5, history.OK, la("ax1")),
	}
	expect(t, "strong-session-SI", runCheck(t, listAppend, models("strong-session-snapshot-isolation"), h),
		want{invalid, []string{"G1c-process"}, []string{"strong-session-read-committed"}})
}

func TestElleListAppendRRGSingleItem(t *testing.T) {
	h := hist(cat(pair(ok(0, la("ax1ay1"))), pair(ok(0, la("rx1ry"))))...)
	expect(t, "repeatable-read", runCheck(t, listAppend, models("repeatable-read"), h),
		want{invalid, []string{"G-single-item"}, []string{"consistent-view", "repeatable-read"}})
}

func TestElleListAppendRRGNonadjacentItem(t *testing.T) {
	h := hist(cat(pair(ok(0, la("ax1at1"))), pair(ok(0, la("rx1ry"))), pair(ok(0, la("ay1az2"))), pair(ok(0, la("rz2rt"))))...)
	expect(t, "repeatable-read", runCheck(t, listAppend, models("repeatable-read"), h),
		want{invalid, []string{"G-nonadjacent-item"}, []string{"repeatable-read", "snapshot-isolation"}})
}

func TestElleListAppendFutureRead(t *testing.T) {
	txn := []any{[]any{"r", "x", []any{int64(1)}}, []any{"append", "x", int64(1)}}
	h := []history.Op{
		{Index: 0, Process: 0, Type: history.Invoke, F: "txn", Value: txn, Time: -1},
		{Index: 1, Process: 0, Type: history.OK, F: "txn", Value: txn, Time: -1},
	}
	r := runCheck(t, listAppend, models("read-committed"), h)
	expect(t, "future read", r, want{invalid, []string{"empty-transaction-graph", "future-read"}, []string{"read-committed"}})
	if f := r.Anomalies["future-read"][0]; f.Op.Index != 1 || !history.Equal(f.Element.V, int64(1)) {
		t.Errorf("future read: %+v", f)
	}
}

// unfindableGSingle builds the history of Elle's unfindable-g-single test
// (list_append_test.clj:1207): one G-single cycle of n appends in a sea of
// G2-item cycles.
func unfindableGSingle(n, noise int) []history.Op {
	var txns [][]any
	for i := 0; i < n; i++ {
		var second []any
		switch i {
		case 0:
			second = []any{"append", "anti", "first"}
		case n - 1:
			second = []any{"r", "anti", nil}
		default:
			second = []any{"append", int64(i), int64(0)}
		}
		txns = append(txns, []any{[]any{"append", "ring", int64(i)}, second})
	}
	ring := make([]any, n)
	for i := range ring {
		ring[i] = int64(i)
	}
	txns = append(txns, []any{[]any{"r", "ring", ring}})
	for i := 1; i < n-1; i++ {
		for j := 1; j < noise; j++ {
			anti := []any{"anti", int64(i)}
			switch j {
			case noise - 2:
				vs := make([]any, noise-2)
				for k := range vs {
					vs[k] = int64(k)
				}
				txns = append(txns, []any{[]any{"r", int64(i), vs}, []any{"r", anti, nil}})
			case noise - 1:
				txns = append(txns, []any{[]any{"append", anti, int64(0)}, []any{"r", "ring", nil}})
			default:
				txns = append(txns, []any{[]any{"append", int64(i), int64(j)}})
			}
		}
	}
	var ops []history.Op
	for k, txn := range txns {
		p := 2
		if k < n {
			p = 0
		} else if k == n {
			p = 1
		}
		ops = append(ops, pair(ok(p, txn))...)
	}
	return hist(ops...)
}

// TestElleUnfindableGSingle: with no time to search (as Elle, whose search
// times out on it), the component still proves an SI cycle; with time, the
// G-single itself is found.
func TestElleUnfindableGSingle(t *testing.T) {
	n, noise := 1000, 30
	h := unfindableGSingle(n, noise)
	r := runCheck(t, listAppend, Options{ConsistencyModels: []string{"snapshot-isolation"}, CycleSearchTimeout: -1}, h)
	expect(t, "timeout", r, want{invalid, []string{"PL-SI-cycle-exists", "cycle-search-timeout"}, []string{"snapshot-isolation", "repeatable-read"}})
	ce := r.Anomalies["PL-SI-cycle-exists"][0]
	var wantSCC []any
	for i := 0; i < n-1; i++ {
		wantSCC = append(wantSCC, int64(2*i+1))
	}
	if ce.SCCSize != n-1 || ce.Not != "snapshot-isolation" || !history.Equal(ce.SCC.V, wantSCC) {
		t.Errorf("PL-SI-cycle-exists: size %d not %s", ce.SCCSize, ce.Not)
	}
	to := r.Anomalies["cycle-search-timeout"][0]
	if to.AnomalySpecType != "G-single-item" || len(*to.DoesNotContain) != 0 || to.SCCSize != len(h)/2-1 {
		t.Errorf("timeout: %+v", to)
	}
	r = runCheck(t, listAppend, Options{ConsistencyModels: []string{"snapshot-isolation"}}, h)
	expect(t, "found", r, want{invalid, []string{"G-single-item"}, []string{"consistent-view", "repeatable-read"}})
	if c := r.Anomalies["G-single-item"][0]; len(c.Steps) != n {
		t.Errorf("G-single cycle of %d steps, want %d", len(c.Steps), n)
	}
}

// TestManyComponents: components are searched in parallel; every one is
// found and reported in order.
func TestManyComponents(t *testing.T) {
	var ops []history.Op
	for i := 0; i < 50; i++ {
		x, y := int64(2*i), int64(2*i+1)
		t1 := []any{[]any{"r", x, []any{}}, []any{"r", y, []any{}}, []any{"append", x, int64(1)}}
		t2 := []any{[]any{"r", x, []any{}}, []any{"r", y, []any{}}, []any{"append", y, int64(1)}}
		ops = append(ops, ok(0, t1), ok(1, t2))
	}
	r := runCheck(t, listAppend, Options{ConsistencyModels: []string{"serializable"}, MaxAnomalies: 100}, hist(ops...))
	if r.SCCCount != 50 || len(r.Anomalies["G2-item"]) != 50 {
		t.Fatalf("components %d, G2-item %d", r.SCCCount, len(r.Anomalies["G2-item"]))
	}
	for i, a := range r.Anomalies["G2-item"] {
		lo := min(a.Cycle[0].Index, a.Cycle[1].Index)
		if lo != 2*i {
			t.Fatalf("anomaly %d is about ops %d, %d", i, a.Cycle[0].Index, a.Cycle[1].Index)
		}
	}
}
