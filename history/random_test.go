package history

import (
	"bytes"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// randValue builds a random canonical value; jsonSafe limits it to what
// JSON Lines keeps exactly (no sets, no non-string keys, no NaN or
// infinities, no -0 distinctions needed).
func randValue(rng *rand.Rand, depth int, jsonSafe bool) any {
	n := 9
	if depth > 3 {
		n = 6 // scalars only
	}
	switch rng.IntN(n) {
	case 0:
		return nil
	case 1:
		return rng.IntN(2) == 0
	case 2:
		return rng.Int64N(1<<40) - 1<<39
	case 3:
		fs := []float64{0.5, -1.25, 1e21, 5e-324, 123456.789, 3.0}
		if !jsonSafe {
			fs = append(fs, math.NaN(), math.Inf(1), math.Inf(-1))
		}
		return fs[rng.IntN(len(fs))]
	case 4:
		strs := []string{"", "a", "append", "x y", "é😀", "tab\there", "quote\"back\\slash", "nil", ":kw", "a/b", "-1", "\x01\x7f", "#tag"}
		return strs[rng.IntN(len(strs))]
	case 5:
		b, _ := new(big.Int).SetString("-123456789012345678901234567890", 10)
		return b
	case 6:
		out := make([]any, rng.IntN(4))
		for i := range out {
			out[i] = randValue(rng, depth+1, jsonSafe)
		}
		return out
	case 7:
		m := Map{}
		for i := rng.IntN(4); i > 0; i-- {
			var k any = []string{"a", "b", "c", "key with space", "x/y"}[rng.IntN(5)]
			if !jsonSafe && rng.IntN(3) == 0 {
				k = randValue(rng, depth+1, jsonSafe)
			}
			if _, dup := m.Get(k); dup {
				continue
			}
			m = append(m, Entry{Key: k, Val: randValue(rng, depth+1, jsonSafe)})
		}
		return m
	default:
		if jsonSafe {
			return Tagged{Tag: "inst", Value: randValue(rng, depth+1, jsonSafe)}
		}
		if rng.IntN(2) == 0 {
			return Tagged{Tag: "my.rec", Value: randValue(rng, depth+1, jsonSafe)}
		}
		s := Set{}
		for i := rng.IntN(3); i > 0; i-- {
			s = append(s, randValue(rng, depth+1, jsonSafe))
		}
		return s
	}
}

// TestRandomRoundTrip writes random histories and reads them back.
func TestRandomRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for iter := 0; iter < 300; iter++ {
		jsonSafe := iter%2 == 0
		var ops []Op
		for i := 0; i < 10; i++ {
			op := Op{Index: i, Time: rng.Int64N(1e12), Type: Invoke, Process: i, F: []string{"read", "txn", "weird f", ""}[rng.IntN(4)], Value: randValue(rng, 0, jsonSafe)}
			if rng.IntN(3) == 0 {
				op.Error = randValue(rng, 2, jsonSafe)
			}
			if rng.IntN(3) == 0 {
				op.Key = randValue(rng, 3, jsonSafe)
			}
			if rng.IntN(4) == 0 {
				op.Extra = Map{{"extra", randValue(rng, 1, jsonSafe)}}
			}
			ops = append(ops, op)
		}
		formats := []FileFormat{FormatEDN}
		if jsonSafe {
			formats = append(formats, FormatJSONL)
		}
		for _, f := range formats {
			b := encode(t, f, ops)
			got := readAll(t, b, "rand", f)
			if !opSlicesEqual(got, ops) {
				for i := range ops {
					if !opsEqual(got[i], ops[i]) {
						t.Fatalf("%s round trip changed op %d:\n got %v\nwant %v\n%s", f, i, got[i], ops[i], bytes.Split(b, []byte("\n"))[i])
					}
				}
			}
		}
	}
}
