package linear

import (
	"fmt"
	"os"
	"testing"
)

func TestZZDump(t *testing.T) {
	h := readRef(t, "/work/shared/data/porcupine/test_data/kv/c50-ok.txt")
	f, _ := os.Create("/tmp/ours.txt")
	for i, op := range h.Ops {
		fmt.Fprintf(f, "%d %v %d pair=%d %q %#v\n", op.Process, op.Type, i, h.Pair(i), op.Key, op.Value)
	}
	f.Close()
}
