package linear

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/internal/refdata"
	"github.com/faultline/faultline/model"
)

// etcdLinearizable lists the Porcupine etcd logs its tests assert to be
// linearizable (porcupine_test.go:386-801, checkJepsen(t, N, true)); every
// other log but the empty etcd_095 is asserted not linearizable.
var etcdLinearizable = map[int]bool{
	2: true, 5: true, 7: true, 18: true, 25: true, 31: true, 38: true, 45: true, 48: true, 49: true,
	51: true, 53: true, 56: true, 67: true, 75: true, 76: true, 80: true, 87: true, 92: true, 98: true,
	100: true, 101: true, 102: true,
}

// refCase is one reference history with the verdict its project asserts.
type refCase struct {
	name  string // path under the shared data folder
	model string
	init  any
	want  checker.Validity
	opts  Options
}

// refCases lists every reference history with an asserted verdict
// (MANIFEST.md §1 and §2). Slow ones are left out unless slow is set.
func refCases(t testing.TB, dir string, slow bool) []refCase {
	var cases []refCase
	glob := func(pattern string) []string {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(m)
		return m
	}
	rel := func(p string) string { r, _ := filepath.Rel(dir, p); return r }
	// Knossos core_test.clj:105-117: good/ valid, bad/ invalid, cas-register 0.
	for _, v := range []struct {
		sub  string
		want checker.Validity
	}{{"good", checker.Valid}, {"bad", checker.Invalid}} {
		for _, p := range glob("knossos/data/cas-register/" + v.sub + "/*.edn") {
			cases = append(cases, refCase{name: rel(p), model: "cas-register", init: int64(0), want: v.want})
		}
		for _, p := range glob("knossos/data/multi-register/" + v.sub + "/*.edn") {
			cases = append(cases, refCase{name: rel(p), model: "multi-register",
				init: history.Map{{Key: "x", Val: int64(0)}, {Key: "y", Val: int64(0)}}, want: v.want})
		}
		// Knossos asserts no verdict for mutex/bad/etcd.edn beyond its folder
		// name; Porcupine agrees it is not linearizable (MANIFEST §1).
		for _, p := range glob("knossos/data/mutex/" + v.sub + "/*.edn") {
			cases = append(cases, refCase{name: rel(p), model: "mutex", want: v.want})
		}
	}
	// Two specific Knossos tests use cas-register nil (wgl_test.clj:121-139).
	for _, n := range []string{"rethink-fail-minimal.edn", "rethink-fail-smaller.edn"} {
		cases = append(cases, refCase{name: "knossos/data/cas-register/bad/" + n, model: "cas-register", want: checker.Invalid})
	}
	for _, p := range glob("porcupine/test_data/jepsen/etcd_*.log") {
		var n int
		fmt.Sscanf(filepath.Base(p), "etcd_%d.log", &n)
		if n == 95 {
			continue // empty: "etcd cluster failed to start up in test 95"
		}
		want := checker.Invalid
		if etcdLinearizable[n] {
			want = checker.Valid
		}
		cases = append(cases, refCase{name: rel(p), model: "cas-register", want: want})
	}
	for _, p := range glob("porcupine/test_data/kv/*.txt") {
		want := checker.Invalid
		if strings.HasSuffix(p, "-ok.txt") {
			want = checker.Valid
		}
		cases = append(cases, refCase{name: rel(p), model: "kv", want: want})
		switch {
		case !strings.Contains(p, "c50"):
			cases = append(cases, refCase{name: rel(p), model: "kv", want: want, opts: Options{NoSplit: true}})
		case slow:
			// Porcupine cannot check c50 unsplit at all (MANIFEST §2.2);
			// try within a budget.
			cases = append(cases, refCase{name: rel(p), model: "kv", want: want, opts: Options{NoSplit: true, TimeBudget: 2 * time.Minute}})
		}
	}
	return cases
}

