package linear

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/faultline/faultline/history"
)

func TestZZPorc(t *testing.T) {
	path := os.Getenv("DBG_FILE")
	if path == "" {
		t.Skip()
	}
	h := readRef(t, path)
	pops := pKVOps(h)
	byKey := map[any][]porcupine.Operation{}
	for _, op := range pops {
		k := op.Input.(pKVInput).key
		byKey[k] = append(byKey[k], op)
	}
	ks := `"4"`
	start := time.Now()
	res := porcupine.CheckOperationsTimeout(pKVModel, byKey[ks], 20*time.Second)
	fmt.Printf("porcupine ops key %s: %d ops %v %v\n", ks, len(byKey[ks]), res, time.Since(start))
	// events
	var evs []porcupine.Event
	ids := map[int]int{}
	for i, op := range h.Ops {
		if history.Format(op.Key) != ks {
			continue
		}
		if op.Type == history.Invoke {
			ids[i] = len(ids)
			in := pKVInput{key: ks}
			switch op.F {
			case "put":
				in.op = 1
			case "append":
				in.op = 2
			}
			if s, ok := op.Value.(string); ok {
				in.value = s
			}
			evs = append(evs, porcupine.Event{Kind: porcupine.CallEvent, Value: in, Id: ids[i]})
		} else {
			s, _ := op.Value.(string)
			if op.F != "get" {
				s = ""
			}
			evs = append(evs, porcupine.Event{Kind: porcupine.ReturnEvent, Value: s, Id: ids[h.Pair(i)]})
		}
	}
	start = time.Now()
	res = porcupine.CheckEventsTimeout(pKVModel, evs, 20*time.Second)
	fmt.Printf("porcupine events key %s: %d evs %v %v\n", ks, len(evs), res, time.Since(start))
}
