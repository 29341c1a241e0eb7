package engine

import (
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/authlake/authlake/internal/vfs"
)

// Remove deletes the database in dir and dir itself. It takes the writer's lock first, so a
// directory that another process has open is refused with ErrLocked rather than emptied under
// it (a benchmark that started over in the directory of one still running deleted its LOCK
// too, and the two then wrote one database). A missing dir is not an error.
func Remove(dir string) error {
	fsys := vfs.Default
	if _, err := fsys.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	lock, err := lockDir(fsys, dir)
	if err != nil {
		return err
	}
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		lock.Close()
		return err
	}
	// Everything but the lock goes while it is held; the lock file goes last.
	for _, e := range entries {
		if e.Name() == lockName {
			continue
		}
		if err := fsys.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			lock.Close()
			return err
		}
	}
	if err := lock.Close(); err != nil {
		return err
	}
	return fsys.RemoveAll(dir)
}
