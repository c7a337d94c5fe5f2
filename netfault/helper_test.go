package netfault

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the programs run inside the nodes: with
// FAULTLINE_NETFAULT_ROLE set it plays that role instead of running tests.
const (
	envRole = "FAULTLINE_NETFAULT_ROLE"
	envArg  = "FAULTLINE_NETFAULT_ARG"
)

func TestMain(m *testing.M) {
	switch os.Getenv(envRole) {
	case "":
		os.Exit(m.Run())
	case "agent":
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		if err := AgentMain(ctx, os.Args[1:], os.Stdout); err != nil {
			fmt.Println("agent:", err)
			os.Exit(1)
		}
		os.Exit(0)
	case "server":
		os.Exit(server(os.Getenv(envArg)))
	case "probe":
		os.Exit(probeTCP(os.Getenv(envArg)))
	case "udp":
		os.Exit(udpClient(os.Getenv(envArg)))
	case "bulk":
		os.Exit(bulkClient(os.Getenv(envArg)))
	default:
		fmt.Fprintf(os.Stderr, "unknown %s %q\n", envRole, os.Getenv(envRole))
		os.Exit(2)
	}
}

func roleEnv(role, arg string) map[string]string {
	return map[string]string{envRole: role, envArg: arg, "GORACE": "atexit_sleep_ms=0"}
}

// server answers on TCP and UDP at addr: a TCP line "bulk N" is followed by
// N bytes and answered "done"; any other line is echoed; UDP datagrams are
// echoed.
func server(addr string) int {
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		fmt.Println("listen:", err)
		return 1
	}
	pc, err := net.ListenPacket("udp4", addr)
	if err != nil {
		fmt.Println("listen udp:", err)
		return 1
	}
	fmt.Println("listening on", addr)
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(buf[:n], from)
		}
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			return 1
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			r := bufio.NewReader(c)
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if n, ok := strings.CutPrefix(strings.TrimSpace(line), "bulk "); ok {
				size, _ := strconv.ParseInt(n, 10, 64)
				if _, err := io.CopyN(io.Discard, r, size); err != nil {
					return
				}
				c.Write([]byte("done\n"))
				return
			}
			c.Write([]byte(line))
		}()
	}
}

// probeTCP tries an echo with every address in the comma-separated list
// (each "name=host:port") at once and prints "name ok" or "name fail
// reason", one per line, in the order given.
func probeTCP(list string) int {
	targets := strings.Split(list, ",")
	out := make([]string, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		name, addr, _ := strings.Cut(t, "=")
		wg.Go(func() {
			start := time.Now()
			c, err := net.DialTimeout("tcp4", addr, 700*time.Millisecond)
			if err != nil {
				reason := "timeout"
				if !strings.Contains(err.Error(), "timeout") {
					reason = "refused"
				}
				out[i] = fmt.Sprintf("%s fail %s %d", name, reason, time.Since(start).Milliseconds())
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(700 * time.Millisecond))
			c.Write([]byte("ping\n"))
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil || line != "ping\n" {
				out[i] = fmt.Sprintf("%s fail read %d", name, time.Since(start).Milliseconds())
				return
			}
			out[i] = fmt.Sprintf("%s ok %d", name, time.Since(start).Milliseconds())
		})
	}
	wg.Wait()
	fmt.Println(strings.Join(out, "\n"))
	return 0
}

// udpClient sends "addr,count" datagrams, one per millisecond, and prints
// "sent N got M median-rtt-us X".
func udpClient(arg string) int {
	addr, n, _ := strings.Cut(arg, ",")
	count, _ := strconv.Atoi(n)
	c, err := net.Dial("udp4", addr)
	if err != nil {
		fmt.Println("dial:", err)
		return 1
	}
	defer c.Close()
	sent := map[string]time.Time{}
	var mu sync.Mutex
	var rtts []time.Duration
	got := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			c.SetReadDeadline(time.Now().Add(time.Second))
			k, err := c.Read(buf)
			if err != nil {
				return
			}
			mu.Lock()
			got++
			if t, ok := sent[string(buf[:k])]; ok {
				rtts = append(rtts, time.Since(t))
			}
			mu.Unlock()
		}
	}()
	for i := range count {
		msg := fmt.Sprintf("p%06d", i)
		mu.Lock()
		sent[msg] = time.Now()
		mu.Unlock()
		c.Write([]byte(msg))
		time.Sleep(time.Millisecond)
	}
	<-done
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(rtts)
	med := time.Duration(0)
	if len(rtts) > 0 {
		med = rtts[len(rtts)/2]
	}
	fmt.Printf("sent %d got %d median-rtt-us %d\n", count, got, med.Microseconds())
	return 0
}

// bulkClient sends "addr,size" bytes and prints "ms T" when the server
// confirmed.
func bulkClient(arg string) int {
	addr, n, _ := strings.Cut(arg, ",")
	size, _ := strconv.ParseInt(n, 10, 64)
	start := time.Now()
	c, err := net.DialTimeout("tcp4", addr, 2*time.Second)
	if err != nil {
		fmt.Println("dial:", err)
		return 1
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(c, "bulk %d\n", size)
	buf := make([]byte, 32*1024)
	for left := size; left > 0; {
		k := min(left, int64(len(buf)))
		if _, err := c.Write(buf[:k]); err != nil {
			fmt.Println("write:", err)
			return 1
		}
		left -= k
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "done\n" {
		fmt.Println("read:", line, err)
		return 1
	}
	fmt.Printf("ms %d\n", time.Since(start).Milliseconds())
	return 0
}
