package wal

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/authlake/authlake/internal/vfs"
)

// ReplayStats describes what Replay read and what it cut off.
type ReplayStats struct {
	Files        int   // files read
	Records      int64 // records passed to fn
	PayloadBytes int64 // sum of their payload sizes

	// The torn tail of the last file, if any: the file, the offset of the
	// first invalid frame, why it is invalid and the bytes truncated away.
	TornFile   string
	TornOffset int64
	TornReason string
	TornBytes  int64

	// ZeroTailBytes counts preallocated zeros truncated from the last file:
	// the normal state after a crash, not damage.
	ZeroTailBytes int64

	// RemovedFile is a last file that was removed because its header was
	// never completely written (a crash while creating it).
	RemovedFile string
}

// Replay calls fn for every record, oldest first, then starts the active
// file; it must be called once after Open and before any Append. payload is
// valid only during fn. A torn tail of the last file is truncated (logged and
// reported in the stats); an invalid frame in any other file is a hard
// *CorruptionError naming the file and offset. An error from fn stops the
// replay and is returned wrapped; Replay may then be called again.
func (l *Log) Replay(fn func(pos Pos, payload []byte) error) (ReplayStats, error) {
	var stats ReplayStats
	l.mu.Lock()
	switch {
	case l.closed:
		l.mu.Unlock()
		return stats, ErrClosed
	case l.replayed:
		l.mu.Unlock()
		return stats, ErrReplayed
	}
	l.mu.Unlock()

	var total, lastSize int64
	next := uint64(1)
	for i := 0; i < len(l.files); i++ {
		seq := l.files[i]
		last := i == len(l.files)-1
		size, removed, err := l.replayFile(seq, last, fn, &stats)
		if err != nil {
			return stats, err
		}
		next = seq + 1
		if removed {
			l.files = l.files[:i]
			next = seq
			lastSize = 0
			break
		}
		total += size
		lastSize = size
	}

	if l.opts.ReadOnly {
		l.size.Store(total)
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.closed {
			return stats, ErrClosed
		}
		l.replayed = true
		return stats, nil
	}
	var a *activeFile
	var err error
	if lastSize == fileHeaderSize {
		// The last file holds no record (the log was opened and closed without appends): it
		// becomes the active file again, so that opening a database leaves no new file behind
		// (each open used to add one, and each later open replayed them all).
		a, err = l.reopenFile(next - 1)
		if err != nil {
			return stats, err
		}
		l.size.Store(total)
	} else {
		a, err = l.createFile(next)
		if err != nil {
			return stats, err
		}
		l.files = append(l.files, next)
		l.size.Store(total + fileHeaderSize)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		// Close ran concurrently: it found nothing to stop, so undo here.
		_ = a.f.Close()
		return stats, ErrClosed
	}
	l.active = a
	l.replayed = true
	go l.run()
	return stats, nil
}

