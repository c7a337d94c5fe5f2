package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/runstore"
)

// JUnitRun is one run for WriteJUnit.
type JUnitRun struct {
	// Name is the test name; Dir the run folder (may be empty).
	Name string
	Dir  string
	// Valid is the run's verdict.
	Valid checker.Validity
	// Started and Duration place the run in time (zero when unknown).
	Started  time.Time
	Duration time.Duration
	// Checkers are the per-checker verdicts, in the order to list them.
	Checkers []JUnitChecker
	// Notes are the reasons a run cannot be called valid (from results.json).
	Notes []string
	// Error is set when the run crashed and has no verdict.
	Error string
}

// JUnitChecker is one checker's verdict for WriteJUnit.
type JUnitChecker struct {
	Name    string
	Valid   checker.Validity
	Summary string
	// Anomalies are listed one per line in the failure text.
	Anomalies []string
}

// JUnitRunFromDir reads a run folder's test.json, results.json and
// history (for the duration) into a JUnitRun. A run without results.json
// is reported as an error ("not analysed").
func JUnitRunFromDir(dir string) (JUnitRun, error) {
	in, err := ReadRun(dir)
	if err != nil {
		return JUnitRun{}, err
	}
	r := JUnitRun{Name: in.Name, Dir: dir, Started: in.Started, Valid: checker.Unknown}
	r.Duration = historyDuration(dir)
	if in.Results == nil {
		r.Error = "the run has no " + runstore.ResultsFile + ": it was not analysed"
		return r, nil
	}
	r.Valid, r.Notes = in.Results.Valid, in.Results.Notes
	r.Checkers = JUnitCheckers(in.Results.Checkers)
	return r, nil
}

// JUnitCheckers turns results.json's "checkers" object into JUnitCheckers
// in name order, with their summaries and anomalies.
func JUnitCheckers(checkers map[string]any) []JUnitChecker {
	var out []JUnitChecker
	for _, name := range sortedKeys(checkers) {
		res := checkers[name]
		c := JUnitChecker{Name: name, Valid: verdictOf(field(res, "valid")), Summary: CheckerSummary(res)}
		_, anomalies := checkerEvidence(name, res, scan{files: map[string]int64{}})
		for _, a := range anomalies {
			c.Anomalies = append(c.Anomalies, a.Text)
		}
		out = append(out, c)
	}
	return out
}

// historyDuration is the time of the last op of a run folder's history,
// read from the end of history.jsonl; 0 when unknown.
func historyDuration(dir string) time.Duration {
	f, err := os.Open(filepath.Join(dir, runstore.HistoryFile))
	if err != nil {
		return 0
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0
	}
	const tail = 64 << 10
	off := max(0, st.Size()-tail)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
		return 0
	}
	lines := strings.Split(strings.TrimRight(string(buf), "\n"), "\n")
	for i := len(lines) - 1; i >= 0 && i >= len(lines)-3; i-- {
		op, err := history.NewJSONLReader(strings.NewReader(lines[i]), "").Next()
		if err == nil && op.Time >= 0 {
			return time.Duration(op.Time)
		}
	}
	return 0
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes runs as JUnit XML: one <testsuite> per run holding a
// test case for the run's verdict and one per checker. An invalid verdict
// is a <failure> whose text is the summary and the anomalies; an unknown
// verdict, or a run that crashed, is an <error> (CI must not pass it).
func WriteJUnit(w io.Writer, runs []JUnitRun) error {
	out := junitSuites{Name: "faultline"}
	var total time.Duration
	for _, r := range runs {
		stamp := ""
		if r.Dir != "" {
			stamp = filepath.Base(r.Dir)
		}
		suite := junitSuite{Name: strings.TrimSpace(r.Name + " " + stamp), Time: secondsAttr(r.Duration)}
		if !r.Started.IsZero() {
			suite.Timestamp = r.Started.Format("2006-01-02T15:04:05")
		}
		if r.Dir != "" {
			suite.Properties = append(suite.Properties, junitProperty{"run-folder", r.Dir})
		}
		class := "faultline." + r.Name
		run := junitCase{Name: "verdict", Classname: class, Time: secondsAttr(r.Duration)}
		var text []string
		if r.Dir != "" {
			text = append(text, "run folder: "+r.Dir)
		}
		text = append(text, r.Notes...)
		for _, c := range r.Checkers {
			if c.Valid != checker.Valid {
				text = append(text, fmt.Sprintf("%s: %s: %s", c.Name, c.Valid, c.Summary))
			}
		}
		switch {
		case r.Error != "":
			run.Error = &junitProblem{Message: "crashed: " + firstLine(r.Error), Type: "crash", Text: strings.Join(append([]string{r.Error}, text...), "\n")}
		case r.Valid == checker.Invalid:
			run.Failure = &junitProblem{Message: "invalid: " + runMessage(r), Type: "invalid", Text: strings.Join(text, "\n")}
		case r.Valid == checker.Unknown:
			run.Error = &junitProblem{Message: "unknown: " + runMessage(r), Type: "unknown", Text: strings.Join(text, "\n")}
		default:
			run.SystemOut = strings.Join(text, "\n")
		}
		suite.Cases = append(suite.Cases, run)
		checkers := append([]JUnitChecker(nil), r.Checkers...)
		sort.SliceStable(checkers, func(i, j int) bool { return checkers[i].Name < checkers[j].Name })
		for _, c := range checkers {
			tc := junitCase{Name: c.Name, Classname: class, Time: "0"}
			body := c.Summary
			if len(c.Anomalies) > 0 {
				body += "\n" + strings.Join(c.Anomalies, "\n")
			}
			switch c.Valid {
			case checker.Invalid:
				tc.Failure = &junitProblem{Message: firstLine(c.Summary), Type: "invalid", Text: body}
			case checker.Unknown:
				tc.Error = &junitProblem{Message: firstLine(c.Summary), Type: "unknown", Text: body}
			default:
				tc.SystemOut = c.Summary
			}
			suite.Cases = append(suite.Cases, tc)
		}
		for _, tc := range suite.Cases {
			suite.Tests++
			if tc.Failure != nil {
				suite.Failures++
			}
			if tc.Error != nil {
				suite.Errors++
			}
		}
		out.Tests += suite.Tests
		out.Failures += suite.Failures
		out.Errors += suite.Errors
		total += r.Duration
		out.Suites = append(out.Suites, suite)
	}
	out.Time = secondsAttr(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// runMessage is the one-line message of a run's failure: the first
// non-valid checker's summary, or the first note.
func runMessage(r JUnitRun) string {
	for _, c := range r.Checkers {
		if c.Valid == r.Valid && c.Summary != "" {
			return c.Name + ": " + firstLine(c.Summary)
		}
	}
	if len(r.Notes) > 0 {
		return firstLine(r.Notes[0])
	}
	return r.Valid.String()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return clip(s, 500)
}

func secondsAttr(d time.Duration) string {
	return fmt.Sprintf("%.3f", d.Seconds())
}
