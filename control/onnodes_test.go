package control

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestOnNodes(t *testing.T) {
	nodes := []string{"n1", "n2", "n3", "n4"}
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		f    func(ctx context.Context, node string) error
		want string // "" for nil
	}{
		{"all ok", func(context.Context, string) error { return nil }, ""},
		{"two fail", func(_ context.Context, n string) error {
			if n == "n2" || n == "n4" {
				return boom
			}
			return nil
		}, "n2: boom\nn4: boom"},
		{"no double prefix", func(_ context.Context, n string) error {
			if n == "n3" {
				return &ExitError{Node: n, Command: "false", ExitCode: 1}
			}
			return nil
		}, "n3: false: exit 1"},
		{"panic", func(_ context.Context, n string) error {
			if n == "n1" {
				panic("oops")
			}
			return nil
		}, "n1: panic: oops"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := OnNodes(context.Background(), nodes, tc.f)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	var ne *NodeError
	err := OnNodes(context.Background(), nodes, func(_ context.Context, n string) error {
		if n == "n3" {
			return boom
		}
		return nil
	})
	if !errors.As(err, &ne) || ne.Node != "n3" || !errors.Is(err, boom) {
		t.Errorf("errors.As/Is on %v", err)
	}
}

func TestOnNodesParallel(t *testing.T) {
	var running, peak atomic.Int32
	nodes := strings.Fields("n1 n2 n3 n4 n5")
	err := OnNodes(context.Background(), nodes, func(ctx context.Context, n string) error {
		cur := running.Add(1)
		for {
			p := peak.Load()
			if cur <= p || peak.CompareAndSwap(p, cur) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		running.Add(-1)
		return nil
	})
	if err != nil || peak.Load() < 2 {
		t.Errorf("err %v, peak concurrency %d", err, peak.Load())
	}
}
