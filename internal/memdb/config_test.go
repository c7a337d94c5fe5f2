package memdb

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestServerFlagsRoundTrip(t *testing.T) {
	tests := []ServerConfig{
		{Config: Config{Bug: BugNone}, Node: "n1", DataDir: "/tmp/x", Peers: map[string]string{"n1": "10.0.0.1:7480", "n2": "10.0.0.2:7480"}},
		{Config: Config{Bug: BugLostWrites, ElectionTimeout: 300 * time.Millisecond, HeartbeatInterval: 40 * time.Millisecond,
			Lag: 7 * time.Millisecond, Jitter: time.Millisecond, LeaderChangeEvery: 2 * time.Second, RequestTimeout: 3 * time.Second, Seed: 42},
			Node: "a", Listen: ":9000", DataDir: "d", Peers: map[string]string{"a": "h:1", "b": "h:2", "c": "h:3"}},
		{Config: Config{Bug: BugNone, Lag: -1}, Node: "n1", DataDir: "d", Peers: map[string]string{"n1": "x:1"}},
	}
	for _, c := range tests {
		got, err := ParseServerFlags(c.Args())
		if err != nil {
			t.Fatalf("%v: %v", c.Args(), err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("round trip of %v:\n got %+v\nwant %+v", c.Args(), got, c)
		}
	}
}

func TestServerFlagsErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--data-dir", "d", "--peers", "n1=h:1"}, "node name"},
		{[]string{"--node", "n1", "--peers", "n1=h:1"}, "data directory"},
		{[]string{"--node", "n1", "--data-dir", "d", "--peers", "n2=h:1"}, "not in --peers"},
		{[]string{"--node", "n1", "--data-dir", "d", "--peers", "n1"}, "bad --peers entry"},
		{[]string{"--node", "n1", "--data-dir", "d", "--peers", "n1=h:1,n1=h:2"}, "twice"},
		{[]string{"--node", "n1", "--data-dir", "d", "--peers", "n1=h:1", "--bug", "typo"}, "unknown bug"},
		{[]string{"--node", "n1", "--data-dir", "d", "--peers", "n1=h:1", "--lag", "soon"}, "lag"},
		{[]string{"--node", "n1", "--data-dir", "d", "--peers", "n1=h:1", "extra"}, "unexpected argument"},
		{[]string{"--nope"}, "nope"},
	}
	for _, tt := range tests {
		_, err := ParseServerFlags(tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want one mentioning %q", tt.args, err, tt.want)
		}
	}
	c, err := ParseServerFlags([]string{"--node", "n1", "--data-dir", "d", "--peers", "n1=host"})
	if err != nil || c.Peers["n1"] != "host:"+DefaultPort {
		t.Errorf("peer without port: %v %v", c.Peers, err)
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := Config{}.withDefaults()
	if err != nil || c.Bug != BugNone || c.LeaderChangeEvery != 0 || c.Lag != 10*time.Millisecond || c.Jitter != 5*time.Millisecond {
		t.Fatalf("%+v %v", c, err)
	}
	c, _ = Config{Bug: BugLostWrites}.withDefaults()
	if c.LeaderChangeEvery != 500*time.Millisecond {
		t.Fatalf("lost-writes changes leader every %v", c.LeaderChangeEvery)
	}
	if _, err := (Config{HeartbeatInterval: time.Second}).withDefaults(); err == nil {
		t.Fatal("heartbeat longer than the election timeout accepted")
	}
	if err := NewCluster([]string{"n1", "n1"}, Config{}).Start(t.Context()); err == nil {
		t.Fatal("duplicate node accepted")
	}
}

func FuzzParsePeers(f *testing.F) {
	f.Add("n1=h:1,n2=h:2")
	f.Add("n1=h")
	f.Add(",=,")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePeers(s)
		if err != nil {
			return
		}
		q, err := parsePeers(formatPeers(p))
		if err != nil || !reflect.DeepEqual(p, q) {
			t.Fatalf("%q: %v does not round-trip (%v, %v)", s, p, q, err)
		}
	})
}
