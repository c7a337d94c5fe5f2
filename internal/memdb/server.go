package memdb

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sort"
	"sync"
	"time"
)

// Wire protocol: newline-delimited JSON over TCP. A connection starts with
// a hello line naming its role. A peer connection then carries messages in
// one direction (each node dials each other node for what it sends); a
// client connection carries requests {"id","cmd"} and responses {"id","res"}.
type wireHello struct {
	Role string `json:"role"` // "peer" or "client"
	Node string `json:"node,omitempty"`
}

type wireReq struct {
	ID  uint64  `json:"id"`
	Cmd command `json:"cmd"`
}

type wireRes struct {
	ID  uint64 `json:"id"`
	Res result `json:"res"`
}

const (
	peerDialTimeout  = 500 * time.Millisecond
	peerWriteTimeout = time.Second
	peerIdleTimeout  = 30 * time.Second
)

// netHook lets tests cut links between networked replicas: a cut link
// drops its messages and closes the connections that carry them.
type netHook struct {
	mu  sync.Mutex
	cut map[link]bool
}

func (h *netHook) blocked(from, to string) bool {
	if h == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cut[link{from, to}]
}

// partition installs a grudge (grudge[n]: nodes n does not hear from).
func (h *netHook) partition(grudge map[string][]string) {
	cut := map[link]bool{}
	for to, froms := range grudge {
		for _, f := range froms {
			cut[link{f, to}] = true
		}
	}
	h.mu.Lock()
	h.cut = cut
	h.mu.Unlock()
}

// Serve runs one networked replica until ctx ends: it listens for peers and
// clients, replicates over TCP and keeps its log in cfg.DataDir. Stopping
// through ctx is a crash as far as the data is concerned: only synced
// state survives.
func Serve(ctx context.Context, cfg ServerConfig) error {
	if err := cfg.check(); err != nil {
		return err
	}
	rc, err := cfg.Config.withDefaults()
	if err != nil {
		return err
	}
	st, err := openFileStorage(cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.close()
	nodes := make([]string, 0, len(cfg.Peers))
	for n := range cfg.Peers {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	ln := cfg.ln
	if ln == nil {
		addr := cfg.Listen
		if addr == "" {
			addr = ":" + DefaultPort
		}
		if ln, err = net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("memdb: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &server{node: cfg.Node, hook: cfg.hook, conns: map[net.Conn]bool{}}
	tr := &tcpNet{links: map[string]*peerLink{}}
	rep, err := newReplica(cfg.Node, nodes, rc, tr, st, nil, uint64(time.Now().UnixNano()), true)
	if err != nil {
		ln.Close()
		return err
	}
	s.rep = rep
	for _, n := range nodes {
		if n != cfg.Node {
			l := &peerLink{self: cfg.Node, to: n, addr: cfg.Peers[n], hook: cfg.hook, s: s, ch: make(chan *message, 4096)}
			tr.links[n] = l
			s.wg.Go(func() { l.run(ctx) })
		}
	}
	s.wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			if s.track(conn) {
				s.wg.Go(func() { s.handle(ctx, conn) })
			}
		}
	})
	rc.Logger.Info("memdb: serving", "node", cfg.Node, "addr", ln.Addr().String(), "bug", rc.Bug)
	runErr := rep.run(ctx)
	cancel()
	ln.Close()
	s.closeAll()
	s.wg.Wait()
	return runErr
}

type server struct {
	node string
	rep  *replica
	hook *netHook
	wg   sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool
}

func (s *server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return false
	}
	s.conns[c] = true
	return true
}

func (s *server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	c.Close()
}

func (s *server) closeAll() {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
}

func (s *server) handle(ctx context.Context, conn net.Conn) {
	defer s.untrack(conn)
	dec := json.NewDecoder(bufio.NewReader(conn))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var hello wireHello
	if err := dec.Decode(&hello); err != nil {
		return
	}
	switch hello.Role {
	case "peer":
		for {
			conn.SetReadDeadline(time.Now().Add(peerIdleTimeout))
			m := new(message)
			if err := dec.Decode(m); err != nil {
				return
			}
			if s.hook.blocked(m.From, s.node) {
				return // cut: drop the connection, the sender reconnects
			}
			s.rep.deliver(m)
		}
	case "client":
		conn.SetReadDeadline(time.Time{})
		var wmu sync.Mutex
		w := bufio.NewWriter(conn)
		var wg sync.WaitGroup
		defer wg.Wait()
		for {
			var req wireReq
			if err := dec.Decode(&req); err != nil {
				return
			}
			wg.Go(func() {
				res := s.rep.submit(ctx, req.Cmd)
				b, _ := json.Marshal(wireRes{ID: req.ID, Res: res})
				wmu.Lock()
				defer wmu.Unlock()
				conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
				w.Write(append(b, '\n'))
				if w.Flush() != nil {
					conn.Close()
				}
			})
		}
	}
}

// tcpNet is the networked transport: one outgoing link per peer.
type tcpNet struct {
	links map[string]*peerLink
}

func (t *tcpNet) send(m *message) {
	if l := t.links[m.To]; l != nil {
		select {
		case l.ch <- m:
		default: // queue full: dropped, as on a congested network
		}
	}
}

// peerLink writes messages to one peer over a connection it dials and
// redials as needed; messages that cannot be sent are dropped.
type peerLink struct {
	self, to, addr string
	hook           *netHook
	s              *server
	ch             chan *message
}

func (l *peerLink) run(ctx context.Context) {
	var conn net.Conn
	var w *bufio.Writer
	var enc *json.Encoder
	var retryAt time.Time
	drop := func() {
		if conn != nil {
			l.s.untrack(conn)
			conn = nil
		}
	}
	defer drop()
	for {
		var m *message
		select {
		case <-ctx.Done():
			return
		case m = <-l.ch:
		}
		if l.hook.blocked(l.self, l.to) {
			drop()
			continue
		}
		if conn == nil {
			if time.Now().Before(retryAt) {
				continue
			}
			var err error
			if conn, err = l.dial(ctx); err != nil {
				retryAt = time.Now().Add(100 * time.Millisecond)
				continue
			}
			w = bufio.NewWriterSize(conn, 64<<10)
			enc = json.NewEncoder(w)
			if err := enc.Encode(wireHello{Role: "peer", Node: l.self}); err != nil {
				drop()
				continue
			}
		}
		if err := enc.Encode(m); err != nil {
			drop()
			continue
		}
		if len(l.ch) == 0 || w.Buffered() > 32<<10 {
			conn.SetWriteDeadline(time.Now().Add(peerWriteTimeout))
			if err := w.Flush(); err != nil {
				drop()
			}
		}
	}
}

func (l *peerLink) dial(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: peerDialTimeout}
	conn, err := d.DialContext(ctx, "tcp", l.addr)
	if err != nil {
		return nil, err
	}
	if !l.s.track(conn) {
		return nil, errors.New("server closing")
	}
	return conn, nil
}
