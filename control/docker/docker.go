package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/control"
)

// Environment variables set for every command run on a node.
const (
	EnvCluster = control.EnvCluster
	EnvNode    = control.EnvNode
	EnvNodeDir = control.EnvNodeDir
	// EnvExec tags the processes of one Exec, so that they can be found and
	// killed when its context ends.
	EnvExec = "FAULTLINE_EXEC"
)

// killWait bounds the clean-up of a cancelled command.
const killWait = 5 * time.Second

// Node is one node of a docker cluster.
type Node struct {
	// Name is the node's host name, e.g. "n1".
	Name string
	// Container is the container's name or id.
	Container string
	// Dir is the node's folder inside the container: commands start there
	// and relative paths are taken inside it; "" is /.
	Dir string
}

// Remote runs commands in the nodes' containers with the docker command.
type Remote struct {
	docker  string
	cluster string
	nodes   map[string]Node
	names   []string
}

var _ control.Remote = (*Remote)(nil)

// LookDocker finds the docker command.
func LookDocker() (string, error) {
	p, err := exec.LookPath("docker")
	if err != nil {
		return "", fmt.Errorf("docker: command docker not found: install Docker (Debian package docker.io)")
	}
	return p, nil
}

// New returns a Remote for the nodes of cluster.
func New(cluster string, nodes []Node) (*Remote, error) {
	d, err := LookDocker()
	if err != nil {
		return nil, err
	}
	r := &Remote{docker: d, cluster: cluster, nodes: make(map[string]Node, len(nodes))}
	for _, n := range nodes {
		if n.Name == "" || n.Container == "" {
			return nil, fmt.Errorf("docker: node %q needs a name and a container", n.Name)
		}
		if _, dup := r.nodes[n.Name]; dup {
			return nil, fmt.Errorf("docker: node %q given twice", n.Name)
		}
		if n.Dir == "" {
			n.Dir = "/"
		}
		r.nodes[n.Name] = n
		r.names = append(r.names, n.Name)
	}
	return r, nil
}

// Nodes returns the node names, in the order given to New.
func (r *Remote) Nodes() []string { return slices.Clone(r.names) }

// Node returns the node called name.
func (r *Remote) Node(name string) (Node, error) {
	n, ok := r.nodes[name]
	if !ok {
		return Node{}, fmt.Errorf("%w %q (cluster %s has %s)", control.ErrUnknownNode, name, r.cluster, strings.Join(r.names, ", "))
	}
	return n, nil
}

// Process is the local process (docker exec -i) that runs cmd on node;
// callers that stream output set its Stdin, Stdout and Stderr and pass it
// to control.RunLocal.
func (r *Remote) Process(node string, cmd control.Cmd) (control.LocalProcess, error) {
	return r.process(node, cmd, false, "")
}

// Interactive is Process with a terminal (docker exec -it), for shells.
func (r *Remote) Interactive(node string, cmd control.Cmd) (control.LocalProcess, error) {
	p, err := r.process(node, cmd, true, "")
	p.Foreground = true
	return p, err
}

func (r *Remote) process(node string, cmd control.Cmd, tty bool, tag string) (control.LocalProcess, error) {
	n, err := r.Node(node)
	if err != nil {
		return control.LocalProcess{}, err
	}
	// Containers run as root: sudo is a no-op, sudo -u is runuser.
	argv, vars, err := control.LocalArgv(cmd, 0)
	if err != nil {
		return control.LocalProcess{}, control.NotRun(node, cmd, err)
	}
	full := []string{r.docker, "exec", "-i"}
	if tty {
		full = append(full, "-t")
	}
	full = append(full, "-w", r.path(n, cmd.Dir))
	for _, v := range control.NodeEnv(r.cluster, n.Name, n.Dir) {
		full = append(full, "-e", v)
	}
	if tag != "" {
		full = append(full, "-e", EnvExec+"="+tag)
	}
	for _, v := range vars {
		full = append(full, "-e", v)
	}
	// Docker stops reading its own options at the container's name.
	full = append(full, n.Container)
	full = append(full, argv...)
	return control.LocalProcess{Node: node, Argv: full, Stdin: cmd.Stdin, Display: cmd.String()}, nil
}

// Exec runs cmd in node's container (as root, in the node's folder unless
// cmd.Dir says otherwise). A docker failure (no such container, container
// not running) is an *control.ExitError with code -1 whose Err says so.
// When ctx ends, the command and every process it started are killed.
func (r *Remote) Exec(ctx context.Context, node string, cmd control.Cmd) (control.Result, error) {
	tag := newTag()
	p, err := r.process(node, cmd, false, tag)
	if err != nil {
		return control.Result{ExitCode: -1}, err
	}
	res, err := control.RunLocal(ctx, p)
	if ctx.Err() != nil {
		r.kill(r.nodes[node].Container, tag)
	}
	return res, dockerErr(err)
}

// kill kills the processes of the Exec tagged tag, found by their
// environment, in container.
func (r *Remote) kill(container, tag string) {
	ctx, cancel := context.WithTimeout(context.Background(), killWait)
	defer cancel()
	script := `for p in /proc/[0-9]*; do
	tr '\0' '\n' < "$p/environ" 2>/dev/null | grep -qx "$1" && kill -9 "${p#/proc/}" 2>/dev/null
done; true`
	_, _ = control.RunLocal(ctx, control.LocalProcess{Argv: []string{r.docker, "exec", container, "sh", "-c", script, "faultline-kill", EnvExec + "=" + tag}})
}

