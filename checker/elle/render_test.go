package elle

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
)

var update = flag.Bool("update", false, "rewrite golden files")

func checkFile(t *testing.T, c checker.Checker, file string, dir string) *Result {
	t.Helper()
	h, _, err := history.ReadFile(filepath.Join("testdata", file), history.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Check(context.Background(), h, checker.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return res.(*Result)
}

func TestEvidenceFiles(t *testing.T) {
	dir := t.TempDir()
	r := checkFile(t, ListAppend(Options{ConsistencyModels: []string{"serializable"}}), "la-g-nonadjacent.edn", dir)
	if r.Valid != checker.Invalid {
		t.Fatalf("got %v", r.Valid)
	}
	d := filepath.Join(dir, EvidenceDir)
	txt := readFile(t, filepath.Join(d, "G-nonadjacent-item.txt"))
	for _, want := range []string{"G-nonadjacent-item #0", "Let:", "T1 = ", "However,", "a contradiction!", "without it", "saw T"} {
		if !strings.Contains(txt, want) {
			t.Errorf("text file lacks %q:\n%s", want, txt)
		}
	}
	svg := readFile(t, filepath.Join(d, "G-nonadjacent-item-0.svg"))
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Errorf("svg is not XML: %v", err)
	}
	for _, want := range []string{">rw<", ">wr<", ">T4<", "op "} {
		if !strings.Contains(svg, want) {
			t.Errorf("svg lacks %q", want)
		}
	}
	idx := readFile(t, filepath.Join(d, "index.html"))
	if !strings.Contains(idx, "G-nonadjacent-item-0.svg") || !strings.Contains(idx, "a contradiction!") {
		t.Errorf("index.html: %s", idx)
	}
	// Non-cycle anomalies get a text file too.
	dir2 := t.TempDir()
	checkFile(t, ListAppend(Options{ConsistencyModels: []string{"read-committed"}}), "la-g1a.edn", dir2)
	if g := readFile(t, filepath.Join(dir2, EvidenceDir, "G1a.txt")); !strings.Contains(g, "aborted read") {
		t.Errorf("G1a.txt: %s", g)
	}
	// A valid history writes nothing.
	dir3 := t.TempDir()
	checkFile(t, ListAppend(Options{}), "la-valid.edn", dir3)
	if _, err := os.Stat(filepath.Join(dir3, EvidenceDir)); err == nil {
		t.Error("valid history wrote evidence")
	}
}

// TestGoldenResult pins the JSON result of one history (go test -update
// rewrites it).
func TestGoldenResult(t *testing.T) {
	for _, c := range []struct {
		file, golden string
		ck           checker.Checker
	}{
		{"la-g2-item.edn", "la-g2-item.serializable.json", ListAppend(Options{ConsistencyModels: []string{"serializable"}})},
		{"rw-g-single.edn", "rw-g-single.serializable.json", RWRegister(Options{ConsistencyModels: []string{"serializable"}})},
	} {
		r := checkFile(t, c.ck, c.file, "")
		got, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", "golden", c.golden)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if want := readFile(t, path); strings.TrimSpace(want) != string(got) {
			t.Errorf("%s differs from golden %s:\n%s", c.file, path, got)
		}
	}
}
