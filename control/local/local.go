package local

import (
	"context"
	"fmt"

	"github.com/faultline/faultline/control"
)

// Remote runs commands on the control machine itself, whatever the node name.
// The zero value is ready to use.
type Remote struct{}

// New returns a Remote for this machine.
func New() *Remote { return &Remote{} }

var _ control.Remote = (*Remote)(nil)

// Exec runs cmd on this machine. Args run directly (no shell), Shell runs
// under sh -c; Env is added to the current environment; Sudo uses sudo -n
// unless already root.
func (r *Remote) Exec(ctx context.Context, node string, cmd control.Cmd) (control.Result, error) {
	p, err := control.LocalCommand(node, cmd)
	if err != nil {
		return control.Result{}, err
	}
	return control.RunLocal(ctx, p)
}

// Upload copies the file local to remote on this machine.
func (r *Remote) Upload(ctx context.Context, node, local, remote string) error {
	if err := control.CopyLocalFile(ctx, local, remote); err != nil {
		return fmt.Errorf("%s: upload %s to %s: %w", node, local, remote, err)
	}
	return nil
}

// Download copies the file remote to local on this machine.
func (r *Remote) Download(ctx context.Context, node, remote, local string) error {
	if err := control.CopyLocalFile(ctx, remote, local); err != nil {
		return fmt.Errorf("%s: download %s to %s: %w", node, remote, local, err)
	}
	return nil
}

// Close does nothing: there is no connection.
func (r *Remote) Close() error { return nil }