func newTag() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// dockerErr turns a failure of the docker command itself (as opposed to
// the command it ran) into an ExitError with code -1.
func dockerErr(err error) error {
	var ee *control.ExitError
	if !errors.As(err, &ee) || ee.Err != nil {
		return err
	}
	msg := strings.TrimSpace(ee.Stderr)
	if strings.HasPrefix(msg, "Error response from daemon:") || strings.HasPrefix(msg, "Error: No such container") ||
		strings.Contains(msg, "Cannot connect to the Docker daemon") {
		out := *ee
		out.ExitCode = -1
		line, _, _ := strings.Cut(msg, "\n")
		out.Err = errors.New("docker: " + strings.TrimPrefix(line, "Error response from daemon: "))
		out.Stderr = ""
		return &out
	}
	return err
}

// Upload copies the local file to path in node's container (through
// docker cp, as a tar stream), keeping its permission bits and making the
// parent folders. A relative path is taken inside the node's folder.
func (r *Remote) Upload(ctx context.Context, node, localPath, remote string) error {
	n, err := r.Node(node)
	if err != nil {
		return err
	}
	fail := func(err error) error { return fmt.Errorf("%s: upload %s to %s: %w", node, localPath, remote, err) }
	f, st, err := control.OpenRegular(localPath)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	dst := r.path(n, remote)
	dir, base := path.Split(dst)
	send := func() error {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		pr, pw := io.Pipe()
		go func() {
			tw := tar.NewWriter(pw)
			err := tw.WriteHeader(&tar.Header{Name: base, Mode: int64(st.Mode().Perm()), Size: st.Size(), ModTime: st.ModTime(), Typeflag: tar.TypeReg})
			if err == nil {
				_, err = io.Copy(tw, f)
			}
			if err == nil {
				err = tw.Close()
			}
			pw.CloseWithError(err)
		}()
		_, err := control.RunLocal(ctx, control.LocalProcess{Node: node, Argv: []string{r.docker, "cp", "-", n.Container + ":" + dir}, Stdin: pr, Display: "docker cp - " + n.Container + ":" + dir})
		pr.Close()
		return err
	}
	err = send()
	if err != nil && ctx.Err() == nil {
		// Most likely the folder is missing: make it and try again.
		if _, merr := r.Exec(ctx, node, control.Cmd{Args: []string{"mkdir", "-p", "--", dir}}); merr == nil {
			err = send()
		}
	}
	if err != nil {
		return fail(cpErr(err))
	}
	return nil
}

// Download copies path in node's container to the local file (through
// docker cp), atomically, keeping its permission bits. A missing file gives
// an error wrapping fs.ErrNotExist.
func (r *Remote) Download(ctx context.Context, node, remote, localPath string) error {
	n, err := r.Node(node)
	if err != nil {
		return err
	}
	src := r.path(n, remote)
	err = control.ReplaceLocalFile(localPath, func(w io.Writer) (fs.FileMode, error) {
		pr, pw := io.Pipe()
		type result struct {
			mode fs.FileMode
			err  error
		}
		got := make(chan result, 1)
		go func() {
			tr := tar.NewReader(pr)
			h, err := tr.Next()
			var res result
			switch {
			case err != nil:
				res.err = fmt.Errorf("reading docker cp's archive: %w", err)
			case h.Typeflag != tar.TypeReg:
				res.err = fmt.Errorf("%s is not a regular file", src)
			default:
				res.mode = fs.FileMode(h.Mode) & fs.ModePerm
				_, res.err = io.Copy(w, tr)
			}
			// Let docker cp finish writing whatever follows.
			_, _ = io.Copy(io.Discard, pr)
			got <- res
		}()
		var stderr bytes.Buffer
		_, err := control.RunLocal(ctx, control.LocalProcess{Node: node, Argv: []string{r.docker, "cp", "-L", n.Container + ":" + src, "-"}, Stdout: pw, Stderr: &stderr, Display: "docker cp " + n.Container + ":" + src + " -"})
		pw.Close()
		res := <-got
		if err != nil {
			if strings.Contains(stderr.String(), "Could not find the file") || strings.Contains(stderr.String(), "No such file") {
				return 0, control.NotExist(cpErr(err))
			}
			return 0, cpErr(err)
		}
		return res.mode, res.err
	})
	if err != nil {
		return fmt.Errorf("%s: download %s to %s: %w", node, remote, localPath, err)
	}
	return nil
}

// cpErr shortens a failed docker cp to docker's own message.
func cpErr(err error) error {
	var ee *control.ExitError
	if errors.As(err, &ee) && ee.Err == nil {
		if msg := strings.TrimSpace(ee.Stderr); msg != "" {
			line, _, _ := strings.Cut(msg, "\n")
			return fmt.Errorf("docker cp: %s", strings.TrimPrefix(line, "Error response from daemon: "))
		}
	}
	return err
}

// Close does nothing: there is no connection.
func (r *Remote) Close() error { return nil }

func (r *Remote) path(n Node, p string) string { return control.NodePath(n.Dir, p) }
