package linear

import (
	"context"
	"os"
	"strconv"
	"syscall"
	"testing"

	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/model"
)

func cpuNow() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
}

func BenchmarkZZGen(b *testing.B) {
	i, _ := strconv.Atoi(os.Getenv("DBG_GEN"))
	h, _ := history.New(simulate(simConfigs[i].cfg))
	m := model.CASRegister(nil)
	b.ResetTimer()
	c0 := cpuNow()
	for range b.N {
		r := Check(context.Background(), h, m, Options{})
		b.ReportMetric(float64(r.Explored), "configs")
	}
	b.ReportMetric((cpuNow()-c0)/float64(b.N), "cpu-ms/op")
}

func BenchmarkZZFile(b *testing.B) {
	path := os.Getenv("DBG_FILE")
	if path == "" {
		b.Skip()
	}
	h := readRef(b, path)
	m, _ := model.ByName(os.Getenv("DBG_MODEL"), nil)
	opts := Options{NoSplit: os.Getenv("DBG_NOSPLIT") != ""}
	b.ResetTimer()
	c0 := cpuNow()
	for range b.N {
		r := Check(context.Background(), h, m, opts)
		b.ReportMetric(float64(r.Explored), "configs")
	}
	b.ReportMetric((cpuNow()-c0)/float64(b.N), "cpu-ms/op")
}

func BenchmarkZZCollect(b *testing.B) {
	i, _ := strconv.Atoi(os.Getenv("DBG_GEN"))
	h, _ := history.New(simulate(simConfigs[i].cfg))
	b.ResetTimer()
	for range b.N {
		collect(h, false)
	}
}

func BenchmarkZZScan(b *testing.B) {
	i, _ := strconv.Atoi(os.Getenv("DBG_GEN"))
	h, _ := history.New(simulate(simConfigs[i].cfg))
	b.ResetTimer()
	n := 0
	for range b.N {
		for j := range h.Ops {
			if h.Ops[j].Process > 3 && h.Ops[j].Key != nil {
				n++
			}
		}
	}
	_ = n
}
