package generator

import "math/bits"

// threadBits is an immutable set of thread indices. Sets of up to 128 threads
// (concurrency 127 plus the nemesis) live inline, so copying one costs no
// allocation; larger ones keep their further words in ext, which is never
// written after it is made (copy on write).
type threadBits struct {
	w   [2]uint64
	ext []uint64 // words 2, 3, ...
}

func (b threadBits) word(k int) uint64 {
	if k < 2 {
		return b.w[k]
	}
	if k-2 < len(b.ext) {
		return b.ext[k-2]
	}
	return 0
}

func (b threadBits) words() int { return 2 + len(b.ext) }

func (b threadBits) has(i int) bool {
	if i < 0 {
		return false
	}
	return b.word(i>>6)&(1<<(uint(i)&63)) != 0
}

func (b threadBits) with(i int) threadBits {
	if i < 128 {
		b.w[i>>6] |= 1 << (uint(i) & 63)
		return b
	}
	k := i>>6 - 2
	ext := make([]uint64, max(len(b.ext), k+1))
	copy(ext, b.ext)
	ext[k] |= 1 << (uint(i) & 63)
	b.ext = ext
	return b
}

func (b threadBits) without(i int) threadBits {
	if i < 128 {
		b.w[i>>6] &^= 1 << (uint(i) & 63)
		return b
	}
	k := i>>6 - 2
	if k >= len(b.ext) || b.ext[k]&(1<<(uint(i)&63)) == 0 {
		return b
	}
	ext := make([]uint64, len(b.ext))
	copy(ext, b.ext)
	ext[k] &^= 1 << (uint(i) & 63)
	b.ext = ext
	return b
}

func (b threadBits) and(o threadBits) threadBits {
	r := threadBits{w: [2]uint64{b.w[0] & o.w[0], b.w[1] & o.w[1]}}
	if n := min(len(b.ext), len(o.ext)); n > 0 {
		r.ext = make([]uint64, n)
		for k := range n {
			r.ext[k] = b.ext[k] & o.ext[k]
		}
	}
	return r
}

func (b threadBits) count() int {
	n := bits.OnesCount64(b.w[0]) + bits.OnesCount64(b.w[1])
	for _, w := range b.ext {
		n += bits.OnesCount64(w)
	}
	return n
}

// next returns the smallest member >= i, or -1.
func (b threadBits) next(i int) int {
	if i < 0 {
		i = 0
	}
	k := i >> 6
	if k >= b.words() {
		return -1
	}
	w := b.word(k) &^ (1<<(uint(i)&63) - 1)
	for {
		if w != 0 {
			return k<<6 + bits.TrailingZeros64(w)
		}
		k++
		if k >= b.words() {
			return -1
		}
		w = b.word(k)
	}
}

func (b threadBits) equal(o threadBits) bool {
	n := max(b.words(), o.words())
	for k := range n {
		if b.word(k) != o.word(k) {
			return false
		}
	}
	return true
}

// positions returns the members of b found at positions [lo, hi) in
// ascending order.
func (b threadBits) positions(lo, hi int) threadBits {
	var r threadBits
	pos := 0
	for i := b.next(0); i >= 0 && pos < hi; i = b.next(i + 1) {
		if pos >= lo {
			r = r.with(i)
		}
		pos++
	}
	return r
}

// minus returns the members of b not in o.
func (b threadBits) minus(o threadBits) threadBits {
	var r threadBits
	for i := b.next(0); i >= 0; i = b.next(i + 1) {
		if !o.has(i) {
			r = r.with(i)
		}
	}
	return r
}

// all iterates over the members in ascending order, a word at a time.
func (b threadBits) all(yield func(i int) bool) {
	for k := range b.words() {
		w := b.word(k)
		for w != 0 {
			if !yield(k<<6 + bits.TrailingZeros64(w)) {
				return
			}
			w &= w - 1
		}
	}
}
