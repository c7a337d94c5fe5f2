package elle

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
)

// readBoth reads data with and without the value decoder and fails unless
// both give the same ops and problems.
func readBoth(t *testing.T, name string, data []byte) (generic, decoded *history.History) {
	t.Helper()
	g, gp, gerr := history.Read(bytes.NewReader(data), name, history.ReadOptions{Lenient: true})
	d, dp, derr := history.Read(bytes.NewReader(data), name, history.ReadOptions{Lenient: true, Values: ValueDecoder()})
	if (gerr == nil) != (derr == nil) {
		t.Fatalf("%s: generic error %v, decoded error %v", name, gerr, derr)
	}
	if gerr != nil {
		if gerr.Error() != derr.Error() {
			t.Fatalf("%s: errors differ:\n%v\n%v", name, gerr, derr)
		}
		return nil, nil
	}
	if len(gp) != len(dp) {
		t.Fatalf("%s: %d problems generic, %d decoded", name, len(gp), len(dp))
	}
	for i := range gp {
		if gp[i].Error() != dp[i].Error() {
			t.Fatalf("%s: problem %d differs:\n%v\n%v", name, i, gp[i], dp[i])
		}
	}
	if g.Len() != d.Len() {
		t.Fatalf("%s: %d ops generic, %d decoded", name, g.Len(), d.Len())
	}
	for i := range g.Ops {
		a, b := g.Ops[i], d.Ops[i]
		if !history.Equal(a.Value, b.Value) || a.String() != b.String() || a.Time != b.Time || a.Node != b.Node || len(a.Extra) != len(b.Extra) {
			t.Fatalf("%s: op %d differs:\n%s\n%s", name, i, a.String(), b.String())
		}
		if ja, jb := history.AppendJSON(nil, a), history.AppendJSON(nil, b); !bytes.Equal(ja, jb) {
			t.Fatalf("%s: op %d writes differently:\n%s\n%s", name, i, ja, jb)
		}
		var ea, eb bytes.Buffer
		history.WriteEDN(&ea, g.Ops[i:i+1])
		history.WriteEDN(&eb, d.Ops[i:i+1])
		if ea.String() != eb.String() {
			t.Fatalf("%s: op %d writes differently in EDN:\n%s\n%s", name, i, ea.String(), eb.String())
		}
	}
	return g, d
}

// sameCheck checks both histories with c and fails unless the results
// marshal alike.
func sameCheck(t *testing.T, name string, c checker.Checker, g, d *history.History) {
	t.Helper()
	rg := checker.Check(context.Background(), c, g, checker.Options{})
	rd := checker.Check(context.Background(), c, d, checker.Options{})
	jg, _ := json.Marshal(rg)
	jd, _ := json.Marshal(rd)
	if !bytes.Equal(jg, jd) {
		t.Fatalf("%s (%s): results differ:\n%s\n%s", name, c.Name(), jg, jd)
	}
}

// TestValueDecoderSameHistory: every history of the test data and of
// Elle's suite, and generated ones in both formats, read the same with the
// decoder as without, and check the same.
func TestValueDecoderSameHistory(t *testing.T) {
	var files []string
	for _, pat := range []string{filepath.Join("testdata", "*.edn"), filepath.Join("testdata", "*.jsonl"), filepath.Join(sharedData(t), "elle", "histories", "*.edn")} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	if len(files) < 10 {
		t.Fatalf("only %d history files found", len(files))
	}
	type input struct {
		name string
		data []byte
	}
	var inputs []input
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, input{filepath.Base(f), b})
	}
	for _, stale := range []float64{0, 0.01} {
		ops := genListAppend(3000, stale, 5)
		var e, j bytes.Buffer
		history.WriteEDN(&e, ops)
		history.WriteJSONL(&j, ops)
		inputs = append(inputs, input{"gen.edn", e.Bytes()}, input{"gen.jsonl", j.Bytes()})
	}
	decodedAny := false
	for _, in := range inputs {
		g, d := readBoth(t, in.name, in.data)
		if g == nil {
			continue
		}
		for _, op := range d.Ops {
			if _, ok := op.Value.(*ctxn); ok {
				decodedAny = true
				break
			}
		}
		o := Options{ConsistencyModels: []string{"strict-serializable"}}
		sameCheck(t, in.name, ListAppend(o), g, d)
		sameCheck(t, in.name, RWRegister(o), g, d)
	}
	if !decodedAny {
		t.Fatal("the decoder decoded no value at all")
	}
}

