package elle

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
)

// mainModels are the models each hand-built history is checked under.
var mainModels = []string{
	"read-uncommitted", "read-committed", "cursor-stability", "read-atomic", "update-atomic",
	"consistent-view", "repeatable-read", "snapshot-isolation", "serializable",
	"strong-session-snapshot-isolation", "strong-session-serializable",
	"strong-snapshot-isolation", "strict-serializable",
}

// TestTestdataFiles checks each hand-built history (one anomaly class per
// file, testdata/*.edn) under every main model, as `faultline analyze
// --checker list-append|rw-register --consistency-models M FILE` would:
// invalid, with the anomaly reported, under each model that forbids one of
// the file's anomalies; valid under each model that allows them all.
func TestTestdataFiles(t *testing.T) {
	cases := []struct {
		file string
		// main are the anomaly types the file is about ("a|b": either,
		// depending on which order graph the model needs); also are others
		// it necessarily shows.
		main, also []string
		opts       Options
	}{
		{file: "la-g0.edn", main: []string{"G0"}},
		{file: "la-g1a.edn", main: []string{"G1a"}},
		{file: "la-g1b.edn", main: []string{"G1b"}, also: []string{"G-single-item"}},
		{file: "la-g1c.edn", main: []string{"G1c"}},
		{file: "la-g-single.edn", main: []string{"G-single-item"}},
		{file: "la-g2-item.edn", main: []string{"G2-item"}},
		{file: "la-g-nonadjacent.edn", main: []string{"G-nonadjacent-item"}},
		{file: "la-lost-update.edn", main: []string{"lost-update"}, also: []string{"G2-item"}},
		{file: "la-dirty-update.edn", main: []string{"dirty-update"}, also: []string{"G1a"}},
		{file: "la-internal.edn", main: []string{"internal"}},
		{file: "la-duplicate-elements.edn", main: []string{"duplicate-elements"}},
		{file: "la-incompatible-order.edn", main: []string{"incompatible-order"}},
		{file: "la-future-read.edn", main: []string{"future-read"}},
		{file: "la-g-single-realtime.edn", main: []string{"G-single-item-realtime"}},
		{file: "la-g-single-process.edn", main: []string{"G-single-item-process|G-single-item-realtime"}},
		{file: "la-cyclic-versions.edn", main: []string{"cyclic-versions"}},
		{file: "la-valid.edn"},
		{file: "rw-g0.edn", main: []string{"G0"}, opts: Options{SequentialKeys: true}},
		{file: "rw-g1a.edn", main: []string{"G1a"}},
		{file: "rw-g1b.edn", main: []string{"G1b"}},
		{file: "rw-g1c.edn", main: []string{"G1c"}},
		{file: "rw-g-single.edn", main: []string{"G-single-item"}},
		{file: "rw-g2-item.edn", main: []string{"G2-item"}},
		{file: "rw-internal.edn", main: []string{"internal"}},
		{file: "rw-lost-update.edn", main: []string{"lost-update"}},
		{file: "rw-g-single-realtime.edn", main: []string{"G-single-item-realtime"}},
		{file: "rw-cyclic-versions.edn", main: []string{"cyclic-versions"}, opts: Options{LinearizableKeys: true}},
		{file: "rw-valid.edn"},
	}
	l := testLattice()
	for _, c := range cases {
		h, probs, err := history.ReadFile(filepath.Join("testdata", c.file), history.ReadOptions{})
		if err != nil || len(probs) > 0 {
			t.Fatalf("%s: %v %v", c.file, err, probs)
		}
		mk := ListAppend
		if strings.HasPrefix(c.file, "rw-") {
			mk = RWRegister
		}
		allowedSomewhere := len(c.main) == 0
		for _, m := range mainModels {
			o := c.opts
			o.ConsistencyModels = []string{m}
			res, err := mk(o).Check(context.Background(), h, checker.Options{})
			if err != nil {
				t.Fatal(err)
			}
			r := res.(*Result)
			forb := l.prohibitedBy([]string{m})
			forbidden := false
			for _, a := range append(slices.Clone(c.also), c.main...) {
				for _, alt := range strings.Split(a, "|") {
					if forb[alt] {
						forbidden = true
					}
				}
			}
			if !forbidden {
				allowedSomewhere = true
				if r.Valid != checker.Valid {
					t.Errorf("%s under %s: want valid, got %v %v", c.file, m, r.Valid, r.AnomalyTypes)
				}
				continue
			}
			if r.Valid != checker.Invalid {
				t.Errorf("%s under %s: want invalid, got %v %v", c.file, m, r.Valid, r.AnomalyTypes)
				continue
			}
			for _, a := range c.main {
				alts := strings.Split(a, "|")
				want := false
				for _, alt := range alts {
					want = want || forb[alt]
				}
				got := false
				for _, alt := range alts {
					got = got || slices.Contains(r.AnomalyTypes, alt)
				}
				if want && !got {
					t.Errorf("%s under %s: %s not reported: %v", c.file, m, a, r.AnomalyTypes)
				}
			}
			if r.Models[m] != checker.Invalid {
				t.Errorf("%s under %s: models %v", c.file, m, r.Models)
			}
		}
		if !allowedSomewhere {
			t.Logf("%s: every main model forbids %v", c.file, c.main)
		}
	}
}
