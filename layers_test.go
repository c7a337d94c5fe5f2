package faultline

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/faultline/faultline"

// layers is the table of ../shared/DESIGN.md: a package may import only
// packages of lower layers (L6 entry points may import each other).
var layers = map[string]int{
	"history":          0,
	"internal/gctune":  0,
	"generator":        1,
	"checker":          1,
	"control":          1,
	"model":            1,
	"internal/graph":   1,
	"control/local":    2,
	"control/netns":    2,
	"control/ssh":      2,
	"control/docker":   2,
	"client":           2,
	"db":               2,
	"netfault":         2,
	"checker/linear":   2,
	"checker/elle":     2,
	"runstore":         2,
	"nemesis":          3,
	"workload":         3,
	"report":           3,
	"internal/memdb":   3,
	"nemesis/combined": 4,
	"report/web":       4,
	"cluster":          4,
	"":                 5,
	"cli":              6,
	"cmd/faultline":    6,
	"internal/refdata": -1, // test helper: tests only
}

func layerOf(pkg string) (int, bool) {
	if l, ok := layers[pkg]; ok {
		return l, true
	}
	if strings.HasPrefix(pkg, "suites/") {
		return 6, true
	}
	return 0, false
}

func TestLayers(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || name == "testdata" || path == "store" || path == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if dir == "." {
			dir = ""
		}
		from, ok := layerOf(dir)
		if !ok {
			t.Errorf("package %q is not in the layer table (layers_test.go and DESIGN.md)", dir)
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p != module && !strings.HasPrefix(p, module+"/") {
				continue
			}
			to := strings.TrimPrefix(strings.TrimPrefix(p, module), "/")
			lt, ok := layerOf(to)
			if !ok {
				continue // reported when that package is walked
			}
			if lt < 0 {
				t.Errorf("%s imports %s, which only tests may use", path, p)
				continue
			}
			if lt > from || (lt == from && from != 6) {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must go to lower layers", path, from, p, lt)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
