package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds a Chromium or Chrome binary (Debian's package is
// "chromium").
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// artifacts is where the browser test keeps its screenshots:
// $FAULTLINE_ARTIFACTS/browser when set, else a temporary folder.
func artifacts(t *testing.T) string {
	dir := t.TempDir()
	if a := os.Getenv("FAULTLINE_ARTIFACTS"); a != "" {
		dir = filepath.Join(a, "browser")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestBrowser loads the run list, a run page and the timeline of a real
// run folder in headless Chromium, clicking through as a person would, and
// fails on any console error, uncaught exception or failed load.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: browser test skipped")
	}
	exe := chromium()
	if exe == "" {
		t.Skip("chromium is not installed (Debian: apt-get install -y chromium): browser test skipped")
	}
	ts := newTestStore(t)
	srv := httptest.NewServer(Handler(ts.dir)) // 127.0.0.1:0
	defer srv.Close()
	shots := artifacts(t)
	t.Logf("screenshots in %s", shots)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900), chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", exe, err)
	}

	var mu sync.Mutex
	var problems []string
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				mu.Lock()
				problems = append(problems, m.String())
				mu.Unlock()
			}
		}
	}()

	tctx, tcancel := context.WithTimeout(ctx, 40*time.Second)
	defer tcancel()
	shot := func(name string) {
		b, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Errorf("screenshot %s: %v", name, err)
			return
		}
		if err := os.WriteFile(filepath.Join(shots, name), b, 0o644); err != nil {
			t.Error(err)
		}
	}
	eval := func(js string) any {
		v, err := chromedp.Run(tctx, chromedp.Evaluate[any](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	waitFor := func(what, js string) {
		deadline := time.Now().Add(10 * time.Second)
		for eval(js) != true {
			if time.Now().After(deadline) {
				t.Fatalf("waited in vain for %s (%s) at %v", what, js, eval("location.href"))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// The run list.
	if err := chromedp.Do(tctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#runs"))); err != nil {
		t.Fatal(err)
	}
	if n := eval(`document.querySelectorAll("tr.run").length`); n != float64(4) {
		t.Errorf("run list shows %v runs, want 4", n)
	}
	shot("01-run-list.png")

	// Filter by verdict with the select (its script submits the form).
	eval(`(() => { const s = document.querySelector("select[name=verdict]"); s.value = "invalid"; s.dispatchEvent(new Event("change")); })()`)
	waitFor("the filtered list", `location.search.includes("verdict=invalid") && document.readyState === "complete" && document.querySelectorAll("tr.run").length === 1`)
	shot("02-run-list-invalid.png")

	// Click through to the run page.
	if err := chromedp.Do(tctx, chromedp.Click(chromedp.CSS("a.runlink")), chromedp.WaitVisible(chromedp.CSS("#verdict"))); err != nil {
		t.Fatal(err)
	}
	waitFor("the run page", `document.readyState === "complete" && [...document.images].every(i => i.complete && i.naturalWidth > 0)`)
	if v := eval(`document.getElementById("verdict").textContent`); v != "invalid" {
		t.Errorf("run page verdict %q", v)
	}
	if n := eval(`document.images.length`); n != float64(3) {
		t.Errorf("run page shows %v plots, want 3", n)
	}
	shot("03-run-page.png")

	runPage, _ := eval(`location.href`).(string)

	// From the anomaly to the failing op in the timeline.
	if err := chromedp.Do(tctx, chromedp.Click(chromedp.CSS(`#anomalies a[href*="timeline.html#op="]`))); err != nil {
		t.Fatal(err)
	}
	waitFor("the highlighted op", `document.querySelectorAll(".op.hl").length === 1`)
	if f := eval(`document.getElementById("filter").value`); f != "key=1" {
		t.Errorf("timeline filter %q, want key=1", f)
	}
	shot("04-timeline-failing-op.png")

	// The timeline from the run page: draw, scroll, hover.
	if err := chromedp.Do(tctx, chromedp.Navigate(runPage), chromedp.WaitVisible(chromedp.CSS("#timeline-link")),
		chromedp.Click(chromedp.CSS("#timeline-link"))); err != nil {
		t.Fatal(err)
	}
	waitFor("ops drawn", `location.hash === "" && document.querySelectorAll(".op").length > 10`)
	eval(`document.getElementById("view").scrollTop = 600`)
	waitFor("ops drawn after scrolling", `(() => { const g = document.querySelector(".gut"); return !!g && parseInt(g.textContent.slice(3), 10) > 0 && document.querySelectorAll(".op").length > 10; })()`)
	tip := eval(`(() => { const o = document.querySelector(".op"); const r = o.getBoundingClientRect();
		o.dispatchEvent(new MouseEvent("mousemove", {bubbles: true, clientX: r.left + 3, clientY: r.top + 3}));
		const t = document.getElementById("tip"); return t.style.display + "|" + t.textContent; })()`)
	if s, _ := tip.(string); !strings.HasPrefix(s, "block|op ") || !strings.Contains(s, "process") {
		t.Errorf("hover tooltip %q", tip)
	}
	shot("05-timeline.png")

	// A timeline of 100k events opens and scrolls without hanging: only
	// the rows in view are drawn.
	big := writeRun(t, ts.dir, "big", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), genOps(50000, 3, 9), fmt.Sprintf(validResults, 50000), true)
	rel, err := filepath.Rel(ts.dir, big)
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if err := chromedp.Do(tctx, chromedp.Navigate(srv.URL+"/run/"+filepath.ToSlash(rel)+"/timeline.html#op=60000")); err != nil {
		t.Fatal(err)
	}
	waitFor("the 100k-event timeline at op 60000", `document.querySelectorAll(".op.hl").length === 1`)
	loaded := time.Since(began)
	if n := eval(`document.querySelectorAll("#inner > div").length`); n.(float64) > 6000 {
		t.Errorf("%v elements drawn for one screen of the timeline", n)
	}
	// Scroll 20 times, a frame each, and measure the frames.
	ms, err := chromedp.Run(tctx, chromedp.Evaluate[float64](`(async () => {
		const v = document.getElementById("view"), frame = () => new Promise(r => requestAnimationFrame(() => r()));
		const t0 = performance.now();
		for (let i = 1; i <= 20; i++) { v.scrollTop = i * 40000; await frame(); await frame(); }
		return performance.now() - t0; })()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if n := eval(`document.querySelectorAll(".op").length`); n.(float64) < 10 {
		t.Errorf("after scrolling the big timeline, %v ops drawn", n)
	}
	t.Logf("100k-event timeline: opened at op 60000 in %v; 20 scrolls of 40000 px in %.0f ms (2 frames each)", loaded.Round(time.Millisecond), ms)
	shot("06-timeline-100k.png")

	time.Sleep(200 * time.Millisecond) // let the last console events arrive
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("browser console: %s", p)
	}
	if t.Failed() {
		fmt.Fprintf(os.Stderr, "browser test screenshots: %s\n", shots)
	}
}
