package wal

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/authlake/authlake/internal/vfs"
)

// activeFile is the file the flusher appends to. Only the flusher touches it
// after Replay; Close touches it after the flusher has exited.
type activeFile struct {
	seq         uint64
	path        string
	f           vfs.File
	size        int64 // header plus records: where the next frame goes
	preallocEnd int64 // file size including preallocated zeros
}

func (a *activeFile) hasRecords() bool { return a.size > fileHeaderSize }

// createFile creates file seq with its header and makes both the file and
// its directory entry durable before any record can be written to it, so a
// file with a bad header never held an acknowledged record.
func (l *Log) createFile(seq uint64) (*activeFile, error) {
	path := l.path(seq)
	f, err := l.opts.FS.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("wal: create %s: %w", path, err)
	}
	a := &activeFile{seq: seq, path: path, f: f, size: fileHeaderSize, preallocEnd: fileHeaderSize}
	fail := func(err error) (*activeFile, error) {
		_ = f.Close()
		return nil, err
	}
	if _, err := f.Write(appendFileHeader(nil, seq)); err != nil {
		return fail(fmt.Errorf("wal: write header of %s: %w", path, err))
	}
	// Preallocation is an optimisation: a filesystem without it just pays
	// for a size update on every sync.
	if l.opts.SegmentSize > fileHeaderSize && f.Preallocate(l.opts.SegmentSize) == nil {
		a.preallocEnd = l.opts.SegmentSize
	}
	if err := l.sync(f); err != nil {
		return fail(fmt.Errorf("wal: sync new file %s: %w", path, err))
	}
	if err := l.syncDir(); err != nil {
		return fail(err)
	}
	// Only now, with its header durable, may the span name the file: a crash before this
	// leaves a span ending at the previous file, which is still on disk.
	if err := l.extendSpan(0, seq); err != nil {
		return fail(err)
	}
	return a, nil
}

// reopenFile makes file seq, which replay found to hold its header and nothing else, the active
// file again: appended to after its header, preallocated and synced as a new file is. Its
// directory entry and the span are durable since it was created.
func (l *Log) reopenFile(seq uint64) (*activeFile, error) {
	path := l.path(seq)
	f, err := l.opts.FS.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("wal: reopen %s: %w", path, err)
	}
	if _, err := f.Seek(fileHeaderSize, io.SeekStart); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("wal: reopen %s: %w", path, err)
	}
	a := &activeFile{seq: seq, path: path, f: f, size: fileHeaderSize, preallocEnd: fileHeaderSize}
	if l.opts.SegmentSize > fileHeaderSize && f.Preallocate(l.opts.SegmentSize) == nil {
		a.preallocEnd = l.opts.SegmentSize
	}
	if err := l.sync(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("wal: sync reopened file %s: %w", path, err)
	}
	return a, nil
}

// seal cuts the preallocated zeros off the file, syncs and closes it. The
// sync makes the truncation durable before a next file exists, which is what
// lets Replay treat any bad frame in a non-final file as a hard error.
func (l *Log) seal(a *activeFile) error {
	var err error
	if a.preallocEnd > a.size {
		if terr := a.f.Truncate(a.size); terr != nil {
			err = fmt.Errorf("wal: truncate %s at %d: %w", a.path, a.size, terr)
		}
	}
	if err == nil {
		if serr := l.sync(a.f); serr != nil {
			err = fmt.Errorf("wal: sync %s: %w", a.path, serr)
		}
	}
	if cerr := a.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("wal: close %s: %w", a.path, cerr)
	}
	return err
}

func (l *Log) sync(f vfs.File) error {
	if l.opts.NoSync {
		return nil
	}
	return f.Datasync()
}

// syncDir makes file creations and removals in the log directory durable.
func (l *Log) syncDir() error {
	if l.opts.NoSync {
		return nil
	}
	if err := l.opts.FS.SyncDir(l.dir); err != nil {
		return fmt.Errorf("wal: sync directory %s: %w", l.dir, err)
	}
	return nil
}

// isZero reports whether bytes [from, to) of f are all zero.
func isZero(f vfs.File, from, to int64) (bool, error) { return zeroUpTo(f, from, to, false) }

// zeroOrGone is isZero for a read-only replay beside a live writer: the writer may have cut the
// file's tail (its own open truncates a torn or preallocated tail) after the reader took the
// file's size, and bytes no longer in the file are no records either. A query run beside
// `authlake serve` failed with "read … at 20: EOF" on the manifest log the server had just cut.
func zeroOrGone(f vfs.File, from, to int64) (bool, error) { return zeroUpTo(f, from, to, true) }

func zeroUpTo(f vfs.File, from, to int64, goneOK bool) (bool, error) {
	buf := make([]byte, min(to-from, 1<<20))
	for from < to {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), to-from)], from)
		for _, b := range buf[:n] {
			if b != 0 {
				return false, nil
			}
		}
		from += int64(n)
		if goneOK && errors.Is(err, io.EOF) {
			return true, nil // the rest was cut
		}
		if err != nil && !(errors.Is(err, io.EOF) && from >= to) {
			return false, fmt.Errorf("wal: read %s at %d: %w", f.Name(), from, err)
		}
	}
	return true, nil
}
