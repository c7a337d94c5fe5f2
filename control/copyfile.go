package control

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// CopyLocalFile copies the regular file src to dst, keeping its permission bits
// and creating dst's parent folders. dst is replaced atomically (written
// beside it, then renamed), so concurrent copies to one path never leave a
// torn file.
func CopyLocalFile(ctx context.Context, src, dst string) error {
	in, info, err := OpenRegular(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return ReplaceLocalFile(dst, func(w io.Writer) (fs.FileMode, error) {
		_, err := io.Copy(w, &ctxReader{ctx: ctx, r: in})
		return info.Mode().Perm(), err
	})
}

// OpenRegular opens the local file at path for an upload: it must be a
// regular file.
func OpenRegular(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s is not a regular file", path)
	}
	return f, info, nil
}

// ReplaceLocalFile replaces the local file dst atomically, for a download:
// fill writes the content to a temporary file beside dst and returns the
// permission bits to give it, and only then is it renamed to dst. dst's
// parent folders are made first. When fill fails, dst is left as it was.
func ReplaceLocalFile(dst string, fill func(w io.Writer) (fs.FileMode, error)) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	mode, err := fill(tmp)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// NotExist wraps err, the failure of a download whose remote file is
// missing, so that it matches fs.ErrNotExist.
func NotExist(err error) error { return &notExist{err} }

type notExist struct{ err error }

func (e *notExist) Error() string        { return e.err.Error() }
func (e *notExist) Unwrap() error        { return e.err }
func (e *notExist) Is(target error) bool { return target == fs.ErrNotExist }

// ctxReader stops a copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
