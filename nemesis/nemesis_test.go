package nemesis

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/control/local"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/netfault"
)

var five = []string{"n1", "n2", "n3", "n4", "n5"}

func TestResolveSpec(t *testing.T) {
	for _, tc := range []struct {
		spec any
		n    int // count; -1: any nonempty
		err  string
	}{
		{SpecOne, 1, ""}, {SpecMinority, 2, ""}, {SpecMajority, 3, ""}, {SpecMinorityThird, 1, ""},
		{SpecAll, 5, ""}, {SpecSome, -1, ""}, {nil, -1, ""}, {SpecPrimaries, -1, ""},
		{"n4,n2", 2, ""}, {[]any{"n3"}, 1, ""}, {[]string{"n1", "n5"}, 2, ""}, {[]any{}, 0, ""},
		{"n9", 0, `"n9" is not one of`}, {int64(3), 0, "want one of"}, {[]any{int64(1)}, 0, "want node names"},
	} {
		for seed := range uint64(10) {
			got, err := ResolveSpec(tc.spec, five, []string{"n2", "n4"}, rand.New(rand.NewPCG(seed, 0)))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("%v: %v, %v; want error %q", tc.spec, got, err, tc.err)
				}
				break
			}
			if err != nil {
				t.Fatalf("%v: %v", tc.spec, err)
			}
			if tc.n >= 0 && len(got) != tc.n || tc.n < 0 && len(got) == 0 {
				t.Errorf("%v: %v, want %d nodes", tc.spec, got, tc.n)
			}
			if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Errorf("%v: %v not in node order or repeated", tc.spec, got)
			}
			if tc.spec == SpecPrimaries && slices.ContainsFunc(got, func(n string) bool { return n != "n2" && n != "n4" }) {
				t.Errorf("primaries gave %v", got)
			}
		}
	}
	// No primary (an election under way): no target, and no error, so the
	// fault is skipped rather than counted as a failed nemesis op.
	if got, err := ResolveSpec(SpecPrimaries, five, nil, rand.New(rand.NewPCG(1, 1))); err != nil || len(got) != 0 {
		t.Errorf("primaries without primaries: %v, %v; want no target", got, err)
	}
	// Explicit nodes keep the order of the node list.
	if got, _ := ResolveSpec("n4,n2", five, nil, nil); !slices.Equal(got, []string{"n2", "n4"}) {
		t.Errorf("explicit: %v", got)
	}
}

type recNet struct {
	grudges []netfault.Grudge
	heals   int
	fail    error
}

func (r *recNet) Drop(_ context.Context, g netfault.Grudge) error {
	r.grudges = append(r.grudges, g)
	return r.fail
}
func (r *recNet) Heal(context.Context) error { r.heals++; return nil }

type prims []string

func (p prims) Primaries(context.Context, *control.Env) ([]string, error) { return p, nil }

func TestPartition(t *testing.T) {
	ctx := context.Background()
	env := &control.Env{Nodes: five, Seed: 4}
	net := &recNet{}
	n, err := (&Partition{Net: net, Primaries: prims{"n3"}}).Setup(ctx, env)
	if err != nil || net.heals != 1 {
		t.Fatalf("Setup: %v, heals %d", err, net.heals)
	}
	for _, tc := range []struct {
		value any
		want  string // grudge as String, "" to skip
		err   string
	}{
		{netfault.ShapeHalves, "n1 drops n3,n4,n5; n2 drops n3,n4,n5; n3 drops n1,n2; n4 drops n1,n2; n5 drops n1,n2", ""},
		{netfault.ShapePrimaries, "n1 drops n3; n2 drops n3; n3 drops n1,n2,n4,n5; n4 drops n3; n5 drops n3", ""},
		{"n1,n2|n3,n4,n5", "n1 drops n3,n4,n5; n2 drops n3,n4,n5; n3 drops n1,n2; n4 drops n1,n2; n5 drops n1,n2", ""},
		{history.Map{{Key: "n1", Val: []any{"n2"}}}, "n1 drops n2", ""},
		{netfault.ShapeMajoritiesRing, "", ""},
		{"square", "", "unknown partition shape"},
		{nil, "", "needs a value"},
		{history.Map{{Key: "n1", Val: []any{"n7"}}}, "", `"n7"`},
	} {
		op := history.Op{Type: history.Info, Process: history.NemesisProcess, F: FStartPartition, Value: tc.value}
		res, err := n.Invoke(ctx, env, op)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: %v; want error %q", tc.value, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tc.value, err)
		}
		applied := net.grudges[len(net.grudges)-1]
		back, err := GrudgeFromValue(res.Value)
		if err != nil || !back.Equal(applied) {
			t.Errorf("%v: completion value %s is not the grudge applied (%s)", tc.value, history.Format(res.Value), applied)
		}
		if tc.want != "" && applied.String() != tc.want {
			t.Errorf("%v: applied %s, want %s", tc.value, applied, tc.want)
		}
	}
	res, err := n.Invoke(ctx, env, history.Op{F: FStopPartition})
	if err != nil || res.Value != "network-healed" || net.heals != 2 {
		t.Errorf("stop: %v, %v, heals %d", res, err, net.heals)
	}
	net.fail = errors.New("nft: boom")
	if _, err := n.Invoke(ctx, env, history.Op{F: FStartPartition, Value: "one"}); err == nil {
		t.Error("a failing Drop did not fail the op")
	}
	if err := n.Teardown(ctx, env); err != nil || net.heals != 3 {
		t.Errorf("teardown: %v, heals %d", err, net.heals)
	}
}

