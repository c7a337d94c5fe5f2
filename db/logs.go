package db

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/faultline/faultline/control"
)

const existingScript = `for p in "$@"; do [ -f "$p" ] && printf '%s\n' "$p"; done; true`

// DownloadLogs copies the files at paths on node into localDir (the run's
// folder for that node) and returns the local files written. Files that do
// not exist on the node are skipped. Each file keeps its base name; when two
// share one, the later ones are named after their whole path.
func DownloadLogs(ctx context.Context, r control.Remote, node string, paths []string, localDir string) ([]string, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	res, err := r.Exec(ctx, node, control.Cmd{Args: append([]string{"sh", "-c", existingScript, "faultline-logs"}, paths...)})
	if err != nil {
		return nil, fmt.Errorf("listing log files: %w", scriptErr("list-logs", err))
	}
	used := map[string]bool{}
	var out []string
	for _, p := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
		if p == "" {
			continue
		}
		name := filepath.Base(p)
		if used[name] {
			name = strings.ReplaceAll(strings.Trim(p, "/"), "/", "_")
		}
		used[name] = true
		dst := filepath.Join(localDir, name)
		if err := r.Download(ctx, node, p, dst); err != nil {
			return out, err
		}
		out = append(out, dst)
	}
	return out, nil
}
