package memdb

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// capture is a transport that keeps what a replica sends.
type capture struct{ msgs []*message }

func (c *capture) send(m *message) { c.msgs = append(c.msgs, m) }

func (c *capture) take() []*message {
	out := c.msgs
	c.msgs = nil
	return out
}

// terms builds a log from entry terms (index 1 on).
func terms(ts ...uint64) []entry {
	log := []entry{{}}
	for i, t := range ts {
		log = append(log, entry{Term: t, Cmd: command{Op: opRegWrite, Key: "k", A: int64(i + 1)}})
	}
	return log
}

func logTerms(log []entry) []uint64 {
	var out []uint64
	for _, e := range log[1:] {
		out = append(out, e.Term)
	}
	return out
}

// testReplica returns replica id of nodes n1..n3 whose persisted state is
// term and log, driven by hand (no goroutine).
func testReplica(t *testing.T, id string, bug Bug, term uint64, log []entry) (*replica, *capture, *memStorage) {
	t.Helper()
	cfg, err := Config{Bug: bug, Lag: -1}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	st := newMemStorage()
	st.durable = []record{{Term: term}, {From: 1, Entries: log[1:]}}
	tr := &capture{}
	r, err := newReplica(id, []string{"n1", "n2", "n3"}, cfg, tr, st, nil, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	r.now = time.Now()
	r.resetElection()
	return r, tr, st
}

func step(t *testing.T, r *replica) {
	t.Helper()
	if err := r.step(); err != nil {
		t.Fatal(err)
	}
}

func TestAppendEntries(t *testing.T) {
	tests := []struct {
		name      string
		log       []uint64 // follower's log terms
		prev      uint64
		prevTerm  uint64
		entries   []uint64
		commit    uint64
		wantOK    bool
		wantIndex uint64 // match on success, next index to try on failure
		wantLog   []uint64
		wantCmt   uint64
	}{
		{"append to empty", nil, 0, 0, []uint64{1, 1}, 1, true, 2, []uint64{1, 1}, 1},
		{"heartbeat", []uint64{1, 1}, 2, 1, nil, 2, true, 2, []uint64{1, 1}, 2},
		{"gap", []uint64{1}, 3, 1, []uint64{2}, 0, false, 2, []uint64{1}, 0},
		{"prev term mismatch skips the term", []uint64{1, 2, 2, 2}, 4, 3, []uint64{3}, 0, false, 2, []uint64{1, 2, 2, 2}, 0},
		{"conflict truncates", []uint64{1, 1, 2, 2}, 2, 1, []uint64{3, 3}, 0, true, 4, []uint64{1, 1, 3, 3}, 0},
		{"duplicate keeps longer log", []uint64{1, 1, 1}, 0, 0, []uint64{1, 1}, 0, true, 2, []uint64{1, 1, 1}, 0},
		{"commit limited to match", []uint64{1}, 0, 0, []uint64{1, 1}, 9, true, 2, []uint64{1, 1}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, tr, st := testReplica(t, "n2", BugNone, 3, terms(tt.log...))
			var es []entry
			for _, e := range terms(tt.entries...)[1:] {
				es = append(es, e)
			}
			r.handle(event{msg: &message{Kind: mAppend, From: "n1", Term: 3, Index: tt.prev, LogTerm: tt.prevTerm, Entries: es, Commit: tt.commit, Seq: 7}})
			if len(tr.msgs) != 0 {
				t.Fatal("reply sent before the log was synced")
			}
			step(t, r)
			msgs := tr.take()
			if len(msgs) != 1 || msgs[0].Kind != mAppendReply {
				t.Fatalf("replies %+v", msgs)
			}
			m := msgs[0]
			if m.OK != tt.wantOK || m.Index != tt.wantIndex || m.Seq != 7 || m.Term != 3 {
				t.Errorf("reply ok=%v index=%d seq=%d term=%d, want ok=%v index=%d", m.OK, m.Index, m.Seq, m.Term, tt.wantOK, tt.wantIndex)
			}
			if got := logTerms(r.log); !slices.Equal(got, tt.wantLog) {
				t.Errorf("log %v, want %v", got, tt.wantLog)
			}
			if p, _ := st.load(); !slices.Equal(logTerms(p.log), tt.wantLog) {
				t.Errorf("persisted log %v, want %v", logTerms(p.log), tt.wantLog)
			}
			if r.commit != tt.wantCmt || r.applied != tt.wantCmt {
				t.Errorf("commit %d applied %d, want %d", r.commit, r.applied, tt.wantCmt)
			}
			if r.leader != "n1" {
				t.Errorf("leader %q, want n1", r.leader)
			}
		})
	}
}

