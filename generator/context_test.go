package generator

import (
	"slices"
	"testing"
)

// Port of jepsen.generator.context-test.
func TestContextBasics(t *testing.T) {
	c := NewContext(2, true, 0)
	if c.Time() != 0 || c.AllCount() != 3 || c.FreeCount() != 3 {
		t.Fatalf("fresh context: %v", c)
	}
	if got := c.FreeThreads(); !slices.Equal(got, []int{0, 1, NemesisThread}) {
		t.Errorf("free threads %v", got)
	}
	if got := c.FreeProcesses(); !slices.Equal(got, []int{0, 1, NemesisThread}) {
		t.Errorf("free processes %v", got)
	}
	if c.Process(NemesisThread) != NemesisThread || c.Process(1) != 1 {
		t.Error("thread -> process")
	}
	if th, ok := c.Thread(NemesisThread); !ok || th != NemesisThread {
		t.Error("nemesis process -> thread")
	}
	if th, ok := c.Thread(1); !ok || th != 1 {
		t.Error("process 1 -> thread")
	}
	if p, ok := c.SomeFreeProcess(); !ok || p != 0 {
		t.Errorf("some free process %d", p)
	}

	c1 := c.BusyAt(5, 0)
	if c1.Time() != 5 || c1.AllCount() != 3 || c1.FreeCount() != 2 || c1.BusyCount() != 1 {
		t.Errorf("busy: %v", c1)
	}
	if got := c1.FreeThreads(); !slices.Equal(got, []int{1, NemesisThread}) {
		t.Errorf("free threads after busy: %v", got)
	}
	if p, _ := c1.SomeFreeProcess(); p != 1 {
		t.Errorf("some free process after busy: %d", p)
	}
	if c.FreeCount() != 3 || c.Time() != 0 {
		t.Error("Busy changed its receiver")
	}

	c2 := c1.FreeAt(10, 0)
	if c2.Time() != 10 || c2.FreeCount() != 3 {
		t.Errorf("free: %v", c2)
	}
	// The free thread has advanced, for fairness.
	if p, _ := c2.SomeFreeProcess(); p != 1 {
		t.Errorf("some free process after busy+free: %d, want 1", p)
	}

	for name, pred := range map[string]func(int) bool{
		"clients":   func(th int) bool { return th != NemesisThread },
		"1+nemesis": func(th int) bool { return th == 1 || th == NemesisThread },
	} {
		c3 := c.Restrict(pred)
		c4 := NewThreadFilter(pred).Apply(c)
		for _, cc := range []*Context{c3, c4} {
			want := slices.DeleteFunc(c.AllThreads(), func(th int) bool { return !pred(th) })
			if !slices.Equal(cc.AllThreads(), want) || !slices.Equal(cc.FreeThreads(), want) ||
				!slices.Equal(cc.AllProcesses(), want) || !slices.Equal(cc.FreeProcesses(), want) {
				t.Errorf("%s: %v", name, cc)
			}
			if p, _ := cc.SomeFreeProcess(); p != want[0] {
				t.Errorf("%s: some free process %d, want %d", name, p, want[0])
			}
			if cc.HasThread(0) != pred(0) || cc.IsFree(0) != pred(0) {
				t.Errorf("%s: thread 0 membership", name)
			}
		}
	}
}

func TestContextWithNextProcess(t *testing.T) {
	c := NewContext(2, true, 0)
	c1 := c.WithNextProcess(0)
	if c1.Process(0) != 2 {
		t.Errorf("process %d, want 2", c1.Process(0))
	}
	if th, ok := c1.Thread(2); !ok || th != 0 {
		t.Error("process 2 -> thread 0")
	}
	if _, ok := c1.Thread(0); ok {
		t.Error("the crashed process 0 still has a thread")
	}
	c2 := c1.WithNextProcess(0)
	if c2.Process(0) != 4 || c1.Process(0) != 2 || c.Process(0) != 0 {
		t.Error("WithNextProcess changed its receiver or did not advance")
	}
	if th, ok := c2.Thread(4); !ok || th != 0 {
		t.Error("process 4 -> thread 0")
	}
	if c2.WithNextProcess(NemesisThread).Process(NemesisThread) != NemesisThread {
		t.Error("the nemesis was renumbered")
	}
}

