package memdb

import (
	"context"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/faultline/faultline/client"
)

// benchRegister runs b.N register ops (Jepsen's mix: half reads, the rest
// writes and cas) from 10 concurrent clients and reports ops/s.
func benchRegister(b *testing.B, cs []client.Client) {
	var next atomic.Int64
	var fails atomic.Int64 // ops of unknown outcome (timeouts)
	b.SetParallelism((len(cs) + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1) - 1)
		c := cs[i%len(cs)]
		rng := rand.New(rand.NewPCG(uint64(i), 1))
		g := registerGen(len(cs), 1000, 0)
		var n int64
		for pb.Next() {
			n++
			op := g(rng, i%len(cs), n)
			op.Key = int64(i) // one key per client: no cross-client contention
			if _, err := c.Invoke(context.Background(), nil, op); err != nil {
				fails.Add(1)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	b.ReportMetric(float64(fails.Load())/float64(b.N), "info/op")
}

func BenchmarkInProcessRegister(b *testing.B) {
	cl, _ := startCluster(b, fiveNodes(), Config{})
	benchRegister(b, openClients(b, NewInProcessClient(cl, ClientConfig{Workload: WorkloadRegister}), fiveNodes(), 10))
}

func BenchmarkNetRegister(b *testing.B) {
	nodes := fiveNodes()
	nc := startNet(b, nodes, Config{})
	nc.leader(b)
	benchRegister(b, openClients(b, nc.client(WorkloadRegister), nodes, 10))
}

// BenchmarkMachineApply measures the state machine alone.
func BenchmarkMachineApply(b *testing.B) {
	m := newMachine()
	cmds := []command{{Op: opRegWrite, Key: "register:1", A: 3}, {Op: opRegRead, Key: "register:1"}, {Op: opRegCAS, Key: "register:1", A: 3, B: 4}}
	for i := 0; b.Loop(); i++ {
		m.apply(&cmds[i%len(cmds)])
	}
}