func TestAppendFromStaleLeader(t *testing.T) {
	r, tr, _ := testReplica(t, "n2", BugNone, 5, terms(1, 1))
	r.handle(event{msg: &message{Kind: mAppend, From: "n1", Term: 4, Index: 2, LogTerm: 1, Entries: terms(4)[1:]}})
	step(t, r)
	m := tr.take()[0]
	if m.OK || m.Term != 5 || len(r.log) != 3 || r.leader != "" {
		t.Fatalf("stale append accepted: reply %+v, log %v", m, logTerms(r.log))
	}
}

func TestVote(t *testing.T) {
	tests := []struct {
		name        string
		voted       string
		term        uint64 // candidate's term
		lastIndex   uint64
		lastTerm    uint64
		wantGranted bool
	}{
		{"up to date", "", 3, 2, 2, true},
		{"longer log", "", 3, 5, 2, true},
		{"higher last term", "", 3, 1, 3, true},
		{"shorter log", "", 3, 1, 2, false},
		{"lower last term", "", 3, 9, 1, false},
		{"already voted for another", "n3", 2, 9, 9, false},
		{"already voted for it", "n1", 2, 2, 2, true},
		{"stale term", "", 1, 9, 9, false},
		{"new term clears vote", "n3", 3, 2, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, tr, st := testReplica(t, "n2", BugNone, 2, terms(1, 2))
			r.vote = tt.voted
			r.handle(event{msg: &message{Kind: mVote, From: "n1", Term: tt.term, Index: tt.lastIndex, LogTerm: tt.lastTerm}})
			step(t, r)
			m := tr.take()[0]
			if m.Kind != mVoteReply || m.OK != tt.wantGranted {
				t.Fatalf("reply %+v, want granted=%v", m, tt.wantGranted)
			}
			if p, _ := st.load(); tt.wantGranted && (p.vote != "n1" || p.term != tt.term) {
				t.Errorf("vote not persisted before the reply: term %d vote %q", p.term, p.vote)
			}
		})
	}
}

// leaderOf makes r the leader of term 3 over peers n2, n3.
func leaderOf(t *testing.T, r *replica, tr *capture) {
	t.Helper()
	r.term = 2
	r.startElection()
	r.handle(event{msg: &message{Kind: mVoteReply, From: "n2", Term: 3, OK: true}})
	if r.role != leader {
		t.Fatal("did not become leader")
	}
	step(t, r)
	tr.take()
}

func TestLeaderCommitsOnlyItsOwnTerm(t *testing.T) {
	// Raft's figure 8: an entry of an earlier term is not committed by
	// counting replicas, only together with an entry of the leader's term.
	r, tr, _ := testReplica(t, "n1", BugNone, 2, terms(1, 2))
	leaderOf(t, r, tr) // appends a no-op at index 3, term 3
	r.handle(event{msg: &message{Kind: mAppendReply, From: "n2", Term: 3, OK: true, Index: 2}})
	step(t, r)
	if r.commit != 0 {
		t.Fatalf("committed index %d of an earlier term", r.commit)
	}
	r.handle(event{msg: &message{Kind: mAppendReply, From: "n2", Term: 3, OK: true, Index: 3}})
	step(t, r)
	if r.commit != 3 || r.applied != 3 {
		t.Fatalf("commit %d applied %d, want 3", r.commit, r.applied)
	}
}

