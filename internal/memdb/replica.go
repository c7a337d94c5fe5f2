package memdb

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// msgKind is the type of a message between replicas.
type msgKind uint8

const (
	mVote         msgKind = iota + 1 // candidate asks for a vote: Index/LogTerm = its last entry
	mVoteReply                       // OK = granted
	mAppend                          // leader: Index/LogTerm = previous entry, Entries, Commit, Seq
	mAppendReply                     // OK: Index = matched index; !OK: Index = next index to try
	mTimeoutNow                      // leader hands over: start an election now
	mForward                         // follower passes a client request (ReqID, Cmd) to the leader
	mForwardReply                    // leader answers it (ReqID, Res)
)

// message is everything replicas say to each other, in both modes.
type message struct {
	Kind    msgKind  `json:"k"`
	From    string   `json:"from"`
	To      string   `json:"to"`
	Term    uint64   `json:"t,omitempty"`
	Index   uint64   `json:"i,omitempty"`
	LogTerm uint64   `json:"lt,omitempty"`
	Entries []entry  `json:"e,omitempty"`
	Commit  uint64   `json:"c,omitempty"`
	Seq     uint64   `json:"s,omitempty"`
	OK      bool     `json:"ok,omitempty"`
	ReqID   uint64   `json:"r,omitempty"`
	Cmd     *command `json:"cmd,omitempty"`
	Res     *result  `json:"res,omitempty"`
}

// transport carries messages between replicas, best effort: it may drop
// them but never blocks.
type transport interface {
	send(m *message)
}

// Status is what a replica reports about itself.
type Status struct {
	Node      string `json:"node"`
	Role      string `json:"role"` // "leader", "follower" or "candidate"
	Term      uint64 `json:"term"`
	Leader    string `json:"leader,omitempty"` // the leader it follows, if known
	LastIndex uint64 `json:"last-index"`
	Commit    uint64 `json:"commit"`
	Applied   uint64 `json:"applied"`
}

type role uint8

const (
	follower role = iota
	candidate
	leader
)

func (r role) String() string { return [...]string{"follower", "candidate", "leader"}[r] }

// request is a client command waiting for its answer: from a local client
// (done) or forwarded by a peer (from, id).
type request struct {
	cmd      command
	done     chan result
	from     string
	id       uint64
	deadline time.Time
}

type event struct {
	msg *message
	req *request
}

type proposal struct {
	term uint64
	req  *request
}

type pendingRead struct {
	req *request
	seq uint64 // heartbeat round that must be acknowledged by a quorum
	idx uint64 // log index that must be applied
}

type applyMark struct {
	idx uint64
	at  time.Time
}

type answer struct {
	req *request
	res result
}

// syncJob is work for the syncer: write recs, fsync if asked, then send out
// and release answers.
type syncJob struct {
	seq     uint64
	recs    []record
	fsync   bool
	out     []*message
	answers []answer
}

type jobMark struct{ seq, last uint64 }

const (
	maxBatch   = 1024 // entries per append message
	maxBatches = 16   // append messages per follower and step
	batchSize  = 16   // committed entries after which a follower applies without waiting for Lag
)

// replica is one member of the cluster: a Raft-style state machine driven
// by one goroutine (run) that owns every field below.
type replica struct {
	id     string
	peers  []string
	quorum int
	cfg    Config
	tr     transport
	st     storage
	gate   *gate
	rng    *rand.Rand
	inbox  chan event
	done   chan struct{}
	co     *coordinator // runs clients' transactions under the isolation bugs

	// persistent state (written to st before anything depends on it)
	term     uint64
	vote     string
	log      []entry  // log[0] is a sentinel
	saveFrom uint64   // first log index not yet recorded, 0 if none
	pending  []record // changes not yet handed to st
	durable  uint64   // the log is synced up to here
	syncAt   time.Time

	// With a syncer (networked mode) a goroutine writes and fsyncs records
	// off the loop and only then sends the messages and answers that
	// depend on them; without one (in-process) the loop syncs itself.
	syncer   chan syncJob
	jobs     []jobMark     // jobs handed over and not known done
	jobSeq   uint64        // last job handed over
	jobsDone atomic.Uint64 // last job done, set by the syncer
	wake     chan struct{} // the syncer finished a job
	syncErr  chan error
	stop     <-chan struct{}

	// volatile state
	now        time.Time
	role       role
	leader     string
	commit     uint64
	applied    uint64
	sm         *machine
	marks      []applyMark // followers: when to apply up to which index
	electionAt time.Time
	votes      map[string]bool
	fwd        map[uint64]*request // requests forwarded to the leader
	held       []*request          // requests waiting for a leader to be known
	fwdID      uint64
	sweepAt    time.Time

	// leader state
	next, match, acked map[string]uint64
	heard              map[string]time.Time
	probe, resend      map[string]bool
	seq                uint64 // last heartbeat round sent
	round              bool   // reads want a round in this step
	beat               bool   // a heartbeat is due in this step
	lastBeat           time.Time
	termStart          uint64    // index of this term's first entry
	shipAt             time.Time // lost-writes: when entries next travel
	checkAt            time.Time
	changeAt           time.Time
	transferTo         string
	transferSent       bool
	transferUntil      time.Time
	props              map[uint64]proposal
	reads              []pendingRead

	out      []*message
	answers  []answer
	matchBuf []uint64
}

