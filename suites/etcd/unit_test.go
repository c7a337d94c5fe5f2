package etcd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/cli"
	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/history"
)

func TestDefinite(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"no leader (etcd error)", rpctypes.ErrNoLeader, true},
		{"no leader (grpc status)", rpctypes.ErrGRPCNoLeader, true},
		{"too many requests", rpctypes.ErrTooManyRequests, true},
		{"request too large", rpctypes.ErrRequestTooLarge, true},
		{"no space", rpctypes.ErrGRPCNoSpace, true},
		{"not capable", rpctypes.ErrNotCapable, true},
		{"no connection", status.Error(codes.Unavailable, "there is no connection available"), true},
		{"proposal dropped", status.Error(codes.Unknown, "raft proposal dropped"), true},
		{"request timed out", rpctypes.ErrTimeout, false},
		{"timed out, leader fail", rpctypes.ErrTimeoutDueToLeaderFail, false},
		{"timed out, connection lost", rpctypes.ErrTimeoutDueToConnectionLost, false},
		{"leader changed", rpctypes.ErrLeaderChanged, false},
		{"server stopped", rpctypes.ErrStopped, false},
		{"transport closing", status.Error(codes.Unavailable, "transport is closing"), false},
		{"deadline (grpc)", status.Error(codes.DeadlineExceeded, "context deadline exceeded"), false},
		{"deadline (context)", fmt.Errorf("x: %w", context.DeadlineExceeded), false},
		{"canceled", context.Canceled, false},
		{"plain error", errors.New("boom"), false},
		{"nil", nil, false},
	} {
		if got := Definite(tc.err); got != tc.want {
			t.Errorf("%s: Definite(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

func TestFailWriteAndRead(t *testing.T) {
	op := history.Op{Type: history.Invoke, Process: 1, F: "write", Value: int64(3)}
	got, err := failWrite(op, rpctypes.ErrNoLeader)
	if err != nil || got.Type != history.Fail || !strings.Contains(fmt.Sprint(got.Error), "no leader") {
		t.Errorf("no leader: %v, %v; want fail naming it", got, err)
	}
	if _, err := failWrite(op, rpctypes.ErrTimeout); err == nil {
		t.Error("request timed out: want an error (info), got a completion")
	}
	got, err = failRead(history.Op{Type: history.Invoke, F: "read"}, rpctypes.ErrTimeout)
	if err != nil || got.Type != history.Fail {
		t.Errorf("read: %v, %v; want fail", got, err)
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]string{"3.7.3": "3.7.3", "v3.6.16": "3.6.16", " 3.5.0 ": "3.5.0", "": "", "latest": "", "3.7": "", "2.3.8": "", "3.7.3; rm -rf /": ""} {
		got, err := ParseVersion(in)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("ParseVersion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestDefaultNodes(t *testing.T) {
	for _, tc := range []struct {
		nodes []string
		want  bool
	}{
		{[]string{"n1", "n2", "n3"}, true},
		{[]string{"n1"}, true},
		{nil, false},
		{[]string{"n2", "n1"}, false},
		{[]string{"a", "b"}, false},
	} {
		if got := defaultNodes(tc.nodes); got != tc.want {
			t.Errorf("defaultNodes(%v) = %v", tc.nodes, got)
		}
	}
}

func TestNewTestRejectsBadOptions(t *testing.T) {
	base := func() *cli.Options {
		return &cli.Options{Nodes: []string{"n1", "n2", "n3"}, Concurrency: 3, TimeLimit: time.Second, Workload: "register",
			Nemesis: "none", Set: map[string]string{}}
	}
	for _, tc := range []struct {
		name string
		mod  func(o *cli.Options)
		want string
	}{
		{"read mode", func(o *cli.Options) { o.Set[OptReadMode] = "stale" }, "read mode"},
		{"version", func(o *cli.Options) { o.Set[OptVersion] = "latest" }, "etcd-version"},
		{"binary and version", func(o *cli.Options) { o.Set[OptVersion] = "3.7.3"; o.Set[OptBinary] = "/bin/sh" }, "exclude each other"},
		{"missing binary", func(o *cli.Options) { o.Set[OptBinary] = "/nonexistent/etcd" }, "not an executable"},
		{"rate", func(o *cli.Options) { o.Set[OptRate] = "fast" }, "rate"},
		{"workload", func(o *cli.Options) { o.Workload = "bank" }, "no workload"},
		{"cluster driver", func(o *cli.Options) { o.Cluster = "docker" }, "runs on netns clusters, or on real hosts over SSH"},
		{"real hosts without ssh", func(o *cli.Options) { o.Nodes, o.NodesGiven, o.SSH.NoSSH = []string{"db1", "db2"}, true, true }, "--no-ssh"},
		{"netns with host names", func(o *cli.Options) { o.Cluster = "netns"; o.Nodes = []string{"db1"} }, "--node-count"},
		{"cluster name", func(o *cli.Options) { o.Set[OptClusterName] = "Bad Name" }, "cluster name"},
		{"nemesis", func(o *cli.Options) { o.Nemesis = "partition,meteor" }, "meteor"},
		{"remote", func(o *cli.Options) { o.Set[OptRemote] = "telnet" }, "remote=telnet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := base()
			tc.mod(o)
			_, cleanup, err := NewTest(context.Background(), o)
			if cleanup != nil {
				cleanup()
			}
			if !errors.Is(err, faultline.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want ErrConfig mentioning %q", err, tc.want)
			}
		})
	}
}

func TestSuite(t *testing.T) {
	s := Suite()
	if s.Name != "etcd" || !slices.Equal(s.Workloads, []string{"register", "set", "append", "watch"}) {
		t.Fatalf("suite %s with workloads %v", s.Name, s.Workloads)
	}
	var flags []string
	for _, f := range s.Flags {
		flags = append(flags, f.Name)
	}
	for _, want := range []string{OptReadMode, OptVersion, OptBinary} {
		if !slices.Contains(flags, want) {
			t.Errorf("no --%s flag", want)
		}
	}
	for _, wl := range s.Workloads {
		c, err := s.Checker(wl, faultline.TestRecord{Concurrency: 5})
		if err != nil || c == nil {
			t.Errorf("checker for %s: %v", wl, err)
		}
	}
	if _, err := s.Checker("nope", faultline.TestRecord{}); err == nil {
		t.Error("checker for an unknown workload")
	}
}

func TestDBCommandLine(t *testing.T) {
	addrs := map[string]string{"n1": "10.0.0.11", "n2": "10.0.0.12", "n3": "10.0.0.13"}
	d := NewDB(Config{Addr: func(n string) string { return addrs[n] }})
	env := &control.Env{Name: "etcd-register", Nodes: []string{"n1", "n2", "n3"}, Dir: "store/x/1", Seed: 5}
	args := strings.Join(d.args(env, "n2", "new"), " ")
	for _, want := range []string{
		"--name n2", "--data-dir etcd/data",
		"--initial-cluster n1=http://10.0.0.11:2380,n2=http://10.0.0.12:2380,n3=http://10.0.0.13:2380",
		"--advertise-client-urls http://10.0.0.12:2379", "--initial-advertise-peer-urls http://10.0.0.12:2380",
		"--listen-client-urls http://0.0.0.0:2379", "--initial-cluster-state new",
	} {
		if !strings.Contains(args, want) {
			t.Errorf("command line lacks %q: %s", want, args)
		}
	}
	// One token per run, the same for every member; another run or another
	// DB gets another.
	tok := d.token(env)
	if d.token(env) != tok || !strings.Contains(args, "--initial-cluster-token "+tok) {
		t.Errorf("token not stable: %s", args)
	}
	env2 := *env
	env2.Dir = "store/x/2"
	if d.token(&env2) == tok || NewDB(Config{}).token(env) == tok {
		t.Error("token reused across runs or DBs")
	}
	if got := d.ClientURL("n3"); got != "http://10.0.0.13:2379" {
		t.Errorf("client URL %s", got)
	}
	if got := NewDB(Config{Binary: "/tmp/etcd"}).binPath(); got != "etcd/bin/etcd" {
		t.Errorf("binary path %s", got)
	}
	if got := NewDB(Config{}).binPath(); got != DebianBinary {
		t.Errorf("binary path %s", got)
	}
	if got := hostPort("fd00::1", 2379); got != "[fd00::1]:2379" {
		t.Errorf("IPv6 host:port %s", got)
	}
}

func TestClientConfig(t *testing.T) {
	url := func(string) string { return "http://127.0.0.1:1" }
	if _, err := NewClient(ClientConfig{Workload: "bank", URL: url}); err == nil {
		t.Error("unknown workload accepted")
	}
	if _, err := NewClient(ClientConfig{Workload: "register", ReadMode: "stale", URL: url}); err == nil {
		t.Error("bad read mode accepted")
	}
	if _, err := NewClient(ClientConfig{Workload: "register"}); err == nil {
		t.Error("missing URL function accepted")
	}
	c, err := NewClient(ClientConfig{Workload: "watch", URL: url})
	if err != nil {
		t.Fatal(err)
	}
	if c.Reusable() {
		t.Error("the watch client keeps per-process state and must not be reused")
	}
}

// TestClientNoServer: with nothing listening, ops fail at once (nothing
// was sent), reads and writes alike.
func TestClientNoServer(t *testing.T) {
	proto, err := NewClient(ClientConfig{Workload: "register", URL: func(string) string { return "http://127.0.0.1:1" }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := proto.Open(ctx, nil, "n1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx, nil)
	for _, op := range []history.Op{
		{Type: history.Invoke, F: "write", Key: int64(1), Value: int64(2)},
		{Type: history.Invoke, F: "read", Key: int64(1)},
	} {
		began := time.Now()
		got, err := c.Invoke(ctx, nil, op)
		if err != nil || got.Type != history.Fail || got.Error != "not-connected" || got.Node != "n1" {
			t.Errorf("%s: %v, %v; want fail not-connected on n1", op.F, got, err)
		}
		if d := time.Since(began); d > 3*time.Second {
			t.Errorf("%s took %v to fail", op.F, d)
		}
	}
}
