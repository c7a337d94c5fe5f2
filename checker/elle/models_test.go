package elle

import (
	"slices"
	"sort"
	"strings"
	"testing"
)

// These reproduce Elle's test/elle/consistency_model_test.clj.

func TestAllAnomaliesOrder(t *testing.T) {
	want := strings.Fields(`G-MSR G-SI G-SIb G-cursor G-monotonic G-single-item G-update G0 G1b GSIa
		PL-1-cycle-exists PL-2-cycle-exists PL-2.99-cycle-exists PL-3-cycle-exists PL-SI-cycle-exists
		PL-SS-cycle-exists cyclic-versions dirty-update duplicate-elements future-read incompatible-order
		internal lost-update predicate-read-miss strong-PL-1-cycle-exists strong-PL-2-cycle-exists
		strong-session-PL-1-cycle-exists strong-session-PL-2-cycle-exists
		strong-session-serializable-cycle-exists strong-session-snapshot-isolation-cycle-exists
		strong-snapshot-isolation-cycle-exists G-nonadjacent-item G-single-item-process G1a G1c write-skew
		G-nonadjacent-item-process G-single G-single-item-realtime G1 G2-item G-nonadjacent
		G-nonadjacent-item-realtime GSIb G2 GSI G0-process G1c-process G-single-process G1-process
		G2-item-process G-nonadjacent-process G2-process G0-realtime G1c-realtime G-single-realtime
		G1-realtime G2-item-realtime G-nonadjacent-realtime G2-realtime`)
	if got := newLattice().anomalies; !slices.Equal(got, want) {
		t.Fatalf("all anomalies:\n got %v\nwant %v", got, want)
	}
}

func friendlySet(l *lattice, ms []string) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, l.friendlyName(m))
	}
	sort.Strings(out)
	return uniq(out)
}

func TestWeakestModels(t *testing.T) {
	l := newLattice()
	cases := []struct{ in, want []string }{
		{nil, []string{}},
		{[]string{"serializable", "strict-serializable"}, []string{"serializable"}},
		{[]string{"repeatable-read", "read-committed", "sequential", "read-your-writes"}, []string{"read-committed", "read-your-writes"}},
		{[]string{"serializable", "read-atomic"}, []string{"read-atomic"}},
	}
	for _, c := range cases {
		set := map[string]bool{}
		for _, m := range c.in {
			set[l.canon(m)] = true
		}
		if got := friendlySet(l, l.weakest(set)); !slices.Equal(got, c.want) {
			t.Errorf("weakest %v: got %v want %v", c.in, got, c.want)
		}
	}
}

