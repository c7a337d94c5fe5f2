package generator

import (
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"strings"
	"sync/atomic"

	"github.com/faultline/faultline/history"
)

// NemesisThread is the thread of the nemesis. Its process is always
// history.NemesisProcess, the same number.
const NemesisThread = history.NemesisProcess

// NoProcess is what Context.Process returns for a thread the context does
// not know.
const NoProcess = math.MinInt

// threadTable is what every context derived from one NewContext shares: the
// shape of the test's threads and the run's random source.
type threadTable struct {
	n       int // client threads 0..n-1
	nemesis bool
	count   int // n, plus one for the nemesis
	rng     *rand.Rand
}

// Context is what a generator knows about the world when asked for an op or
// told of an event: the time, which threads exist and which are free, which
// process each thread runs, and the run's random source. It corresponds to
// jepsen.generator.context.
//
// Contexts are immutable: every method that changes something returns a new
// context and leaves the receiver as it was, so generators may keep and
// compare them freely. Threads are numbered 0..concurrency-1 for clients and
// NemesisThread for the nemesis; internally the nemesis comes after the
// clients, and every list of threads is in that order (clients ascending,
// then the nemesis), as in Jepsen.
//
// A context may be restricted to a subset of the threads (Restrict,
// ThreadFilter): then AllThreads, FreeThreads and the counts see only that
// subset, while Process and Thread still translate for every thread.
type Context struct {
	time  int64
	next  int // rotation cursor for SomeFreeThread: a thread index
	tab   *threadTable
	all   threadBits
	free  threadBits
	procs []int // thread index -> process; shared, copied on write
	// src is the context this one was restricted from by a ThreadFilter,
	// which uses it to recognise its cached result.
	src *Context
}

// NewContext returns the context at the start of a test: time 0, every
// thread free, thread t running process t, the nemesis thread (when nemesis
// is true) running history.NemesisProcess. The random source is seeded with
// seed and shared by every context derived from this one.
func NewContext(concurrency int, nemesis bool, seed int64) *Context {
	return NewContextRand(concurrency, nemesis, rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)))
}

// NewContextRand is NewContext with a caller-supplied random source. The
// source is used from one goroutine only: generators run on the
// interpreter's goroutine.
func NewContextRand(concurrency int, nemesis bool, rng *rand.Rand) *Context {
	concurrency = max(concurrency, 0)
	tab := &threadTable{n: concurrency, nemesis: nemesis, count: concurrency, rng: rng}
	if nemesis {
		tab.count++
	}
	c := &Context{tab: tab, procs: make([]int, tab.count)}
	for i := range tab.count {
		c.all = c.all.with(i)
		c.procs[i] = i
	}
	if nemesis {
		c.procs[concurrency] = history.NemesisProcess
	}
	c.free = c.all
	return c
}

// index maps a thread to its internal index.
func (c *Context) index(thread int) (int, bool) {
	if thread >= 0 && thread < c.tab.n {
		return thread, true
	}
	if thread == NemesisThread && c.tab.nemesis {
		return c.tab.n, true
	}
	return -1, false
}

// thread maps an internal index back to a thread.
func (c *Context) thread(i int) int {
	if i < c.tab.n {
		return i
	}
	return NemesisThread
}

// Time returns the current time in nanoseconds since the test started.
func (c *Context) Time() int64 { return c.time }

// WithTime returns the context at time t.
func (c *Context) WithTime(t int64) *Context {
	if t == c.time {
		return c
	}
	nc := *c
	nc.time = t
	return &nc
}

// Busy returns the context in which thread is no longer free. Like Jepsen's
// busy-thread it also moves the rotation cursor on, so that SomeFreeThread
// hands out threads in turn. An unknown thread leaves the context as it is.
func (c *Context) Busy(thread int) *Context { return c.BusyAt(c.time, thread) }

// BusyAt is WithTime(t).Busy(thread) in one step.
func (c *Context) BusyAt(t int64, thread int) *Context {
	i, ok := c.index(thread)
	if !ok {
		return c.WithTime(t)
	}
	nc := *c
	nc.time = t
	nc.free = c.free.without(i)
	nc.next = (c.next + 1) % c.tab.count
	return &nc
}

