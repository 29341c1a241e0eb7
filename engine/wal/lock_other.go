//go:build !unix

package wal

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockDir only opens the lock file: outside unix, exclusion is the caller's job.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFileName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("wal: open lock file: %w", err)
	}
	return f, nil
}
