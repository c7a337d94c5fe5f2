package linear

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/faultline/faultline/model"
)

func TestZZDebug(t *testing.T) {
	path := os.Getenv("DBG_FILE")
	if path == "" {
		t.Skip()
	}
	h := readRef(t, path)
	m, _ := model.ByName(os.Getenv("DBG_MODEL"), nil)
	calls, _, _ := collect(h, false)
	parts, _ := partition(calls, m, os.Getenv("DBG_NOSPLIT") != "")
	for i := range parts {
		stop := &stopper{limit: 1 << 40}
		res := partResult{p: &parts[i]}
		start := time.Now()
		tm := time.AfterFunc(10*time.Second, func() { stop.halt(causeTimeout) })
		checkPart(m, &res, stop, nil)
		tm.Stop()
		fmt.Printf("part %v: %d calls, verdict %v, explored %d, %v\n", parts[i].key, len(parts[i].calls), res.verdict, res.explored, time.Since(start))
	}
}
