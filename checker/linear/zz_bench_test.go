package linear

import (
	"context"
	"os"
	"testing"

	"github.com/faultline/faultline/model"
)

func BenchmarkZZFile(b *testing.B) {
	path := os.Getenv("DBG_FILE")
	if path == "" {
		b.Skip()
	}
	h := readRef(b, path)
	m, _ := model.ByName(os.Getenv("DBG_MODEL"), nil)
	opts := Options{NoSplit: os.Getenv("DBG_NOSPLIT") != "", Workers: 1}
	b.ResetTimer()
	for range b.N {
		r := Check(context.Background(), h, m, opts)
		b.ReportMetric(float64(r.Explored), "configs")
	}
}
