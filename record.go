package faultline

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/faultline/faultline/runstore"
)

// Version is Faultline's version.
const Version = "0.1.0-dev"

// TestRecord is the content of test.json: everything needed to know what a
// run did and to analyse it again.
type TestRecord struct {
	Name             string            `json:"name"`
	Nodes            []string          `json:"nodes,omitempty"`
	Concurrency      int               `json:"concurrency,omitempty"`
	TimeLimitSeconds float64           `json:"time-limit-seconds,omitempty"`
	OpTimeoutSeconds float64           `json:"op-timeout-seconds,omitempty"`
	Seed             int64             `json:"seed,omitempty"`
	Faults           string            `json:"faults,omitempty"`
	Options          map[string]string `json:"options,omitempty"`
	Meta             map[string]any    `json:"meta,omitempty"`
	Started          string            `json:"started,omitempty"`
	Version          string            `json:"faultline-version,omitempty"`
	GoVersion        string            `json:"go-version,omitempty"`
	Revision         string            `json:"revision,omitempty"`
	LeaveDBRunning   bool              `json:"leave-db-running,omitempty"`
}

func testRecord(t *Test, began time.Time) TestRecord {
	return TestRecord{
		Name:             t.Name,
		Nodes:            t.Nodes,
		Concurrency:      t.Concurrency,
		TimeLimitSeconds: t.TimeLimit.Seconds(),
		OpTimeoutSeconds: t.OpTimeout.Seconds(),
		Seed:             t.Seed,
		Faults:           faultsPhrase(t),
		Options:          t.Options,
		Meta:             t.Meta,
		Started:          began.Format(time.RFC3339Nano),
		Version:          Version,
		GoVersion:        runtime.Version(),
		Revision:         gitRevision(),
		LeaveDBRunning:   t.LeaveDBRunning,
	}
}

// ReadTestRecord reads test.json from a run folder; a missing or unreadable
// file gives an empty record.
func ReadTestRecord(dir string) TestRecord {
	return readTestRecord(dir)
}

func readTestRecord(dir string) TestRecord {
	var rec TestRecord
	if dir == "" {
		return rec
	}
	b, err := os.ReadFile(filepath.Join(dir, runstore.TestFile))
	if err != nil {
		return rec
	}
	_ = json.Unmarshal(b, &rec)
	return rec
}

// faultsPhrase says in a few words which faults the test injects.
func faultsPhrase(t *Test) string {
	if t.Nemesis == nil {
		return "no faults"
	}
	if s, ok := t.Meta["nemesis"].(string); ok && s != "" && s != "none" {
		return "faults: " + s
	}
	return "a custom nemesis"
}

// gitRevision is the revision of the git work tree the test runs from (the
// suite's code), or "".
func gitRevision() string {
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	rev := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		rev += "-dirty"
	}
	return rev
}
