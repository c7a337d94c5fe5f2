package ssh

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// keySource is one private key offered for authentication.
type keySource struct {
	path   string
	signer ssh.Signer
}

// loadKeys reads the private key file given, or the default ones that
// exist when none is given.
func loadKeys(path string) ([]keySource, error) {
	if path != "" {
		s, err := readKey(path)
		if err != nil {
			return nil, err
		}
		return []keySource{{path, s}}, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return nil, nil
	}
	var out []keySource
	for _, name := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
		p := filepath.Join(home, ".ssh", name)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		s, err := readKey(p)
		if err != nil {
			// An encrypted default key is for the agent, not an error.
			continue
		}
		out = append(out, keySource{p, s})
	}
	return out, nil
}

func readKey(path string) (ssh.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ssh: private key: %w", err)
	}
	s, err := ssh.ParsePrivateKey(b)
	var pm *ssh.PassphraseMissingError
	if errors.As(err, &pm) {
		return nil, fmt.Errorf("ssh: private key %s is encrypted: add it to ssh-agent (ssh-add %s) instead", path, path)
	}
	if err != nil {
		return nil, fmt.Errorf("ssh: private key %s: %w", path, err)
	}
	return s, nil
}

// agentSigners returns the keys of the running ssh-agent, and a function
// closing the connection to it; nil when there is no agent.
func agentSigners() ([]ssh.Signer, func()) {
	sock := os.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		return nil, func() {}
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		return nil, func() {}
	}
	signers, err := agent.NewClient(c).Signers()
	if err != nil || len(signers) == 0 {
		c.Close()
		return nil, func() {}
	}
	return signers, func() { c.Close() }
}

// authMethods are the methods offered, and a description of them for
// errors. done releases the agent connection after the handshake.
func (r *Remote) authMethods() (methods []ssh.AuthMethod, desc string, done func()) {
	var signers []ssh.Signer
	var what []string
	for _, k := range r.keys {
		signers = append(signers, k.signer)
		what = append(what, "key "+k.path)
	}
	done = func() {}
	if !r.opts.NoAgent {
		var as []ssh.Signer
		as, done = agentSigners()
		if len(as) > 0 {
			signers = append(signers, as...)
			what = append(what, fmt.Sprintf("%d ssh-agent keys", len(as)))
		}
	}
	if len(signers) > 0 {
		methods = append(methods, ssh.PublicKeys(signers...))
	}
	if pw := r.opts.Password; pw != "" {
		methods = append(methods, ssh.Password(pw), ssh.KeyboardInteractive(
			func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}))
		what = append(what, "password")
	}
	if len(what) == 0 {
		return methods, "no key, agent or password", done
	}
	return methods, strings.Join(what, ", "), done
}

// ErrHostKey is wrapped by host key failures: unknown under strict
// checking, changed, or revoked.
var ErrHostKey = errors.New("host key verification failed")

// hostKeys checks host keys against known_hosts files and remembers keys
// accepted without strict checking.
type hostKeys struct {
	strict bool
	files  []string
	mu     sync.Mutex
	check  ssh.HostKeyCallback
	// accepted holds keys accepted in this process (normalized address ->
	// key), also when they could not be written down.
	accepted map[string]ssh.PublicKey
	// probe is a key no host has, used to ask the database which key
	// types it knows for a host.
	probe ssh.PublicKey
}

func newHostKeys(files []string, strict bool) (*hostKeys, error) {
	h := &hostKeys{strict: strict, files: files, accepted: map[string]ssh.PublicKey{}}
	if err := h.reload(); err != nil {
		return nil, err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, err
	}
	h.probe = signer.PublicKey()
	return h, nil
}

// reload reads the files again; missing files are empty.
func (h *hostKeys) reload() error {
	var existing []string
	for _, f := range h.files {
		if _, err := os.Stat(f); err == nil {
			existing = append(existing, f)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("ssh: known hosts: %w", err)
		}
	}
	cb, err := knownhosts.New(existing...)
	if err != nil {
		return fmt.Errorf("ssh: known hosts: %w", err)
	}
	h.check = cb
	return nil
}

// algorithms lists the host key algorithms to ask a server for, so that it
// presents a key of a type known for it (a server has several host keys):
// nil when none is known.
func (h *hostKeys) algorithms(hostport string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var types []string
	if k, ok := h.accepted[knownhosts.Normalize(hostport)]; ok {
		types = append(types, k.Type())
	}
	fake := &net.TCPAddr{IP: net.IPv4zero, Port: 0}
	var ke *knownhosts.KeyError
	if err := h.check(hostport, fake, h.probe); errors.As(err, &ke) {
		for _, w := range ke.Want {
			types = append(types, w.Key.Type())
		}
	}
	var algos []string
	seen := map[string]bool{}
	for _, t := range types {
		for _, a := range algorithmsFor(t) {
			if !seen[a] {
				seen[a] = true
				algos = append(algos, a)
			}
		}
	}
	return algos
}

func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

// callback is the HostKeyCallback for one dial.
func (h *hostKeys) callback(hostport string, log func(msg string, args ...any)) ssh.HostKeyCallback {
	return func(_ string, remote net.Addr, key ssh.PublicKey) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		norm := knownhosts.Normalize(hostport)
		if k, ok := h.accepted[norm]; ok {
			if string(k.Marshal()) == string(key.Marshal()) {
				return nil
			}
			return fmt.Errorf("%w: %s presented %s key %s, not the %s key accepted before", ErrHostKey, hostport, key.Type(), ssh.FingerprintSHA256(key), k.Type())
		}
		err := h.check(hostport, remote, key)
		var ke *knownhosts.KeyError
		var re *knownhosts.RevokedError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &re):
			return fmt.Errorf("%w: the key of %s is revoked (%s)", ErrHostKey, hostport, re.Revoked.String())
		case errors.As(err, &ke) && len(ke.Want) > 0:
			w := ke.Want[0]
			return fmt.Errorf("%w: the %s key of %s (%s) differs from the one in %s:%d: if the host was rebuilt, remove that line (ssh-keygen -R %s)",
				ErrHostKey, key.Type(), hostport, ssh.FingerprintSHA256(key), w.Filename, w.Line, norm)
		case errors.As(err, &ke):
			if h.strict {
				return fmt.Errorf("%w: %s is not in %s (strict host key checking; its %s key is %s)", ErrHostKey, hostport, h.fileList(), key.Type(), ssh.FingerprintSHA256(key))
			}
			h.accepted[norm] = key
			if werr := h.remember(norm, key); werr != nil {
				log("accepted an unknown host key without writing it down", "host", hostport, "key", ssh.FingerprintSHA256(key), "err", werr)
			} else {
				log("accepted an unknown host key", "host", hostport, "key", ssh.FingerprintSHA256(key), "file", h.files[0])
			}
			return nil
		default:
			return fmt.Errorf("%w: %s: %v", ErrHostKey, hostport, err)
		}
	}
}

func (h *hostKeys) fileList() string {
	if len(h.files) == 0 {
		return "known hosts (none given)"
	}
	return strings.Join(h.files, ", ")
}

// remember appends a known_hosts line for key to the first file.
func (h *hostKeys) remember(norm string, key ssh.PublicKey) error {
	if len(h.files) == 0 {
		return errors.New("no known_hosts file")
	}
	f := h.files[0]
	if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
		return err
	}
	fh, err := os.OpenFile(f, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, err = fh.WriteString(knownhosts.Line([]string{norm}, key) + "\n")
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	return err
}
