package db

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"

	"github.com/faultline/faultline/control"
)

// Credentials for InstallArchive's HTTP downloads, read from the control
// machine's environment when the URL carries none. They are never logged.
const (
	EnvArchiveUser     = "FAULTLINE_ARCHIVE_USER"
	EnvArchivePassword = "FAULTLINE_ARCHIVE_PASSWORD"
	EnvArchiveToken    = "FAULTLINE_ARCHIVE_TOKEN" // sent as a bearer token
)

// NodeArchiveCache is where archives are kept on nodes.
const NodeArchiveCache = "/tmp/faultline/archives"

const extractScript = `a=$1 d=$2
case $d in ''|/) echo "refusing to install into '$d'" >&2; exit 1;; esac
if command -v flock >/dev/null 2>&1; then exec 9>>"$a.lock" && flock 9; fi
mkdir -p "$(dirname "$d")" || exit 1
tmp="$d.faultline-tmp.$$"
rm -rf "$tmp" && mkdir -p "$tmp" || exit 1
case $a in
*.zip) unzip -q "$a" -d "$tmp" ;;
*.tar|*.tar.gz|*.tgz|*.tar.bz2|*.tbz2|*.tar.xz|*.txz|*.tar.zst) tar -xf "$a" -C "$tmp" ;;
*) cp "$a" "$tmp/file" && chmod +x "$tmp/file" && rm -rf "$d" && mv "$tmp/file" "$d"; rc=$?; rm -rf "$tmp"; exit $rc ;;
esac || { rm -rf "$tmp"; exit 1; }
src=$tmp
if [ "$(ls -A "$tmp" | wc -l)" -eq 1 ] && [ -d "$tmp/$(ls -A "$tmp")" ]; then src="$tmp/$(ls -A "$tmp")"; fi
rm -rf "$d" && mv "$src" "$d"; rc=$?
rm -rf "$tmp"
exit $rc
`

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// InstallArchive installs the archive at rawURL (file://, http:// or
// https://) into dest on node, replacing dest. Tarballs (.tar, .tar.gz,
// .tgz, .tar.bz2, .tar.xz, .tar.zst) and .zip files are unpacked; when they
// hold a single top-level folder, its contents become dest. Any other file
// is installed as the executable file dest. HTTP downloads happen on the
// control machine (nodes may have no route out), with credentials from the
// URL or from FAULTLINE_ARCHIVE_USER/PASSWORD or FAULTLINE_ARCHIVE_TOKEN,
// and are cached there and on the node under NodeArchiveCache.
func InstallArchive(ctx context.Context, r control.Remote, node, rawURL, dest string) error {
	return installArchive(ctx, r, node, rawURL, dest, NodeArchiveCache)
}

// installArchive is InstallArchive with the node's cache folder given.
func installArchive(ctx context.Context, r control.Remote, node, rawURL, dest, nodeCache string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("%s: archive URL: %w", node, err)
	}
	shown := u.Redacted()
	var src, key string
	switch u.Scheme {
	case "file":
		src = u.Path
		st, err := os.Stat(src)
		if err != nil {
			return fmt.Errorf("%s: archive %s: %w", node, shown, err)
		}
		key = fmt.Sprintf("%s|%d|%d", src, st.Size(), st.ModTime().UnixNano())
	case "http", "https":
		key = stripUser(u)
		if src, err = fetch(ctx, u, key); err != nil {
			return fmt.Errorf("%s: archive %s: %w", node, shown, err)
		}
	default:
		return fmt.Errorf("%s: archive %s: want a file, http or https URL", node, shown)
	}
	sum := sha256.Sum256([]byte(key))
	cached := nodeCache + "/" + hex.EncodeToString(sum[:8]) + "-" + unsafeName.ReplaceAllString(path.Base(u.Path), "_")
	if _, err := r.Exec(ctx, node, control.Cmd{Args: []string{"test", "-s", cached}}); err != nil {
		if err := r.Upload(ctx, node, src, cached); err != nil {
			return err
		}
	}
	if _, err := r.Exec(ctx, node, control.Cmd{Args: []string{"sh", "-c", extractScript, "faultline-install", cached, dest}}); err != nil {
		return fmt.Errorf("installing %s into %s: %w", shown, dest, scriptErr("install-archive "+dest, err))
	}
	return nil
}

// stripUser is u without its credentials (the cache key).
func stripUser(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}

// fetch downloads u into the control machine's archive cache, unless it is
// there already, and returns the cached file.
func fetch(ctx context.Context, u *url.URL, key string) (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	sum := sha256.Sum256([]byte(key))
	dst := filepath.Join(base, "faultline", "archives", hex.EncodeToString(sum[:8])+"-"+unsafeName.ReplaceAllString(path.Base(u.Path), "_"))
	if st, err := os.Stat(dst); err == nil && st.Size() > 0 {
		return dst, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, stripUser(u), nil)
	if err != nil {
		return "", err
	}
	if u.User != nil {
		pw, _ := u.User.Password()
		req.SetBasicAuth(u.User.Username(), pw)
	} else if tok := os.Getenv(EnvArchiveToken); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	} else if user := os.Getenv(EnvArchiveUser); user != "" {
		req.SetBasicAuth(user, os.Getenv(EnvArchivePassword))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("download: %w", redactErr(err, u))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("download: %s", resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".download-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, resp.Body); err != nil {
		tmp.Close()
		return "", fmt.Errorf("download: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return dst, os.Rename(tmp.Name(), dst)
}

// redactErr drops u's password from a *url.Error's message.
func redactErr(err error, u *url.URL) error {
	if ue, ok := err.(*url.Error); ok {
		return fmt.Errorf("%s %s: %w", ue.Op, u.Redacted(), ue.Err)
	}
	return err
}