func TestReadIndexWaitsForQuorum(t *testing.T) {
	r, tr, _ := testReplica(t, "n1", BugNone, 2, terms(1))
	leaderOf(t, r, tr)
	r.handle(event{msg: &message{Kind: mAppendReply, From: "n2", Term: 3, OK: true, Index: 2, Seq: r.seq}})
	step(t, r)
	tr.take()
	done := make(chan result, 1)
	r.handle(event{req: &request{cmd: command{Op: opRegRead, Key: "k"}, done: done}})
	step(t, r)
	seq := r.seq
	var rounds int
	for _, m := range tr.take() {
		if m.Kind == mAppend && m.Seq == seq {
			rounds++
		}
	}
	if rounds != 2 {
		t.Fatalf("read sent %d appends with seq %d, want one per peer", rounds, seq)
	}
	// An old acknowledgement does not count; the answer waits.
	r.handle(event{msg: &message{Kind: mAppendReply, From: "n3", Term: 3, OK: true, Index: 2, Seq: seq - 1}})
	step(t, r)
	select {
	case res := <-done:
		t.Fatalf("read answered without a quorum: %+v", res)
	default:
	}
	r.handle(event{msg: &message{Kind: mAppendReply, From: "n3", Term: 3, OK: false, Index: 3, Seq: seq}})
	step(t, r)
	select {
	case res := <-done:
		if res.Nil != false || res.Int != 1 {
			t.Fatalf("read %+v, want 1", res)
		}
	default:
		t.Fatal("read not answered after a quorum confirmed the leader")
	}
}

func TestLeaderStepsDownOnHigherTerm(t *testing.T) {
	r, tr, _ := testReplica(t, "n1", BugNone, 2, terms(1))
	leaderOf(t, r, tr)
	done := make(chan result, 1)
	r.handle(event{req: &request{cmd: command{Op: opRegWrite, Key: "k", A: 5}, done: done}})
	r.handle(event{msg: &message{Kind: mAppendReply, From: "n2", Term: 4}})
	step(t, r)
	if r.role != follower || r.term != 4 {
		t.Fatalf("role %v term %d", r.role, r.term)
	}
	if res := <-done; res.Indef != indefDeposed {
		t.Fatalf("pending write answered %+v, want unknown outcome", res)
	}
}

func TestFollowerHoldsRequestsUntilLeaderKnown(t *testing.T) {
	r, tr, _ := testReplica(t, "n2", BugNone, 2, terms(1))
	done := make(chan result, 1)
	r.handle(event{req: &request{cmd: command{Op: opRegWrite, Key: "k", A: 5}, done: done}})
	step(t, r)
	if len(tr.take()) != 0 || len(r.held) != 1 {
		t.Fatal("request not held while no leader is known")
	}
	r.handle(event{msg: &message{Kind: mAppend, From: "n1", Term: 2, Index: 1, LogTerm: 1}})
	step(t, r)
	var fwd *message
	for _, m := range tr.take() {
		if m.Kind == mForward {
			fwd = m
		}
	}
	if fwd == nil || fwd.To != "n1" || fwd.Cmd.A != 5 {
		t.Fatalf("held request not forwarded to the new leader: %+v", fwd)
	}
	r.handle(event{msg: &message{Kind: mForwardReply, From: "n1", ReqID: fwd.ReqID, Res: &result{}}})
	step(t, r)
	if res := <-done; res.Err != "" || res.Indef != "" {
		t.Fatalf("answer %+v", res)
	}
	// A held request that outlives its deadline certainly did not happen.
	r.leader = ""
	r.handle(event{req: &request{cmd: command{Op: opRegWrite, Key: "k", A: 6}, done: done}})
	r.now = r.now.Add(2 * r.cfg.RequestTimeout)
	r.sweepAt = time.Time{}
	r.electionAt = r.now.Add(time.Hour)
	step(t, r)
	if res := <-done; res.Err != errNoLeader {
		t.Fatalf("late held request answered %+v, want %s", res, errNoLeader)
	}
}