// Free returns the context in which thread is free again. An unknown thread,
// or one outside a restricted context, leaves the context as it is.
func (c *Context) Free(thread int) *Context { return c.FreeAt(c.time, thread) }

// FreeAt is WithTime(t).Free(thread) in one step.
func (c *Context) FreeAt(t int64, thread int) *Context {
	i, ok := c.index(thread)
	if !ok || !c.all.has(i) {
		return c.WithTime(t)
	}
	nc := *c
	nc.time = t
	nc.free = c.free.with(i)
	return &nc
}

// WithNextProcess returns the context in which thread runs a new process:
// its old process plus the number of client threads (Jepsen's
// with-next-process). Interpreters call it after a client op completes with
// info, after updating the generator with that completion. The nemesis keeps
// its process.
func (c *Context) WithNextProcess(thread int) *Context {
	i, ok := c.index(thread)
	if !ok || thread == NemesisThread {
		return c
	}
	nc := *c
	nc.procs = make([]int, len(c.procs))
	copy(nc.procs, c.procs)
	nc.procs[i] += c.tab.n
	return &nc
}

// Process returns the process thread runs now, or NoProcess for an unknown
// thread.
func (c *Context) Process(thread int) int {
	i, ok := c.index(thread)
	if !ok {
		return NoProcess
	}
	return c.procs[i]
}

// Thread returns the thread running process, if some thread runs it now. A
// process that crashed (and was replaced) has no thread.
func (c *Context) Thread(process int) (int, bool) {
	if process == history.NemesisProcess {
		return NemesisThread, c.tab.nemesis
	}
	if process < 0 || c.tab.n == 0 {
		return 0, false
	}
	t := process % c.tab.n
	if c.procs[t] != process {
		return 0, false
	}
	return t, true
}

// Concurrency returns the number of client threads of the test (ignoring
// any restriction).
func (c *Context) Concurrency() int { return c.tab.n }

// HasNemesis reports whether the test has a nemesis thread.
func (c *Context) HasNemesis() bool { return c.tab.nemesis }

// HasThread reports whether thread belongs to this (possibly restricted)
// context.
func (c *Context) HasThread(thread int) bool {
	i, ok := c.index(thread)
	return ok && c.all.has(i)
}

// IsFree reports whether thread belongs to this context and is free.
func (c *Context) IsFree(thread int) bool {
	i, ok := c.index(thread)
	return ok && c.free.has(i)
}

// FreeCount returns the number of free threads.
func (c *Context) FreeCount() int { return c.free.count() }

// AllCount returns the number of threads in this context.
func (c *Context) AllCount() int { return c.all.count() }

// BusyCount returns the number of threads in this context that are busy.
func (c *Context) BusyCount() int { return c.all.count() - c.free.count() }

// Rand returns the run's random source. Generators draw from it in the order
// they are asked, so a simulation with the same seed is deterministic.
func (c *Context) Rand() *rand.Rand { return c.tab.rng }

// SomeFreeThread returns a free thread, taking turns: the first free thread
// at or after the rotation cursor, wrapping around (Jepsen's
// some-free-process). ok is false when every thread is busy.
func (c *Context) SomeFreeThread() (thread int, ok bool) {
	i := c.free.next(c.next)
	if i < 0 && c.next > 0 {
		i = c.free.next(0)
	}
	if i < 0 {
		return 0, false
	}
	return c.thread(i), true
}

// SomeFreeProcess returns the process of SomeFreeThread.
func (c *Context) SomeFreeProcess() (process int, ok bool) {
	i := c.free.next(c.next)
	if i < 0 && c.next > 0 {
		i = c.free.next(0)
	}
	if i < 0 {
		return 0, false
	}
	return c.procs[i], true
}

func (c *Context) threadsOf(b threadBits) []int {
	out := make([]int, 0, b.count())
	for i := range b.all {
		out = append(out, c.thread(i))
	}
	return out
}

func (c *Context) seqOf(b threadBits) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range b.all {
			if !yield(c.thread(i)) {
				return
			}
		}
	}
}

