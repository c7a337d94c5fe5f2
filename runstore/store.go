package runstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// File names inside a run folder.
const (
	TestFile       = "test.json"
	HistoryFile    = "history.jsonl"
	HistoryEDNFile = "history.edn"
	ResultsFile    = "results.json"
	LogFile        = "faultline.log"
	// Jepsen's names, recognised when reading.
	JepsenResultsFile = "results.edn"
	JepsenTestFile    = "test.jepsen"
)

// TimeLayout names run folders: local time with milliseconds and zone offset.
const TimeLayout = "20060102T150405.000-0700"

// DefaultBase is the store folder used when none is given.
const DefaultBase = "store"

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

// CheckName reports whether name is usable as a test name (a folder name
// without separators).
func CheckName(name string) error {
	if !validName.MatchString(name) || name == "latest" || name == "current" {
		return fmt.Errorf("test name %q: use letters, digits, '.', '_', '+' and '-' (and not latest/current)", name)
	}
	return nil
}

// Create makes a new run folder base/<name>/<timestamp>/ for a run started at
// start, adding a suffix when a run of the same name started in the same
// millisecond, and points base/current at it.
func Create(base, name string, start time.Time) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	parent := filepath.Join(base, name)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	stamp := start.Format(TimeLayout)
	for i := 0; ; i++ {
		dir := filepath.Join(parent, stamp)
		if i > 0 {
			dir = fmt.Sprintf("%s-%d", dir, i)
		}
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			_ = Link(base, "current", dir)
			return dir, nil
		}
		if !errors.Is(err, fs.ErrExist) || i > 1000 {
			return "", fmt.Errorf("store: %w", err)
		}
	}
}

// Finish points base/latest and base/<name>/latest at dir and removes
// base/current.
func Finish(base, dir string) error {
	name := filepath.Base(filepath.Dir(dir))
	err := errors.Join(Link(base, "latest", dir), Link(filepath.Join(base, name), "latest", dir))
	if cur, e := os.Readlink(filepath.Join(base, "current")); e == nil && sameDir(filepath.Join(base, cur), dir) {
		_ = os.Remove(filepath.Join(base, "current"))
	}
	return err
}

func sameDir(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && filepath.Clean(aa) == filepath.Clean(bb)
}

// Link atomically makes dir/linkName a relative symbolic link to target.
func Link(dir, linkName, target string) error {
	rel, err := filepath.Rel(dir, target)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, fmt.Sprintf(".%s.%d.tmp", linkName, os.Getpid()))
	_ = os.Remove(tmp)
	if err := os.Symlink(rel, tmp); err != nil {
		return fmt.Errorf("store: link %s: %w", linkName, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, linkName)); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("store: link %s: %w", linkName, err)
	}
	return nil
}

// Kind says what a folder or file given to analyze is.
type Kind int

const (
	// KindRun is a Faultline run folder (history.jsonl).
	KindRun Kind = iota + 1
	// KindJepsen is a Jepsen store folder (history.edn, results.edn).
	KindJepsen
	// KindFile is a single history file.
	KindFile
)

// Source is something analyze can read a history from.
type Source struct {
	Kind Kind
	// Dir is the run folder (empty for KindFile).
	Dir string
	// History is the history file to read.
	History string
}

// Resolve says what path is: a run folder of ours (or a link to one), a
// Jepsen store folder, or a history file.
func Resolve(path string) (Source, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Source{}, fmt.Errorf("%s: %w", path, err)
	}
	if !st.IsDir() {
		return Source{Kind: KindFile, History: path}, nil
	}
	dir, err := filepath.EvalSymlinks(path)
	if err != nil {
		return Source{}, err
	}
	if exists(filepath.Join(dir, HistoryFile)) {
		return Source{Kind: KindRun, Dir: dir, History: filepath.Join(dir, HistoryFile)}, nil
	}
	if exists(filepath.Join(dir, HistoryEDNFile)) {
		return Source{Kind: KindJepsen, Dir: dir, History: filepath.Join(dir, HistoryEDNFile)}, nil
	}
	return Source{}, fmt.Errorf("%s: a folder without %s or %s: not a run folder", path, HistoryFile, HistoryEDNFile)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Run is one run folder found in a store.
type Run struct {
	Name string    // test name
	Dir  string    // run folder
	Time time.Time // start time from the folder name
}

// List returns the run folders under base, newest first. Jepsen store
// folders (history.edn without history.jsonl) are included.
func List(base string) ([]Run, error) {
	tests, err := os.ReadDir(base)
	if err != nil {
		return nil, err
	}
	var runs []Run
	for _, t := range tests {
		if !t.IsDir() || t.Name() == "latest" || t.Name() == "current" {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(base, t.Name()))
		if err != nil {
			continue
		}
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			dir := filepath.Join(base, t.Name(), e.Name())
			if !exists(filepath.Join(dir, HistoryFile)) && !exists(filepath.Join(dir, HistoryEDNFile)) {
				continue
			}
			ts, _ := ParseStamp(e.Name())
			runs = append(runs, Run{Name: t.Name(), Dir: dir, Time: ts})
		}
	}
	sort.Slice(runs, func(i, j int) bool {
		if !runs[i].Time.Equal(runs[j].Time) {
			return runs[i].Time.After(runs[j].Time)
		}
		return runs[i].Dir > runs[j].Dir
	})
	return runs, nil
}

// ParseStamp reads the time of a run folder name (ours, or Jepsen's
// YYYYMMDDTHHMMSS.mmm±hhmm / YYYYMMDDTHHMMSS.mmmZ).
func ParseStamp(name string) (time.Time, error) {
	if i := strings.LastIndexByte(name, '-'); i > 20 { // collision suffix
		if _, err := time.Parse(TimeLayout, name[:i]); err == nil {
			name = name[:i]
		}
	}
	for _, layout := range []string{TimeLayout, "20060102T150405.000Z0700", "20060102T150405.000"} {
		if t, err := time.Parse(layout, name); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a run folder name", name)
}

// WriteJSON writes v as indented JSON to path, atomically.
func WriteJSON(path string, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	return WriteFile(path, b.Bytes())
}

// WriteFile writes data to path through a temporary file and a rename, and
// syncs it, so a crash leaves either the old or the new content.
func WriteFile(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}
