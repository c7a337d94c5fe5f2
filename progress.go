package faultline

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"
)

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// startProgress shows the run's progress on w: a live line rewritten four
// times a second on a terminal, a log line every ten seconds otherwise. The
// returned function stops it.
func startProgress(w io.Writer, it *interpreter, limit time.Duration, log *slog.Logger) func() {
	if w == nil {
		return func() {}
	}
	tty := isTerminal(w)
	every := 10 * time.Second
	if tty {
		every = 250 * time.Millisecond
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				if tty {
					fmt.Fprintf(w, "\r%s\n", progressLine(it, limit))
				}
				return
			case <-tick.C:
				if tty {
					fmt.Fprintf(w, "\r%s\x1b[K", progressLine(it, limit))
				} else {
					fmt.Fprintln(w, progressLine(it, limit))
				}
			}
		}
	}()
	return func() { close(stop); wg.Wait() }
}

func progressLine(it *interpreter, limit time.Duration) string {
	c := it.counts
	el := "0s"
	if ns := c.started.Load(); ns != 0 {
		el = time.Since(time.Unix(0, ns)).Round(time.Second).String()
	}
	if limit > 0 {
		el += "/" + limit.Round(time.Second).String()
	}
	s := fmt.Sprintf("[%s] %d ops: %d ok, %d fail, %d info", el, c.invoked.Load(), c.ok.Load(), c.fail.Load(), c.info.Load())
	if n := c.nemesis.Load(); n != nil {
		s += " | nemesis: " + *n
	}
	return s
}