// AllThreads returns the threads of this context: clients ascending, then
// the nemesis.
func (c *Context) AllThreads() []int { return c.threadsOf(c.all) }

// FreeThreads returns the free threads, in the order of AllThreads.
func (c *Context) FreeThreads() []int { return c.threadsOf(c.free) }

// AllThreadSeq iterates over AllThreads without allocating a slice.
func (c *Context) AllThreadSeq() iter.Seq[int] { return c.seqOf(c.all) }

// FreeThreadSeq iterates over FreeThreads without allocating a slice.
func (c *Context) FreeThreadSeq() iter.Seq[int] { return c.seqOf(c.free) }

// AllProcesses returns the processes of all threads of this context.
func (c *Context) AllProcesses() []int {
	out := make([]int, 0, c.all.count())
	for i := range c.all.all {
		out = append(out, c.procs[i])
	}
	return out
}

// FreeProcesses returns the processes of the free threads.
func (c *Context) FreeProcesses() []int {
	out := make([]int, 0, c.free.count())
	for i := range c.free.all {
		out = append(out, c.procs[i])
	}
	return out
}

// Restrict returns the context limited to the threads for which pred is
// true. Generators that restrict on every call should use a ThreadFilter,
// which evaluates pred once per test.
func (c *Context) Restrict(pred func(thread int) bool) *Context {
	var mask threadBits
	for i := range c.all.all {
		if pred(c.thread(i)) {
			mask = mask.with(i)
		}
	}
	return c.restrict(mask)
}

func (c *Context) restrict(mask threadBits) *Context {
	nc := *c
	nc.all = c.all.and(mask)
	nc.free = c.free.and(mask)
	return &nc
}

// only restricts the context to the thread with index i.
func (c *Context) only(i int) *Context {
	var mask threadBits
	return c.restrict(mask.with(i))
}

// String summarises the context for messages.
func (c *Context) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "time %d, free threads [", c.time)
	first := true
	for i := c.all.next(0); i >= 0; i = c.all.next(i + 1) {
		if !c.free.has(i) {
			continue
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		b.WriteString(history.ProcessString(c.thread(i)))
	}
	fmt.Fprintf(&b, "] of %d, processes [", c.all.count())
	first = true
	for i := c.all.next(0); i >= 0; i = c.all.next(i + 1) {
		if !first {
			b.WriteByte(' ')
		}
		first = false
		fmt.Fprintf(&b, "%s:%s", history.ProcessString(c.thread(i)), history.ProcessString(c.procs[i]))
	}
	b.WriteByte(']')
	return b.String()
}

// ThreadFilter restricts contexts to the threads matching a predicate,
// evaluating the predicate once per test rather than on every call (Jepsen's
// make-thread-filter). It is safe to share between generators and
// goroutines.
type ThreadFilter struct {
	pred func(thread int) bool
	memo atomic.Pointer[filterMemo]
	// last is the latest result of Apply; its src is the input. Generators
	// are asked for an op with the context they were just updated with, so
	// this saves every other restriction.
	last atomic.Pointer[Context]
}

type filterMemo struct {
	tab  *threadTable
	mask threadBits
}

// NewThreadFilter returns a filter for pred.
func NewThreadFilter(pred func(thread int) bool) *ThreadFilter {
	return &ThreadFilter{pred: pred}
}

func (f *ThreadFilter) mask(c *Context) threadBits {
	if m := f.memo.Load(); m != nil && m.tab == c.tab {
		return m.mask
	}
	var mask threadBits
	for i := range c.tab.count {
		if f.pred(c.thread(i)) {
			mask = mask.with(i)
		}
	}
	f.memo.Store(&filterMemo{tab: c.tab, mask: mask})
	return mask
}

// Apply returns c restricted to the matching threads.
func (f *ThreadFilter) Apply(c *Context) *Context {
	if last := f.last.Load(); last != nil && last.src == c {
		return last
	}
	r := c.restrict(f.mask(c))
	r.src = c
	f.last.Store(r)
	return r
}

// Matches reports whether thread matches the filter.
func (f *ThreadFilter) Matches(c *Context, thread int) bool {
	i, ok := c.index(thread)
	return ok && f.mask(c).has(i)
}
