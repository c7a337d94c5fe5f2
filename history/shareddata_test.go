package history

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/faultline/faultline/internal/refdata"
)

// manifestRows parses the tables of the shared data's MANIFEST.md: for each
// row whose first cell names a history file, the cells by column header.
// Cells are counted from the end of the row for the columns after the
// last free-text column, so a '|' inside a free-text cell does not shift
// them.
func manifestRows(t *testing.T, dir string) map[string]map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "MANIFEST.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := map[string]map[string]string{}
	var header []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "|") {
			header = nil
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if strings.HasPrefix(cells[0], "file") {
			header = cells
			continue
		}
		if header == nil || strings.HasPrefix(cells[0], "---") {
			continue
		}
		name := strings.Trim(cells[0], "`")
		if !strings.HasSuffix(name, ".edn") && !strings.HasSuffix(name, ".log") && !strings.HasSuffix(name, ".txt") {
			continue
		}
		row := map[string]string{}
		for i, h := range header {
			j := i
			if len(cells) != len(header) && i > 0 {
				j = len(cells) - (len(header) - i) // count from the end
			}
			if j >= 0 && j < len(cells) {
				row[h] = cells[j]
			}
		}
		rows[name] = row
	}
	return rows
}

// stats are counts over a history in the MANIFEST's terms.
type stats struct {
	invokes  int // client invocations
	ok       int
	fails    int // client ops completed with fail
	infos    int // client ops completed with info or never completed
	infoLine int // client info completions
	nemesis  int // nemesis ops
	procs    int // distinct client processes
	fs       map[string]int
	keys     map[string]bool
}

func countOps(h *History) stats {
	s := stats{fs: map[string]int{}, keys: map[string]bool{}}
	procs := map[int]bool{}
	for i, op := range h.Ops {
		if op.Process == NemesisProcess {
			s.nemesis++
			continue
		}
		procs[op.Process] = true
		switch op.Type {
		case Invoke:
			s.invokes++
			s.fs[op.F]++
			if op.Key != nil {
				s.keys[Format(op.Key)] = true
			}
			c, ok := h.Completion(i)
			switch {
			case !ok || c.Type == Info:
				s.infos++
			case c.Type == Fail:
				s.fails++
			case c.Type == OK:
				s.ok++
			}
		case Info:
			s.infoLine++
		}
	}
	s.procs = len(procs)
	return s
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.ReplaceAll(strings.Trim(s, "*"), ",", ""))
	if err != nil {
		t.Fatalf("MANIFEST cell %q is not a number", s)
	}
	return n
}

// sharedHistories lists every history file of the shared data, relative to
// it.
func sharedHistories(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"knossos/data/*/*/*.edn", "elle/histories/*.edn", "porcupine/test_data/jepsen/*.log", "porcupine/test_data/kv/*.txt"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	if len(files) < 200 {
		t.Fatalf("found only %d histories under %s", len(files), dir)
	}
	return files
}

// TestSharedData reads every history of the shared reference data in
// strict mode, checks its counts against MANIFEST.md and round-trips it
// through every format.
func TestSharedData(t *testing.T) {
	dir := refdata.SharedData(t)
	rows := manifestRows(t, dir)
	checked := 0
	for _, path := range sharedHistories(t, dir) {
		rel, _ := filepath.Rel(dir, path)
		t.Run(rel, func(t *testing.T) {
			if filepath.Base(path) == "paper-example.edn" {
				checkPaperExample(t, path)
				return
			}
			h, probs, err := ReadFile(path, ReadOptions{})
			if err != nil {
				t.Fatalf("strict read: %v", err)
			}
			if len(probs) > 0 {
				t.Fatalf("problems: %v", probs)
			}
			s := countOps(h)
			key := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(rel, "knossos/data/"), "porcupine/test_data/"), "elle/")
			key = strings.TrimPrefix(key, "jepsen/")
			if row, ok := rows[key]; ok {
				checked++
				checkManifestRow(t, key, row, s)
			}
			roundTrip(t, path, h)
		})
	}
	t.Logf("checked %d MANIFEST rows", checked)
	if checked < 200 {
		t.Errorf("only %d files matched a MANIFEST row", checked)
	}
}

