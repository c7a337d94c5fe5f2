package cluster

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/control/netns"
)

// RootlessState describes the holder of a rootless netns cluster: a
// process (sh, then sleep) in a user namespace of its own where it is root,
// with a mount namespace (a tmpfs on /run for /run/netns, the cluster's
// hosts file bind-mounted on /etc/hosts) and a network namespace (the
// cluster's "host", holding the bridge). The nodes' network namespaces
// are made inside; every command joins the holder's user and mount
// namespaces and a node's network namespace with nsenter.
type RootlessState struct {
	// HolderPID is the holder's process id; HolderStart its start time
	// (field 22 of /proc/PID/stat), telling it from a later process that
	// reuses the id.
	HolderPID   int    `json:"holder_pid"`
	HolderStart uint64 `json:"holder_start"`
	// UserNS is the inode of the holder's user namespace: every process of
	// the cluster lives in it, which is how Down finds them all.
	UserNS uint64 `json:"user_ns"`
}

// holderReady bounds how long the holder may take to set up.
const holderReady = 10 * time.Second

// holderScript sets up the holder's mount namespace and then sleeps.
const holderScript = `set -e
mount --make-rprivate /
mount -t tmpfs -o mode=0755 faultline-run /run
mkdir -p /run/netns
mount --bind "$1" /etc/hosts
echo ready
exec sleep infinity </dev/null >/dev/null 2>&1
`

// RootlessSupported reports why unprivileged user namespaces cannot be
// made here, or nil when they can (as far as the kernel's switches tell).
func RootlessSupported() error {
	read := func(p string) (string, bool) {
		b, err := os.ReadFile(p)
		return strings.TrimSpace(string(b)), err == nil
	}
	if v, ok := read("/proc/sys/user/max_user_namespaces"); ok && v == "0" {
		return errors.New("user namespaces are disabled (/proc/sys/user/max_user_namespaces is 0)")
	}
	if v, ok := read("/proc/sys/kernel/unprivileged_userns_clone"); ok && v == "0" && os.Geteuid() != 0 {
		return errors.New("unprivileged user namespaces are disabled (sysctl kernel.unprivileged_userns_clone=0)")
	}
	if v, ok := read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"); ok && v == "1" && os.Geteuid() != 0 {
		return errors.New("AppArmor restricts unprivileged user namespaces (sysctl kernel.apparmor_restrict_unprivileged_userns=1)")
	}
	if _, err := os.Stat("/proc/self/ns/user"); err != nil {
		return errors.New("this kernel has no user namespaces")
	}
	return nil
}

// rootlessTools checks for the commands a rootless cluster needs besides
// ip, tc and nft.
func rootlessTools(look func(string) (string, error)) error {
	for _, tool := range []string{"nsenter", "mount", "sleep"} {
		if _, err := look(tool); err != nil {
			return fmt.Errorf("cluster: command %s not found: install the Debian package %s", tool, map[string]string{"mount": "mount", "sleep": "coreutils", "nsenter": "util-linux"}[tool])
		}
	}
	return nil
}

// startHolder starts the holder of st and records it in st.Rootless.
func startHolder(ctx context.Context, st *State, look func(string) (string, error)) error {
	if err := RootlessSupported(); err != nil {
		return fmt.Errorf("rootless: %w", err)
	}
	if err := rootlessTools(look); err != nil {
		return err
	}
	hosts := rootlessHosts(st)
	if err := writeHostsInPlace(hosts, nodeHosts(st)); err != nil {
		return err
	}
	cmd := exec.Command("sh", "-c", holderScript, "faultline-holder", hosts)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWNET,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}},
		GidMappingsEnableSetgroups: false,
		Setsid:                     true,
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("rootless: cannot make the user namespace: %w (are unprivileged user namespaces allowed?)", err)
	}
	// Reap it when it dies while this process lives.
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(l)
	}()
	fail := func(why string) error {
		_ = cmd.Process.Kill()
		<-exited
		msg := strings.Join(strings.Fields(stderr.String()), " ")
		if msg != "" {
			why += ": " + msg
		}
		return fmt.Errorf("rootless: the namespace holder %s", why)
	}
	select {
	case l := <-line:
		if l != "ready" {
			return fail("failed to set up")
		}
	case <-time.After(holderReady):
		return fail(fmt.Sprintf("was not ready after %v", holderReady))
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-exited
		return ctx.Err()
	}
	pid := cmd.Process.Pid
	start, err := procStart(pid)
	if err != nil {
		return fail("vanished")
	}
	ino, err := nsLinkInode(pid, "user")
	if err != nil {
		return fail("has no readable user namespace")
	}
	st.Rootless = &RootlessState{HolderPID: pid, HolderStart: start, UserNS: ino}
	return nil
}

// rootlessHosts is the hosts file the holder shows as /etc/hosts.
func rootlessHosts(st *State) string { return filepath.Join(st.Dir, "hosts") }

