package web

import (
	"archive/zip"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/faultline/faultline/report"
	"github.com/faultline/faultline/runstore"
)

// contentType is the type a file is served with: text for the history,
// log and EDN files so that browsers show them instead of downloading.
func contentType(name string) string {
	switch ext := strings.ToLower(path.Ext(name)); ext {
	case ".html", ".htm":
		return "text/html; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".json":
		return "application/json"
	case ".jsonl", ".edn", ".log", ".txt", ".out", ".err", ".stdout", ".stderr", ".jepsen", ".md", ".csv":
		return "text/plain; charset=utf-8"
	case "":
		return "text/plain; charset=utf-8" // logs without an extension (e.g. "log", "stdout")
	default:
		if t := mime.TypeByExtension(ext); t != "" {
			return t
		}
	}
	return "application/octet-stream"
}

// lookup resolves rel (see resolve) and stats the file or folder it names.
// When either fails it answers the request with the refusal and reports
// false.
func (s *server) lookup(w http.ResponseWriter, r *http.Request, rel string) (string, fs.FileInfo, bool) {
	real, err := s.resolve(rel)
	if err != nil {
		s.refuse(w, r, err)
		return "", nil, false
	}
	st, err := os.Stat(real)
	if err != nil {
		s.refuse(w, r, err)
		return "", nil, false
	}
	return real, st, true
}

// files serves a file (streamed, with ranges) or lists a folder. prefix is
// the URL prefix the path came under ("/files/" or "/run/").
func (s *server) files(w http.ResponseWriter, r *http.Request, rel, prefix string) {
	real, st, ok := s.lookup(w, r, rel)
	if !ok {
		return
	}
	if st.IsDir() {
		if !strings.HasSuffix(r.URL.Path, "/") {
			http.Redirect(w, r, r.URL.EscapedPath()+"/", http.StatusMovedPermanently)
			return
		}
		s.listing(w, r, rel, real, prefix)
		return
	}
	s.serveFile(w, r, real, st)
}

// serveFile streams one regular file.
func (s *server) serveFile(w http.ResponseWriter, r *http.Request, real string, st fs.FileInfo) {
	if !st.Mode().IsRegular() {
		http.Error(w, "not a regular file", http.StatusForbidden)
		return
	}
	f, err := os.Open(real)
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", contentType(real))
	http.ServeContent(newProgressWriter(w, s.writeIdle), r, filepath.Base(real), st.ModTime(), f)
}

// run serves a run page: the run folder's index.html when it has one,
// otherwise a listing of the folder; files inside are served as under
// /files/. A test's folder (store/<name>/) goes to the run list filtered by
// that name.
func (s *server) run(w http.ResponseWriter, r *http.Request, rel string) {
	real, st, ok := s.lookup(w, r, rel)
	if !ok {
		return
	}
	if !st.IsDir() {
		s.serveFile(w, r, real, st)
		return
	}
	if root, err := s.storeRoot(); err == nil {
		if real == root {
			http.Redirect(w, r, "/", http.StatusFound)
			return
		}
		if filepath.Dir(real) == root && !isRunFolder(real) {
			http.Redirect(w, r, "/?name="+url.QueryEscape(filepath.Base(real)), http.StatusFound)
			return
		}
	}
	if !strings.HasSuffix(r.URL.Path, "/") {
		http.Redirect(w, r, r.URL.EscapedPath()+"/", http.StatusMovedPermanently)
		return
	}
	index := filepath.Join(real, report.IndexFile)
	if ist, err := os.Stat(index); err == nil && ist.Mode().IsRegular() {
		s.serveFile(w, r, index, ist)
		return
	}
	s.listing(w, r, rel, real, "/run/")
}

