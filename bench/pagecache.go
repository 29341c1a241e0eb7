package bench

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ColdRuns is how many cold runs each query gets, in both engines, each the first query on a
// database opened just after its files were dropped from the page cache; the figure is their
// median. One sample swung too much to read a goal from: the same build and database gave a
// cold "flagged + user" of 70, 77, 79, 111 and 323 ms at 10M events in five runs (2026-12-06).
const ColdRuns = 3

// DropPageCache syncs every regular file under path (a file, or a directory walked whole) and
// asks the kernel to drop its cached pages (posix_fadvise POSIX_FADV_DONTNEED), so that the
// next read comes from the disk. The sync comes first because dirty pages cannot be dropped:
// an ingest's last segments, or the files an open writes, may not have reached the disk yet.
// Both engines' cold runs start with it (authlake's data directory, DuckDB's database file),
// so neither reads the other's leftovers or its own load from memory. It needs no privileges,
// unlike writing /proc/sys/vm/drop_caches, and touches only the files named.
//
// A file that disappears during the walk is skipped; any other failure is returned: a cold run
// that silently was not cold would be a wrong figure. Off Linux only the sync is done, and
// ColdMethod says so.
func DropPageCache(path string) error {
	return filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p != path && errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if err := dropFile(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
}

func dropFile(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("drop page cache: sync %s: %w", p, err)
	}
	if err := fadviseDontNeed(f); err != nil {
		return fmt.Errorf("drop page cache: posix_fadvise %s: %w", p, err)
	}
	return nil
}