// newReplica loads a replica from st. With async, run syncs st in a
// goroutine of its own instead of in the loop.
func newReplica(id string, nodes []string, cfg Config, tr transport, st storage, g *gate, incarnation uint64, async bool) (*replica, error) {
	p, err := st.load()
	if err != nil {
		return nil, err
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	r := &replica{
		id: id, cfg: cfg, tr: tr, st: st, gate: g,
		quorum: len(nodes)/2 + 1,
		rng:    rand.New(rand.NewPCG(uint64(cfg.Seed), h.Sum64()+incarnation)),
		inbox:  make(chan event, 4096),
		done:   make(chan struct{}),
		term:   p.term, vote: p.vote, log: p.log,
		sm:  newMachine(),
		fwd: map[uint64]*request{},
		co:  newCoordinator(cfg.Bug, uint64(cfg.Seed), h.Sum64()+incarnation+1),
	}
	r.durable = r.last()
	if async {
		r.syncer, r.wake, r.syncErr = make(chan syncJob, 1024), make(chan struct{}, 1), make(chan error, 1)
	}
	for _, n := range nodes {
		if n != id {
			r.peers = append(r.peers, n)
		}
	}
	return r, nil
}

func (r *replica) last() uint64 { return uint64(len(r.log) - 1) }

// deliver hands m to the replica, dropping it when the inbox is full (as a
// congested network would).
func (r *replica) deliver(m *message) {
	select {
	case r.inbox <- event{msg: m}:
	default:
	}
}

// submit runs a client command on this replica and waits for its answer.
// Under the isolation bugs the replica's coordinator runs a transaction as
// several commands, all within RequestTimeout.
func (r *replica) submit(ctx context.Context, cmd command) result {
	if cmd.Op == opTxn && r.cfg.Bug.stepwise() {
		ctx, cancel := context.WithTimeout(ctx, r.cfg.RequestTimeout)
		defer cancel()
		return r.co.run(ctx, cmd, r.submitOne)
	}
	return r.submitOne(ctx, cmd)
}

// submitOne runs one command on this replica and waits for its answer.
func (r *replica) submitOne(ctx context.Context, cmd command) result {
	req := &request{cmd: cmd, done: make(chan result, 1)}
	select {
	case r.inbox <- event{req: req}:
	case <-r.done:
		return result{Err: errNodeDown}
	case <-ctx.Done():
		return result{Err: errNotSent} // never handed over: it did not happen
	}
	select {
	case res := <-req.done:
		return res
	case <-r.done:
		select {
		case res := <-req.done:
			return res
		default:
			return result{Indef: indefStopped}
		}
	case <-ctx.Done():
		return result{Indef: indefTimeout}
	}
}

// run is the replica's event loop; it returns when ctx ends or storage fails.
func (r *replica) run(ctx context.Context) error {
	defer close(r.done)
	r.stop = ctx.Done()
	if r.syncer != nil {
		var wg sync.WaitGroup
		defer wg.Wait()
		wg.Go(func() { r.syncLoop(ctx) })
	}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	r.now = time.Now()
	r.resetElection()
	r.syncAt = r.now.Add(time.Second)
	for {
		if !r.gate.wait(ctx) {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case ev := <-r.inbox:
			r.now = time.Now()
			r.handle(ev)
		case <-tick.C:
		case <-r.wake:
		case err := <-r.syncErr:
			r.cfg.Logger.Error("memdb: storage failed, replica stops", "node", r.id, "err", err)
			return fmt.Errorf("memdb: node %s: %w", r.id, err)
		}
		r.now = time.Now()
	drain:
		for range 512 {
			select {
			case ev := <-r.inbox:
				r.handle(ev)
			default:
				break drain
			}
		}
		if err := r.step(); err != nil {
			r.cfg.Logger.Error("memdb: storage failed, replica stops", "node", r.id, "err", err)
			return fmt.Errorf("memdb: node %s: %w", r.id, err)
		}
	}
}

// send queues m until this step's state is synced.
func (r *replica) send(m *message) {
	m.From = r.id
	r.out = append(r.out, m)
}

// sendNow sends m at once: appends and forwards depend on nothing this
// replica has yet to sync (a leader counts itself only once synced).
func (r *replica) sendNow(m *message) {
	m.From = r.id
	r.tr.send(m)
}

func (r *replica) answer(req *request, res result) {
	r.answers = append(r.answers, answer{req, res})
}

func (r *replica) lagSample() time.Duration {
	d := r.cfg.Lag
	if j := r.cfg.Jitter; j > 0 {
		d += time.Duration(r.rng.Int64N(int64(2*j)+1)) - j
	}
	return d
}

func (r *replica) resetElection() {
	et := r.cfg.ElectionTimeout
	r.electionAt = r.now.Add(et + time.Duration(r.rng.Int64N(int64(et))))
}

func (r *replica) persistState() {
	r.pending = append(r.pending, record{Term: r.term, Vote: r.vote})
}

// appendLog appends entries at the end of the log.
func (r *replica) appendLog(es ...entry) {
	if r.saveFrom == 0 {
		r.saveFrom = r.last() + 1
	}
	r.log = append(r.log, es...)
}

// truncate removes the log from index i on.
func (r *replica) truncate(i uint64) {
	// A fresh array: messages in flight may still refer to the old one.
	r.log = slices.Clone(r.log[:i])
	if r.saveFrom == 0 || r.saveFrom > i {
		r.saveFrom = i
	}
	if r.commit >= i {
		r.commit = i - 1
	}
	r.durable = min(r.durable, i-1)
	for k := range r.jobs { // jobs in flight wrote entries that are now gone
		r.jobs[k].last = min(r.jobs[k].last, i-1)
	}
	for k := range r.marks {
		r.marks[k].idx = min(r.marks[k].idx, i-1)
	}
	if r.applied >= i {
		// Only the bugs let applied entries vanish: rebuild the state.
		lvl := slog.LevelWarn
		if r.cfg.Bug == BugNone {
			lvl = slog.LevelError // a safety violation in our own Raft
		}
		r.cfg.Logger.Log(context.Background(), lvl, "memdb: applied entries truncated", "node", r.id, "from", i, "lost", r.applied-i+1)
		r.sm, r.applied = newMachine(), 0
		r.applyTo(i - 1)
	}
}

func (r *replica) becomeFollower(term uint64, lead string) {
	if term > r.term {
		r.term, r.vote = term, ""
		r.persistState()
	}
	if r.role == leader {
		r.cfg.Logger.Info("memdb: stepping down", "node", r.id, "term", r.term)
		for _, p := range r.props {
			r.answer(p.req, result{Indef: indefDeposed})
		}
		for _, rd := range r.reads {
			r.answer(rd.req, result{Indef: indefDeposed})
		}
		r.props, r.reads, r.transferTo = nil, nil, ""
		r.resetElection() // its old deadline is long past
	}
	r.role, r.leader = follower, lead
}

func (r *replica) handle(ev event) {
	if ev.req != nil {
		ev.req.deadline = r.now.Add(r.cfg.RequestTimeout)
		r.onRequest(ev.req)
		return
	}
	m := ev.msg
	switch m.Kind {
	case mForward:
		if m.Cmd != nil {
			r.handle(event{req: &request{cmd: *m.Cmd, from: m.From, id: m.ReqID}})
		}
		return
	case mForwardReply:
		if req, ok := r.fwd[m.ReqID]; ok && m.Res != nil {
			delete(r.fwd, m.ReqID)
			r.answer(req, *m.Res)
			if m.Res.Err == errNotLeader && r.leader == m.From && r.role == follower {
				r.leader = "" // it was deposed: hold requests until the next leader shows up
			}
		}
		return
	}
	if m.Term > r.term {
		r.becomeFollower(m.Term, "")
	}
	switch m.Kind {
	case mVote:
		r.onVote(m)
	case mVoteReply:
		if r.role == candidate && m.Term == r.term && m.OK {
			r.votes[m.From] = true
			if len(r.votes) >= r.quorum {
				r.becomeLeader()
			}
		}
	case mAppend:
		r.onAppend(m)
	case mAppendReply:
		r.onAppendReply(m)
	case mTimeoutNow:
		if m.Term == r.term && r.role == follower {
			r.startElection()
		}
	}
}

func (r *replica) onVote(m *message) {
	lastTerm := r.log[r.last()].Term
	upToDate := m.LogTerm > lastTerm || m.LogTerm == lastTerm && m.Index >= r.last()
	grant := m.Term == r.term && (r.vote == "" || r.vote == m.From) && upToDate
	if grant {
		r.vote = m.From
		r.persistState()
		r.resetElection()
	}
	r.send(&message{Kind: mVoteReply, To: m.From, Term: r.term, OK: grant})
}

func (r *replica) onAppend(m *message) {
	reply := &message{Kind: mAppendReply, To: m.From, Term: r.term, Seq: m.Seq}
	defer r.send(reply)
	if m.Term < r.term {
		return
	}
	if r.role != follower || r.leader != m.From {
		r.becomeFollower(m.Term, m.From)
	}
	r.resetElection()
	if m.Index > r.last() {
		reply.Index = r.last() + 1
		return
	}
	if t := r.log[m.Index].Term; t != m.LogTerm {
		i := m.Index
		for i > 1 && r.log[i-1].Term == t {
			i--
		}
		reply.Index = i
		return
	}
	for k := range m.Entries {
		i := m.Index + 1 + uint64(k)
		if i <= r.last() {
			if r.log[i].Term == m.Entries[k].Term {
				continue
			}
			r.truncate(i)
		}
		r.appendLog(m.Entries[k:]...)
		break
	}
	match := m.Index + uint64(len(m.Entries))
	if c := min(m.Commit, match); c > r.commit {
		r.commit = c
		if r.cfg.Lag == 0 {
			r.applyTo(c)
		} else {
			at := r.now.Add(r.lagSample())
			if n := len(r.marks); n > 0 && r.marks[n-1].at.After(at) {
				at = r.marks[n-1].at
			}
			r.marks = append(r.marks, applyMark{c, at})
		}
	}
	reply.OK, reply.Index = true, match
}

func (r *replica) onAppendReply(m *message) {
	if r.role != leader || m.Term != r.term {
		return
	}
	p := m.From
	r.heard[p] = r.now
	r.acked[p] = max(r.acked[p], m.Seq)
	if m.OK {
		r.match[p] = max(r.match[p], m.Index)
		r.next[p] = max(r.next[p], m.Index+1)
		if r.probe[p] {
			r.probe[p], r.resend[p] = false, true
		}
		return
	}
	r.next[p] = max(m.Index, r.match[p]+1)
	r.probe[p], r.resend[p] = true, true
}

func (r *replica) startElection() {
	r.term++
	r.vote, r.role, r.leader = r.id, candidate, ""
	r.persistState()
	r.votes = map[string]bool{r.id: true}
	r.resetElection()
	r.cfg.Logger.Debug("memdb: election", "node", r.id, "term", r.term)
	if len(r.votes) >= r.quorum {
		r.becomeLeader()
		return
	}
	for _, p := range r.peers {
		r.send(&message{Kind: mVote, To: p, Term: r.term, Index: r.last(), LogTerm: r.log[r.last()].Term})
	}
}

func (r *replica) becomeLeader() {
	r.cfg.Logger.Info("memdb: leader", "node", r.id, "term", r.term)
	r.role, r.leader = leader, r.id
	r.next, r.match, r.acked = map[string]uint64{}, map[string]uint64{}, map[string]uint64{}
	r.heard, r.probe, r.resend = map[string]time.Time{}, map[string]bool{}, map[string]bool{}
	for _, p := range r.peers {
		r.next[p], r.heard[p], r.probe[p] = r.last()+1, r.now, true
	}
	r.props, r.reads, r.transferTo = map[uint64]proposal{}, nil, ""
	r.marks = nil
	r.applyTo(r.commit)
	r.appendLog(entry{Term: r.term, Cmd: command{Op: opNoop}})
	r.termStart = r.last()
	if r.cfg.Bug == BugLostWrites {
		r.commit = r.last()
	}
	r.beat, r.lastBeat = true, r.now
	r.checkAt = r.now.Add(r.cfg.ElectionTimeout)
	if every := r.cfg.LeaderChangeEvery; every > 0 {
		r.changeAt = r.now.Add(every/2 + time.Duration(r.rng.Int64N(int64(every))))
	}
}

func (r *replica) onRequest(req *request) {
	c := &req.cmd
	switch {
	case c.Op == opStatus:
		r.answer(req, result{Status: &Status{Node: r.id, Role: r.role.String(), Term: r.term,
			Leader: r.leader, LastIndex: r.last(), Commit: r.commit, Applied: r.applied}})
	case c.isRead() && r.cfg.Bug == BugStaleReads:
		r.answer(req, r.sm.apply(c)) // the bug: whatever this replica has applied
	case c.isRead() && r.cfg.Bug == BugLostWrites && r.role == leader:
		r.answer(req, r.sm.apply(c)) // the bug: a leader trusts its own state
	case r.role == leader && c.isRead():
		r.reads = append(r.reads, pendingRead{req: req, seq: r.seq + 1, idx: max(r.commit, r.termStart)})
		r.round = true
	case r.role == leader && r.transferTo != "" && r.cfg.Bug != BugLostWrites:
		r.answer(req, result{Err: errNotLeader}) // handing over: refuse new writes
	case r.role == leader:
		r.appendLog(entry{Term: r.term, Cmd: *c})
		r.props[r.last()] = proposal{r.term, req}
		if r.cfg.Bug == BugLostWrites {
			r.commit = r.last() // the bug: acknowledged before replication
		}
	case req.from != "":
		r.answer(req, result{Err: errNotLeader})
	case r.leader != "":
		r.fwdID++
		r.fwd[r.fwdID] = req
		r.sendNow(&message{Kind: mForward, To: r.leader, ReqID: r.fwdID, Cmd: c})
	default:
		r.held = append(r.held, req) // until a leader is known, or no-leader at the deadline
	}
}

// step runs timers, replication, persistence, commit and apply, then sends
// what the handled events produced. Messages and answers leave only after
// the state they depend on is synced.
func (r *replica) step() error {
	now := r.now
	if r.role != leader && !now.Before(r.electionAt) {
		r.startElection()
	}
	if r.role == leader {
		r.leaderTimers()
	}
	if r.leader != "" && len(r.held) > 0 {
		held := r.held
		r.held = nil
		for _, req := range held {
			r.onRequest(req)
		}
	}
	if r.role == leader {
		r.replicate()
	}
	fsync := r.record()
	if r.syncer == nil {
		if err := r.syncInline(fsync); err != nil {
			return err
		}
	}
	for len(r.jobs) > 0 && r.jobs[0].seq <= r.jobsDone.Load() {
		r.durable = r.jobs[0].last
		r.jobs = r.jobs[1:]
	}
	if r.role == leader {
		r.advanceCommit()
		r.applyTo(r.commit)
		r.serveReads()
	} else {
		r.applyLagged()
	}
	if !now.Before(r.sweepAt) {
		r.sweep()
	}
	if r.syncer != nil {
		r.handOver(fsync)
	}
	for _, m := range r.out {
		r.tr.send(m)
	}
	clear(r.out)
	r.out = r.out[:0]
	r.release(r.answers)
	clear(r.answers)
	r.answers = r.answers[:0]
	return nil
}

// record turns the step's log changes into a storage record and reports
// whether the pending records must be synced now.
func (r *replica) record() (fsync bool) {
	if r.saveFrom != 0 {
		r.pending = append(r.pending, record{From: r.saveFrom, Entries: r.log[r.saveFrom:]})
		r.saveFrom = 0
	}
	if r.cfg.Bug == BugLostWrites { // the bug: sync only now and then
		if fsync = !r.now.Before(r.syncAt); fsync {
			r.syncAt = r.now.Add(time.Second)
		}
		return fsync
	}
	return len(r.pending) > 0
}

func (r *replica) syncInline(fsync bool) error {
	for _, rec := range r.pending {
		r.st.write(rec)
	}
	r.pending = r.pending[:0]
	if !fsync {
		return nil
	}
	if err := r.st.sync(); err != nil {
		return err
	}
	r.durable = r.last()
	return nil
}

// handOver gives the syncer the step's records and, unless the bug answers
// before syncing, the messages and answers, which must also wait behind
// jobs still in flight.
func (r *replica) handOver(fsync bool) {
	lazy := r.cfg.Bug == BugLostWrites
	waiting := !lazy && len(r.jobs) > 0 && (len(r.out) > 0 || len(r.answers) > 0)
	if len(r.pending) == 0 && !fsync && !waiting {
		return
	}
	r.jobSeq++
	job := syncJob{seq: r.jobSeq, recs: r.pending, fsync: fsync}
	if !lazy {
		job.out, job.answers = r.out, r.answers
		r.out, r.answers = nil, nil
	}
	r.pending = nil
	r.jobs = append(r.jobs, jobMark{r.jobSeq, r.last()})
	select {
	case r.syncer <- job:
	case <-r.stop: // stopping: the job is lost, as in a crash
	}
}

// release hands answers to local clients or back to the forwarding peer.
func (r *replica) release(as []answer) {
	for _, a := range as {
		if a.req.done != nil {
			a.req.done <- a.res
		} else {
			res := a.res
			r.tr.send(&message{Kind: mForwardReply, From: r.id, To: a.req.from, ReqID: a.req.id, Res: &res})
		}
	}
}

// syncLoop is the syncer: it persists jobs in order and releases what
// waited for them. It stops, dropping queued jobs (a crash), when ctx ends.
func (r *replica) syncLoop(ctx context.Context) {
	for {
		var job syncJob
		select {
		case <-ctx.Done():
			return
		case job = <-r.syncer:
		}
		for _, rec := range job.recs {
			r.st.write(rec)
		}
		if job.fsync {
			if err := r.st.sync(); err != nil {
				r.syncErr <- err
				return
			}
		}
		for _, m := range job.out {
			r.tr.send(m)
		}
		r.release(job.answers)
		r.jobsDone.Store(job.seq)
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

func (r *replica) leaderTimers() {
	now := r.now
	et := r.cfg.ElectionTimeout
	if now.Sub(r.lastBeat) >= r.cfg.HeartbeatInterval {
		r.beat, r.lastBeat = true, now
	}
	if !now.Before(r.checkAt) {
		r.checkAt = now.Add(et)
		n := 1
		for _, p := range r.peers {
			if now.Sub(r.heard[p]) < et {
				n++
			}
		}
		if n < r.quorum {
			r.becomeFollower(r.term, "")
			return
		}
	}
	every := r.cfg.LeaderChangeEvery
	if every <= 0 || len(r.peers) == 0 {
		return
	}
	if r.transferTo == "" && !now.Before(r.changeAt) {
		best := ""
		for _, p := range r.peers {
			if now.Sub(r.heard[p]) < et && (best == "" || r.match[p] > r.match[best]) {
				best = p
			}
		}
		r.transferTo, r.transferSent, r.transferUntil = best, false, now.Add(et)
		r.changeAt = now.Add(every)
	}
	if r.transferTo == "" {
		return
	}
	if now.After(r.transferUntil) {
		r.transferTo = "" // the successor did not take over; carry on
		return
	}
	// The lost-writes bug hands over at once; otherwise wait until the
	// successor holds the whole log.
	if !r.transferSent && (r.cfg.Bug == BugLostWrites || r.match[r.transferTo] == r.last()) {
		r.transferSent = true
		r.send(&message{Kind: mTimeoutNow, To: r.transferTo, Term: r.term})
	}
}

// replicate sends each follower what it lacks, plus a round of appends to
// all when a heartbeat is due or reads wait for a round.
func (r *replica) replicate() {
	ship := true
	if r.cfg.Bug == BugLostWrites {
		// The bug: entries travel in lazy batches, one every Lag±Jitter,
		// and not at all once the leader hands over.
		ship = !r.now.Before(r.shipAt) && r.transferTo == ""
		if ship {
			r.shipAt = r.now.Add(r.lagSample())
		}
	}
	round := r.round || r.beat
	if round {
		r.seq++
		r.round, r.beat = false, false
	}
	for _, p := range r.peers {
		hasNew := ship && !r.probe[p] && r.next[p] <= r.last()
		if !(round || r.resend[p] || hasNew) {
			continue
		}
		r.resend[p] = false
		// One message while probing; while replicating, batches up to the
		// end of the log (at most maxBatches per step).
		for range maxBatches {
			prev := r.next[p] - 1
			var es []entry
			if ship {
				es = r.log[prev+1 : min(r.last(), prev+maxBatch)+1]
			}
			r.sendNow(&message{Kind: mAppend, To: p, Term: r.term, Index: prev, LogTerm: r.log[prev].Term,
				Entries: es, Commit: r.commit, Seq: r.seq})
			if r.probe[p] || len(es) == 0 {
				break
			}
			if r.next[p] += uint64(len(es)); r.next[p] > r.last() {
				break
			}
		}
	}
}

func (r *replica) advanceCommit() {
	if r.cfg.Bug == BugLostWrites {
		return // commit already follows the end of the log
	}
	ms := append(r.matchBuf[:0], r.durable)
	for _, p := range r.peers {
		ms = append(ms, r.match[p])
	}
	r.matchBuf = ms
	slices.Sort(ms)
	n := ms[len(ms)-r.quorum]
	if n > r.commit && r.log[n].Term == r.term {
		r.commit = n
	}
}

func (r *replica) applyTo(n uint64) {
	for r.applied < n {
		r.applied++
		e := &r.log[r.applied]
		r.sm.index = r.applied
		res := r.sm.apply(&e.Cmd)
		if p, ok := r.props[r.applied]; ok {
			delete(r.props, r.applied)
			if p.term != e.Term {
				res = result{Indef: indefDeposed}
			}
			r.answer(p.req, res)
		}
	}
}

// applyLagged applies what followers hold back: committed entries wait
// for Lag, or until batchSize of them have gathered.
func (r *replica) applyLagged() {
	if r.commit-r.applied >= batchSize {
		r.applyTo(r.commit)
		r.marks = r.marks[:0]
		return
	}
	i := 0
	for ; i < len(r.marks) && !r.now.Before(r.marks[i].at); i++ {
		r.applyTo(r.marks[i].idx)
	}
	r.marks = r.marks[i:]
}

func (r *replica) serveReads() {
	i := 0
	for ; i < len(r.reads); i++ {
		rd := r.reads[i]
		if r.applied < rd.idx || !r.quorumAcked(rd.seq) {
			break
		}
		r.answer(rd.req, r.sm.apply(&rd.req.cmd))
	}
	r.reads = r.reads[i:]
}

func (r *replica) quorumAcked(seq uint64) bool {
	n := 1
	for _, p := range r.peers {
		if r.acked[p] >= seq {
			n++
		}
	}
	return n >= r.quorum
}

// sweep answers requests that waited longer than RequestTimeout.
func (r *replica) sweep() {
	r.sweepAt = r.now.Add(10 * time.Millisecond)
	late := func(q *request) bool { return r.now.After(q.deadline) }
	for id, q := range r.fwd {
		if late(q) {
			delete(r.fwd, id)
			r.answer(q, result{Indef: indefTimeout})
		}
	}
	for i, p := range r.props {
		if late(p.req) {
			delete(r.props, i)
			r.answer(p.req, result{Indef: indefTimeout})
		}
	}
	r.held = slices.DeleteFunc(r.held, func(q *request) bool {
		if late(q) {
			r.answer(q, result{Err: errNoLeader}) // never passed on: it did not happen
			return true
		}
		return false
	})
	r.reads = slices.DeleteFunc(r.reads, func(rd pendingRead) bool {
		if late(rd.req) {
			r.answer(rd.req, result{Indef: indefTimeout})
			return true
		}
		return false
	})
}

// gate stops a replica's loop while it is paused (in-process SIGSTOP).
type gate struct {
	mu     sync.Mutex
	closed chan struct{} // nil while running
}

// wait blocks while the gate is closed; false when ctx ended.
func (g *gate) wait(ctx context.Context) bool {
	if g == nil {
		return ctx.Err() == nil
	}
	g.mu.Lock()
	ch := g.closed
	g.mu.Unlock()
	if ch == nil {
		return ctx.Err() == nil
	}
	select {
	case <-ch:
		return ctx.Err() == nil
	case <-ctx.Done():
		return false
	}
}

func (g *gate) pause() {
	g.mu.Lock()
	if g.closed == nil {
		g.closed = make(chan struct{})
	}
	g.mu.Unlock()
}

func (g *gate) resume() {
	g.mu.Lock()
	if g.closed != nil {
		close(g.closed)
		g.closed = nil
	}
	g.mu.Unlock()
}
