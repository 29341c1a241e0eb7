package wal

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/authlake/authlake/internal/fsutil"
	"github.com/authlake/authlake/internal/vfs"
)

// CorruptDir is the folder, inside the log directory, where Repair keeps the original of every
// file it rewrote: damaged bytes are evidence, so they are moved aside, never deleted.
const CorruptDir = "corrupt"

// Skipped is a damaged span of a WAL file that Repair could not read as records.
type Skipped struct {
	File          string
	Offset, Bytes int64
	Reason        string
}

// RepairReport says what Repair did.
type RepairReport struct {
	Files     int       // WAL files read
	Rewritten []string  // files rewritten without their damaged spans (originals in corrupt/)
	Kept      int64     // records kept in the rewritten files
	Skipped   []Skipped // the damaged spans left out
}

// Repair rewrites every WAL file in dir that holds damage (an invalid frame with a valid record
// after it) as the same file without the damaged spans: every record before and after a
// damaged span is kept, in order, and the original file is moved into dir/corrupt/. A torn tail
// at the end of the last file is left for Open, which truncates it. The log must not be open
// (Repair takes its lock).
func Repair(dir string, opts Options) (RepairReport, error) {
	var rep RepairReport
	if opts.FS == nil {
		opts.FS = vfs.Default
	}
	lock, err := lockDir(opts.FS, dir)
	if err != nil {
		return rep, err
	}
	defer lock.Close()
	files, err := listFiles(opts.FS, dir)
	if err != nil {
		return rep, err
	}
	l := &Log{dir: dir, opts: opts}
	for _, seq := range files {
		rep.Files++
		if err := l.repairFile(seq, &rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func (l *Log) repairFile(seq uint64, rep *RepairReport) error {
	path := l.path(seq)
	f, err := l.opts.FS.Open(path)
	if err != nil {
		return fmt.Errorf("wal: open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	hdr := make([]byte, fileHeaderSize)
	if _, err := io.ReadFull(f, hdr); err != nil {
		return fmt.Errorf("wal: %s: no complete header (%v): restore the file or move it aside", path, err)
	}
	if h, err := parseFileHeader(hdr); err != nil || h != seq {
		return fmt.Errorf("wal: %s: bad header: restore the file or move it aside", path)
	}
	out := appendFileHeader(nil, seq)
	var skipped []Skipped
	var kept int64
	for off := int64(fileHeaderSize); off < size; {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return err
		}
		rr := newRecordReader(f, size, off)
		for {
			payload, at, err := rr.next()
			if err == io.EOF {
				off = size
				break
			}
			var ce *CorruptionError
			if !errors.As(err, &ce) {
				if err != nil {
					return fmt.Errorf("wal: %s: %w", path, err)
				}
				out = appendRecord(out, payload)
				kept++
				continue
			}
			next, found, serr := nextValidRecord(f, at, size)
			if serr != nil {
				return serr
			}
			if !found { // a tail with nothing valid after it: torn or zeros, Open's business
				off = size
				break
			}
			skipped = append(skipped, Skipped{File: path, Offset: at, Bytes: next - at, Reason: ce.Reason})
			off = next
			break
		}
	}
	if len(skipped) == 0 {
		return nil
	}
	// Keep the original, then put the rewritten file in its place (atomically and durably).
	aside := filepath.Join(l.dir, CorruptDir)
	if err := fsutil.MkdirAllDurable(l.opts.FS, aside, 0o755); err != nil {
		return err
	}
	keep := filepath.Join(aside, fileName(seq))
	for i := 1; ; i++ {
		if _, err := l.opts.FS.Stat(keep); errors.Is(err, fs.ErrNotExist) {
			break
		}
		keep = filepath.Join(aside, fmt.Sprintf("%s.%d", fileName(seq), i))
	}
	// The original is durably kept aside (a copy, written atomically) before the repaired file
	// replaces it.
	orig, err := vfs.ReadFile(l.opts.FS, path)
	if err != nil {
		return fmt.Errorf("wal: read %s: %w", path, err)
	}
	if err := fsutil.WriteFileAtomic(l.opts.FS, keep, orig, 0o644, false); err != nil {
		return fmt.Errorf("wal: keep %s aside: %w", path, err)
	}
	if err := fsutil.WriteFileAtomic(l.opts.FS, path, out, 0o644, false); err != nil {
		return fmt.Errorf("wal: replace %s: %w", path, err)
	}
	rep.Rewritten = append(rep.Rewritten, path)
	rep.Kept += kept
	rep.Skipped = append(rep.Skipped, skipped...)
	return nil
}
