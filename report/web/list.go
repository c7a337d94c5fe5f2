package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/report"
	"github.com/faultline/faultline/runstore"
)

// runsPerPage is how many runs one page of the list shows.
const runsPerPage = 100

// cachedRun is a run's summary with the times and sizes of the files it
// was read from.
type cachedRun struct {
	stamp string
	info  report.RunInfo
	err   string
}

// fileStamp identifies the state of the files a run summary is read from.
func fileStamp(dir string) string {
	var b strings.Builder
	for _, f := range []string{runstore.TestFile, runstore.ResultsFile, runstore.HistoryFile, runstore.HistoryEDNFile, report.IndexFile} {
		if st, err := os.Stat(filepath.Join(dir, f)); err == nil {
			fmt.Fprintf(&b, "%d.%d;", st.ModTime().UnixNano(), st.Size())
		} else {
			b.WriteString("-;")
		}
	}
	return b.String()
}

// runRow is one line of the run list.
type runRow struct {
	report.RunInfo
	Folder, Href, Zip, Timeline string
	Err                         string
}

// runs summarises every run of the store, from the cache where the files
// have not changed.
func (s *server) runs() ([]runRow, error) {
	list, err := runstore.List(s.store)
	if err != nil {
		return nil, err
	}
	rows := make([]runRow, 0, len(list))
	seen := make(map[string]bool, len(list))
	for _, run := range list {
		seen[run.Dir] = true
		stamp := fileStamp(run.Dir)
		s.mu.Lock()
		c, ok := s.cache[run.Dir]
		s.mu.Unlock()
		if !ok || c.stamp != stamp {
			info, err := report.ReadRunInfo(run.Dir)
			c = cachedRun{stamp: stamp, info: info}
			if err != nil {
				c.err = err.Error()
			}
			s.mu.Lock()
			s.cache[run.Dir] = c
			s.mu.Unlock()
		}
		row := runRow{RunInfo: c.info, Err: c.err, Folder: filepath.Base(run.Dir)}
		if row.Name == "" {
			row.Name = run.Name
		}
		if row.Started.IsZero() {
			row.Started = run.Time
		}
		rel, err := filepath.Rel(s.store, run.Dir)
		if err != nil {
			continue
		}
		rel = escapePath(filepath.ToSlash(rel))
		row.Href = "/run/" + rel + "/"
		row.Zip = "/zip/" + rel
		if row.Report {
			row.Timeline = row.Href + report.TimelineFile
		}
		rows = append(rows, row)
	}
	s.mu.Lock()
	for dir := range s.cache {
		if !seen[dir] {
			delete(s.cache, dir)
		}
	}
	s.mu.Unlock()
	return rows, nil
}

// verdictRank orders verdicts from worst to best.
func verdictRank(v string) int {
	switch v {
	case "invalid":
		return 0
	case "unknown":
		return 1
	case "":
		return 2
	}
	return 3
}

type listQuery struct {
	Q, Verdict, Name, Sort, Order string
	Page                          int
}

func parseQuery(r *http.Request) listQuery {
	v := r.URL.Query()
	q := listQuery{Q: strings.TrimSpace(v.Get("q")), Verdict: v.Get("verdict"), Name: v.Get("name"), Sort: v.Get("sort"), Order: v.Get("order")}
	switch q.Sort {
	case "name", "verdict", "duration", "ops", "time":
	default:
		q.Sort = "time"
	}
	if q.Order != "asc" && q.Order != "desc" {
		q.Order = defaultOrder(q.Sort)
	}
	switch q.Verdict {
	case "valid", "invalid", "unknown", "none":
	default:
		q.Verdict = ""
	}
	q.Page, _ = strconv.Atoi(v.Get("page"))
	q.Page = max(q.Page, 1)
	return q
}

func defaultOrder(col string) string {
	switch col {
	case "name", "verdict":
		return "asc"
	}
	return "desc"
}

// url renders the query with some fields changed.
func (q listQuery) url(change func(*listQuery)) string {
	c := q
	if change != nil {
		change(&c)
	}
	v := url.Values{}
	for k, s := range map[string]string{"q": c.Q, "verdict": c.Verdict, "name": c.Name} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if c.Sort != "time" || c.Order != "desc" {
		v.Set("sort", c.Sort)
		v.Set("order", c.Order)
	}
	if c.Page > 1 {
		v.Set("page", strconv.Itoa(c.Page))
	}
	if len(v) == 0 {
		return "/"
	}
	return "/?" + v.Encode()
}

