package bench

import (
	"os"

	"golang.org/x/sys/unix"
)

// ColdMethod says what "cold" means in the results, for both engines alike.
const ColdMethod = "first query on a freshly opened database whose files were dropped from the OS page cache " +
	"(fsync, then posix_fadvise POSIX_FADV_DONTNEED on every file) just before the open"

// fadviseDontNeed drops the file's clean pages from the page cache (offset 0, length 0: all).
func fadviseDontNeed(f *os.File) error {
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}
