package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/faultline/faultline/control"
)

// Debian is the OS layer for Debian nodes, as Jepsen's jepsen.os.debian:
// it installs the packages a test needs and makes every node's name resolve
// on every node. On nodes that share one machine (network namespaces) names
// are the cluster's business and packages are installed once on the host.
type Debian struct {
	// Packages are installed on every node (with apt-get, only the missing).
	Packages []string
	// Addrs maps node names to addresses to write into each node's
	// /etc/hosts; leave it empty when names already resolve.
	Addrs map[string]string
}

var _ OS = Debian{}

// Setup installs the packages and writes the hosts entries.
func (d Debian) Setup(ctx context.Context, env *control.Env, node string) error {
	if env.Remote == nil {
		return nil
	}
	if len(d.Packages) > 0 {
		if err := InstallPackages(ctx, env.Remote, node, d.Packages...); err != nil {
			return err
		}
	}
	if _, shared := env.Remote.(SharedHost); shared || len(d.Addrs) == 0 {
		return nil
	}
	var block strings.Builder
	block.WriteString(hostsBegin + "\n")
	for _, n := range env.Nodes {
		if a, ok := d.Addrs[n]; ok {
			fmt.Fprintf(&block, "%s %s\n", a, n)
		}
	}
	block.WriteString(hostsEnd + "\n")
	script := `f=/etc/hosts; tmp=$(mktemp); sed '/^` + hostsBegin + `$/,/^` + hostsEnd + `$/d' "$f" > "$tmp" && printf '%s' "$BLOCK" >> "$tmp" && cat "$tmp" > "$f"; rm -f "$tmp"`
	_, err := env.Remote.Exec(ctx, node, control.Cmd{Shell: script, Env: map[string]string{"BLOCK": block.String()}, Sudo: true})
	return err
}

// Teardown removes the hosts entries Setup wrote; packages stay installed.
func (d Debian) Teardown(ctx context.Context, env *control.Env, node string) error {
	if env.Remote == nil || len(d.Addrs) == 0 {
		return nil
	}
	if _, shared := env.Remote.(SharedHost); shared {
		return nil
	}
	script := `f=/etc/hosts; tmp=$(mktemp); sed '/^` + hostsBegin + `$/,/^` + hostsEnd + `$/d' "$f" > "$tmp" && cat "$tmp" > "$f"; rm -f "$tmp"`
	_, err := env.Remote.Exec(ctx, node, control.Cmd{Shell: script, Sudo: true})
	return err
}

const (
	hostsBegin = "# BEGIN faultline nodes"
	hostsEnd   = "# END faultline nodes"
)