func (r runRow) matches(q listQuery) bool {
	if q.Name != "" && r.Name != q.Name {
		return false
	}
	switch q.Verdict {
	case "":
	case "none":
		if r.Verdict != "" {
			return false
		}
	default:
		if r.Verdict != q.Verdict {
			return false
		}
	}
	if q.Q != "" {
		hay := strings.ToLower(strings.Join([]string{r.Name, r.Folder, r.Verdict, r.Summary, r.Err}, " "))
		for _, word := range strings.Fields(strings.ToLower(q.Q)) {
			if !strings.Contains(hay, word) {
				return false
			}
		}
	}
	return true
}

type column struct {
	Key, Label, Href, Arrow string
}

type nameCount struct {
	Name  string
	Count int
}

type listPage struct {
	Store                   string
	Query                   listQuery
	Rows                    []runRow
	Total, Matched          int
	Valid, Invalid, Unknown int
	None                    int
	Names                   []nameCount
	Columns                 []column
	Prev, Next              string
	Page, Pages             int
	Missing                 bool
	Error                   string
}

func (s *server) list(w http.ResponseWriter, r *http.Request) {
	q := parseQuery(r)
	pg := listPage{Store: s.store, Query: q}
	rows, err := s.runs()
	switch {
	case os.IsNotExist(err):
		pg.Missing = true
	case err != nil:
		pg.Error = err.Error()
	}
	names := map[string]int{}
	var matched []runRow
	for _, row := range rows {
		names[row.Name]++
		if row.matches(q) {
			matched = append(matched, row)
			switch row.Verdict {
			case "valid":
				pg.Valid++
			case "invalid":
				pg.Invalid++
			case "unknown":
				pg.Unknown++
			default:
				pg.None++
			}
		}
	}
	for n, c := range names {
		pg.Names = append(pg.Names, nameCount{n, c})
	}
	sort.Slice(pg.Names, func(i, j int) bool { return pg.Names[i].Name < pg.Names[j].Name })
	less := func(a, b runRow) int {
		switch q.Sort {
		case "name":
			return strings.Compare(a.Name, b.Name)
		case "verdict":
			return verdictRank(a.Verdict) - verdictRank(b.Verdict)
		case "duration":
			return cmpInt(int64(a.Duration), int64(b.Duration))
		case "ops":
			return cmpInt(int64(a.Ops), int64(b.Ops))
		}
		return a.Started.Compare(b.Started)
	}
	sort.SliceStable(matched, func(i, j int) bool {
		c := less(matched[i], matched[j])
		if c == 0 {
			c = matched[i].Started.Compare(matched[j].Started) // then newest first
			return c > 0
		}
		if q.Order == "desc" {
			return c > 0
		}
		return c < 0
	})
	pg.Total, pg.Matched = len(rows), len(matched)
	pg.Pages = max(1, (len(matched)+runsPerPage-1)/runsPerPage)
	pg.Page = min(q.Page, pg.Pages)
	from := (pg.Page - 1) * runsPerPage
	pg.Rows = matched[from:min(len(matched), from+runsPerPage)]
	if pg.Page > 1 {
		pg.Prev = q.url(func(c *listQuery) { c.Page = pg.Page - 1 })
	}
	if pg.Page < pg.Pages {
		pg.Next = q.url(func(c *listQuery) { c.Page = pg.Page + 1 })
	}
	for _, c := range [][2]string{{"name", "test"}, {"time", "started"}, {"verdict", "verdict"}, {"duration", "duration"}, {"ops", "ops"}} {
		col := column{Key: c[0], Label: c[1]}
		order := defaultOrder(c[0])
		if q.Sort == c[0] {
			if q.Order == "asc" {
				col.Arrow, order = "▲", "desc"
			} else {
				col.Arrow, order = "▼", "asc"
			}
		}
		col.Href = q.url(func(x *listQuery) { x.Sort, x.Order, x.Page = c[0], order, 1 })
		pg.Columns = append(pg.Columns, col)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := listTemplate().Execute(w, &pg); err != nil {
		s.log.Debug("run list", "err", err)
	}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func listTemplate() *template.Template {
	return template.Must(template.New("list").Funcs(template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "?"
			}
			return t.Format("2006-01-02 15:04:05")
		},
		"secs": func(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) },
		"clip": func(s string) string {
			if len(s) > 240 {
				return s[:240] + "…"
			}
			return s
		},
		"verdict": func(v string) string {
			if v == "" {
				return "not analysed"
			}
			return v
		},
	}).Parse(listSource))
}

