package nemesis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/db"
	"github.com/faultline/faultline/history"
)

// File corruption fs. Truncate and bitflip are Jepsen's; snapshot and
// restore of chunks roll parts of a file back to older contents.
const (
	FTruncate       = "truncate"
	FBitflip        = "bitflip"
	FSnapshotChunks = "snapshot-file-chunks"
	FRestoreChunks  = "restore-file-chunks"
)

// DataFiles is a DB that says which files hold its data on a node, as
// shell glob patterns (relative ones from the node's folder).
type DataFiles interface {
	DataFiles(ctx context.Context, env *control.Env, node string) ([]string, error)
}

// FileCorruption damages a DB's data files through control.Remote, after
// saving a copy of each file before its first change; Teardown puts the
// copies back (the DB should be stopped by then, or restart afterwards).
// Ops take the value [spec, options] (or a Map with "targets" plus the
// options); options is a Map with:
//
//   - "file": a glob choosing the files (default: Globs or the DB's
//     DataFiles); one matching file is picked at random per node;
//   - truncate: "drop", bytes to cut off the end (default random, up to
//     4096 and the file's size);
//   - bitflip: "flips", bits to flip at random offsets (default 1-8), or
//     "probability" per bit (Jepsen's form);
//   - snapshot-file-chunks: "chunks" (default 4) and "size" (bytes, default
//     4096): copies random chunks of the file aside;
//   - restore-file-chunks: writes the chunks saved on that node back,
//     rolling those bytes back to their older contents.
//
// Completion values map each node to what was done to which file.
type FileCorruption struct {
	// Globs choose the files when an op names none; when empty, DB's
	// DataFiles is asked.
	Globs []string
	DB    DataFiles
	// Nodes the specs choose among (nil: env.Nodes).
	Nodes     []string
	Primaries db.Primaries
	// BackupDir holds the copies on the nodes ("" is
	// "faultline-file-backups", relative to the node's folder).
	BackupDir string
	Sudo      bool

	t       *targets
	mu      sync.Mutex
	touched map[string]bool
}

func (f *FileCorruption) Fs() []string {
	return []string{FBitflip, FRestoreChunks, FSnapshotChunks, FTruncate}
}

func (f *FileCorruption) Setup(ctx context.Context, env *control.Env) (Nemesis, error) {
	if env == nil || env.Remote == nil {
		return nil, errors.New("file corruption nemesis: needs a remote to reach the nodes")
	}
	if len(f.Globs) == 0 && f.DB == nil {
		return nil, errors.New("file corruption nemesis: no files to corrupt (give Globs, or a DB with nemesis.DataFiles)")
	}
	s := &FileCorruption{Globs: f.Globs, DB: f.DB, Nodes: f.Nodes, Primaries: f.Primaries, BackupDir: f.BackupDir, Sudo: f.Sudo,
		t: newTargets(env, f.Nodes, f.Primaries, 6), touched: map[string]bool{}}
	if s.BackupDir == "" {
		s.BackupDir = "faultline-file-backups"
	}
	return s, nil
}

func (f *FileCorruption) sh(ctx context.Context, env *control.Env, node, script string, args ...string) (string, error) {
	res, err := env.Remote.Exec(ctx, node, control.Cmd{Args: append([]string{"sh", "-c", script, "faultline-file"}, args...), Sudo: f.Sudo})
	if err != nil {
		var ee *control.ExitError
		if errors.As(err, &ee) {
			short := *ee
			short.Command = "file corruption script"
			return res.Stdout, &short
		}
	}
	return res.Stdout, err
}

// listScript prints "SIZE PATH" for each regular file the globs match.
const listScript = `for g in "$@"; do for f in $g; do [ -f "$f" ] && printf '%s %s\n' "$(wc -c < "$f")" "$f"; done; done; true`

// backupScript copies $2 into folder $1 unless it was copied before.
const backupScript = `d=$1 f=$2
mkdir -p "$d" || exit 1
k=$(printf '%s' "$f" | cksum | cut -d' ' -f1)
[ -e "$d/$k.orig" ] && exit 0
cp -p "$f" "$d/$k.orig" && printf '%s\n' "$f" > "$d/$k.path"
`

// restoreScript puts every copy in folder $1 back and removes the folder.
const restoreScript = `d=$1
[ -d "$d" ] || exit 0
rc=0
for p in "$d"/*.path; do
	[ -e "$p" ] || continue
	f=$(cat "$p")
	cp -p "${p%.path}.orig" "$f" || rc=1
done
[ $rc = 0 ] && rm -rf "$d"
exit $rc
`

