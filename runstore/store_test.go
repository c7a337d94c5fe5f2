package runstore

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCreateFinishAndLinks(t *testing.T) {
	base := t.TempDir()
	start := time.Date(2026, 11, 25, 14, 3, 4, 567e6, time.FixedZone("x", 3600))
	d1, err := Create(base, "memory-register", start)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(base, "memory-register", "20261125T140304.567+0100"); d1 != want {
		t.Fatalf("run folder %s, want %s", d1, want)
	}
	d2, err := Create(base, "memory-register", start)
	if err != nil || d2 != d1+"-1" {
		t.Fatalf("second run in the same millisecond: %s, %v", d2, err)
	}
	if cur, _ := filepath.EvalSymlinks(filepath.Join(base, "current")); cur != mustEval(t, d2) {
		t.Fatalf("current points at %s", cur)
	}
	if err := Finish(base, d2); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{filepath.Join(base, "latest"), filepath.Join(base, "memory-register", "latest")} {
		if got, _ := filepath.EvalSymlinks(l); got != mustEval(t, d2) {
			t.Fatalf("%s -> %s, want %s", l, got, d2)
		}
	}
	if _, err := os.Lstat(filepath.Join(base, "current")); !os.IsNotExist(err) {
		t.Fatalf("current left behind after Finish")
	}
	// Links are relative, so a moved store still works.
	if target, _ := os.Readlink(filepath.Join(base, "latest")); filepath.IsAbs(target) {
		t.Fatalf("latest is absolute: %s", target)
	}
}

func mustEval(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCheckName(t *testing.T) {
	for _, bad := range []string{"", "a/b", "..", "latest", "current", "-x", "a b"} {
		if CheckName(bad) == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
	for _, good := range []string{"etcd-register", "x", "a.b_c+d"} {
		if err := CheckName(good); err != nil {
			t.Errorf("name %q refused: %v", good, err)
		}
	}
}

func TestResolveAndList(t *testing.T) {
	base := t.TempDir()
	ours, _ := Create(base, "a", time.Now().Add(-time.Hour))
	os.WriteFile(filepath.Join(ours, HistoryFile), nil, 0o644)
	jep, _ := Create(base, "b", time.Now())
	os.WriteFile(filepath.Join(jep, HistoryEDNFile), nil, 0o644)
	os.WriteFile(filepath.Join(jep, JepsenResultsFile), nil, 0o644)
	Finish(base, ours)
	empty := t.TempDir()

	src, err := Resolve(filepath.Join(base, "latest"))
	if err != nil || src.Kind != KindRun || src.Dir != mustEval(t, ours) {
		t.Fatalf("latest: %+v %v", src, err)
	}
	if src, err := Resolve(jep); err != nil || src.Kind != KindJepsen {
		t.Fatalf("jepsen folder: %+v %v", src, err)
	}
	if src, err := Resolve(filepath.Join(ours, HistoryFile)); err != nil || src.Kind != KindFile {
		t.Fatalf("file: %+v %v", src, err)
	}
	if _, err := Resolve(empty); err == nil {
		t.Fatal("an empty folder resolved")
	}
	if _, err := Resolve(filepath.Join(base, "nope")); err == nil {
		t.Fatal("a missing path resolved")
	}
	runs, err := List(base)
	if err != nil || len(runs) != 2 || runs[0].Name != "b" || runs[1].Name != "a" {
		t.Fatalf("List: %+v %v", runs, err)
	}
}

func TestParseStamp(t *testing.T) {
	for _, s := range []string{"20261125T140304.567+0100", "20261125T140304.567+0100-3", "20261125T140304.567Z", "20261125T140304.567-0500"} {
		if _, err := ParseStamp(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	if _, err := ParseStamp("latest"); err == nil {
		t.Error("latest parsed as a time")
	}
}
