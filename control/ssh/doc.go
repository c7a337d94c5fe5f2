// Package ssh is the control.Remote for real machines reached over SSH,
// built on golang.org/x/crypto/ssh. It corresponds to the SSH remote of
// Jepsen's jepsen.control namespace (jepsen.control.sshj / clj-ssh), and
// its Options mirror Jepsen's flags: --username, --password,
// --ssh-private-key, --strict-host-key-checking and the port.
//
// Authentication offers, in order: the private key file given (or, when
// none is given, the default keys ~/.ssh/id_ed25519, id_ecdsa and id_rsa
// that exist), the keys of a running ssh-agent (SSH_AUTH_SOCK), and the
// password (also for keyboard-interactive prompts).
//
// Host keys are checked against known_hosts files. With
// StrictHostKeyChecking an unknown host is an error; without it (Jepsen's
// default) an unknown host's key is accepted and appended to the first
// known_hosts file, like OpenSSH's StrictHostKeyChecking=accept-new. A key
// that differs from a known one is an error in both modes.
//
// Each node gets one connection, opened on first use and reused by every
// command; at most MaxSessions commands run on one node at once (OpenSSH
// allows 10 sessions per connection by default), the others wait their
// turn. Dialing retries transient failures (refused, reset, timed out)
// with exponential backoff; a connection found broken when a command
// starts is dropped and dialed again once. A command that was running
// when its connection broke is not run again: it may have had effects.
//
// Commands run through `sh -c` on the node: Cmd.Env becomes `export`
// statements (sshd's AcceptEnv is usually off), Cmd.Dir a `cd`. Relative
// paths (Cmd.Dir, Upload, Download) are taken in the node's directory from
// Options.Dirs, else in the login directory. Sudo runs `sudo -n` when the
// node's sudo needs no password and `sudo -S -k` with the password as the
// first line of the command's input otherwise (which mode a node needs is
// probed once, with `sudo -n true`); the password is never part of a
// command line, an error or a log. Upload and Download stream the file
// through `cat` over an exec channel (no SFTP server is needed) and keep
// its permission bits. When ctx ends, the command gets SIGKILL (where the
// server supports signals) and its channel is closed.
//
// Measured against OpenSSH 9.2 in a netns node (BenchmarkSSHExec in package
// cluster): 6.5 ms per command over the reused connection, against 2.9 ms
// for ip netns exec. A remote user's ~/.bashrc runs for every command when
// the login shell is Debian's bash; keep it cheap.
package ssh
