package etcd

import (
	"context"
	"path"
	"time"

	"github.com/faultline/faultline/control"
	"github.com/faultline/faultline/nemesis"
)

// RecoveryWait is how long the final phase waits after healing before the
// final reads, for killed members to rejoin and a leader to be elected (as
// Jepsen's etcd test sleeps 10 s).
const RecoveryWait = 10 * time.Second

var _ nemesis.DataFiles = (*DB)(nil)

// DataFiles names etcd's data files on node, for the file-corruption
// nemesis: the bbolt database and the write-ahead log segments.
func (d *DB) DataFiles(context.Context, *control.Env, string) ([]string, error) {
	return []string{
		path.Join(d.dataDir(), "member", "snap", "db"),
		path.Join(d.dataDir(), "member", "wal", "*.wal"),
	}, nil
}
