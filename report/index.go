package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/faultline/faultline/checker"
	"github.com/faultline/faultline/history"
	"github.com/faultline/faultline/runstore"
)

// Limits that keep index.html readable and small whatever the results.
const (
	maxJSONShown     = 64 << 10 // bytes of a checker's JSON shown in full
	maxFilesListed   = 200      // files listed per folder
	maxFilesScanned  = 5000     // files looked at in a run folder
	maxAnomalies     = 50       // anomalies listed per checker
	maxFieldsShown   = 40       // fields of a generic result shown
	maxPathSteps     = 30       // steps of a final path shown
	fieldValueLength = 300      // bytes of a field value shown
)

// link is a relative link inside the run folder.
type link struct {
	Href, Text, Note string
}

type fact struct {
	Label, Value string
}

type checkerView struct {
	Name, Verdict, Summary string
	Evidence               template.HTML
	Links                  []link
	JSON                   string
	Open                   bool
}

type anomalyView struct {
	Checker, Verdict, Text string
	Links                  []link
}

type folderView struct {
	Name  string
	Href  string
	Files []link
	More  int
}

type indexPage struct {
	Name, Folder, Started, Verdict string
	Analysed                       bool
	Quick                          []link
	Facts                          []fact
	Notes                          []string
	Problems                       []string
	Checkers                       []checkerView
	Anomalies                      []anomalyView
	Plots                          []link
	Test                           []fact
	TestJSON                       string
	Files                          []link
	NodeFolders                    []folderView
	OtherFolders                   []folderView
}

// scan is what a run folder holds.
type scan struct {
	files map[string]int64 // slash path -> size, for files
	dirs  map[string]bool  // top-level folders
}

func scanFolder(dir string) scan {
	s := scan{files: map[string]int64{}, dirs: map[string]bool{}}
	n := 0
	_ = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || n >= maxFilesScanned {
			return filepath.SkipDir
		}
		rel, rerr := filepath.Rel(dir, p)
		if rerr != nil || rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if e.IsDir() {
			if !strings.Contains(rel, "/") {
				s.dirs[rel] = true
			}
			return nil
		}
		if strings.HasSuffix(rel, ".tmp") {
			return nil
		}
		n++
		size := int64(-1)
		if info, err := e.Info(); err == nil {
			size = info.Size()
		}
		s.files[rel] = size
		return nil
	})
	return s
}

// href makes a relative link to a slash path inside the run folder.
func href(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return "./" + strings.Join(parts, "/")
}

func fileLink(p string, size int64) link {
	l := link{Href: href(p), Text: p}
	if size >= 0 {
		l.Note = ByteSize(size)
	}
	return l
}

// ByteSize renders a file size for people: "512 B", "1.5 KiB", "2.0 MiB".
func ByteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// standardFile reports whether a top-level file is one every run has (so
// not evidence).
func standardFile(name string) bool {
	switch name {
	case runstore.TestFile, runstore.HistoryFile, runstore.HistoryEDNFile, runstore.ResultsFile, runstore.LogFile,
		runstore.JepsenResultsFile, runstore.JepsenTestFile, "history.txt", "jepsen.log",
		IndexFile, TimelineFile, LatencyRawFile, LatencyQuantilesFile, RateFile:
		return true
	}
	return strings.HasPrefix(name, "input-")
}

