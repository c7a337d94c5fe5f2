package report

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/runstore"
)

// RunInfo is the one-line summary of a run folder that run lists show.
type RunInfo struct {
	Name    string
	Dir     string
	Started time.Time
	// Verdict is "valid", "invalid" or "unknown", or "" when the run has not
	// been analysed (no results.json).
	Verdict string
	// Duration is the span of the history (0 when unknown).
	Duration time.Duration
	// Ops is the number of client operations invoked.
	Ops int
	// Summary is the first non-valid checker's summary ("" when valid).
	Summary string
	// Report is true when the folder holds index.html.
	Report bool
}

// ReadRunInfo summarises a run folder from its test.json and results.json;
// the op count and duration come from the results of the stats and perf
// checkers when present, otherwise from reading the history.
func ReadRunInfo(dir string) (RunInfo, error) {
	in, err := ReadRun(dir)
	info := RunInfo{Name: in.Name, Dir: dir, Started: in.Started}
	if err != nil {
		return info, err
	}
	_, err = os.Stat(filepath.Join(dir, IndexFile))
	info.Report = err == nil
	opsKnown, durKnown := false, false
	if res := in.Results; res != nil {
		info.Verdict = res.Valid.String()
		if res.Valid != checker.Valid {
			for _, name := range sortedKeys(res.Checkers) {
				if verdictOf(field(res.Checkers[name], "valid")) == res.Valid {
					info.Summary = name + ": " + CheckerSummary(res.Checkers[name])
					break
				}
			}
			if info.Summary == "" && len(res.Notes) > 0 {
				info.Summary = res.Notes[0]
			}
		}
		if n, ok := number(field(res.Checkers["stats"], "count")); ok {
			info.Ops, opsKnown = int(n), true
		}
		if d, ok := number(field(res.Checkers["perf"], "duration")); ok {
			info.Duration, durKnown = time.Duration(d*1e9), true
		}
	}
	if !opsKnown || !durKnown {
		ops, span, err := scanHistory(dir)
		if err != nil {
			return info, err
		}
		if !opsKnown {
			info.Ops = ops
		}
		if !durKnown {
			info.Duration = span
		}
	}
	return info, nil
}

// scanHistory counts the client invocations of a run folder's history and
// measures its span, reading it op by op.
func scanHistory(dir string) (ops int, span time.Duration, err error) {
	path, format := filepath.Join(dir, runstore.HistoryFile), history.FormatJSONL
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		path, format = filepath.Join(dir, runstore.HistoryEDNFile), history.FormatEDN
		f, err = os.Open(path)
	}
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	r, err := history.NewReader(f, path, format)
	if err != nil {
		return 0, 0, err
	}
	first, last := int64(-1), int64(-1)
	for {
		op, err := r.Next()
		if err == io.EOF {
			break
		}
		if _, ok := history.IsProblem(err); ok {
			continue
		}
		if err != nil {
			return ops, 0, err
		}
		if op.IsClient() && op.Type == history.Invoke {
			ops++
		}
		if op.Time >= 0 {
			if first < 0 {
				first = op.Time
			}
			last = op.Time
		}
	}
	if first >= 0 {
		span = time.Duration(last - first)
	}
	return ops, span, nil
}
