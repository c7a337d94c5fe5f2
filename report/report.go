package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/runstore"
)

// Files Write puts into a run folder.
const (
	IndexFile            = "index.html"
	TimelineFile         = "timeline.html"
	LatencyRawFile       = "latency-raw.svg"
	LatencyQuantilesFile = "latency-quantiles.svg"
	RateFile             = "rate.svg"
)

// Input is what the report needs to know about a run besides its history:
// the fields of test.json and the results of results.json. ReadRun fills
// it from a run folder.
type Input struct {
	// Name is the test name.
	Name string
	// Started is when the run began; zero when unknown.
	Started time.Time
	// Nodes, Seed, Concurrency and Options are those of test.json.
	Nodes       []string
	Seed        int64
	Concurrency int
	Options     map[string]string
	// Test is the whole of test.json, decoded into generic values (shown
	// on the run page); nil when there is none.
	Test map[string]any
	// Results are the checkers' results; nil when the run was not analysed.
	Results *Results
	// Nemeses say which nemesis fs start and stop which fault, for the
	// shading of the plots and the timeline; nil derives them from the
	// history (kill/start, pause/resume, start-X/stop-X, start/stop).
	Nemeses []checker.NemesisSpec
	// Problems are the malformed ops left out when the history was read.
	Problems []string
}

// Results is the content of results.json.
type Results struct {
	Valid checker.Validity `json:"valid"`
	// Checkers are the per-checker objects as decoded by encoding/json
	// (numbers as json.Number), keyed by checker name.
	Checkers map[string]any `json:"checkers"`
	Notes    []string       `json:"notes,omitempty"`
}

// testRecord holds the fields of test.json the report uses.
type testRecord struct {
	Name        string            `json:"name"`
	Nodes       []string          `json:"nodes"`
	Concurrency int               `json:"concurrency"`
	Seed        int64             `json:"seed"`
	Options     map[string]string `json:"options"`
	Started     string            `json:"started"`
}

// ReadRun reads test.json and results.json of a run folder into an Input.
// Missing files leave their fields empty (Results nil); a file that cannot
// be decoded is an error naming it.
func ReadRun(dir string) (Input, error) {
	var in Input
	if b, err := os.ReadFile(filepath.Join(dir, runstore.TestFile)); err == nil {
		var rec testRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return in, fmt.Errorf("report: %s: %w", filepath.Join(dir, runstore.TestFile), err)
		}
		if err := decodeJSON(b, &in.Test); err != nil {
			return in, fmt.Errorf("report: %s: %w", filepath.Join(dir, runstore.TestFile), err)
		}
		in.Name, in.Nodes, in.Seed, in.Concurrency, in.Options = rec.Name, rec.Nodes, rec.Seed, rec.Concurrency, rec.Options
		if t, err := time.Parse(time.RFC3339Nano, rec.Started); err == nil {
			in.Started = t
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return in, fmt.Errorf("report: %w", err)
	}
	real := dir
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		real = r // store/latest names its run folder
	}
	if in.Name == "" {
		in.Name = filepath.Base(filepath.Dir(real))
	}
	if in.Started.IsZero() {
		if t, err := runstore.ParseStamp(filepath.Base(real)); err == nil {
			in.Started = t
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, runstore.ResultsFile)); err == nil {
		var res Results
		if err := decodeJSON(b, &res); err != nil {
			return in, fmt.Errorf("report: %s: %w", filepath.Join(dir, runstore.ResultsFile), err)
		}
		in.Results = &res
	} else if !errors.Is(err, fs.ErrNotExist) {
		return in, fmt.Errorf("report: %w", err)
	}
	return in, nil
}

func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// WriteFromDir writes the report of the run folder dir: it reads
// test.json, results.json (both optional) and the history (history.jsonl,
// else history.edn; malformed ops are left out and noted), then calls
// Write.
func WriteFromDir(dir string) error {
	in, err := ReadRun(dir)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, runstore.HistoryFile)
	if _, err := os.Stat(path); err != nil {
		path = filepath.Join(dir, runstore.HistoryEDNFile)
	}
	h, probs, err := history.ReadFile(path, history.ReadOptions{Lenient: true})
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for i, p := range probs {
		if i == 20 {
			in.Problems = append(in.Problems, fmt.Sprintf("… and %d more", len(probs)-20))
			break
		}
		in.Problems = append(in.Problems, p.Error())
	}
	return Write(dir, h, in)
}

// Write writes the report of a run into its folder dir: timeline.html,
// latency-raw.svg, latency-quantiles.svg, rate.svg and index.html (written
// last: it lists the others and the folder's files). Each file is written
// whole or not at all; every file is attempted and the errors are joined.
func Write(dir string, h *history.History, in Input) error {
	if h == nil {
		return errors.New("report: no history")
	}
	d := newRunData(in.Name, h, in.Nemeses)
	var errs []error
	put := func(name string, b []byte) {
		if err := runstore.WriteFile(filepath.Join(dir, name), b); err != nil {
			errs = append(errs, fmt.Errorf("report: %w", err))
		}
	}
	put(TimelineFile, timelineHTML(d, in.Concurrency, evidenceIndex(in.Results)))
	put(LatencyRawFile, latencyRawSVG(d))
	put(LatencyQuantilesFile, latencyQuantilesSVG(d))
	put(RateFile, rateSVG(d))
	page, err := indexHTML(dir, d, in)
	if err != nil {
		errs = append(errs, fmt.Errorf("report: %s: %w", IndexFile, err))
	} else {
		put(IndexFile, page)
	}
	return errors.Join(errs...)
}

// evidenceIndex returns the smallest index of an op that the checkers'
// results quote (an object with index, type and process), or -1.
func evidenceIndex(r *Results) int {
	if r == nil {
		return -1
	}
	best := -1
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			_, typed := x["type"]
			_, proc := x["process"]
			if n, ok := x["index"].(json.Number); ok && typed && proc {
				if i, err := n.Int64(); err == nil && i >= 0 && (best < 0 || int(i) < best) {
					best = int(i)
				}
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	for _, c := range r.Checkers {
		walk(c)
	}
	return best
}
