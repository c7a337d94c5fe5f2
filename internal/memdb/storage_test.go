package memdb

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestMemStorageCrashLosesUnsynced(t *testing.T) {
	s := newMemStorage()
	s.write(record{Term: 2, Vote: "n1"})
	s.write(record{From: 1, Entries: terms(1, 2)[1:]})
	if err := s.sync(); err != nil {
		t.Fatal(err)
	}
	s.write(record{From: 2, Entries: terms(3)[1:]})
	s.write(record{Term: 3})
	s.crash()
	p, _ := s.load()
	if p.term != 2 || p.vote != "n1" || !slices.Equal(logTerms(p.log), []uint64{1, 2}) {
		t.Fatalf("after crash: term %d vote %q log %v", p.term, p.vote, logTerms(p.log))
	}
}

func TestFileStorage(t *testing.T) {
	dir := t.TempDir()
	s, err := openFileStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := s.load(); err != nil || len(p.log) != 1 {
		t.Fatalf("empty load: %v %v", p, err)
	}
	s.write(record{Term: 1, Vote: "n2"})
	s.write(record{From: 1, Entries: terms(1, 1, 1)[1:]})
	s.write(record{From: 3, Entries: terms(0, 0, 2, 2)[3:]}) // truncates index 3 on
	if err := s.sync(); err != nil {
		t.Fatal(err)
	}
	s.write(record{Term: 5}) // never synced: lost with the process
	s.close()

	s2, _ := openFileStorage(dir)
	p, err := s2.load()
	if err != nil {
		t.Fatal(err)
	}
	if p.term != 1 || p.vote != "n2" || !slices.Equal(logTerms(p.log), []uint64{1, 1, 2, 2}) {
		t.Fatalf("reloaded term %d vote %q log %v", p.term, p.vote, logTerms(p.log))
	}
	if p.log[4].Cmd.A != 4 {
		t.Fatalf("entry 4 holds %+v", p.log[4].Cmd)
	}
	// Appending after a reload continues the same file.
	s2.write(record{From: 5, Entries: terms(0, 0, 0, 0, 3)[5:]})
	s2.sync()
	s2.close()
	s3, _ := openFileStorage(dir)
	if p, _ := s3.load(); len(p.log) != 6 {
		t.Fatalf("log length %d after append, want 6 entries", len(p.log)-1)
	}
	s3.close()
}

func TestFileStorageTornTail(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "memdb.log")
	good := `{"term":2,"vote":"n1"}` + "\n" + `{"from":1,"entries":[{"t":1,"c":{"op":"noop"}}]}` + "\n"
	for _, tail := range []string{`{"from":2,"entries":[{"t":1`, `{"from":2,"entr` + "\n", "\x00\x00\x00"} {
		if err := os.WriteFile(path, []byte(good+tail), 0o644); err != nil {
			t.Fatal(err)
		}
		s, _ := openFileStorage(dir)
		p, err := s.load()
		if err != nil {
			t.Fatalf("tail %q: %v", tail, err)
		}
		if p.term != 2 || len(p.log) != 2 {
			t.Fatalf("tail %q: term %d log %v", tail, p.term, logTerms(p.log))
		}
		s.close()
		if data, _ := os.ReadFile(path); string(data) != good {
			t.Fatalf("tail %q not cut: %q", tail, data)
		}
	}
}

func TestFileStorageCorruptMiddle(t *testing.T) {
	dir := t.TempDir()
	data := `{"term":2}` + "\n" + `garbage` + "\n" + `{"term":3}` + "\n"
	os.WriteFile(filepath.Join(dir, "memdb.log"), []byte(data), 0o644)
	s, _ := openFileStorage(dir)
	if _, err := s.load(); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("corrupt record: err %v, want one naming line 2", err)
	}
	data = `{"from":3,"entries":[]}` + "\n" + `{"term":3}` + "\n"
	os.WriteFile(filepath.Join(dir, "memdb.log"), []byte(data), 0o644)
	if _, err := s.load(); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("gap in the log: err %v, want one naming line 1", err)
	}
}

func FuzzParseLog(f *testing.F) {
	f.Add([]byte(`{"term":2,"vote":"n1"}` + "\n" + `{"from":1,"entries":[{"t":1,"c":{"op":"noop"}}]}` + "\n"))
	f.Add([]byte(`{"from":1,"entries":[{"t":1}]}` + "\n" + `{"from":1,"entries":[]}` + "\n" + `{"from":2`))
	f.Add([]byte("\n\n{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, good, err := parseLog(data)
		if err != nil {
			return
		}
		if good < 0 || good > len(data) || len(p.log) == 0 || p.log[0].Term != 0 {
			t.Fatalf("bad parse: good %d of %d, log %d", good, len(data), len(p.log))
		}
		// The intact prefix parses to the same state.
		q, good2, err := parseLog(data[:good])
		if err != nil || good2 != good || q.term != p.term || len(q.log) != len(p.log) {
			t.Fatalf("prefix reparse differs: %v %d %d", err, good2, good)
		}
	})
}