func TestAnomaliesProhibitedByReadCommitted(t *testing.T) {
	got := keys(newLattice().prohibitedBy([]string{"read-committed"}))
	want := []string{"G0", "G1", "G1a", "G1b", "G1c", "PL-1-cycle-exists", "PL-2-cycle-exists", "cyclic-versions",
		"dirty-update", "duplicate-elements", "future-read", "incompatible-order"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestImpossibleModels(t *testing.T) {
	l := newLattice()
	cases := map[string]string{
		"G-single": "consistent-view forward-consistent-view strong-serializable serializable snapshot-isolation " +
			"strong-session-serializable strong-session-snapshot-isolation strong-snapshot-isolation update-serializable",
		"G-SI": "snapshot-isolation serializable strong-serializable strong-session-serializable " +
			"strong-session-snapshot-isolation strong-snapshot-isolation",
		"dirty-update": "read-committed monotonic-atomic-view snapshot-isolation repeatable-read update-atomic serializable " +
			"strong-serializable update-serializable cursor-stability forward-consistent-view consistent-view monotonic-view " +
			"monotonic-snapshot-read causal-cerone parallel-snapshot-isolation prefix read-atomic strong-session-read-committed " +
			"strong-session-serializable strong-session-snapshot-isolation strong-read-committed strong-snapshot-isolation",
		"internal": "causal-cerone parallel-snapshot-isolation prefix read-atomic update-atomic serializable snapshot-isolation " +
			"strong-serializable strong-session-serializable strong-session-snapshot-isolation strong-snapshot-isolation",
	}
	for a, w := range cases {
		want := strings.Fields(w)
		sort.Strings(want)
		if got := friendlySet(l, keys(l.impossibleModels([]string{a}))); !slices.Equal(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", a, got, want)
		}
	}
}

func TestFriendlyBoundary(t *testing.T) {
	l := newLattice()
	f := func(s string) []string {
		out := strings.Fields(s)
		sort.Strings(out)
		if out == nil {
			out = []string{}
		}
		return out
	}
	cases := []struct {
		as           []string
		not, alsoNot string
	}{
		{nil, "", ""},
		{[]string{"cyclic-versions"}, "read-uncommitted", "read-committed snapshot-isolation causal-cerone consistent-view " +
			"cursor-stability forward-consistent-view monotonic-atomic-view monotonic-snapshot-read monotonic-view " +
			"parallel-snapshot-isolation prefix read-atomic repeatable-read update-atomic serializable strong-read-committed " +
			"strong-read-uncommitted strong-serializable strong-session-read-committed strong-session-read-uncommitted " +
			"strong-session-serializable strong-session-snapshot-isolation strong-snapshot-isolation update-serializable"},
		{[]string{"internal"}, "read-atomic", "causal-cerone parallel-snapshot-isolation prefix update-atomic serializable " +
			"snapshot-isolation strong-serializable strong-session-serializable strong-session-snapshot-isolation strong-snapshot-isolation"},
		{[]string{"G1a"}, "read-committed", "read-atomic update-atomic causal-cerone consistent-view cursor-stability " +
			"forward-consistent-view monotonic-atomic-view monotonic-snapshot-read monotonic-view parallel-snapshot-isolation " +
			"prefix repeatable-read serializable snapshot-isolation strong-read-committed strong-snapshot-isolation " +
			"strong-serializable strong-session-read-committed strong-session-serializable strong-session-snapshot-isolation update-serializable"},
		{[]string{"G-single"}, "consistent-view", "snapshot-isolation serializable strong-serializable " +
			"strong-session-snapshot-isolation strong-snapshot-isolation strong-session-serializable forward-consistent-view update-serializable"},
		{[]string{"G2", "internal"}, "read-atomic", "update-atomic causal-cerone parallel-snapshot-isolation prefix serializable " +
			"snapshot-isolation strong-serializable strong-session-serializable strong-session-snapshot-isolation strong-snapshot-isolation"},
		{[]string{"G-single-realtime"}, "strong-snapshot-isolation", "strong-serializable"},
	}
	for _, c := range cases {
		not, also := l.boundary(c.as)
		if not == nil {
			not = []string{}
		}
		if also == nil {
			also = []string{}
		}
		if !slices.Equal(not, f(c.not)) || !slices.Equal(also, f(c.alsoNot)) {
			t.Errorf("%v:\n not %v want %v\n also-not %v\n want %v", c.as, not, f(c.not), also, f(c.alsoNot))
		}
	}
	not, _ := l.boundary([]string{"lost-update"})
	if !slices.Equal(not, []string{"cursor-stability", "update-atomic"}) {
		t.Errorf("lost-update: not %v", not)
	}
}

func TestAllImpossibleModels(t *testing.T) {
	l := newLattice()
	got := keys(l.modelsImplying([]string{"strong-session-serializable"}))
	if !slices.Equal(got, []string{"PL-SS", "strong-session-serializable"}) {
		t.Fatalf("got %v", got)
	}
}

func TestParseModels(t *testing.T) {
	ms, err := ParseModels(" serializable, :snapshot-isolation ,strict-serializable")
	if err != nil || !slices.Equal(ms, []string{"serializable", "snapshot-isolation", "strict-serializable"}) {
		t.Fatalf("got %v %v", ms, err)
	}
	_, err = ParseModels("serializable,stricct-snappshot-isolation")
	if err == nil || !strings.Contains(err.Error(), `unknown consistency model "stricct-snappshot-isolation"`) {
		t.Fatalf("got %v", err)
	}
	if _, err := ParseAnomalies("G1,G2-item,lost-update"); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseAnomalies("G3"); err == nil {
		t.Fatal("G3 accepted")
	}
}

// TestProhibitedTable checks the lattice against the per-model prohibited
// anomalies in the shared reference data (derived from Elle's tables).
func TestProhibitedTable(t *testing.T) {
	dir := sharedData(t)
	data := readFile(t, dir+"/elle/prohibited-anomalies-by-model.txt")
	l := newLattice()
	n := 0
	for _, line := range strings.Split(data, "\n") {
		model, rest, ok := strings.Cut(line, "=>")
		if !ok {
			continue
		}
		model = strings.TrimPrefix(strings.TrimSpace(model), ":")
		var want []string
		for _, a := range strings.Fields(rest) {
			want = append(want, strings.TrimPrefix(a, ":"))
		}
		sort.Strings(want)
		if got := keys(l.prohibitedBy([]string{model})); !slices.Equal(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", model, got, want)
		}
		n++
	}
	if n < 10 {
		t.Fatalf("read only %d models", n)
	}
}