func TestContextSomeFreeProcess(t *testing.T) {
	c := NewContext(2, true, 0)
	if p, _ := c.Busy(0).SomeFreeProcess(); p != 1 {
		t.Errorf("some busy: %d", p)
	}
	if p, _ := c.Busy(1).SomeFreeProcess(); p == 1 {
		t.Errorf("some busy: got the busy process")
	}
	// Driven forward: the first thread is still found when all later ones
	// are busy.
	if p, _ := c.Busy(1).Busy(NemesisThread).SomeFreeProcess(); p != 0 {
		t.Errorf("driven forward: %d", p)
	}
	// Fair: threads take turns.
	c1 := c.Busy(0).Free(0)
	c2 := c1.Busy(1).Free(1)
	c3 := c2.Busy(NemesisThread).Free(NemesisThread)
	for i, tc := range []struct {
		c    *Context
		want int
	}{{c1, 1}, {c2, NemesisThread}, {c3, 0}} {
		if p, _ := tc.c.SomeFreeProcess(); p != tc.want {
			t.Errorf("fair %d: %d, want %d", i, p, tc.want)
		}
	}
	all := c.Busy(0).Busy(1).Busy(NemesisThread)
	if _, ok := all.SomeFreeProcess(); ok {
		t.Error("a free process while all are busy")
	}
}

func TestContextUnknownThreads(t *testing.T) {
	c := NewContext(2, false, 0)
	if c.Busy(NemesisThread) != c || c.Free(7) != c || c.WithNextProcess(-5) != c {
		t.Error("unknown threads changed the context")
	}
	if c.Process(NemesisThread) != NoProcess || c.HasNemesis() {
		t.Error("nemesis in a context without one")
	}
	if _, ok := c.Thread(NemesisThread); ok {
		t.Error("nemesis process has a thread")
	}
	if _, ok := NewContext(0, true, 0).Thread(3); ok {
		t.Error("client process in a nemesis-only context")
	}
	// Freeing a thread outside a restricted context keeps it out.
	r := c.Busy(0).Restrict(func(th int) bool { return th == 1 })
	if r.Free(0).FreeCount() != 1 || r.Free(0).IsFree(0) {
		t.Error("Free added a thread outside the restriction")
	}
}

// Contexts beyond the 128 inline threads.
func TestContextManyThreads(t *testing.T) {
	const n = 300
	c := NewContext(n, true, 0)
	if c.AllCount() != n+1 || c.FreeCount() != n+1 {
		t.Fatalf("counts %d %d", c.AllCount(), c.FreeCount())
	}
	for th := range n {
		c = c.Busy(th)
	}
	if got := c.FreeThreads(); !slices.Equal(got, []int{NemesisThread}) {
		t.Fatalf("free %v", got)
	}
	c2 := c.Free(250).Free(3)
	if got := c2.FreeThreads(); !slices.Equal(got, []int{3, 250, NemesisThread}) {
		t.Errorf("free %v", got)
	}
	if got := c.FreeThreads(); !slices.Equal(got, []int{NemesisThread}) {
		t.Errorf("Free changed its receiver: %v", got)
	}
	r := c2.Restrict(func(th int) bool { return th >= 200 })
	if r.AllCount() != 100 || !slices.Equal(r.FreeThreads(), []int{250}) {
		t.Errorf("restricted: %d %v", r.AllCount(), r.FreeThreads())
	}
	p, ok := r.SomeFreeProcess()
	if !ok || p != 250 {
		t.Errorf("some free process %d", p)
	}
	c3 := c2.WithNextProcess(250)
	if th, ok := c3.Thread(250 + n); !ok || th != 250 {
		t.Error("renumbered process of a high thread")
	}
	var seen []int
	for th := range c2.FreeThreadSeq() {
		seen = append(seen, th)
	}
	if !slices.Equal(seen, c2.FreeThreads()) {
		t.Errorf("FreeThreadSeq %v", seen)
	}
}

func TestBits(t *testing.T) {
	var b threadBits
	for _, i := range []int{0, 63, 64, 127, 128, 200, 511} {
		b = b.with(i)
	}
	if b.count() != 7 {
		t.Errorf("count %d", b.count())
	}
	var got []int
	for i := b.next(0); i >= 0; i = b.next(i + 1) {
		got = append(got, i)
	}
	if !slices.Equal(got, []int{0, 63, 64, 127, 128, 200, 511}) {
		t.Errorf("members %v", got)
	}
	c := b.without(200).without(64).without(1000)
	if c.has(200) || c.has(64) || !b.has(200) || c.count() != 5 {
		t.Error("without")
	}
	var m threadBits
	m = m.with(63).with(200).with(700)
	if a := b.and(m); a.count() != 2 || !a.has(63) || !a.has(200) {
		t.Error("and")
	}
	if !c.equal(c.with(64).without(64)) || c.equal(b) {
		t.Error("equal")
	}
	if p := b.positions(2, 5); p.count() != 3 || !p.has(64) || !p.has(127) || !p.has(128) {
		t.Error("positions")
	}
	if d := b.minus(m); d.count() != 5 || d.has(63) {
		t.Error("minus")
	}
}
