package gctune

import (
	"runtime/debug"
	"testing"
)

func TestForAnalysis(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	restore := ForAnalysis()
	got := debug.SetGCPercent(-1)
	debug.SetGCPercent(got)
	if memTotal() > 0 && got != analysisGCPercent {
		t.Errorf("GC percent %d, want %d", got, analysisGCPercent)
	}
	if limit := debug.SetMemoryLimit(-1); memTotal() > 0 && (limit <= 0 || limit > memTotal()) {
		t.Errorf("memory limit %d, machine has %d", limit, memTotal())
	}
	restore()
	if p := debug.SetGCPercent(100); p != 100 {
		t.Errorf("restore left GC percent %d", p)
	}
}

func TestUserSettingsWin(t *testing.T) {
	t.Setenv("GOGC", "50")
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	ForAnalysis()()
	if p := debug.SetGCPercent(100); p != 100 {
		t.Errorf("GOGC set by the user, but GC percent became %d", p)
	}
}