const bitflipScript = `f=$1; shift
for spec in "$@"; do
	off=${spec%:*} mask=${spec#*:}
	b=$(od -An -tu1 -j "$off" -N1 "$f" | tr -d ' \n')
	[ -n "$b" ] || continue
	printf "$(printf '\\%03o' $((b ^ mask)))" | dd of="$f" bs=1 seek="$off" count=1 conv=notrunc 2>/dev/null || exit 1
done
`

const snapshotScript = `d=$1 f=$2; shift 2
mkdir -p "$d/chunks" || exit 1
k=$(printf '%s' "$f" | cksum | cut -d' ' -f1)
i=0
for spec in "$@"; do
	off=${spec%:*} len=${spec#*:}
	dd if="$f" of="$d/chunks/$k.$i" bs=65536 iflag=skip_bytes,count_bytes skip="$off" count="$len" 2>/dev/null || exit 1
	printf '%s %s %s\n' "$off" "$d/chunks/$k.$i" "$f" >> "$d/chunks/index"
	i=$((i+1))
done
`

const restoreChunksScript = `d=$1
[ -s "$d/chunks/index" ] || { echo none; exit 0; }
while read -r off chunk f; do
	dd if="$chunk" of="$f" bs=65536 oflag=seek_bytes seek="$off" conv=notrunc 2>/dev/null || exit 1
	echo "$f"
done < "$d/chunks/index"
rm -rf "$d/chunks"
`

type dataFile struct {
	path string
	size int64
}

func (f *FileCorruption) pickFile(ctx context.Context, env *control.Env, node string, globs []string, rng *rand.Rand) (dataFile, error) {
	out, err := f.sh(ctx, env, node, listScript, globs...)
	if err != nil {
		return dataFile{}, err
	}
	var files []dataFile
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		size, path, ok := strings.Cut(strings.TrimSpace(l), " ")
		n, err := strconv.ParseInt(size, 10, 64)
		if ok && err == nil {
			files = append(files, dataFile{path, n})
		}
	}
	if len(files) == 0 {
		return dataFile{}, fmt.Errorf("no file matches %s", strings.Join(globs, " "))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return files[rng.IntN(len(files))], nil
}

func (f *FileCorruption) globs(ctx context.Context, env *control.Env, node string, opts history.Map) ([]string, error) {
	if v, ok := opts.Get("file"); ok {
		l, err := stringList(v)
		if err != nil || len(l) == 0 {
			return nil, fmt.Errorf("file option %s: want a glob", history.Format(v))
		}
		return l, nil
	}
	if len(f.Globs) > 0 {
		return f.Globs, nil
	}
	return f.DB.DataFiles(ctx, env, node)
}

func intOpt(opts history.Map, key string, dflt int64) (int64, error) {
	v, ok := opts.Get(key)
	if !ok {
		return dflt, nil
	}
	switch x := v.(type) {
	case int64:
		return x, nil
	case float64:
		return int64(x), nil
	}
	return 0, fmt.Errorf("option %s: want a number, got %s", key, history.Format(v))
}

func (f *FileCorruption) Invoke(ctx context.Context, env *control.Env, op history.Op) (history.Op, error) {
	var spec any
	var opts history.Map
	switch v := op.Value.(type) {
	case []any:
		if len(v) > 0 {
			spec = v[0]
		}
		if len(v) > 1 {
			m, ok := v[1].(history.Map)
			if !ok && v[1] != nil {
				return op, fmt.Errorf("%s options %s: want a map", op.F, history.Format(v[1]))
			}
			opts = m
		}
	case history.Map:
		spec, _ = v.Get("targets")
		opts = v
	default:
		spec = v
	}
	nodes, err := f.t.resolve(ctx, env, spec, nil)
	if err != nil {
		return op, err
	}
	if len(nodes) == 0 {
		return info(op, "no-target"), nil
	}
	var mu sync.Mutex
	res := map[string]any{}
	err = control.OnNodes(ctx, nodes, func(ctx context.Context, node string) error {
		v, err := f.corrupt(ctx, env, op.F, node, opts)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			res[node] = "error: " + err.Error()
		} else {
			res[node] = v
		}
		return err
	})
	return info(op, NodeValue(res)), err
}