// TestValueDecoderShapes: what the decoder takes, and what it leaves to
// the generic reader (which must then read it as before).
func TestValueDecoderShapes(t *testing.T) {
	for _, c := range []struct {
		edn, json string
		take      bool
	}{
		{`[[:append 1 2] [:r 3 [1 2]] [:r 4 nil] [:r 5 []]]`, `[["append",1,2],["r",3,[1,2]],["r",4,null],["r",5,[]]]`, true},
		{`[]`, `[]`, true},
		{`[[:w -7 2147483647], [:r 8 -2147483648]]`, `[ ["w", -7, 2147483647] , ["r",8,-2147483648] ]`, true},
		{`[[:append 1 2147483648]]`, `[["append",1,2147483648]]`, false},
		{`[[:append 1 99999999999999999999]]`, `[["append",1,99999999999999999999]]`, false},
		{`[[:append 1 1.5]]`, `[["append",1,1.5]]`, false},
		{`[[:append 1 1N]]`, `[["append",1,1e3]]`, false},
		{`[[:append 1 007]]`, `[["append",1,007]]`, false},
		{`[[:append +1 1]]`, `[["append","k",1]]`, false},
		{`[[:append :k 1]]`, `[["append",true,1]]`, false},
		{`[[:cas 1 [1 2]]]`, `[["cas",1,[1,2]]]`, false},
		{`[[:r 1]]`, `[["r",1]]`, false},
		{`[[:r 1 2 3]]`, `[["r",1,2,3]]`, false},
		{`[[:r 1 [1 [2]]]]`, `[["r",1,[1,[2]]]]`, false},
		{`[[:r 1 [1 2]]`, `[["r",1,[1,2]]`, false},
		{`nil`, `null`, false},
		{`[[:r 1 nil]] ; comment`, `[["r",1,null]]`, true},
		{`([:append 1 2])`, `[["append",1,2,]]`, false},
		{`[[:append 1 2]`, `[["append",,1,2]]`, false},
		{`[[:append 1 2],]`, `[["append" ,1 , 2 ] ]`, true},
	} {
		for _, format := range []history.FileFormat{history.FormatEDN, history.FormatJSONL} {
			text := c.edn
			line := `{:index 0, :type :invoke, :process 0, :f :txn, :value ` + text + "}\n"
			if format == history.FormatJSONL {
				text = c.json
				line = `{"index":0,"type":"invoke","process":0,"f":"txn","value":` + text + "}\n"
			}
			d := &decoder{}
			_, _, took := d.DecodeValue(format, []byte(text+"}\n"))
			if took != c.take && !strings.Contains(text, "; comment") {
				t.Errorf("%s %s: took %v, want %v", format, text, took, c.take)
			}
			readBoth(t, text, []byte(line))
		}
	}
}

// FuzzValueDecoder: whatever the text of a value, a history reads the
// same with the decoder as without.
func FuzzValueDecoder(f *testing.F) {
	f.Add(`[[:append 1 2] [:r 3 [1 2]] [:r 4 nil]]`, false)
	f.Add(`[["append",1,2],["r",3,[1,2]],["r",4,null]]`, true)
	f.Add(`[[:w 1 -0] [:r 1 [0, 1]]]`, false)
	f.Add(`[["w",1,-0],["r",1 ,[0 ,1]]]`, true)
	f.Fuzz(func(t *testing.T, value string, json bool) {
		if strings.ContainsAny(value, "\n\r") {
			return
		}
		f := "txn"
		if len(value)%3 == 0 {
			f = "other" // micro-op names are keywords only in a txn's value
		}
		line := `{:index 0, :type :invoke, :process 0, :f :` + f + `, :value ` + value + "}\n"
		if json {
			line = `{"index":0,"type":"invoke","process":0,"f":"` + f + `","value":` + value + "}\n"
		}
		readBoth(t, "fuzz", []byte(line+line))
	})
}
