// Package report writes the human-readable report of a run into its run
// folder, with nothing to install: pure Go, inline SVG and a little inline
// JavaScript and CSS, no external programs (Jepsen needs gnuplot for its
// plots) and nothing loaded from the network.
//
// Write (or WriteFromDir, which reads test.json, results.json and the
// history of a run folder) produces:
//
//   - timeline.html: one column per process, each op a box from its
//     invocation to its completion coloured by outcome (ok, fail, info,
//     never completed), nemesis ops and fault intervals alongside, the full
//     op on hover. The ops are embedded as a compact JSON array and drawn by
//     a small script only for the rows in view (virtual scrolling), so a
//     history of any length opens without hanging the browser; #op=N
//     (and &key=K) in the address jumps to an op.
//   - latency-raw.svg: the latency of every op over time on a log scale,
//     coloured by f and shaped by outcome; points are drawn once per pixel,
//     so the file's size is bounded by the picture's area.
//   - latency-quantiles.svg: the median, 0.95, 0.99 and maximum latency per
//     f in time windows.
//   - rate.svg: throughput per f and outcome in time windows.
//   - index.html: the run page: verdict, each checker's verdict, summary and
//     key evidence (for linearizability: the op that cannot be linearized,
//     the final path, a link to linear.html), the anomalies with links to
//     their evidence files, the plots, test.json, the history files and the
//     node log folders.
//
// All plots shade the nemesis intervals (checker.NemesisIntervals) and
// label them in lanes above the plot.
//
// WriteJUnit writes JUnit XML for CI: one test suite per run with a test
// case for its verdict and one per checker; invalid is a failure whose text
// is the anomaly summary, unknown and crashes are errors.
//
// The package corresponds to Jepsen's jepsen.checker.timeline and
// jepsen.checker.perf (the plots) and to the run pages of jepsen.web.
// It reads results.json as generic JSON (see CheckerSummary), so it does
// not depend on the checkers' result types, nor on the root package.
package report