func (f *FileCorruption) corrupt(ctx context.Context, env *control.Env, fn, node string, opts history.Map) (any, error) {
	// Each node draws from its own source, derived from the run's, so
	// parallel nodes do not race on one.
	f.mu.Lock()
	rng := rand.New(rand.NewPCG(f.t.rng.Uint64(), f.t.rng.Uint64()))
	f.mu.Unlock()
	if fn == FRestoreChunks {
		out, err := f.sh(ctx, env, node, restoreChunksScript, f.BackupDir)
		if err != nil {
			return nil, err
		}
		return history.Map{{Key: "restored", Val: strings.Fields(out)}}, nil
	}
	globs, err := f.globs(ctx, env, node, opts)
	if err != nil {
		return nil, err
	}
	file, err := f.pickFile(ctx, env, node, globs, rng)
	if err != nil {
		return nil, err
	}
	if fn != FSnapshotChunks {
		if _, err := f.sh(ctx, env, node, backupScript, f.BackupDir, file.path); err != nil {
			return nil, fmt.Errorf("backing up %s: %w", file.path, err)
		}
		f.mu.Lock()
		f.touched[node] = true
		f.mu.Unlock()
	}
	switch fn {
	case FTruncate:
		drop, err := intOpt(opts, "drop", 1+rng.Int64N(max(1, min(file.size, 4096))))
		if err != nil {
			return nil, err
		}
		drop = min(drop, file.size)
		if _, err := f.sh(ctx, env, node, `truncate -s "-$2" "$1"`, file.path, strconv.FormatInt(drop, 10)); err != nil {
			return nil, err
		}
		return history.Map{{Key: "file", Val: file.path}, {Key: "dropped", Val: drop}}, nil
	case FBitflip:
		if file.size == 0 {
			return history.Map{{Key: "file", Val: file.path}, {Key: "flipped", Val: int64(0)}}, nil
		}
		flips, err := intOpt(opts, "flips", 1+rng.Int64N(8))
		if err != nil {
			return nil, err
		}
		if p, ok := opts.Get("probability"); ok {
			pf, isF := p.(float64)
			if !isF || pf <= 0 || pf > 1 {
				return nil, fmt.Errorf("option probability %s: want a number in (0, 1]", history.Format(p))
			}
			flips = max(1, int64(pf*float64(file.size)*8+0.5))
		}
		flips = min(flips, 10000)
		specs := make([]string, flips)
		for i := range specs {
			specs[i] = fmt.Sprintf("%d:%d", rng.Int64N(file.size), 1<<rng.IntN(8))
		}
		if _, err := f.sh(ctx, env, node, bitflipScript, append([]string{file.path}, specs...)...); err != nil {
			return nil, err
		}
		return history.Map{{Key: "file", Val: file.path}, {Key: "flipped", Val: flips}}, nil
	case FSnapshotChunks:
		chunks, err := intOpt(opts, "chunks", 4)
		if err != nil {
			return nil, err
		}
		size, err := intOpt(opts, "size", 4096)
		if err != nil {
			return nil, err
		}
		if file.size == 0 || chunks <= 0 || size <= 0 {
			return history.Map{{Key: "file", Val: file.path}, {Key: "chunks", Val: int64(0)}}, nil
		}
		size = min(size, file.size)
		var specs []string
		for range min(chunks, 256) {
			specs = append(specs, fmt.Sprintf("%d:%d", rng.Int64N(file.size-size+1), size))
		}
		// The file will be changed when the chunks are restored.
		if _, err := f.sh(ctx, env, node, backupScript, f.BackupDir, file.path); err != nil {
			return nil, fmt.Errorf("backing up %s: %w", file.path, err)
		}
		f.mu.Lock()
		f.touched[node] = true
		f.mu.Unlock()
		if _, err := f.sh(ctx, env, node, snapshotScript, append([]string{f.BackupDir, file.path}, specs...)...); err != nil {
			return nil, err
		}
		return history.Map{{Key: "file", Val: file.path}, {Key: "chunks", Val: int64(len(specs))}, {Key: "size", Val: size}}, nil
	}
	return nil, fmt.Errorf("file corruption nemesis cannot handle f %q", fn)
}

// Teardown puts back the original of every file changed, on every node
// touched, and removes the copies.
func (f *FileCorruption) Teardown(ctx context.Context, env *control.Env) error {
	if f.t == nil {
		return nil
	}
	f.mu.Lock()
	var nodes []string
	for n := range f.touched {
		nodes = append(nodes, n)
	}
	f.mu.Unlock()
	return control.OnNodes(ctx, nodes, func(ctx context.Context, node string) error {
		if _, err := f.sh(ctx, env, node, restoreScript, f.BackupDir); err != nil {
			return fmt.Errorf("restoring corrupted files: %w", err)
		}
		f.mu.Lock()
		delete(f.touched, node)
		f.mu.Unlock()
		return nil
	})
}