func indexHTML(dir string, d *runData, in Input) ([]byte, error) {
	sc := scanFolder(dir)
	pg := indexPage{Name: in.Name, Folder: filepath.Base(dir), Verdict: "not analysed"}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		pg.Folder = filepath.Base(real)
	}
	if !in.Started.IsZero() {
		pg.Started = in.Started.Format("2006-01-02 15:04:05 MST")
	}
	if in.Results != nil {
		pg.Verdict = in.Results.Valid.String()
		pg.Notes = in.Results.Notes
		pg.Analysed = true
	}
	for _, f := range []string{runstore.ResultsFile, runstore.HistoryFile, runstore.HistoryEDNFile} {
		if _, ok := sc.files[f]; ok {
			pg.Quick = append(pg.Quick, link{Href: href(f), Text: f})
			if f == runstore.HistoryFile {
				break // one history is enough here
			}
		}
	}
	pg.Problems = in.Problems
	pg.Facts = runFacts(d, in)

	// Checkers, in name order, the non-valid ones first.
	if in.Results != nil {
		names := sortedKeys(in.Results.Checkers)
		sort.SliceStable(names, func(i, j int) bool {
			return verdictOf(field(in.Results.Checkers[names[i]], "valid")) > verdictOf(field(in.Results.Checkers[names[j]], "valid"))
		})
		for _, name := range names {
			cv, an := checkerEvidence(name, in.Results.Checkers[name], sc)
			pg.Checkers = append(pg.Checkers, cv)
			pg.Anomalies = append(pg.Anomalies, an...)
		}
	}
	pg.Plots = []link{
		{Href: href(LatencyRawFile), Text: "latency of every op"},
		{Href: href(LatencyQuantilesFile), Text: "latency quantiles"},
		{Href: href(RateFile), Text: "throughput"},
	}
	pg.Test, pg.TestJSON = testFacts(in)

	// Files: the standard ones first, then the other top-level files.
	var top []string
	for p := range sc.files {
		if !strings.Contains(p, "/") {
			top = append(top, p)
		}
	}
	sort.Slice(top, func(i, j int) bool {
		si, sj := standardFile(top[i]), standardFile(top[j])
		if si != sj {
			return si
		}
		return top[i] < top[j]
	})
	for _, p := range top {
		pg.Files = append(pg.Files, fileLink(p, sc.files[p]))
	}
	nodes := map[string]bool{}
	for _, n := range in.Nodes {
		nodes[n] = true
	}
	var dirs []string
	for dn := range sc.dirs {
		dirs = append(dirs, dn)
	}
	sort.Strings(dirs)
	for _, dn := range dirs {
		fv := folderView{Name: dn, Href: href(dn) + "/"}
		var files []string
		for p := range sc.files {
			if strings.HasPrefix(p, dn+"/") {
				files = append(files, p)
			}
		}
		sort.Strings(files)
		for i, p := range files {
			if i == maxFilesListed {
				fv.More = len(files) - i
				break
			}
			l := fileLink(p, sc.files[p])
			l.Text = strings.TrimPrefix(p, dn+"/")
			fv.Files = append(fv.Files, l)
		}
		if nodes[dn] {
			pg.NodeFolders = append(pg.NodeFolders, fv)
		} else {
			pg.OtherFolders = append(pg.OtherFolders, fv)
		}
	}
	var b bytes.Buffer
	if err := indexTemplate().Execute(&b, &pg); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// runFacts are the numbers at the top of the page.
func runFacts(d *runData, in Input) []fact {
	h := d.h
	var inv, ok, fail, info, pending, nem int
	for i := range h.Ops {
		op := &h.Ops[i]
		if op.IsNemesis() {
			nem++
			continue
		}
		switch op.Type {
		case history.Invoke:
			inv++
			if h.Pair(i) < 0 {
				pending++
			}
		case history.OK:
			ok++
		case history.Fail:
			fail++
		case history.Info:
			info++
		}
	}
	facts := []fact{
		{"client ops", fmt.Sprintf("%d invoked: %d ok, %d fail, %d info, %d never completed", inv, ok, fail, info, pending)},
		{"duration", fmt.Sprintf("%.3f s", float64(d.tmax)/1e9)},
	}
	if d.tmax <= 0 {
		facts[1].Value = "unknown (no op times)"
	}
	if nem > 0 || len(d.intervals) > 0 {
		f := fmt.Sprintf("%d nemesis events", nem)
		if len(d.intervals) > 0 {
			names := map[string]int{}
			for _, iv := range d.intervals {
				names[iv.Name]++
			}
			var parts []string
			for _, n := range sortedKeysInt(names) {
				parts = append(parts, fmt.Sprintf("%s ×%d", n, names[n]))
			}
			f += "; faults: " + strings.Join(parts, ", ")
		}
		facts = append(facts, fact{"nemesis", f})
	} else {
		facts = append(facts, fact{"nemesis", "no nemesis activity"})
	}
	if in.Concurrency > 0 {
		facts = append(facts, fact{"concurrency", strconv.Itoa(in.Concurrency)})
	}
	if len(in.Nodes) > 0 {
		facts = append(facts, fact{"nodes", strings.Join(in.Nodes, ", ")})
	}
	if in.Seed != 0 {
		facts = append(facts, fact{"seed", strconv.FormatInt(in.Seed, 10)})
	}
	return facts
}

