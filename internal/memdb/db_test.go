package memdb

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/history"
)

func TestInProcessDBLifecycle(t *testing.T) {
	ctx := context.Background()
	env := &control.Env{Nodes: []string{"n1", "n2", "n3"}}
	d := NewInProcessDB(Config{ElectionTimeout: 100 * time.Millisecond, HeartbeatInterval: 20 * time.Millisecond})
	proto := NewInProcessClient(d, ClientConfig{Workload: WorkloadRegister})
	if _, err := proto.Open(ctx, env, "n1"); err == nil {
		t.Fatal("client opened before the DB was set up")
	}
	for _, n := range env.Nodes { // Jepsen tears down before it sets up
		if err := d.Teardown(ctx, env, n); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, n := range env.Nodes {
		wg.Go(func() {
			if err := d.Setup(ctx, env, n); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	c, err := proto.Open(ctx, env, "n2")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Setup(sctx, env); err != nil {
		t.Fatal(err)
	}
	do(t, c, "write", int64(1), int64(7))

	prim, err := d.Primaries(ctx, env)
	if err != nil || len(prim) != 1 {
		t.Fatalf("primaries %v %v", prim, err)
	}
	lead := prim[0]
	if err := d.Kill(ctx, env, lead); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a new primary", 5*time.Second, func() bool {
		p, _ := d.Primaries(ctx, env)
		return len(p) == 1 && p[0] != lead
	})
	if err := d.Start(ctx, env, lead); err != nil {
		t.Fatal(err)
	}
	follower := slices.DeleteFunc(slices.Clone(env.Nodes), func(n string) bool { return n == lead })[0]
	if err := d.Pause(ctx, env, follower); err != nil {
		t.Fatal(err)
	}
	if out := do(t, c, "read", int64(1), nil); out.Value != int64(7) {
		t.Fatalf("read %v, want 7", out)
	}
	if err := d.Resume(ctx, env, follower); err != nil {
		t.Fatal(err)
	}
	if err := d.Partition(ctx, env, map[string][]string{lead: {follower}}); err != nil {
		t.Fatal(err)
	}
	if err := d.Heal(ctx, env); err != nil {
		t.Fatal(err)
	}
	if err := d.Setup(ctx, &control.Env{Nodes: []string{"n1", "n9"}}, "n1"); err == nil {
		t.Fatal("setup with other nodes accepted")
	}
	for _, n := range env.Nodes {
		if err := d.Teardown(ctx, env, n); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Cluster(); err == nil {
		t.Fatal("cluster still there after teardown")
	}
	// A new setup starts from empty data.
	for _, n := range env.Nodes {
		if err := d.Setup(ctx, env, n); err != nil {
			t.Fatal(err)
		}
	}
	c, _ = proto.Open(ctx, env, "n1")
	if err := c.Setup(sctx, env); err != nil {
		t.Fatal(err)
	}
	if out := do(t, c, "read", int64(1), nil); out.Type != history.OK || out.Value != nil {
		t.Fatalf("read after re-setup %v, want nil", out)
	}
	for _, n := range env.Nodes {
		d.Teardown(ctx, env, n)
	}
}

func TestBankSetupCreatesAccounts(t *testing.T) {
	cl, _ := startCluster(t, []string{"n1", "n2", "n3"}, Config{})
	c, err := NewInProcessClient(cl, ClientConfig{Workload: WorkloadBank, Accounts: []int64{3, 1}, TotalAmount: 11}).Open(context.Background(), nil, "n2")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 2 { // twice: Setup is idempotent
		if err := c.Setup(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	want := history.Map{{Key: int64(1), Val: int64(5)}, {Key: int64(3), Val: int64(6)}}
	if out := do(t, c, "read", nil, nil); !history.Equal(out.Value, want) {
		t.Fatalf("read %s, want %s", history.Format(out.Value), history.Format(want))
	}
}

func TestClientOnDownNodeFails(t *testing.T) {
	cl, _ := startCluster(t, []string{"n1", "n2", "n3"}, Config{})
	c := openOn(t, cl, "n3", WorkloadRegister)
	cl.Kill("n3")
	if out := do(t, c, "write", int64(1), int64(1)); out.Type != history.Fail || out.Error != errNodeDown {
		t.Fatalf("write to a down node: %v, want a definite failure", out)
	}
	if _, err := NewInProcessClient(cl, ClientConfig{Workload: WorkloadRegister}).Open(context.Background(), nil, "n9"); err == nil {
		t.Fatal("opened a client on an unknown node")
	}
}
