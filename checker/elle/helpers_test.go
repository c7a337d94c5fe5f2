package elle

import (
	"os"
	"testing"

	"github.com/faultline/faultline/internal/refdata"
)

func sharedData(t testing.TB) string {
	t.Helper()
	return refdata.SharedData(t)
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
