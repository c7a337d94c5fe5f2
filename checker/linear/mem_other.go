//go:build !linux

package linear

// physicalMemory returns 0 where the machine's memory is not known; the
// default memory budget is then fixed.
func physicalMemory() int64 { return 0 }