func sortedKeysInt(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// testFacts renders test.json: one row per field, maps of scalars as
// "k=v" lists, anything else as compact JSON; and the whole file.
func testFacts(in Input) ([]fact, string) {
	if in.Test == nil {
		return nil, ""
	}
	var facts []fact
	for _, k := range sortedKeys(in.Test) {
		v := in.Test[k]
		var s string
		switch x := v.(type) {
		case map[string]any:
			var parts []string
			for _, kk := range sortedKeys(x) {
				parts = append(parts, kk+"="+text(x[kk]))
			}
			s = clip(strings.Join(parts, ", "), 2000)
		case []any:
			var parts []string
			for _, e := range x {
				parts = append(parts, text(e))
			}
			s = clip(strings.Join(parts, " "), 2000)
		default:
			s = clip(text(v), 2000)
		}
		facts = append(facts, fact{k, s})
	}
	b, _ := json.MarshalIndent(in.Test, "", "  ")
	return facts, clip(string(b), maxJSONShown)
}

func field(v any, k string) any {
	if m, ok := v.(map[string]any); ok {
		return m[k]
	}
	return nil
}

// checkerEvidence renders one checker's result: its verdict and summary,
// the key evidence, the evidence files, and its anomalies.
func checkerEvidence(name string, res any, sc scan) (checkerView, []anomalyView) {
	m, _ := res.(map[string]any)
	v := verdictOf(field(res, "valid"))
	cv := checkerView{Name: name, Verdict: v.String(), Summary: CheckerSummary(res), Open: v != checker.Valid}
	if b, err := json.MarshalIndent(res, "", "  "); err == nil {
		cv.JSON = string(b)
		if len(cv.JSON) > maxJSONShown {
			cv.JSON = clip(cv.JSON, maxJSONShown) + "\n(cut: see results.json)"
		}
	}
	// Files named after the checker: linear.html, elle/..., <name>-*.
	for _, p := range sortedFileKeys(sc.files) {
		base := path.Base(p)
		first, _, _ := strings.Cut(p, "/")
		if first == name || strings.HasPrefix(base, name+".") || strings.HasPrefix(base, name+"-") {
			if !standardFile(p) {
				cv.Links = append(cv.Links, fileLink(p, sc.files[p]))
			}
		}
	}
	var e evidence
	var anomalies []anomalyView
	switch {
	case m == nil:
		e.p("not a JSON object: " + compact(res, fieldValueLength))
	case m["op"] != nil && m["reason"] != nil:
		anomalies = e.linear(name, m, "", sc)
	case m["results"] != nil:
		anomalies = e.independent(name, m, sc)
	default:
		anomalies = e.generic(name, m, sc)
	}
	cv.Evidence = template.HTML(e.b.String()) // built from escaped parts only
	if v == checker.Valid {
		anomalies = nil
	}
	return cv, anomalies
}

func sortedFileKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// evidence builds HTML from escaped text.
type evidence struct{ b strings.Builder }

func (e *evidence) p(s string) { e.b.WriteString("<p>" + esc(s) + "</p>\n") }

func (e *evidence) row(k string, vHTML string) {
	e.b.WriteString("<tr><th>" + esc(k) + "</th><td>" + vHTML + "</td></tr>\n")
}

func linkHTML(l link) string {
	s := `<a href="` + esc(l.Href) + `">` + esc(l.Text) + `</a>`
	if l.Note != "" {
		s += ` <span class="note">` + esc(l.Note) + `</span>`
	}
	return s
}

// timelineLink points at an op in timeline.html.
func timelineLink(op map[string]any, key any) (link, bool) {
	ix, ok := number(op["invoke-index"])
	if !ok {
		ix, ok = number(op["index"])
	}
	if !ok {
		return link{}, false
	}
	h := href(TimelineFile) + "#op=" + trimNumber(ix)
	if key != nil {
		h += "&key=" + url.QueryEscape(compact(key, 100))
	}
	return link{Href: h, Text: "timeline"}, true
}

func opHTML(v any, key any) string {
	op, ok := v.(map[string]any)
	if !ok {
		return esc(compact(v, fieldValueLength))
	}
	s := esc(describeOp(op))
	if l, ok := timelineLink(op, key); ok {
		s += " · " + linkHTML(l)
	}
	return s
}

// linear renders a linearizability failure: the op, the previous ok op,
// the reason, the final path, and links to linear.html (in dir, a folder
// of the run) and the timeline.
func (e *evidence) linear(name string, m map[string]any, dir string, sc scan) []anomalyView {
	html := "linear.html"
	if dir != "" {
		html = dir + "/linear.html"
	}
	var links []link
	if size, ok := sc.files[html]; ok && size != 0 {
		links = append(links, link{Href: href(html), Text: "linearizability failure view (" + html + ")"})
	}
	e.b.WriteString(`<table class="kv">` + "\n")
	if k, ok := m["key"]; ok && k != nil {
		e.row("key", esc(compact(k, fieldValueLength)))
	}
	e.row("model", esc(text(m["model"])))
	e.row("op", opHTML(m["op"], m["key"]))
	if p, ok := m["previous-ok"]; ok && p != nil {
		e.row("previous ok", opHTML(p, m["key"]))
	}
	e.row("reason", esc(text(m["reason"])))
	for _, l := range links {
		e.row("evidence", linkHTML(l))
	}
	e.b.WriteString("</table>\n")
	if paths, ok := m["final-paths"].([]any); ok && len(paths) > 0 {
		if steps, ok := paths[0].([]any); ok && len(steps) > 0 {
			e.b.WriteString("<h4>The last steps of the longest linearization</h4>\n")
			e.b.WriteString(`<table class="grid"><tr><th>op</th><th>state after it</th></tr>` + "\n")
			from := max(0, len(steps)-maxPathSteps)
			if from > 0 {
				e.b.WriteString(fmt.Sprintf(`<tr><td colspan="2">… %d earlier steps</td></tr>`, from) + "\n")
			}
			for _, st := range steps[from:] {
				sm, _ := st.(map[string]any)
				state := esc(text(sm["model"]))
				if er, ok := sm["error"]; ok && er != nil {
					state = `<span class="bad">` + esc(text(er)) + `</span>`
				}
				e.b.WriteString("<tr><td>" + opHTML(sm["op"], m["key"]) + "</td><td>" + state + "</td></tr>\n")
			}
			e.b.WriteString("</table>\n")
		}
	}
	if cfgs, ok := m["configs"].([]any); ok && len(cfgs) > 0 {
		e.b.WriteString("<h4>Configurations the search could not extend</h4>\n<ul>\n")
		for i, c := range cfgs {
			if i == 5 {
				e.b.WriteString(fmt.Sprintf("<li>… %d more</li>\n", len(cfgs)-i))
				break
			}
			cm, _ := c.(map[string]any)
			var pend []string
			if ps, ok := cm["pending"].([]any); ok {
				for _, p := range ps {
					if pm, ok := p.(map[string]any); ok {
						pend = append(pend, describeOp(pm))
					}
				}
			}
			e.b.WriteString("<li>state " + esc(text(cm["model"])) + " after " + esc(text(cm["linearized"])) +
				" ops; pending: " + esc(strings.Join(firstN(pend, 8), "; ")) + "</li>\n")
		}
		e.b.WriteString("</ul>\n")
	}
	// One anomaly per failing key.
	var out []anomalyView
	fails, _ := m["failures"].([]any)
	if len(fails) == 0 {
		fails = []any{m}
	}
	for i, f := range fails {
		if i == maxAnomalies {
			out = append(out, anomalyView{Checker: name, Verdict: "invalid", Text: fmt.Sprintf("… %d more keys (see results.json)", len(fails)-i)})
			break
		}
		fm, _ := f.(map[string]any)
		txt := describeOp(mapOf(fm["op"])) + " cannot be linearized: " + text(fm["reason"])
		if k, ok := fm["key"]; ok && k != nil {
			txt = "key " + compact(k, 60) + ": " + txt
		}
		a := anomalyView{Checker: name, Verdict: "invalid", Text: txt}
		if l, ok := timelineLink(mapOf(fm["op"]), fm["key"]); ok {
			a.Links = append(a.Links, l)
		}
		if i == 0 {
			a.Links = append(a.Links, links...)
		}
		out = append(out, a)
	}
	return out
}

func mapOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// independentDir is the folder checker.Independent gives a key's checker
// (its name with separators replaced).
func independentDir(key string) string {
	var b strings.Builder
	for _, r := range key {
		switch r {
		case '/', '\\', 0, ':':
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	s := b.String()
	if s == "" || s == "." || s == ".." {
		s = "_" + s
	}
	return "independent/" + s
}

// independent renders a per-key result: the keys that failed with their
// summaries and evidence files.
func (e *evidence) independent(name string, m map[string]any, sc scan) []anomalyView {
	res, _ := m["results"].(map[string]any)
	var bad []string
	for k, r := range res {
		if verdictOf(field(r, "valid")) != checker.Valid {
			bad = append(bad, k)
		}
	}
	sort.Slice(bad, func(i, j int) bool {
		vi, vj := verdictOf(field(res[bad[i]], "valid")), verdictOf(field(res[bad[j]], "valid"))
		if vi != vj {
			return vi > vj
		}
		return naturalLess(bad[i], bad[j])
	})
	e.p(fmt.Sprintf("%d keys checked, %d not valid.", len(res), len(bad)))
	var out []anomalyView
	if len(bad) > 0 {
		e.b.WriteString(`<table class="grid"><tr><th>key</th><th>verdict</th><th>summary</th><th>evidence</th></tr>` + "\n")
	}
	for i, k := range bad {
		if i == maxAnomalies {
			e.b.WriteString(fmt.Sprintf(`<tr><td colspan="4">… %d more keys (see results.json)</td></tr>`, len(bad)-i) + "\n")
			out = append(out, anomalyView{Checker: name, Verdict: "invalid", Text: fmt.Sprintf("… %d more keys (see results.json)", len(bad)-i)})
			break
		}
		v := verdictOf(field(res[k], "valid"))
		sum := CheckerSummary(res[k])
		dir := independentDir(k)
		var links []link
		for _, p := range sortedFileKeys(sc.files) {
			if strings.HasPrefix(p, dir+"/") {
				links = append(links, fileLink(p, sc.files[p]))
			}
		}
		var lh []string
		for _, l := range links {
			lh = append(lh, linkHTML(l))
		}
		e.b.WriteString("<tr><td>" + esc(k) + `</td><td class="` + v.String() + `">` + v.String() + "</td><td>" + esc(sum) + "</td><td>" + strings.Join(lh, "<br>") + "</td></tr>\n")
		if v == checker.Invalid || v == checker.Unknown {
			out = append(out, anomalyView{Checker: name, Verdict: v.String(), Text: "key " + k + ": " + sum, Links: links})
		}
	}
	if len(bad) > 0 {
		e.b.WriteString("</table>\n")
	}
	return out
}

// naturalLess orders numeric keys by value, others as strings.
func naturalLess(a, b string) bool {
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	if err1 == nil && err2 == nil && x != y {
		return x < y
	}
	return a < b
}

// generic renders any result: anomaly types with their examples and
// files, then its fields.
func (e *evidence) generic(name string, m map[string]any, sc scan) []anomalyView {
	var out []anomalyView
	v := verdictOf(m["valid"])
	if at, ok := m["anomaly-types"].([]any); ok && len(at) > 0 {
		anoms, _ := m["anomalies"].(map[string]any)
		e.b.WriteString(`<table class="grid"><tr><th>anomaly</th><th>examples</th><th>first example</th><th>evidence</th></tr>` + "\n")
		for _, t := range at {
			tn := text(t)
			var n int
			var first string
			if xs, ok := anoms[tn].([]any); ok {
				n = len(xs)
				if n > 0 {
					first = compact(xs[0], fieldValueLength)
				}
			}
			if c, ok := number(field(m["anomaly-counts"], tn)); ok {
				n = int(c)
			}
			links := anomalyFiles(tn, sc)
			var lh []string
			for _, l := range links {
				lh = append(lh, linkHTML(l))
			}
			e.b.WriteString("<tr><td>" + esc(tn) + "</td><td>" + strconv.Itoa(n) + "</td><td><code>" + esc(first) + "</code></td><td>" + strings.Join(lh, "<br>") + "</td></tr>\n")
			txt := tn
			if n > 0 {
				txt = fmt.Sprintf("%s (%d): %s", tn, n, clip(first, 160))
			}
			out = append(out, anomalyView{Checker: name, Verdict: v.String(), Text: txt, Links: links})
		}
		e.b.WriteString("</table>\n")
	} else if v != checker.Valid {
		out = append(out, anomalyView{Checker: name, Verdict: v.String(), Text: CheckerSummary(m)})
	}
	e.b.WriteString(`<table class="kv">` + "\n")
	keys := sortedKeys(m)
	shown := 0
	for _, k := range keys {
		if k == "valid" || k == "anomalies" || k == "anomaly-types" {
			continue
		}
		if shown == maxFieldsShown {
			e.row("…", esc(fmt.Sprintf("%d more fields (see the JSON below)", len(keys)-shown)))
			break
		}
		shown++
		e.row(k, esc(valueSummary(m[k])))
	}
	e.b.WriteString("</table>\n")
	return out
}

// anomalyFiles finds the evidence files of an anomaly type: files named
// after it (<type>.txt, <type>-<n>.svg, as Elle writes them), and the
// index.html of their folder at the type's anchor.
func anomalyFiles(t string, sc scan) []link {
	var links []link
	folders := map[string]bool{}
	for _, p := range sortedFileKeys(sc.files) {
		base := path.Base(p)
		base = strings.TrimSuffix(base, path.Ext(base))
		rest, ok := strings.CutPrefix(base, t)
		if !ok || standardFile(p) || (rest != "" && !isNumberSuffix(rest)) {
			continue
		}
		if len(links) < 10 {
			links = append(links, fileLink(p, sc.files[p]))
		}
		folders[path.Dir(p)] = true
	}
	for _, f := range sortedKeysBool(folders) {
		idx := path.Join(f, "index.html")
		if _, ok := sc.files[idx]; ok && f != "." {
			links = append(links, link{Href: href(idx) + "#" + url.PathEscape(t), Text: idx + "#" + t})
		}
	}
	return links
}

// isNumberSuffix reports whether s is "-" followed by digits.
func isNumberSuffix(s string) bool {
	d, ok := strings.CutPrefix(s, "-")
	if !ok || d == "" {
		return false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func sortedKeysBool(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// valueSummary renders a field: scalars plainly, lists with their length,
// everything cut to fieldValueLength.
func valueSummary(v any) string {
	switch x := v.(type) {
	case []any:
		if len(x) == 0 {
			return "none"
		}
		return fmt.Sprintf("%d: %s", len(x), compact(x, fieldValueLength))
	case map[string]any:
		return compact(x, fieldValueLength)
	}
	return clip(text(v), fieldValueLength)
}

func indexTemplate() *template.Template {
	return template.Must(template.New("index").Parse(indexSource))
}

const indexSource = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{{.Name}} {{.Folder}}: {{.Verdict}}</title>
<style>
body{font:14px/1.45 sans-serif;color:#222;margin:0 auto;max-width:1100px;padding:12px 20px 40px}
h1{font-size:22px;margin:8px 0 2px}h2{font-size:18px;margin:26px 0 8px;border-bottom:1px solid #ddd}h4{margin:12px 0 4px}
a{color:#1a5fb4}
.sub{color:#666}
.verdict{display:inline-block;font-size:30px;font-weight:bold;padding:6px 18px;border-radius:6px;color:#fff;margin:10px 0;text-transform:uppercase;letter-spacing:1px}
.v-valid{background:#2e7d32}.v-invalid{background:#c62828}.v-unknown{background:#ef6c00}.v-not{background:#757575}
td.valid,span.valid{color:#2e7d32;font-weight:bold}td.invalid,span.invalid{color:#c62828;font-weight:bold}td.unknown,span.unknown{color:#ef6c00;font-weight:bold}
.bad{color:#c62828;font-weight:bold}
table{border-collapse:collapse;margin:4px 0}
table.grid td,table.grid th{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
table.grid th{background:#f3f3f3}
table.kv th{text-align:left;padding:2px 12px 2px 0;vertical-align:top;white-space:nowrap;color:#444}
table.kv td{padding:2px 0;word-break:break-word}
.note{color:#888;font-size:12px}
.warn{background:#fff4e5;border:1px solid #f0c080;padding:6px 10px;border-radius:4px;margin:8px 0}
details{margin:6px 0 12px}summary{cursor:pointer}
pre{background:#f6f6f6;padding:8px;overflow:auto;max-height:480px;font-size:12px}
code{font-size:12px}
.plots img{max-width:100%;border:1px solid #eee;margin:6px 0}
ul.files{columns:2;list-style:none;padding-left:0}
</style>
</head>
<body>
<p class="sub"><a href="../">all runs of {{.Name}}</a></p>
<h1>{{.Name}}</h1>
<div class="sub">run {{.Folder}}{{if .Started}} · started {{.Started}}{{end}}</div>
<div class="verdict {{if eq .Verdict "valid"}}v-valid{{else if eq .Verdict "invalid"}}v-invalid{{else if eq .Verdict "unknown"}}v-unknown{{else}}v-not{{end}}" id="verdict">{{.Verdict}}</div>
<table class="kv">{{range .Facts}}<tr><th>{{.Label}}</th><td>{{.Value}}</td></tr>{{end}}</table>
<p><a href="./timeline.html" id="timeline-link">Timeline of every operation</a>{{range .Quick}} · <a href="{{.Href}}">{{.Text}}</a>{{end}}</p>
{{range .Notes}}<div class="warn">{{.}}</div>{{end}}
{{if .Problems}}<div class="warn">Malformed ops were left out of the history:<ul>{{range .Problems}}<li>{{.}}</li>{{end}}</ul></div>{{end}}

<h2>Checkers</h2>
{{if .Checkers}}<table class="grid" id="checkers"><tr><th>checker</th><th>verdict</th><th>summary</th></tr>
{{range .Checkers}}<tr><td><a href="#checker-{{.Name}}">{{.Name}}</a></td><td class="{{.Verdict}}">{{.Verdict}}</td><td>{{.Summary}}</td></tr>
{{end}}</table>{{else if .Analysed}}<p>results.json lists no checkers.</p>{{else}}<p>This run has no results.json: it has not been analysed.</p>{{end}}

{{if .Anomalies}}<h2>Anomalies</h2>
<ul id="anomalies">{{range .Anomalies}}<li><span class="{{.Verdict}}">{{.Checker}}</span>: {{.Text}}{{range .Links}} · <a href="{{.Href}}">{{.Text}}</a>{{end}}</li>
{{end}}</ul>{{end}}

{{range .Checkers}}<details id="checker-{{.Name}}"{{if .Open}} open{{end}}><summary><b>{{.Name}}</b>: <span class="{{.Verdict}}">{{.Verdict}}</span>{{if .Summary}} · {{.Summary}}{{end}}</summary>
{{.Evidence}}{{if .Links}}<p>Files: {{range $i, $l := .Links}}{{if $i}} · {{end}}<a href="{{$l.Href}}">{{$l.Text}}</a> <span class="note">{{$l.Note}}</span>{{end}}</p>{{end}}
<details><summary>the result as JSON</summary><pre>{{.JSON}}</pre></details>
</details>
{{end}}

<h2>Plots</h2>
<div class="plots">{{range .Plots}}<div><a href="{{.Href}}"><img src="{{.Href}}" alt="{{.Text}}"></a></div>{{end}}</div>

<h2>Test</h2>
{{if .Test}}<table class="kv">{{range .Test}}<tr><th>{{.Label}}</th><td>{{.Value}}</td></tr>{{end}}</table>
<details><summary>test.json</summary><pre>{{.TestJSON}}</pre></details>{{else}}<p>This run has no test.json.</p>{{end}}

<h2>Files</h2>
<ul class="files">{{range .Files}}<li><a href="{{.Href}}">{{.Text}}</a> <span class="note">{{.Note}}</span></li>{{end}}</ul>
{{if .NodeFolders}}<h4>Node logs</h4>{{range .NodeFolders}}<details><summary><a href="{{.Href}}">{{.Name}}</a> <span class="note">{{len .Files}} files</span></summary><ul class="files">{{range .Files}}<li><a href="{{.Href}}">{{.Text}}</a> <span class="note">{{.Note}}</span></li>{{end}}{{if .More}}<li>… {{.More}} more</li>{{end}}</ul></details>{{end}}{{end}}
{{if .OtherFolders}}<h4>Other folders</h4>{{range .OtherFolders}}<details><summary><a href="{{.Href}}">{{.Name}}</a> <span class="note">{{len .Files}} files</span></summary><ul class="files">{{range .Files}}<li><a href="{{.Href}}">{{.Text}}</a> <span class="note">{{.Note}}</span></li>{{end}}{{if .More}}<li>… {{.More}} more</li>{{end}}</ul></details>{{end}}{{end}}
</body>
</html>
`
