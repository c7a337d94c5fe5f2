// Package docker is the control.Remote for nodes that are Docker
// containers (the docker driver of package cluster, or any containers named
// by the caller).
//
// A command runs as `docker exec -i -w DIR -e ... CONTAINER ARGV`, as root
// in the container: Cmd.Sudo is a no-op and Cmd.SudoUser goes through
// runuser. The environment carries FAULTLINE_CLUSTER, FAULTLINE_NODE and
// FAULTLINE_NODE_DIR, plus FAULTLINE_EXEC, a tag per Exec: when ctx ends,
// the docker client is killed and so is every process in the container
// still carrying that tag (killing the client alone would leave the command
// running in the container). Relative paths are taken inside the node's
// folder. Upload and Download go through `docker cp` with a tar stream,
// keeping permission bits; a failure of docker itself (no such container,
// container not running, no daemon) is an *control.ExitError with code -1
// whose Err holds docker's message, distinct from the command's own exit
// codes.
//
// It plays the part of the Docker remote of Jepsen's jepsen.control.docker
// namespace.
package docker
