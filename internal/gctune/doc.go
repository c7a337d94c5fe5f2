// Package gctune sets the garbage collector for Faultline's runs and
// analyses, which read a history once and keep it whole. The faultline
// binary uses it, and so do the benchmarks that measure what it does.
package gctune
