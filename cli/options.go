package cli

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
)

// Options are the parsed options of `faultline test` (Jepsen's names where
// Jepsen has one). Suites read them to build their test.
type Options struct {
	// Nodes are the hosts, from --node, --nodes or --nodes-file; n1..nN from
	// --node-count otherwise.
	Nodes []string
	// NodesGiven says the nodes came from --node, --nodes or --nodes-file
	// (real hosts), not from --node-count.
	NodesGiven bool
	// NodeCount sizes a local cluster (--node-count, default 5).
	NodeCount int
	// Concurrency is the number of client threads (--concurrency N or Nn).
	Concurrency int
	// TimeLimit bounds the main phase (--time-limit, seconds).
	TimeLimit time.Duration
	// TestCount repeats the test (--test-count).
	TestCount int
	// Seed for the run (--seed; 0 picks one).
	Seed int64
	// Store is the store folder (--store).
	Store string
	// DB, Workload and Nemesis name the parts (--db, --workload, --nemesis).
	DB, Workload, Nemesis string
	// NemesisInterval is the mean time between faults (--nemesis-interval).
	NemesisInterval time.Duration
	// Cluster names the local cluster driver to run on (--cluster netns|docker).
	Cluster string
	// OpTimeout bounds each client op (--op-timeout).
	OpTimeout time.Duration
	// LeaveDBRunning skips DB teardown (--leave-db-running).
	LeaveDBRunning bool
	// LoggingJSON writes logs as JSON (--logging-json).
	LoggingJSON bool
	// Verbose logs at debug level (--verbose).
	Verbose bool
	// JUnit is a file to write JUnit XML to (--junit).
	JUnit string
	// SSH options (Jepsen's): used by the ssh remote.
	SSH SSHOptions
	// Set holds suite options given with --option key=value and suite
	// flags registered by the suite.
	Set map[string]string
	// Args are the arguments after the options.
	Args []string
	// Log is the command's logger (stderr, --logging-json, --verbose); suites
	// use it for what they do before the run starts.
	Log *slog.Logger

	rawConcurrency string
	nodeList       stringList
	nodesCSV       string
	nodesFile      string
	set            stringList
}

// SSHOptions are Jepsen's SSH flags.
type SSHOptions struct {
	Username              string
	Password              string
	PrivateKey            string
	StrictHostKeyChecking bool
	NoSSH                 bool
	Port                  int
}