// slowNemesis ignores its context for d.
type slowNemesis struct {
	d        time.Duration
	torndown atomic.Int32
	fs       []string
}

func (s *slowNemesis) Setup(context.Context, *control.Env) (Nemesis, error) { return s, nil }
func (s *slowNemesis) Invoke(_ context.Context, _ *control.Env, op history.Op) (history.Op, error) {
	if op.F == "panic" {
		panic("boom")
	}
	time.Sleep(s.d)
	return info(op, "done"), nil
}
func (s *slowNemesis) Teardown(context.Context, *control.Env) error {
	s.torndown.Add(1)
	if slices.Contains(s.fs, "panic-teardown") {
		panic("teardown boom")
	}
	return nil
}
func (s *slowNemesis) Fs() []string { return s.fs }

func TestComposeAndTimeout(t *testing.T) {
	ctx := context.Background()
	env := &control.Env{Nodes: five}
	a := &slowNemesis{fs: []string{"a1", "a2", "panic"}}
	b := &slowNemesis{fs: []string{"b", "panic-teardown"}}
	c, err := ComposeAll(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.(Reflection).Fs(); !slices.Equal(got, []string{"a1", "a2", "b", "panic", "panic-teardown"}) {
		t.Errorf("Fs = %v", got)
	}
	n, err := c.Setup(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := n.Invoke(ctx, env, history.Op{F: "b"}); err != nil || res.Value != "done" {
		t.Errorf("b: %v %v", res, err)
	}
	if _, err := n.Invoke(ctx, env, history.Op{F: "zz"}); err == nil || !strings.Contains(err.Error(), `"zz"`) {
		t.Errorf("unknown f: %v", err)
	}
	// A panicking Teardown does not stop the others.
	if err := n.Teardown(ctx, env); err == nil || !strings.Contains(err.Error(), "teardown boom") || a.torndown.Load() != 1 {
		t.Errorf("teardown: %v, a torn down %d times", err, a.torndown.Load())
	}
	if _, err := ComposeAll(a, &slowNemesis{fs: []string{"a1"}}); err == nil {
		t.Error("two nemeses with one f accepted")
	}
	if _, err := ComposeAll(a, Noop{}); err != nil {
		t.Errorf("Noop has no fs: %v", err)
	}

	slow := &slowNemesis{d: 3 * time.Second, fs: []string{"x"}}
	tn, _ := Timeout(100*time.Millisecond, slow).Setup(ctx, env)
	start := time.Now()
	_, err = tn.Invoke(ctx, env, history.Op{F: "x"})
	if !errors.Is(err, ErrTimeout) || time.Since(start) > 2*time.Second {
		t.Errorf("timeout: %v after %v", err, time.Since(start))
	}
	if _, err := tn.Invoke(ctx, env, history.Op{F: "panic"}); err == nil || !strings.Contains(err.Error(), "panic") {
		t.Errorf("panic inside Timeout: %v", err)
	}
}

// files makes a data folder with two files and returns it.
func files(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"a.dat", "b.dat"} {
		b := make([]byte, 10000)
		for i := range b {
			b[i] = byte(i % 251)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readAll(t *testing.T, dir string) map[string][]byte {
	out := map[string][]byte{}
	for _, name := range []string{"a.dat", "b.dat"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		out[name] = b
	}
	return out
}

func TestFileCorruption(t *testing.T) {
	for _, tool := range []string{"od", "dd", "truncate", "cksum"} {
		if _, err := os.Stat("/usr/bin/" + tool); err != nil {
			t.Skipf("skipping: %s missing", tool)
		}
	}
	ctx := context.Background()
	dir := files(t)
	orig := readAll(t, dir)
	env := &control.Env{Nodes: []string{"n1"}, Remote: local.New(), Seed: 1}
	n, err := (&FileCorruption{Globs: []string{filepath.Join(dir, "*.dat")}, BackupDir: filepath.Join(dir, "backups")}).Setup(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	differs := func() (changed []string) {
		now := readAll(t, dir)
		for k, v := range now {
			if string(v) != string(orig[k]) {
				changed = append(changed, k)
			}
		}
		return changed
	}
	do := func(f string, opts history.Map) history.Map {
		t.Helper()
		res, err := n.Invoke(ctx, env, history.Op{F: f, Value: []any{"n1", opts}})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		m := res.Value.(history.Map)
		v, _ := m.Get("n1")
		return v.(history.Map)
	}
	v := do(FTruncate, history.Map{{Key: "drop", Val: int64(100)}})
	file, _ := v.Get("file")
	st, _ := os.Stat(file.(string))
	if st.Size() != 9900 {
		t.Errorf("truncate: %v, size now %d", history.Format(v), st.Size())
	}
	v = do(FBitflip, history.Map{{Key: "flips", Val: int64(3)}})
	file, _ = v.Get("file")
	after, _ := os.ReadFile(file.(string))
	before := orig[filepath.Base(file.(string))]
	bits := 0
	for i := range min(len(after), len(before)) {
		for x := after[i] ^ before[i]; x != 0; x &= x - 1 {
			bits++
		}
	}
	if bits == 0 || bits > 3 {
		t.Errorf("bitflip of 3 bits changed %d bits", bits)
	}
	// Snapshot chunks, change the file, restore: the chunks come back.
	v = do(FSnapshotChunks, history.Map{{Key: "file", Val: filepath.Join(dir, "b.dat")}, {Key: "chunks", Val: int64(2)}, {Key: "size", Val: int64(500)}})
	if c, _ := v.Get("chunks"); c != int64(2) {
		t.Errorf("snapshot: %s", history.Format(v))
	}
	bfile := filepath.Join(dir, "b.dat")
	if err := os.WriteFile(bfile, make([]byte, 10000), 0o644); err != nil {
		t.Fatal(err)
	}
	do(FRestoreChunks, nil)
	restored, _ := os.ReadFile(bfile)
	same := 0
	for i := range restored {
		if restored[i] == orig["b.dat"][i] && orig["b.dat"][i] != 0 {
			same++
		}
	}
	if same < 500 || same > 1000 {
		t.Errorf("restore of 2 chunks of 500 bytes brought back %d bytes", same)
	}
	if len(differs()) == 0 {
		t.Fatal("nothing was corrupted")
	}
	if err := n.Teardown(ctx, env); err != nil {
		t.Fatal(err)
	}
	if d := differs(); len(d) > 0 {
		t.Errorf("after teardown %v still differ", d)
	}
	if _, err := os.Stat(filepath.Join(dir, "backups")); !os.IsNotExist(err) {
		t.Errorf("backups left: %v", err)
	}
	if _, err := n.Invoke(ctx, env, history.Op{F: FTruncate, Value: []any{"n1", history.Map{{Key: "file", Val: filepath.Join(dir, "*.none")}}}}); err == nil {
		t.Error("a glob matching nothing did not fail")
	}
}

func faketimeLib() string {
	m, _ := filepath.Glob("/usr/lib/*/faketime/libfaketime.so.1")
	if len(m) == 0 {
		return ""
	}
	return m[0]
}

// TestFaketimeClock moves the clock of a real program started under
// libfaketime (date, from coreutils) through the offset file.
func TestFaketimeClock(t *testing.T) {
	lib := faketimeLib()
	if lib == "" {
		t.Skip("skipping: libfaketime not installed (Debian package faketime)")
	}
	ctx := context.Background()
	dir := t.TempDir()
	clock := FaketimeClock{File: filepath.Join(dir, "offset")}
	env := &control.Env{Nodes: []string{"n1"}, Remote: local.New(), Seed: 1}
	if err := clock.CheckClock(ctx, env, env.Nodes); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time {
		res, err := env.Remote.Exec(ctx, "n1", control.Cmd{Args: []string{"date", "+%s.%N"}, Env: clock.FaketimeEnv(lib)})
		if err != nil {
			t.Fatal(err)
		}
		var sec, nsec int64
		s, ns, _ := strings.Cut(strings.TrimSpace(res.Stdout), ".")
		for _, c := range s {
			sec = sec*10 + int64(c-'0')
		}
		for _, c := range ns {
			nsec = nsec*10 + int64(c-'0')
		}
		return time.Unix(sec, nsec)
	}
	n, err := (&ClockNemesis{Clock: clock}).Setup(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Invoke(ctx, env, history.Op{F: FResetClock}); err != nil {
		t.Fatal(err)
	}
	if d := now().Sub(time.Now()); d > time.Second || d < -time.Second {
		t.Fatalf("reset clock is off by %v", d)
	}
	res, err := n.Invoke(ctx, env, history.Op{F: FBumpClock, Value: history.Map{{Key: "n1", Val: int64(-90_000)}}})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := res.Value.(history.Map).Get("n1"); v != int64(-90_000) {
		t.Errorf("bump completion %s", history.Format(res.Value))
	}
	if d := now().Sub(time.Now()); d > -89*time.Second || d < -91*time.Second {
		t.Errorf("after a -90 s bump the program's clock is off by %v", d)
	}
	res, _ = n.Invoke(ctx, env, history.Op{F: FBumpClock, Value: []any{"all", int64(30_000)}})
	if d := now().Sub(time.Now()); d > -59*time.Second || d < -61*time.Second {
		t.Errorf("bumps add up: off by %v, want -60 s (%s)", d, history.Format(res.Value))
	}
	start := time.Now()
	if _, err := n.Invoke(ctx, env, history.Op{F: FStrobeClock, Value: history.Map{{Key: "n1", Val: history.Map{
		{Key: "delta", Val: int64(10_000)}, {Key: "period", Val: int64(50)}, {Key: "duration", Val: int64(1)}}}}}); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < time.Second || el > 3*time.Second {
		t.Errorf("a 1 s strobe took %v", el)
	}
	if d := now().Sub(time.Now()); d > -59*time.Second || d < -61*time.Second {
		t.Errorf("after the strobe the offset is %v, want back at -60 s", d)
	}
	if err := n.Teardown(ctx, env); err != nil {
		t.Fatal(err)
	}
	if d := now().Sub(time.Now()); d > time.Second || d < -time.Second {
		t.Errorf("after teardown the clock is off by %v", d)
	}
}

func TestSystemClockRefusesSharedKernel(t *testing.T) {
	if _, err := os.Stat("/proc/sys/kernel/random/boot_id"); err != nil {
		t.Skip("skipping: no boot id")
	}
	env := &control.Env{Nodes: []string{"n1"}, Remote: local.New()}
	err := (&SystemClock{}).CheckClock(context.Background(), env, env.Nodes)
	if !errors.Is(err, netfault.ErrUnsupported) || !strings.Contains(err.Error(), "shares this machine's kernel") {
		t.Errorf("CheckClock on this machine: %v", err)
	}
	if FaketimeOffset(-1500*time.Millisecond) != "-1.500s" || FaketimeOffset(2*time.Second) != "+2.000s" {
		t.Error("FaketimeOffset")
	}
}

type members struct{ removed map[string]bool }

func (m *members) RemoveNode(_ context.Context, _ *control.Env, n string) error {
	m.removed[n] = true
	return nil
}
func (m *members) AddNode(_ context.Context, _ *control.Env, n string) error {
	delete(m.removed, n)
	return nil
}

func TestMembership(t *testing.T) {
	ctx := context.Background()
	env := &control.Env{Nodes: five, Seed: 2}
	db := &members{removed: map[string]bool{}}
	n, err := (&MembershipNemesis{DB: db}).Setup(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	res, err := n.Invoke(ctx, env, history.Op{F: FRemoveNode, Value: "n2,n3"})
	if err != nil || len(db.removed) != 2 || history.Format(res.Value) != `{"n2" "removed", "n3" "removed"}` {
		t.Fatalf("remove: %s, %v, %v", history.Format(res.Value), err, db.removed)
	}
	if _, err := n.Invoke(ctx, env, history.Op{F: FAddNode, Value: "n2"}); err != nil || len(db.removed) != 1 {
		t.Fatalf("add: %v %v", err, db.removed)
	}
	if err := n.Teardown(ctx, env); err != nil || len(db.removed) != 0 {
		t.Errorf("teardown: %v, still removed %v", err, db.removed)
	}
}
