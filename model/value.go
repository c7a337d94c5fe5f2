package model

import (
	"strconv"

	"github.com/faultline/faultline/history"
)

// valueTable interns values: code 0 is nil, integers 0..smallInts-1 are
// their value plus one, other values get smallInts+1, smallInts+2, ...
// Equal values (history.Equal) get the same code.
type valueTable struct {
	ints   map[int64]uint64
	others map[string]uint64
	values []any // values[code-smallInts-1]
}

const smallInts = 1 << 20

func newValueTable() *valueTable { return &valueTable{} }

// code returns v's code, interning it when new.
func (t *valueTable) code(v any) uint64 {
	if v == nil {
		return 0
	}
	if i, ok := history.Int(v); ok {
		if i >= 0 && i < smallInts {
			return uint64(i) + 1
		}
		if c, ok := t.ints[i]; ok {
			return c
		}
		if t.ints == nil {
			t.ints = map[int64]uint64{}
		}
		c := t.add(v)
		t.ints[i] = c
		return c
	}
	k := history.Canonical(v)
	if c, ok := t.others[k]; ok {
		return c
	}
	if t.others == nil {
		t.others = map[string]uint64{}
	}
	c := t.add(v)
	t.others[k] = c
	return c
}

func (t *valueTable) add(v any) uint64 {
	t.values = append(t.values, v)
	return uint64(len(t.values)) + smallInts
}

// value returns the value with code c.
func (t *valueTable) value(c uint64) any {
	switch {
	case c == 0:
		return nil
	case c <= smallInts:
		return int64(c - 1)
	case c-smallInts-1 < uint64(len(t.values)):
		return t.values[c-smallInts-1]
	}
	return nil
}

// format renders the value with code c.
func (t *valueTable) format(c uint64) string { return history.Format(t.value(c)) }

func (t *valueTable) memoryBytes() int64 {
	return int64(len(t.values))*48 + int64(len(t.ints))*24 + int64(len(t.others))*48
}

// elements returns the elements of a collection value (vector, list, set),
// or false when v is not a collection.
func elements(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case history.Set:
		return []any(x), true
	}
	return nil, false
}

// truncate shortens long renderings of states for evidence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}
