package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faultline/faultline/history"
)

// bin is the faultline binary built for these tests.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "faultline-bin")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "faultline")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func (r result) lastLine() string {
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	return lines[len(lines)-1]
}

// run runs the binary in dir and returns its exit code and output.
func run(t *testing.T, dir string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// completeHistory reads a run's history.jsonl strictly and checks that every
// invocation has its completion.
func completeHistory(t *testing.T, path string) *history.History {
	t.Helper()
	h, _, err := history.ReadFile(path, history.ReadOptions{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for i, op := range h.Ops {
		if op.Type == history.Invoke {
			if _, ok := h.Completion(i); !ok {
				t.Fatalf("%s: op %d (%v) has no completion", path, i, op)
			}
		}
	}
	return h
}

func TestQuickStartValid(t *testing.T) {
	dir := t.TempDir()
	r := run(t, dir, "test", "--db", "memory", "--workload", "register", "--concurrency", "10", "--time-limit", "3")
	if r.code != 0 {
		t.Fatalf("exit %d, want 0\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	f := strings.Fields(r.lastLine())
	if len(f) != 4 || f[0] != "faultline:" || f[1] != "memory-register" || f[2] != "valid" {
		t.Fatalf("last line %q is not the status line", r.lastLine())
	}
	runDir := filepath.Join(dir, f[3])
	for _, name := range []string{"test.json", "history.jsonl", "history.edn", "results.json", "faultline.log"} {
		if _, err := os.Stat(filepath.Join(runDir, name)); err != nil {
			t.Errorf("run folder lacks %s", name)
		}
	}
	for _, link := range []string{"store/latest", "store/memory-register/latest"} {
		target, err := filepath.EvalSymlinks(filepath.Join(dir, link))
		if err != nil {
			t.Fatalf("%s: %v", link, err)
		}
		want, _ := filepath.EvalSymlinks(runDir)
		if target != want {
			t.Errorf("%s points at %s, want %s", link, target, want)
		}
	}
	h := completeHistory(t, filepath.Join(runDir, "history.jsonl"))
	if h.Len() < 400 {
		t.Errorf("only %d ops recorded in 3 s", h.Len())
	}
	// The EDN copy holds the same history.
	he, _, err := history.ReadFile(filepath.Join(runDir, "history.edn"), history.ReadOptions{})
	if err != nil || he.Len() != h.Len() {
		t.Fatalf("history.edn: %v (%d ops, want %d)", err, he.Len(), h.Len())
	}
	var res struct {
		Valid    any                        `json:"valid"`
		Checkers map[string]json.RawMessage `json:"checkers"`
	}
	b, _ := os.ReadFile(filepath.Join(runDir, "results.json"))
	if err := json.Unmarshal(b, &res); err != nil || res.Valid != true || res.Checkers["linear"] == nil {
		t.Fatalf("results.json: %v %s", err, b)
	}
	// analyze reproduces the verdict.
	a := run(t, dir, "analyze", "store/latest")
	if a.code != 0 || !strings.Contains(a.lastLine(), " valid ") {
		t.Fatalf("analyze: exit %d\n%s\n%s", a.code, a.stdout, a.stderr)
	}
}

func TestBugsAreFound(t *testing.T) {
	for _, bug := range []string{"stale-reads", "lost-writes"} {
		t.Run(bug, func(t *testing.T) {
			dir := t.TempDir()
			r := run(t, dir, "test", "--db", "memory", "--workload", "register", "--time-limit", "8", "--bug", bug)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, "cannot be linearized") {
				t.Errorf("summary does not name the anomaly:\n%s", r.stdout)
			}
			a := run(t, dir, "analyze", "store/latest")
			if a.code != 1 {
				t.Fatalf("analyze: exit %d, want 1\n%s", a.code, a.stderr)
			}
		})
	}
}

func TestBadArguments(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"test", "--concurrency", "0"},
		{"test", "--workload", "nope"},
		{"test", "--db", "nope"},
		{"test", "--bug", "nope"},
		{"test", "--time-limit", "soon"},
		{"nope"},
		{"analyze", "does-not-exist.edn", "--checker", "stats"},
		{"analyze", "--model", "nope", "x"},
	} {
		r := run(t, dir, args...)
		if r.code != 254 {
			t.Errorf("%v: exit %d, want 254\n%s", args, r.code, r.stderr)
		}
		if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
			t.Errorf("%v: crash output:\n%s", args, r.stderr)
		}
	}
}

// startRun starts a long run in the background.
func startRun(t *testing.T, dir string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

// waitForOps waits until the run's history holds at least n lines.
func waitForOps(t *testing.T, dir string, n int) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		matches, _ := filepath.Glob(filepath.Join(dir, "store", "*", "*", "history.jsonl"))
		if len(matches) == 1 {
			b, _ := os.ReadFile(matches[0])
			if bytes.Count(b, []byte("\n")) >= n {
				return matches[0]
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the run wrote no history in time")
	return ""
}

func TestInterruptKeepsHistoryAndAnalyses(t *testing.T) {
	dir := t.TempDir()
	cmd, out := startRun(t, dir, "test", "--db", "memory", "--workload", "register", "--time-limit", "60")
	path := waitForOps(t, dir, 200)
	began := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if took := time.Since(began); took > 20*time.Second {
		t.Fatalf("took %s to stop after SIGINT", took)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit %d after SIGINT, want the verdict (0)\n%s", code, out)
	}
	completeHistory(t, path)
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), "results.json")); err != nil {
		t.Fatalf("no results.json after SIGINT: %v\n%s", err, out)
	}
	if !strings.Contains(out.String(), "interrupted") {
		t.Errorf("summary does not say the run was interrupted:\n%s", out)
	}
}