const listSource = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Faultline runs</title>
<style>
body{font:14px/1.45 sans-serif;color:#222;margin:0;padding:12px 20px}
h1{font-size:20px;margin:4px 0 10px}a{color:#1a5fb4}
form{display:flex;flex-wrap:wrap;gap:8px 14px;align-items:center;background:#f5f5f5;padding:8px 10px;border-radius:4px}
table{border-collapse:collapse;margin-top:10px;width:100%}
td,th{border-bottom:1px solid #e3e3e3;padding:4px 8px;text-align:left;vertical-align:top}
th a{color:#222;text-decoration:none}th{background:#f0f0f0;white-space:nowrap}
td.num{text-align:right;white-space:nowrap}
.valid{color:#2e7d32;font-weight:bold}.invalid{color:#c62828;font-weight:bold}.unknown{color:#ef6c00;font-weight:bold}.none{color:#777}
.note{color:#777}.sum{font-size:13px;color:#444;max-width:560px}
</style></head><body>
<h1>Faultline runs</h1>
{{if .Missing}}<p>The store folder <code>{{.Store}}</code> does not exist yet: run <code>faultline test</code> first.</p>{{end}}
{{if .Error}}<p class="invalid">Cannot list the store: {{.Error}}</p>{{end}}
<form method="get" action="/" id="filters">
<label>search <input type="search" name="q" value="{{.Query.Q}}" placeholder="name, verdict, anomaly"></label>
<label>verdict <select name="verdict">
<option value="">any</option>
<option value="invalid"{{if eq .Query.Verdict "invalid"}} selected{{end}}>invalid</option>
<option value="unknown"{{if eq .Query.Verdict "unknown"}} selected{{end}}>unknown</option>
<option value="valid"{{if eq .Query.Verdict "valid"}} selected{{end}}>valid</option>
<option value="none"{{if eq .Query.Verdict "none"}} selected{{end}}>not analysed</option>
</select></label>
<label>test <select name="name"><option value="">all</option>
{{range .Names}}<option value="{{.Name}}"{{if eq $.Query.Name .Name}} selected{{end}}>{{.Name}} ({{.Count}})</option>{{end}}
</select></label>
{{if ne .Query.Sort "time"}}<input type="hidden" name="sort" value="{{.Query.Sort}}">{{end}}
{{if ne .Query.Order "desc"}}<input type="hidden" name="order" value="{{.Query.Order}}">{{end}}
<button type="submit">filter</button> <a href="/">clear</a>
<span class="note" id="counts">{{.Matched}} of {{.Total}} runs: <span class="invalid">{{.Invalid}} invalid</span>, <span class="unknown">{{.Unknown}} unknown</span>, <span class="valid">{{.Valid}} valid</span>{{if .None}}, <span class="none">{{.None}} not analysed</span>{{end}}</span>
</form>
<table id="runs">
<tr>{{range .Columns}}<th><a href="{{.Href}}">{{.Label}} {{.Arrow}}</a></th>{{end}}<th>summary</th><th></th></tr>
{{range .Rows}}<tr class="run">
<td><a href="/?name={{.Name}}">{{.Name}}</a></td>
<td><a class="runlink" href="{{.Href}}">{{when .Started}}</a></td>
<td class="{{if .Verdict}}{{.Verdict}}{{else}}none{{end}}">{{verdict .Verdict}}</td>
<td class="num">{{secs .Duration}}</td>
<td class="num">{{.Ops}}</td>
<td class="sum">{{clip .Summary}}{{if .Err}} <span class="invalid">{{.Err}}</span>{{end}}</td>
<td style="white-space:nowrap">{{if .Timeline}}<a href="{{.Timeline}}">timeline</a> · {{end}}<a href="{{.Href}}">files</a> · <a href="{{.Zip}}">zip</a></td>
</tr>
{{else}}<tr><td colspan="7" class="note">No runs match.</td></tr>{{end}}
</table>
<p>{{if .Prev}}<a href="{{.Prev}}">← previous</a>{{end}} page {{.Page}} of {{.Pages}} {{if .Next}}<a href="{{.Next}}">next →</a>{{end}}</p>
<script>
"use strict";
for (const s of document.querySelectorAll("#filters select")) s.addEventListener("change", () => document.getElementById("filters").submit());
</script>
</body></html>
`