// Option returns a suite option, or def.
func (o *Options) Option(key, def string) string {
	if v, ok := o.Set[key]; ok {
		return v
	}
	return def
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// secondsValue is a duration flag given in seconds (Jepsen style), or with a
// Go unit ("90s", "2m").
type secondsValue struct{ d *time.Duration }

func (v secondsValue) String() string {
	if v.d == nil {
		return ""
	}
	return strconv.FormatFloat(v.d.Seconds(), 'f', -1, 64)
}

func (v secondsValue) Set(s string) error {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 {
			return errors.New("must not be negative")
		}
		*v.d = time.Duration(f * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a number of seconds or a duration like 90s", s)
	}
	if d < 0 {
		return errors.New("must not be negative")
	}
	*v.d = d
	return nil
}

// addTestFlags registers the options of `test` and `test-all`.
func addTestFlags(fs *flag.FlagSet, o *Options, defaultDB string) {
	fs.Var(&o.nodeList, "node", "a node to run on (repeatable)")
	fs.StringVar(&o.nodesCSV, "nodes", "", "comma-separated list of nodes (hosts)")
	fs.StringVar(&o.nodesFile, "nodes-file", "", "file with one node per line")
	fs.IntVar(&o.NodeCount, "node-count", 5, "number of nodes n1..nN of a local cluster")
	fs.StringVar(&o.rawConcurrency, "concurrency", "1n", "client threads: a number, or Nn for N per node")
	o.TimeLimit = 60 * time.Second
	fs.Var(secondsValue{&o.TimeLimit}, "time-limit", "seconds the main phase runs")
	fs.IntVar(&o.TestCount, "test-count", 1, "how many times to run the test")
	fs.Int64Var(&o.Seed, "seed", 0, "random seed (0 picks one; it is recorded in test.json)")
	fs.StringVar(&o.Store, "store", "store", "store folder")
	fs.StringVar(&o.DB, "db", defaultDB, "system under test")
	fs.StringVar(&o.Workload, "workload", "", "workload")
	fs.StringVar(&o.Nemesis, "nemesis", "none", "faults to inject, comma-separated (e.g. partition,kill,pause), or none")
	o.NemesisInterval = 10 * time.Second
	fs.Var(secondsValue{&o.NemesisInterval}, "nemesis-interval", "mean seconds between faults")
	fs.StringVar(&o.Cluster, "cluster", "", "run on a local cluster: netns or docker (reused if up, else made for the run)")
	o.OpTimeout = 10 * time.Second
	fs.Var(secondsValue{&o.OpTimeout}, "op-timeout", "seconds before a client op is recorded as info")
	fs.BoolVar(&o.LeaveDBRunning, "leave-db-running", false, "do not tear the DB down at the end")
	fs.BoolVar(&o.LoggingJSON, "logging-json", false, "write logs as JSON")
	fs.BoolVar(&o.Verbose, "verbose", false, "log at debug level")
	fs.StringVar(&o.JUnit, "junit", "", "write JUnit XML (one test case per run and checker) to this file")
	fs.StringVar(&o.SSH.Username, "username", "root", "SSH user")
	fs.StringVar(&o.SSH.Password, "password", "", "SSH and sudo password")
	fs.StringVar(&o.SSH.PrivateKey, "ssh-private-key", "", "SSH private key file")
	fs.BoolVar(&o.SSH.StrictHostKeyChecking, "strict-host-key-checking", false, "check host keys against known_hosts")
	fs.BoolVar(&o.SSH.NoSSH, "no-ssh", false, "do not connect to nodes over SSH")
	fs.IntVar(&o.SSH.Port, "ssh-port", 22, "SSH port")
	fs.Var(&o.set, "option", "suite option key=value (repeatable)")
}

// finish resolves nodes, concurrency and suite options after parsing.
func (o *Options) finish() error {
	var nodes []string
	nodes = append(nodes, o.nodeList...)
	if o.nodesCSV != "" {
		for _, n := range strings.Split(o.nodesCSV, ",") {
			if n = strings.TrimSpace(n); n != "" {
				nodes = append(nodes, n)
			}
		}
	}
	if o.nodesFile != "" {
		f, err := os.Open(o.nodesFile)
		if err != nil {
			return fmt.Errorf("--nodes-file: %w", err)
		}
		ns, err := readLines(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("--nodes-file %s: %w", o.nodesFile, err)
		}
		nodes = append(nodes, ns...)
	}
	o.NodesGiven = len(nodes) > 0
	if len(nodes) == 0 {
		if o.NodeCount < 1 || o.NodeCount > 250 {
			return fmt.Errorf("--node-count %d: want 1 to 250", o.NodeCount)
		}
		for i := 1; i <= o.NodeCount; i++ {
			nodes = append(nodes, fmt.Sprintf("n%d", i))
		}
	}
	seen := map[string]bool{}
	for _, n := range nodes {
		if seen[n] {
			return fmt.Errorf("node %q given twice", n)
		}
		seen[n] = true
	}
	o.Nodes = nodes
	c, err := ParseConcurrency(o.rawConcurrency, len(nodes))
	if err != nil {
		return err
	}
	o.Concurrency = c
	if o.TestCount < 1 {
		return fmt.Errorf("--test-count %d: want at least 1", o.TestCount)
	}
	if o.Set == nil {
		o.Set = map[string]string{}
	}
	for _, kv := range o.set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("--option %q: want key=value", kv)
		}
		o.Set[k] = v
	}
	return nil
}

// ParseConcurrency reads "10" or "3n" (3 per node).
func ParseConcurrency(s string, nodes int) (int, error) {
	s = strings.TrimSpace(s)
	mult := 1
	if strings.HasSuffix(s, "n") {
		mult = nodes
		s = strings.TrimSuffix(s, "n")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("--concurrency %q: want a positive number, or Nn for N per node", s)
	}
	return n * mult, nil
}

func readLines(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out, sc.Err()
}
