package control

import (
	"os"
	"path"
)

// This file holds what the remotes that run local processes for their nodes
// (local, netns, docker and the cluster package's rootless netns) share.

// Environment variables set for every command run on a node of a cluster.
const (
	EnvCluster = "FAULTLINE_CLUSTER"
	EnvNode    = "FAULTLINE_NODE"
	EnvNodeDir = "FAULTLINE_NODE_DIR"
)

// NodeEnv is EnvCluster, EnvNode and EnvNodeDir, as NAME=value, for a
// command on node of cluster whose folder is dir.
func NodeEnv(cluster, node, dir string) []string {
	return []string{EnvCluster + "=" + cluster, EnvNode + "=" + node, EnvNodeDir + "=" + dir}
}

// NodePath resolves p on a node whose folder is dir: "" is dir, an absolute
// path stays as it is, and a relative one is taken inside dir (as is when
// dir is "").
func NodePath(dir, p string) string {
	switch {
	case p == "":
		return dir
	case path.IsAbs(p) || dir == "":
		return p
	default:
		return path.Join(dir, p)
	}
}

// NotRun is the error of cmd on node when it could not be run at all, for
// err: an *ExitError with code -1.
func NotRun(node string, cmd Cmd, err error) error {
	return &ExitError{Node: node, Command: cmd.String(), ExitCode: -1, Err: err}
}

// LocalCommand is the LocalProcess that runs cmd for node on this machine,
// as the current user (see LocalArgv), in cmd.Dir, with cmd's variables
// added to the current environment. A command LocalArgv refuses gives a
// NotRun error.
func LocalCommand(node string, cmd Cmd) (LocalProcess, error) {
	argv, vars, err := LocalArgv(cmd, os.Geteuid())
	if err != nil {
		return LocalProcess{}, NotRun(node, cmd, err)
	}
	var env []string
	if len(vars) > 0 {
		env = append(os.Environ(), vars...)
	}
	return LocalProcess{Node: node, Argv: argv, Env: env, Dir: cmd.Dir, Stdin: cmd.Stdin, Display: cmd.String()}, nil
}
