package history

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// pairOp returns op number i of a simple valid history: process 0
// alternating invoke and ok.
func pairOp(i int) Op {
	t := Invoke
	if i%2 == 1 {
		t = OK
	}
	return Op{Index: i, Time: int64(i) * 1000, Type: t, Process: 0, F: "write", Value: int64(i / 2)}
}

func TestFileWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	w, err := CreateFileWriter(path, FileWriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var want []Op
	for i := 0; i < 5000; i++ {
		op := pairOp(i)
		want = append(want, op)
		if err := w.Write(op); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := w.Write(pairOp(0)); err == nil {
		t.Error("Write after Close succeeded")
	}
	h, probs, err := ReadFile(path, ReadOptions{})
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	if !opSlicesEqual(h.Ops, want) {
		t.Error("read back differs")
	}
}

// TestFileWriterFlushesWithoutClose checks that ops reach the file while
// the writer stays open: the background flush, not Close, writes them.
func TestFileWriterFlushesWithoutClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	w, err := CreateFileWriter(path, FileWriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := 0; i < 10; i++ {
		if err := w.Write(pairOp(i)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if strings.Count(string(b), "\n") == 10 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s the file holds %q", b)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestFileWriterConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	w, err := CreateFileWriter(path, FileWriterOptions{FlushInterval: time.Millisecond, SyncInterval: 2 * time.Millisecond, MaxBuffer: 512})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				op := pairOp(i)
				op.Process = g
				if err := w.Write(op); err != nil {
					t.Error(err)
					return
				}
				if i%50 == 0 {
					_ = w.Flush()
				}
			}
		}(g)
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	h, probs, err := ReadFile(path, ReadOptions{})
	if err != nil || len(probs) > 0 || h.Len() != 2000 {
		t.Fatalf("%v %v %d ops", err, probs, h.Len())
	}
	// Each goroutine's ops are in its order.
	next := map[int]int{}
	for _, op := range h.Ops {
		if op.Index != next[op.Process] {
			t.Fatalf("process %d: op %d after %d", op.Process, op.Index, next[op.Process]-1)
		}
		next[op.Process]++
	}
}

func TestFileWriterStickyError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ro.jsonl")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path) // read-only: writes fail
	if err != nil {
		t.Fatal(err)
	}
	w := NewFileWriter(f, FileWriterOptions{})
	_ = w.Write(pairOp(0))
	if err := w.Flush(); err == nil {
		t.Fatal("write to a read-only file succeeded")
	}
	if err := w.Write(pairOp(1)); err == nil {
		t.Error("error is not sticky")
	}
	if err := w.Close(); err == nil {
		t.Error("Close hid the error")
	}
}

const killHelperEnv = "FAULTLINE_HISTORY_KILL_HELPER"

// TestFileWriterKillHelper is the child process of TestFileWriterSIGKILL:
// it writes ops to the file named by the environment until it is killed,
// printing how many it has written.
func TestFileWriterKillHelper(t *testing.T) {
	path := os.Getenv(killHelperEnv)
	if path == "" {
		t.Skip("helper process for TestFileWriterSIGKILL")
	}
	w, err := CreateFileWriter(path, FileWriterOptions{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	for i := 0; ; i++ {
		if err := w.Write(pairOp(i)); err != nil {
			fmt.Println("error", err)
			os.Exit(3)
		}
		if i%100 == 99 {
			fmt.Println(i + 1)
			time.Sleep(time.Millisecond)
		}
	}
}

// TestFileWriterSIGKILL kills a process that is writing a history with
// SIGKILL and checks that the file holds every op the process had written
// half a second before, as whole lines (the last may be cut off).
func TestFileWriterSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	path := filepath.Join(t.TempDir(), "history.jsonl")
	cmd := exec.Command(os.Args[0], "-test.run=^TestFileWriterKillHelper$")
	cmd.Env = append(os.Environ(), killHelperEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var latest atomic.Int64 // the count the child printed last
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if n, err := strconv.Atoi(sc.Text()); err == nil {
				latest.Store(int64(n))
			}
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for latest.Load() < 2000 {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatal("helper wrote fewer than 2000 ops in 20 s")
		}
		time.Sleep(time.Millisecond)
	}
	// Every op written by now must survive a SIGKILL half a second later
	// (the writer hands ops to the kernel every 5 ms).
	reported := int(latest.Load())
	time.Sleep(500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	<-done
	h, probs, err := ReadFile(path, ReadOptions{Lenient: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) > 1 || len(probs) == 1 && !strings.Contains(probs[0].Msg, "truncated") {
		t.Errorf("problems beyond a cut-off last line: %v", probs)
	}
	if h.Len() < reported {
		t.Errorf("file holds %d ops, the process had written %d half a second before it was killed", h.Len(), reported)
	}
	for i, op := range h.Ops {
		if op.Index != i {
			t.Fatalf("op %d has index %d", i, op.Index)
		}
	}
	t.Logf("killed after %d+ ops; file holds %d", reported, h.Len())
}
