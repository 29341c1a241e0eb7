package engine

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/authlake/authlake/internal/vfs"
)

// Remove deletes the database in dir and dir itself. It takes the writer's lock first, so a
// directory that another process has open is refused with ErrLocked rather than emptied under
// it (a benchmark that started over in the directory of one still running deleted its LOCK
// too, and the two then wrote one database). A missing dir is not an error.
func Remove(dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	lock, err := lockDir(vfs.Default, dir)
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		lock.Close()
		return err
	}
	// Everything but the lock goes while it is held; the lock file goes last.
	for _, e := range entries {
		if e.Name() == lockName {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			lock.Close()
			return err
		}
	}
	if err := lock.Close(); err != nil {
		return err
	}
	return os.RemoveAll(dir)
}
