package linear

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faultline/faultline/model"
)

func TestZZKnossosEvidence(t *testing.T) {
	for _, f := range []string{"bad-analysis", "cas-failure", "immediate-failure", "rethink-fail-minimal", "rethink-fail-smaller", "mongodb-v0-ack-rollback-6"} {
		h := readRef(t, "/work/shared/data/knossos/data/cas-register/bad/"+f+".edn")
		for _, init := range []any{int64(0), nil} {
			r := Check(context.Background(), h, model.CASRegister(init), Options{})
			po := -1
			if r.PreviousOK != nil {
				po = r.PreviousOK.Index
			}
			fmt.Printf("%s init=%v: op %+v prev-ok %d\n  %s\n", f, init, *r.Op, po, r.Summary())
			if len(r.Configs) > 0 {
				c := r.Configs[0]
				fmt.Printf("  config model %s last %+v pending %d\n", c.Model, c.LastOp, len(c.Pending))
			}
		}
	}
}

func TestZZHTML(t *testing.T) {
	for _, f := range []string{"/work/shared/data/knossos/data/cas-register/bad/cas-failure.edn", "/work/shared/data/porcupine/test_data/kv/c10-bad.txt", "/work/shared/data/porcupine/test_data/jepsen/etcd_040.log"} {
		h := readRef(t, f)
		m := model.CASRegister(int64(0))
		if strings.Contains(f, "kv") {
			m, _ = model.ByName("kv", nil)
		}
		if strings.Contains(f, "etcd") {
			m = model.CASRegister(nil)
		}
		r := Check(context.Background(), h, m, Options{})
		name := "/tmp/" + filepath.Base(f) + ".html"
		out, _ := os.Create(name)
		if err := RenderHTML(out, h, r); err != nil {
			t.Fatal(err)
		}
		out.Close()
		st, _ := os.Stat(name)
		fmt.Println(name, st.Size(), r.Summary())
	}
}
