package vfs

import (
	"errors"
	"os"
	"syscall"
)

// datasync flushes data and the metadata needed to read it back (the size), skipping
// timestamps: cheaper than fsync for an append-only file.
func datasync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = syscall.Fdatasync(int(fd))
			if serr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: serr}
	}
	return nil
}

func preallocate(f *os.File, size int64) error {
	// On a nearly full disk, reserving a whole file would take the space a flush needs to
	// write the segments that let old WAL files go: preallocate only with room to spare.
	var st syscall.Statfs_t
	if err := syscall.Fstatfs(int(f.Fd()), &st); err == nil && int64(st.Bavail)*int64(st.Bsize) < 4*size {
		return errors.ErrUnsupported
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		ferr = syscall.Fallocate(int(fd), 0, 0, size)
	}); err != nil {
		return err
	}
	return ferr
}