func isRunFolder(dir string) bool {
	for _, f := range []string{runstore.HistoryFile, runstore.HistoryEDNFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
}

type entry struct {
	Name, Href, Size, Time string
	Dir                    bool
}

type listingPage struct {
	Title   string
	Crumbs  []entry
	Entries []entry
	Run     *report.RunInfo
	Zip     string
	More    int
}

// maxListed bounds the entries of a folder listing.
const maxListed = 2000

// listing renders a folder: its entries with links relative to the page.
func (s *server) listing(w http.ResponseWriter, r *http.Request, rel, real, prefix string) {
	des, err := os.ReadDir(real)
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	sort.Slice(des, func(i, j int) bool {
		if des[i].IsDir() != des[j].IsDir() {
			return des[i].IsDir()
		}
		return des[i].Name() < des[j].Name()
	})
	rel = strings.Trim(rel, "/")
	pg := listingPage{Title: "/" + rel}
	// Breadcrumbs: the store, then each folder on the way.
	pg.Crumbs = append(pg.Crumbs, entry{Name: "store", Href: "/"})
	if rel != "" {
		acc := ""
		for _, seg := range strings.Split(rel, "/") {
			if seg == "" {
				continue
			}
			acc += url.PathEscape(seg) + "/"
			pg.Crumbs = append(pg.Crumbs, entry{Name: seg, Href: prefix + acc})
		}
	}
	for i, de := range des {
		if i == maxListed {
			pg.More = len(des) - i
			break
		}
		name := de.Name()
		if strings.HasPrefix(name, ".") {
			continue // temporary links and files of the store
		}
		e := entry{Name: name, Href: "./" + url.PathEscape(name)}
		info, err := os.Stat(filepath.Join(real, name)) // follows links
		if err == nil {
			e.Dir = info.IsDir()
			e.Time = info.ModTime().Format("2006-01-02 15:04:05")
			if !e.Dir {
				e.Size = report.ByteSize(info.Size())
			}
		}
		if e.Dir {
			e.Href += "/"
			e.Name += "/"
		}
		pg.Entries = append(pg.Entries, e)
	}
	if isRunFolder(real) {
		if info, err := report.ReadRunInfo(real); err == nil {
			pg.Run = &info
		}
	}
	if rel != "" {
		pg.Zip = "/zip/" + escapePath(rel)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := listingTemplate().Execute(w, &pg); err != nil {
		s.log.Debug("listing", "err", err)
	}
}

func escapePath(rel string) string {
	parts := strings.Split(strings.Trim(rel, "/"), "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// compressed reports whether a file is already compressed (stored as is
// in zips).
func compressed(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".gz", ".tgz", ".zip", ".zst", ".xz", ".bz2", ".png", ".jpg", ".jpeg", ".gif", ".webp":
		return true
	}
	return false
}

// zip streams a folder of the store as a zip archive, straight to the
// client (no temporary file). Symbolic links are followed only to regular
// files inside the store; links to folders are skipped.
func (s *server) zip(w http.ResponseWriter, r *http.Request, rel string) {
	rel = strings.TrimSuffix(rel, "/")
	real, st, ok := s.lookup(w, r, rel)
	if !ok {
		return
	}
	root, err := s.storeRoot()
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	if !st.IsDir() {
		http.Error(w, "zip downloads are for folders", http.StatusBadRequest)
		return
	}
	top := filepath.Base(real)
	name := top
	if parent := filepath.Dir(real); parent != root && filepath.Dir(parent) == root {
		name = filepath.Base(parent) + "-" + top // <test>-<timestamp>
	}
	if real == root {
		name, top = "store", "store"
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name + ".zip"}))
	if r.Method == http.MethodHead {
		return
	}
	ctx := r.Context()
	zw := zip.NewWriter(newProgressWriter(w, s.writeIdle))
	files := 0
	err = filepath.WalkDir(real, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable entries are left out
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if de.IsDir() || strings.HasPrefix(de.Name(), ".") {
			if de.IsDir() && p != real && strings.HasPrefix(de.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		src := p
		if de.Type()&fs.ModeSymlink != 0 {
			target, err := filepath.EvalSymlinks(p)
			if err != nil || !inside(root, target) {
				return nil
			}
			src = target
		}
		info, err := os.Stat(src)
		if err != nil || !info.Mode().IsRegular() {
			return nil
		}
		relp, err := filepath.Rel(real, p)
		if err != nil {
			return nil
		}
		hdr := &zip.FileHeader{Name: top + "/" + filepath.ToSlash(relp), Method: zip.Deflate, Modified: info.ModTime()}
		if compressed(p) {
			hdr.Method = zip.Store
		}
		hdr.SetMode(info.Mode())
		f, err := os.Open(src)
		if err != nil {
			return nil
		}
		defer f.Close()
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		if _, err := io.Copy(fw, f); err != nil {
			return err
		}
		files++
		return nil
	})
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		// The client went away or stopped reading. The archive is cut
		// before its central directory, so no zip reader takes it for whole.
		s.log.Debug("zip download stopped", "path", rel, "files", files, "err", err)
		return
	}
	s.log.Debug("zip download done", "path", rel, "files", files)
}

func listingTemplate() *template.Template {
	return template.Must(template.New("listing").Parse(listingSource))
}

const listingSource = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>{{.Title}}</title>
<style>body{font:14px/1.45 sans-serif;margin:0 auto;max-width:1000px;padding:12px 20px}a{color:#1a5fb4}
table{border-collapse:collapse}td,th{padding:2px 12px 2px 0;text-align:left}.note{color:#777}
.valid{color:#2e7d32;font-weight:bold}.invalid{color:#c62828;font-weight:bold}.unknown{color:#ef6c00;font-weight:bold}</style>
</head><body>
<p>{{range $i, $c := .Crumbs}}{{if $i}} / {{end}}<a href="{{$c.Href}}">{{$c.Name}}</a>{{end}}</p>
{{with .Run}}<h1>{{.Name}}</h1><p>verdict: <span class="{{.Verdict}}">{{if .Verdict}}{{.Verdict}}{{else}}not analysed{{end}}</span>{{if .Summary}} · {{.Summary}}{{end}}</p>
<p class="note">This run has no report (index.html) yet: <code>faultline analyze</code> on its folder writes one.</p>{{end}}
{{if .Zip}}<p><a href="{{.Zip}}">download this folder as a zip</a></p>{{end}}
<table><tr><th>name</th><th>size</th><th>modified</th></tr>
{{range .Entries}}<tr><td><a href="{{.Href}}">{{.Name}}</a></td><td class="note">{{.Size}}</td><td class="note">{{.Time}}</td></tr>
{{end}}</table>{{if .More}}<p>… {{.More}} more entries</p>{{end}}
</body></html>
`