// writeHostsInPlace writes a hosts file without replacing its inode (it is
// bind-mounted).
func writeHostsInPlace(path, content string) error {
	if b, err := os.ReadFile(path); err == nil && string(b) == content {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// procStart is field 22 of /proc/PID/stat: the start time in clock ticks.
func procStart(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); field 22 is f[19].
	if len(f) < 20 {
		return 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// nsLinkInode is the inode of process pid's namespace of kind (net, user).
func nsLinkInode(pid int, kind string) (uint64, error) {
	target, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/" + kind)
	if err != nil {
		return 0, err
	}
	ino, ok := parseNsLink(target)
	if !ok {
		return 0, fmt.Errorf("bad namespace link %q", target)
	}
	return ino, nil
}

// holderAlive reports whether the holder recorded in rs still runs.
func holderAlive(rs *RootlessState) bool {
	if rs == nil || rs.HolderPID <= 0 {
		return false
	}
	start, err := procStart(rs.HolderPID)
	if err != nil || start != rs.HolderStart {
		return false
	}
	// A killed holder may linger as a zombie until its parent reaps it.
	b, err := os.ReadFile("/proc/" + strconv.Itoa(rs.HolderPID) + "/stat")
	if err != nil {
		return false
	}
	_, state := parseStat(string(b))
	return state != 'Z' && state != 'X'
}

// errHolderGone is wrapped when a rootless cluster's holder has died.
var errHolderGone = errors.New("its namespace holder is gone (the machine rebooted or the process was killed): run `faultline cluster up --rootless` to make it again")

// useHolder points t at the holder's namespaces.
func (t *tools) useHolder(rs *RootlessState) error {
	if !holderAlive(rs) {
		return errHolderGone
	}
	nsenter, err := t.lookPath("nsenter")
	if err != nil {
		return fmt.Errorf("cluster: command nsenter not found: install the Debian package util-linux")
	}
	h := "/proc/" + strconv.Itoa(rs.HolderPID)
	base := []string{nsenter, "--preserve-credentials", "--user=" + h + "/ns/user", "--mount=" + h + "/ns/mnt"}
	t.hostPrefix = append(append([]string{}, base...), "--net="+h+"/ns/net", "--")
	t.nodePrefix = func(ns string) []string {
		return append(append([]string{}, base...), "--net="+h+"/root"+runNetns+"/"+ns, "--")
	}
	t.netnsDir = h + "/root" + runNetns
	return nil
}

// killUserNS kills every process in user namespace ino (the holder and
// whatever joined its namespaces) and waits up to wait for them to go.
func killUserNS(ino uint64, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	self := os.Getpid()
	for {
		ents, err := os.ReadDir("/proc")
		if err != nil {
			return err
		}
		var left []int
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == self {
				continue
			}
			if got, err := nsLinkInode(pid, "user"); err != nil || got != ino {
				continue
			}
			if stat, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
				if _, state := parseStat(string(stat)); state == 'Z' || state == 'X' {
					continue
				}
			}
			left = append(left, pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v of the cluster's user namespace survived SIGKILL", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rootlessRemote runs commands in the nodes of a rootless cluster: like
// netns.Remote, but joining the holder's user and mount namespaces and the
// node's network namespace with nsenter, as root of that user namespace.
type rootlessRemote struct {
	*netns.Remote
	cluster string
	holder  *RootlessState
	prefix  func(ns string) []string
}

var _ control.Remote = (*rootlessRemote)(nil)

func newRootlessRemote(inner *netns.Remote, st *State, look func(string) (string, error)) (*rootlessRemote, error) {
	r := &rootlessRemote{Remote: inner, cluster: st.Name, holder: st.Rootless}
	t := &tools{lookPath: look}
	if err := t.useHolder(st.Rootless); err != nil {
		// Keep the cluster openable (for Status and Down); commands fail.
		r.prefix = func(string) []string { return nil }
		return r, nil
	}
	r.prefix = t.nodePrefix
	return r, nil
}

// Process is the local process (nsenter) that runs cmd on node.
func (r *rootlessRemote) Process(node string, cmd control.Cmd) (control.LocalProcess, error) {
	n, err := r.Node(node)
	if err != nil {
		return control.LocalProcess{}, err
	}
	prefix := r.prefix(n.Namespace)
	if prefix == nil || !holderAlive(r.holder) {
		return control.LocalProcess{}, control.NotRun(node, cmd, fmt.Errorf("cluster %s: %w", r.cluster, errHolderGone))
	}
	// Inside the user namespace the command is root: sudo is a no-op.
	argv, vars, err := control.LocalArgv(cmd, 0)
	if err != nil {
		return control.LocalProcess{}, control.NotRun(node, cmd, err)
	}
	dir := control.NodePath(n.Dir, cmd.Dir)
	full := append(prefix[:len(prefix)-1:len(prefix)-1], "--wd="+dir, "--")
	env := append(os.Environ(), control.NodeEnv(r.cluster, n.Name, n.Dir)...)
	return control.LocalProcess{
		Node:    node,
		Argv:    append(full, argv...),
		Env:     append(env, vars...),
		Dir:     dir,
		Stdin:   cmd.Stdin,
		Display: cmd.String(),
	}, nil
}

// Exec runs cmd on node.
func (r *rootlessRemote) Exec(ctx context.Context, node string, cmd control.Cmd) (control.Result, error) {
	p, err := r.Process(node, cmd)
	if err != nil {
		return control.Result{ExitCode: -1}, err
	}
	return control.RunLocal(ctx, p)
}
