package cluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
)

var errNoSetns = errors.New("setns: syscall number unknown on " + runtime.GOARCH)

// inNetns runs f on an OS thread that has joined network namespace ns, and
// moves the thread back before handing it back to the Go scheduler. Should
// moving back fail, the thread stays locked and ends with the goroutine
// (Go never reuses it), so no other goroutine ever runs in ns.
func inNetns(ns string, f func() error) error {
	if sysSetns == 0 {
		return errNoSetns
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := syscall.Open("/proc/thread-self/ns/net", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open own network namespace: %w", err)
			return
		}
		defer syscall.Close(orig)
		fd, err := syscall.Open(filepath.Join(runNetns, ns), syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open namespace %s: %w", ns, err)
			return
		}
		defer syscall.Close(fd)
		if err := setns(fd); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		err = f()
		if setns(orig) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

func setns(fd int) error {
	if _, _, e := syscall.RawSyscall(sysSetns, uintptr(fd), syscall.CLONE_NEWNET, 0); e != 0 {
		return e
	}
	return nil
}

// disableIPv6 turns IPv6 off in namespace ns (for every interface, present
// and future). Files under /proc/sys/net belong to the network namespace of
// the thread that opens them.
func disableIPv6(ctx context.Context, t *tools, ns string) error {
	err := errNoSetns
	if t.nodePrefix == nil {
		err = inNetns(ns, func() error {
			for _, p := range []string{
				"/proc/sys/net/ipv6/conf/all/disable_ipv6",
				"/proc/sys/net/ipv6/conf/default/disable_ipv6",
			} {
				err := os.WriteFile(p, []byte("1\n"), 0o644)
				if errors.Is(err, fs.ErrNotExist) {
					return nil // a kernel without IPv6
				}
				if err != nil {
					return fmt.Errorf("%s: %w", p, err)
				}
			}
			return nil
		})
	}
	if errors.Is(err, errNoSetns) {
		_, err = run(ctx, nil, t.nodeArgv(ns, "sh", "-c",
			"[ ! -d /proc/sys/net/ipv6 ] || { echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 && echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6; }")...)
	}
	return err
}