func readRef(t testing.TB, path string) *history.History {
	t.Helper()
	h, probs, err := history.ReadFile(path, history.ReadOptions{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(probs) > 0 {
		t.Fatalf("%s: %d problems, first: %v", path, len(probs), probs[0])
	}
	return h
}

// TestReferenceHistories checks every history of the shared data with an
// asserted verdict. Set FAULTLINE_SOAK=1 to include kv c50 unsplit.
func TestReferenceHistories(t *testing.T) {
	dir := refdata.SharedData(t)
	cases := refCases(t, dir, os.Getenv("FAULTLINE_SOAK") != "")
	if len(cases) < 230 {
		t.Fatalf("only %d reference histories found under %s", len(cases), dir)
	}
	var total time.Duration
	for _, c := range cases {
		name := c.name
		if c.opts.NoSplit {
			name += "/nosplit"
		}
		t.Run(name, func(t *testing.T) {
			h := readRef(t, filepath.Join(dir, c.name))
			m, err := model.ByName(c.model, c.init)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			r := Check(context.Background(), h, m, c.opts)
			el := time.Since(start)
			total += el
			if r.Valid == checker.Unknown && r.Cause == "timeout" && c.opts.TimeBudget > 0 {
				t.Skipf("%s: undecided within %v (%s)", c.name, c.opts.TimeBudget, r.Summary())
			}
			if r.Valid != c.want {
				t.Fatalf("%s: got %v (%s), want %v", c.name, r.Valid, r.Summary(), c.want)
			}
			if el > 100*time.Millisecond {
				t.Logf("%s took %v (%d configurations)", name, el, r.Explored)
			}
			if r.Valid == checker.Invalid && (r.Op == nil || r.Reason == "" || r.Summary() == "") {
				t.Fatalf("%s: invalid without evidence", c.name)
			}
			// Every reference history renders, within the size bound.
			var buf bytes.Buffer
			if err := RenderHTML(&buf, h, r); err != nil {
				t.Fatalf("render: %v", err)
			}
			if buf.Len() > 2<<20 || !strings.HasSuffix(buf.String(), "</html>\n") {
				t.Fatalf("rendered %d bytes", buf.Len())
			}
		})
	}
	t.Logf("%d reference histories checked in %v", len(cases), total)
}

// TestKnossosEvidence checks the evidence against what Knossos' own tests
// assert for its bad histories (MANIFEST §1): the op that cannot be
// linearized and the previous ok op, by history index.
func TestKnossosEvidence(t *testing.T) {
	dir := refdata.SharedData(t)
	for _, c := range []struct {
		file            string
		init            any
		op, previousOK  int
		process         int
		lastOp, pending int // config: last op linearized; -1 when not asserted
	}{
		{"bad-analysis.edn", int64(0), 14, 11, 21, -1, -1},     // wgl_test.clj:83-90
		{"cas-failure.edn", int64(0), 491, 478, 70, 472, -1},   // linear_test.clj:116-151
		{"immediate-failure.edn", int64(0), 3, -1, 1, -1, -1},  // linear_test.clj:178-189
		{"rethink-fail-minimal.edn", nil, 4, -1, 1, -1, -1},    // linear_test.clj:153-161
		{"rethink-fail-smaller.edn", nil, 217, -1, 12, -1, -1}, // wgl_test.clj:131-139
	} {
		h := readRef(t, filepath.Join(dir, "knossos/data/cas-register/bad", c.file))
		r := Check(context.Background(), h, model.CASRegister(c.init), Options{})
		if r.Valid != checker.Invalid {
			t.Fatalf("%s: %v", c.file, r.Valid)
		}
		if r.Op.Index != c.op || r.Op.Process != c.process {
			t.Errorf("%s: op %d by %v, want %d by %d", c.file, r.Op.Index, r.Op.Process, c.op, c.process)
		}
		if c.previousOK >= 0 && (r.PreviousOK == nil || r.PreviousOK.Index != c.previousOK) {
			t.Errorf("%s: previous-ok %+v, want index %d", c.file, r.PreviousOK, c.previousOK)
		}
		if c.lastOp >= 0 && (len(r.Configs) == 0 || r.Configs[0].LastOp == nil || r.Configs[0].LastOp.Index != c.lastOp) {
			t.Errorf("%s: configs %+v, want last op %d", c.file, r.Configs, c.lastOp)
		}
	}
}
