package gctune

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// analysisGCPercent is the garbage collector's target for the process that
// runs tests and analyses: a history is read once and kept whole, so a
// larger target trades memory for about a tenth less time on big histories
// (list-append, 1M transactions). The memory limit below keeps the trade
// within the machine.
const analysisGCPercent = 200

// ForAnalysis sets the collector for a run or an analysis, unless the user
// chose with GOGC or GOMEMLIMIT: GC target analysisGCPercent, and a soft
// memory limit of three quarters of the machine's memory (or the cgroup's
// limit), past which the collector works harder instead of letting the heap
// grow. The returned function restores the previous settings.
func ForAnalysis() (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	limit := memTotal()
	if c := cgroupLimit(); c > 0 && (limit == 0 || c < limit) {
		limit = c
	}
	if limit <= 0 {
		return func() {} // no limit known: keep Go's defaults
	}
	oldLimit := debug.SetMemoryLimit(limit / 4 * 3)
	oldPercent := debug.SetGCPercent(analysisGCPercent)
	return func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	}
}

// memTotal returns MemTotal from /proc/meminfo in bytes, or 0.
func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}

// cgroupLimit returns the cgroup v2 memory limit of this process, or 0.
func cgroupLimit() int64 {
	b, err := os.ReadFile("/sys/fs/cgroup/memory.max")
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0 // "max"
	}
	return n
}
