package checker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/faultline/faultline/history"
)

// maxLogMatches bounds the matches a LogFilePatternResult lists; Count
// still counts them all.
const maxLogMatches = 1000

// LogMatch is one line of a node's log file that matched the pattern.
type LogMatch struct {
	Node       string `json:"node"`
	Line       string `json:"line"`
	LineNumber int    `json:"line-number"`
}

// LogFilePatternResult is the result of LogFilePattern.
type LogFilePatternResult struct {
	Valid   Validity   `json:"valid"`
	Count   int        `json:"count"`
	Matches []LogMatch `json:"matches"`
	// Truncated is true when more than the listed matches were found.
	Truncated bool `json:"truncated,omitempty"`
	// Files are the log files searched, relative to the run folder.
	Files []string `json:"files"`
	Error string   `json:"error,omitempty"`
}

// Verdict implements Result.
func (r *LogFilePatternResult) Verdict() Validity { return r.Valid }

// Summary names the first matches.
func (r *LogFilePatternResult) Summary() string {
	if r.Error != "" {
		return r.Error
	}
	if r.Count == 0 {
		return fmt.Sprintf("no match in %d log files", len(r.Files))
	}
	var parts []string
	for i, m := range r.Matches {
		if i == 3 {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, fmt.Sprintf("%s:%d %q", m.Node, m.LineNumber, m.Line))
	}
	return fmt.Sprintf("%d log lines match: %s", r.Count, strings.Join(parts, ", "))
}

type logFilePattern struct {
	pattern  Matcher
	filename string
}

// Matcher is what LogFilePattern needs of a pattern; *regexp.Regexp is one.
type Matcher interface {
	Match(line []byte) bool
	String() string
}

// LogFilePattern searches the log file named filename in every node folder
// of the run folder (<Options.RunDir>/<node>/<filename>, for each of
// Options.Nodes, or each folder of RunDir when Nodes is nil) for lines
// matching pattern (usually a *regexp.Regexp), like Jepsen's
// checker/log-file-pattern. It is invalid when a line matches, and lists the
// matches (node, line, line number; at most 1,000, with Count counting all).
//
// A node without the file is skipped, as in Jepsen. Unlike Jepsen, which
// calls a run without any such file valid, the result is unknown when no
// node has the file or the run folder is not known: nothing was searched.
// Go's regexp syntax (RE2) replaces grep's PCRE; lines are matched without
// their line ending.
func LogFilePattern(pattern Matcher, filename string) Checker {
	return &logFilePattern{pattern: pattern, filename: filename}
}

func (c *logFilePattern) Name() string { return "log-file-pattern" }

func (c *logFilePattern) Check(ctx context.Context, _ *history.History, opts Options) (Result, error) {
	if c.pattern == nil {
		return nil, errors.New("log-file-pattern: no pattern")
	}
	if !filepath.IsLocal(c.filename) {
		return nil, fmt.Errorf("log-file-pattern: file name %q must be a path inside a node folder", c.filename)
	}
	r := &LogFilePatternResult{Matches: []LogMatch{}, Files: []string{}}
	if opts.RunDir == "" {
		r.Valid = Unknown
		r.Error = "no run folder to search for " + c.filename
		return r, nil
	}
	nodes := opts.Nodes
	if nodes == nil {
		entries, err := os.ReadDir(opts.RunDir)
		if err != nil {
			return nil, fmt.Errorf("log-file-pattern: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() {
				nodes = append(nodes, e.Name())
			}
		}
	}
	nodes = append([]string(nil), nodes...)
	sort.Strings(nodes)
	for _, node := range nodes {
		rel := filepath.Join(node, c.filename)
		path := filepath.Join(opts.RunDir, rel)
		err := c.scan(ctx, path, node, r)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("log-file-pattern: %w", err)
		}
		r.Files = append(r.Files, rel)
	}
	switch {
	case r.Count > 0:
		r.Valid = Invalid
	case len(r.Files) == 0:
		r.Valid = Unknown
		r.Error = fmt.Sprintf("no node folder of %s has a file %s", opts.RunDir, c.filename)
	default:
		r.Valid = Valid
	}
	return r, nil
}

func (c *logFilePattern) scan(ctx context.Context, path, node string, r *LogFilePatternResult) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("%s is a folder, not a log file", path)
	}
	br := bufio.NewReaderSize(f, 64<<10)
	var long []byte
	for n := 1; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A line longer than the buffer: gather it whole.
			long = append(long[:0], line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(line) > 0 {
			text := trimEOL(line)
			if c.pattern.Match(text) {
				r.Count++
				if len(r.Matches) < maxLogMatches {
					r.Matches = append(r.Matches, LogMatch{Node: node, Line: string(text), LineNumber: n})
				} else {
					r.Truncated = true
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading %s line %d: %w", path, n, err)
		}
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}