func TestTruncatingAppliedEntriesRebuildsState(t *testing.T) {
	// Only the bugs let a replica lose applied entries; it must then
	// rebuild its state from what is left.
	r, tr, _ := testReplica(t, "n2", BugLostWrites, 2, terms(1, 2, 2))
	r.handle(event{msg: &message{Kind: mAppend, From: "n1", Term: 2, Index: 3, LogTerm: 2, Commit: 3}})
	step(t, r)
	if r.applied != 3 || r.sm.regs["k"] != 3 {
		t.Fatalf("applied %d value %d", r.applied, r.sm.regs["k"])
	}
	tr.take()
	r.handle(event{msg: &message{Kind: mAppend, From: "n3", Term: 3, Index: 1, LogTerm: 1,
		Entries: []entry{{Term: 3, Cmd: command{Op: opRegWrite, Key: "k", A: 9}}}, Commit: 2}})
	step(t, r)
	if got := logTerms(r.log); !slices.Equal(got, []uint64{1, 3}) {
		t.Fatalf("log %v", got)
	}
	if r.applied != 2 || r.sm.regs["k"] != 9 {
		t.Fatalf("after truncation applied %d value %d, want 2 and 9", r.applied, r.sm.regs["k"])
	}
}

// gatedStorage is memory storage whose sync waits for a token.
type gatedStorage struct {
	*memStorage
	tokens chan struct{}
}

func (g gatedStorage) sync() error {
	<-g.tokens
	return g.memStorage.sync()
}

// lockedCapture is a capture transport safe for the syncer goroutine.
type lockedCapture struct {
	mu   sync.Mutex
	msgs []*message
}

func (c *lockedCapture) send(m *message) {
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	c.mu.Unlock()
}

func (c *lockedCapture) replies() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, m := range c.msgs {
		if m.Kind == mAppendReply {
			n++
		}
	}
	return n
}

func TestSyncerHoldsAnswersUntilSynced(t *testing.T) {
	cfg, _ := Config{ElectionTimeout: 20 * time.Millisecond, HeartbeatInterval: 5 * time.Millisecond}.withDefaults()
	st := gatedStorage{newMemStorage(), make(chan struct{})}
	tr := &lockedCapture{}
	r, err := newReplica("n1", []string{"n1"}, cfg, tr, st, nil, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.run(ctx)
	feed := func(n int) {
		for range n {
			select {
			case st.tokens <- struct{}{}:
			case <-time.After(2 * time.Second):
				t.Fatal("no sync requested")
			}
		}
	}
	// Let the single node elect itself and commit its no-op.
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	go func() {
		for wctx.Err() == nil {
			select {
			case st.tokens <- struct{}{}:
			case <-wctx.Done():
			}
		}
	}()
	if res := r.submit(wctx, command{Op: opRegWrite, Key: "k", A: 1}); res.Err != "" || res.Indef != "" {
		t.Fatalf("first write: %+v", res)
	}
	wcancel()
	time.Sleep(10 * time.Millisecond) // the feeder has stopped

	done := make(chan result, 1)
	go func() { done <- r.submit(ctx, command{Op: opRegWrite, Key: "k", A: 2}) }()
	select {
	case res := <-done:
		t.Fatalf("write acknowledged before its entry was synced: %+v", res)
	case <-time.After(100 * time.Millisecond):
	}
	feed(1)
	select {
	case res := <-done:
		if res.Err != "" || res.Indef != "" {
			t.Fatalf("write: %+v", res)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("write not acknowledged after the sync")
	}
}

func TestSyncerHoldsFollowerAcks(t *testing.T) {
	cfg, _ := Config{ElectionTimeout: time.Hour, HeartbeatInterval: time.Minute}.withDefaults()
	st := gatedStorage{newMemStorage(), make(chan struct{})}
	tr := &lockedCapture{}
	r, err := newReplica("n2", []string{"n1", "n2", "n3"}, cfg, tr, st, nil, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.run(ctx)
	r.deliver(&message{Kind: mAppend, From: "n1", To: "n2", Term: 1, Entries: terms(1, 1)[1:]})
	time.Sleep(100 * time.Millisecond)
	if n := tr.replies(); n != 0 {
		t.Fatalf("%d acks sent before the entries were synced", n)
	}
	st.tokens <- struct{}{}
	waitFor(t, "the ack after the sync", 2*time.Second, func() bool { return tr.replies() == 1 })
}
