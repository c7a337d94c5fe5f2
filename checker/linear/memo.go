package linear

import (
	"math/bits"
	"slices"
)

// memo is the set of configurations the search has visited: (set of
// linearized ops, model state). The set of linearized ok ops is identified
// by its Zobrist hash and stored exactly, in a compact canonical form, so
// that a hash hit is always verified:
//
//   - ok ops are numbered in return order, so every ok op below the first
//     unlinearized one (the frontier) is linearized: the ok part is stored as
//     the frontier's word index and the words from there to the last word
//     holding a linearized op;
//   - crashed (info) ops are stored as the words between the first and last
//     word holding a linearized one.
//
// A visited configuration also rules out every configuration with the same
// ok ops and state in which a superset of its crashed ops was used:
// crashed ops are optional, so having more of them left never hurts. The
// memo therefore keys entries by (ok ops, state) and checks the crashed
// ops for inclusion.
//
// Entries never move; the table holds their numbers.
type memo struct {
	entries []memoEntry
	words   []uint64
	slots   []uint32 // entry number + 1; 0 is an empty slot
	shift   uint8
}

type memoEntry struct {
	hash   uint64
	state  uint64
	off    uint32 // first word in words
	okLo   uint32 // word index of the ok frontier
	okN    uint32 // ok words stored
	infoLo uint32
	infoN  uint32
}

const memoEntrySize = 40

func newMemo() *memo {
	m := &memo{}
	m.resize(1 << 10)
	return m
}

// reset empties the memo for another search, keeping its memory unless it
// grew large. It clears only the slots its entries used.
func (m *memo) reset() {
	if len(m.slots) > 1<<20 {
		m.entries, m.words = nil, nil
		m.resize(1 << 10)
		return
	}
	mask := uint64(len(m.slots) - 1)
	for i := range m.entries {
		e := &m.entries[i]
		for s := m.slot(e.hash, e.state); m.slots[s] != 0; s = (s + 1) & mask {
			m.slots[s] = 0
		}
	}
	m.entries, m.words = m.entries[:0], m.words[:0]
}

func (m *memo) resize(n int) {
	m.slots = make([]uint32, n)
	m.shift = uint8(64 - bits.TrailingZeros(uint(n)))
	mask := uint64(n - 1)
	for i := range m.entries {
		e := &m.entries[i]
		for s := m.slot(e.hash, e.state); ; s = (s + 1) & mask {
			if m.slots[s] == 0 {
				m.slots[s] = uint32(i + 1)
				break
			}
		}
	}
}

func (m *memo) slot(hash, state uint64) uint64 {
	return ((hash ^ state*0xD6E8FEB86659FD93) * 0x9E3779B97F4A7C15) >> m.shift
}

// insert adds the configuration unless it, or one that rules it out, is
// already present; it reports whether it was added. hash is the hash of the
// ok ops only.
func (m *memo) insert(hash, state uint64, okLo uint32, ok []uint64, infoLo uint32, info []uint64) bool {
	mask := uint64(len(m.slots) - 1)
	s := m.slot(hash, state)
	for ; m.slots[s] != 0; s = (s + 1) & mask {
		e := &m.entries[m.slots[s]-1]
		if e.hash != hash || e.state != state || e.okLo != okLo || e.okN != uint32(len(ok)) {
			continue
		}
		if slices.Equal(m.words[e.off:e.off+e.okN], ok) && subsetWords(m.words[e.off+e.okN:e.off+e.okN+e.infoN], e.infoLo, info, infoLo) {
			return false
		}
	}
	m.entries = append(m.entries, memoEntry{
		hash: hash, state: state, off: uint32(len(m.words)),
		okLo: okLo, okN: uint32(len(ok)), infoLo: infoLo, infoN: uint32(len(info)),
	})
	m.words = append(m.words, ok...)
	m.words = append(m.words, info...)
	m.slots[s] = uint32(len(m.entries))
	if 2*len(m.entries) > len(m.slots) {
		m.resize(2 * len(m.slots))
	}
	return true
}

// subsetWords reports whether the bits of a (words from word index aLo)
// are all in b (words from bLo).
func subsetWords(a []uint64, aLo uint32, b []uint64, bLo uint32) bool {
	for i, w := range a {
		if w == 0 {
			continue
		}
		j := int(aLo) + i - int(bLo)
		if j < 0 || j >= len(b) || w&^b[j] != 0 {
			return false
		}
	}
	return true
}

// bytes is the memory the memo holds (capacities, not lengths).
func (m *memo) bytes() int64 {
	return int64(cap(m.entries))*memoEntrySize + int64(cap(m.words))*8 + int64(len(m.slots))*4
}

func (m *memo) len() int { return len(m.entries) }