func TestKillLeavesReadableHistory(t *testing.T) {
	dir := t.TempDir()
	cmd, _ := startRun(t, dir, "test", "--db", "memory", "--workload", "register", "--time-limit", "60")
	path := waitForOps(t, dir, 200)
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	h, probs, err := history.ReadFile(path, history.ReadOptions{Lenient: true})
	if err != nil {
		t.Fatal(err)
	}
	if h.Len() < 200 {
		t.Fatalf("only %d ops survived the kill", h.Len())
	}
	// At most the last line may be cut short.
	if len(probs) > 1 {
		t.Fatalf("%d problems in the history after kill -9, want at most a truncated last line: %v", len(probs), probs)
	}
	// analyze still works on it; the run is unfinished, so it cannot be valid
	// only if ops were skipped; otherwise any verdict is honest.
	a := run(t, dir, "analyze", filepath.Dir(path))
	if a.code == 255 || a.code == 254 {
		t.Fatalf("analyze of a killed run: exit %d\n%s", a.code, a.stderr)
	}
}

// childOf returns the pid of the first child process of pid.
func childOf(t *testing.T, pid int) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
			if err != nil {
				continue
			}
			s := string(b)
			i := strings.LastIndexByte(s, ')')
			if i < 0 {
				continue
			}
			f := strings.Fields(s[i+1:])
			if len(f) > 1 && f[1] == strconv.Itoa(pid) {
				c, _ := strconv.Atoi(e.Name())
				return c
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no child of %d", pid)
	return 0
}

// A signal sent to both the supervising process and its child (as pkill or
// a process manager does) counts once: the run still heals, tears down and
// analyses instead of exiting at once.
func TestSignalToBothProcessesCountsOnce(t *testing.T) {
	dir := t.TempDir()
	cmd, out := startRun(t, dir, "test", "--db", "memory", "--workload", "register", "--time-limit", "60")
	path := waitForOps(t, dir, 200)
	child := childOf(t, cmd.Process.Pid)
	_ = syscall.Kill(child, syscall.SIGINT)
	_ = cmd.Process.Signal(syscall.SIGINT)
	_ = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit %d, want the verdict (0)\n%s", code, out)
	}
	completeHistory(t, path)
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), "results.json")); err != nil {
		t.Fatalf("no results.json: %v\n%s", err, out)
	}
}

// needRootCluster skips tests that make network namespaces.
func needRootCluster(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a netns cluster")
	}
	for _, tool := range []string{"ip", "nft", "tc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (Debian packages iproute2 and nftables)", tool)
		}
	}
}

