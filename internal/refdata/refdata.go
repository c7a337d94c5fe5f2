// Package refdata locates reference data shared by the tests of several
// packages: the histories with known verdicts from the Knossos, Porcupine and
// Elle test suites.
package refdata

import (
	"os"
	"path/filepath"
	"testing"
)

// SharedData returns the folder holding the reference histories
// (knossos/, porcupine/, elle/ and MANIFEST.md). It looks at
// $FAULTLINE_SHARED_DATA, then at ../shared/data beside the module root and
// at testdata/shared inside it; the test is skipped when none exists.
func SharedData(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("FAULTLINE_SHARED_DATA"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "MANIFEST.md")); err == nil {
			return d
		}
		t.Fatalf("FAULTLINE_SHARED_DATA=%s holds no MANIFEST.md", d)
	}
	root := ModuleRoot(t)
	for _, d := range []string{filepath.Join(root, "..", "shared", "data"), filepath.Join(root, "testdata", "shared")} {
		if _, err := os.Stat(filepath.Join(d, "MANIFEST.md")); err == nil {
			return d
		}
	}
	t.Skip("reference histories not found: set FAULTLINE_SHARED_DATA to the folder holding MANIFEST.md")
	return ""
}

// ModuleRoot returns the folder holding go.mod, walking up from the working
// directory.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}
