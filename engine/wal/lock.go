package wal

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/authlake/authlake/internal/vfs"
)

// lockDir takes an exclusive lock on <dir>/LOCK: two processes appending to one log would
// interleave frames and destroy it. The kernel drops the lock when the process dies, so kill -9
// never leaves a stale lock.
func lockDir(fsys vfs.FS, dir string) (vfs.File, error) {
	path := filepath.Join(dir, lockFileName)
	f, err := fsys.Lock(path)
	if errors.Is(err, vfs.ErrLocked) {
		return nil, fmt.Errorf("%w: %s", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("wal: lock %s: %w", path, err)
	}
	return f, nil
}