// replayFile reads one file. It returns the file's size after any
// truncation, or removed=true if the file was dropped.
func (l *Log) replayFile(seq uint64, last bool, fn func(Pos, []byte) error, stats *ReplayStats) (size int64, removed bool, err error) {
	path := l.path(seq)
	flag := os.O_RDONLY
	if last && !l.opts.ReadOnly {
		flag = os.O_RDWR // to truncate a torn tail
	}
	f, err := l.opts.FS.OpenFile(path, flag, 0)
	if err != nil {
		return 0, false, fmt.Errorf("wal: open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, false, fmt.Errorf("wal: stat %s: %w", path, err)
	}
	size = st.Size()

	hdr := make([]byte, fileHeaderSize)
	n, err := io.ReadFull(f, hdr)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return 0, false, fmt.Errorf("wal: read header of %s: %w", path, err)
	}
	hseq, herr := parseFileHeader(hdr[:n])
	if herr != nil {
		if last {
			if never, err := neverWritten(f, size); err != nil {
				return 0, false, err
			} else if never {
				if l.opts.ReadOnly {
					return 0, true, nil
				}
				return 0, true, l.removeUnborn(path, size, stats)
			}
		}
		return 0, false, fmt.Errorf("wal: %s: %w", path, herr)
	}
	if hseq != seq {
		return 0, false, fmt.Errorf("wal: %s: header names seq %d", path, hseq)
	}
	stats.Files++

	rr := newRecordReader(f, size, fileHeaderSize)
	for {
		payload, off, err := rr.next()
		if err == io.EOF {
			return size, false, nil
		}
		var ce *CorruptionError
		if errors.As(err, &ce) {
			ce.File = path
			if !last {
				return 0, false, ce
			}
			// Only a tail with no valid record after it is torn; anything else is damage,
			// and the file is left exactly as it is for the repair command.
			at, found, err := nextValidRecord(f, ce.Offset, size)
			if err != nil {
				return 0, false, err
			}
			if found {
				ce.ValidAfter = at
				return 0, false, ce
			}
			if l.opts.ReadOnly {
				if zero, err := zeroOrGone(f, ce.Offset, size); err != nil {
					return 0, false, err
				} else if ce.Reason == reasonZeroFilled && zero {
					stats.ZeroTailBytes = size - ce.Offset // preallocated space: the normal state
				} else {
					stats.TornFile, stats.TornOffset, stats.TornReason, stats.TornBytes = path, ce.Offset, ce.Reason, size-ce.Offset
				}
				return off, false, nil
			}
			return off, false, l.truncateTail(f, ce, size, stats)
		}
		if err != nil {
			return 0, false, fmt.Errorf("wal: %s: %w", path, err)
		}
		if err := fn(Pos{Seq: seq, Offset: off}, payload); err != nil {
			return 0, false, fmt.Errorf("wal: replay stopped at %s offset %d: %w", path, off, err)
		}
		stats.Records++
		stats.PayloadBytes += int64(len(payload))
	}
}

// neverWritten reports whether a file with a bad header is a crash during
// creation: shorter than a header, or nothing but zeros.
func neverWritten(f vfs.File, size int64) (bool, error) {
	if size < fileHeaderSize {
		return true, nil
	}
	return isZero(f, 0, size)
}

func (l *Log) removeUnborn(path string, size int64, stats *ReplayStats) error {
	l.logger.Warn("wal: removing last file whose header was never written", "file", path, "bytes", size)
	if err := l.opts.FS.Remove(path); err != nil {
		return fmt.Errorf("wal: remove %s: %w", path, err)
	}
	stats.RemovedFile = path
	return l.syncDir()
}

// truncateTail cuts the last file at the first invalid frame. Only bytes
// written after the last successful sync can be invalid, and none of them
// was acknowledged.
func (l *Log) truncateTail(f vfs.File, ce *CorruptionError, size int64, stats *ReplayStats) error {
	dropped := size - ce.Offset
	zero := false
	if ce.Reason == reasonZeroFilled {
		var err error
		if zero, err = isZero(f, ce.Offset, size); err != nil {
			return err
		}
	}
	if err := f.Truncate(ce.Offset); err != nil {
		return fmt.Errorf("wal: truncate torn tail of %s at %d: %w", ce.File, ce.Offset, err)
	}
	if err := l.sync(f); err != nil {
		return fmt.Errorf("wal: sync %s after truncation: %w", ce.File, err)
	}
	if zero {
		stats.ZeroTailBytes = dropped
		l.logger.Info("wal: truncated preallocated zeros", "file", ce.File, "offset", ce.Offset, "bytes", dropped)
		return nil
	}
	stats.TornFile, stats.TornOffset, stats.TornReason, stats.TornBytes = ce.File, ce.Offset, ce.Reason, dropped
	l.logger.Warn("wal: truncated torn tail", "file", ce.File, "offset", ce.Offset, "reason", ce.Reason, "bytes_dropped", dropped)
	return nil
}