func checkManifestRow(t *testing.T, key string, row map[string]string, s stats) {
	t.Helper()
	want := func(col string, got int) {
		t.Helper()
		v, ok := row[col]
		if !ok || v == "" || v == "–" {
			return
		}
		if n := atoi(t, v); n != got {
			t.Errorf("%s: %s = %d, MANIFEST says %d", key, col, got, n)
		}
	}
	switch {
	case strings.HasSuffix(key, ".log"):
		want("ops", s.invokes)
		want("info", s.infoLine)
		want("procs", s.procs)
		// MANIFEST's fail column counts :fail lines.
		want("fail", s.fails)
	case strings.HasPrefix(key, "kv/"):
		want("ops", s.invokes)
		want("procs", s.procs)
		want("keys", len(s.keys))
		if gpa := row["get/put/append"]; gpa != "" {
			if got := fmt.Sprintf("%d/%d/%d", s.fs["get"], s.fs["put"], s.fs["append"]); got != gpa {
				t.Errorf("%s: get/put/append %s, MANIFEST says %s", key, got, gpa)
			}
		}
		if s.fails+s.infos != 0 {
			t.Errorf("%s: %d fail and %d info ops, MANIFEST says none", key, s.fails, s.infos)
		}
	case strings.HasPrefix(key, "histories/"):
		switch key {
		case "histories/huge-scc.edn":
			// 10,254 client txns (3,036 ok, 7,070 fail, 148 info) + 94 nemesis ops.
			if s.invokes != 10254 || s.ok != 3036 || s.fails != 7070 || s.infos != 148 || s.nemesis != 94 {
				t.Errorf("%s: %+v", key, s)
			}
		case "histories/si-without-g-single.edn":
			if s.invokes != 4 || s.ok != 4 || s.procs != 4 {
				t.Errorf("%s: %+v", key, s)
			}
		}
	default:
		want("ops", s.invokes)
		want("fail", s.fails)
		want("info", s.infos)
	}
}

// checkPaperExample: Elle's paper example has no :process. Strict mode
// names the missing field; lenient mode keeps all 8 ops as 4 transactions
// on synthetic processes, with 8 problems reported.
func checkPaperExample(t *testing.T, path string) {
	_, _, err := ReadFile(path, ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "paper-example.edn:1: op 0") || !strings.Contains(err.Error(), "missing :process") {
		t.Errorf("strict: %v", err)
	}
	h, probs, err := ReadFile(path, ReadOptions{Lenient: true})
	if err != nil {
		t.Fatal(err)
	}
	s := countOps(h)
	if h.Len() != 8 || len(probs) != 8 || s.invokes != 4 || s.ok != 4 || s.procs != 4 {
		t.Errorf("lenient: %d ops, %d problems, %+v", h.Len(), len(probs), s)
	}
}

// roundTrip writes h in every format that can hold it and reads it back.
func roundTrip(t *testing.T, path string, h *History) {
	t.Helper()
	for _, f := range []FileFormat{FormatJSONL, FormatEDN, FormatText} {
		var buf bytes.Buffer
		var err error
		switch f {
		case FormatJSONL:
			err = WriteJSONL(&buf, h.Ops)
		case FormatEDN:
			err = WriteEDN(&buf, h.Ops)
		case FormatText:
			if strings.HasSuffix(path, ".edn") || strings.HasSuffix(path, ".txt") {
				continue // text drops time, index and keys
			}
			err = WriteText(&buf, h.Ops)
		}
		if err != nil {
			t.Fatal(err)
		}
		back, probs, err := Read(&buf, "back", ReadOptions{})
		if err != nil || len(probs) > 0 {
			t.Fatalf("%s: reading back: %v %v", f, err, probs)
		}
		if !opSlicesEqual(back.Ops, h.Ops) {
			for i := range h.Ops {
				if i >= len(back.Ops) || !opsEqual(back.Ops[i], h.Ops[i]) {
					t.Fatalf("%s round trip differs at op %d: %v", f, i, back.Ops[i:min(i+1, len(back.Ops))])
				}
			}
			t.Fatalf("%s round trip has %d ops, want %d", f, back.Len(), h.Len())
		}
	}
}