// The memory store as real processes on a netns cluster, under partitions,
// kills, pauses and packet faults: valid without a bug, invalid with one.
func TestNetworkedMemoryStore(t *testing.T) {
	needRootCluster(t)
	dir := t.TempDir()
	r := run(t, dir, "test", "--db", "memory", "--workload", "register", "--cluster", "netns", "--node-count", "3", "--option", "cluster-name=flcmdtest",
		"--nemesis", "partition,kill,pause,packet", "--nemesis-interval", "2", "--time-limit", "12")
	if r.code != 0 {
		t.Fatalf("exit %d, want 0\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "nemesis ops") {
		t.Errorf("no nemesis ops in the summary:\n%s", r.stdout)
	}
	r = run(t, dir, "test", "--db", "memory", "--workload", "register", "--cluster", "netns", "--node-count", "3", "--option", "cluster-name=flcmdtest",
		"--bug", "stale-reads", "--time-limit", "8")
	if r.code != 1 {
		t.Fatalf("stale reads: exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// activeFaults reads a run's history and reports whether a partition and a
// pause are in force: their start ops completed and no heal followed.
func activeFaults(path string) (partitioned, paused bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return false, false
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		var op struct {
			Type, F string
			Process any
			Value   any
		}
		if json.Unmarshal(line, &op) != nil || op.Process != "nemesis" || op.Type != "info" {
			continue
		}
		done := op.Value != nil // completions carry what was done
		switch op.F {
		case "start-partition":
			partitioned = partitioned || done
		case "stop-partition":
			partitioned = false
		case "pause":
			paused = paused || done
		case "resume":
			paused = false
		}
	}
	return partitioned, paused
}

// stoppedMemdbs lists the memory store replicas (faultline memdb serve) in
// state T.
func stoppedMemdbs() []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || len(s) < i+3 || s[i+2] != 'T' {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		// Only the replicas runs start (`faultline memdb serve`), not other
		// packages' test helpers, which pause processes of their own.
		if bytes.Contains(cmdline, []byte("memdb\x00serve\x00")) {
			out = append(out, e.Name()+" "+strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	return out
}

// A run interrupted while a partition and a pause are in force heals both
// before it exits: no faultline rule in any node, no stopped process, and
// nothing left for `cluster heal`.
func TestInterruptWhilePartitionedAndPaused(t *testing.T) {
	needRootCluster(t)
	dir := t.TempDir()
	const name = "flintr"
	if r := run(t, dir, "cluster", "up", "--name", name, "--node-count", "3"); r.code != 0 {
		t.Fatalf("cluster up: exit %d\n%s", r.code, r.stderr)
	}
	defer run(t, dir, "cluster", "down", "--name", name)
	cmd, out := startRun(t, dir, "test", "--db", "memory", "--workload", "register", "--cluster", "netns", "--node-count", "3",
		"--option", "cluster-name="+name, "--nemesis", "partition,pause", "--nemesis-interval", "1", "--time-limit", "120")
	path := waitForOps(t, dir, 50)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if p, s := activeFaults(path); p && s {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("no partition and pause at once within 60 s\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(stoppedMemdbs()) == 0 {
		t.Log("the paused replica was already resumed when checked") // the history said paused; the ps view may lag
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 0 && code != 2 {
		t.Fatalf("exit %d after SIGINT, want a verdict\n%s", code, out)
	}
	completeHistory(t, path)
	if s := stoppedMemdbs(); len(s) > 0 {
		t.Errorf("stopped processes after the interrupted run: %v", s)
	}
	for _, node := range []string{"n1", "n2", "n3"} {
		r := run(t, dir, "cluster", "exec", "--name", name, node, "--", "sh", "-c", "nft list ruleset; tc qdisc show")
		if r.code != 0 {
			t.Fatalf("cluster exec %s: exit %d\n%s", node, r.code, r.stderr)
		}
		for _, bad := range []string{"faultline", "drop", "netem", "tbf"} {
			if strings.Contains(r.stdout, bad) {
				t.Errorf("%s holds %q after the interrupted run:\n%s", node, bad, r.stdout)
			}
		}
	}
	if r := run(t, dir, "cluster", "heal", "--name", name); r.code != 0 || !strings.Contains(r.stdout, "nothing to heal") {
		t.Errorf("cluster heal after the interrupted run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
