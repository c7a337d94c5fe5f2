// Package local is the control.Remote for the control machine itself: every
// node name is this machine. Commands run through os/exec (directly when Args
// are given, through sh -c for Shell), uploads and downloads are file copies.
//
// It corresponds to Jepsen's local-shell remote (jepsen.control with
// :remote (local-shell)) and to the --no-ssh style of running on one host.
package local
