package wal

import (
	"fmt"
)

// rotate seals the active file and creates the next one. It runs on the
// flusher. A failure poisons the log: there is no file left to append to.
func (l *Log) rotate() (uint64, error) {
	if err := l.poisoned(); err != nil {
		return 0, err
	}
	old := l.active
	if err := l.seal(old); err != nil {
		l.setPoison(err)
		return 0, err
	}
	next, err := l.createFile(old.seq + 1)
	if err != nil {
		l.setPoison(err)
		return 0, err
	}
	l.active = next
	l.size.Add(fileHeaderSize)
	l.filesMu.Lock()
	l.files = append(l.files, next.seq)
	l.filesMu.Unlock()
	return next.seq, nil
}

// RemoveBefore deletes the files with a seq smaller than seq, oldest first,
// syncing the directory after each removal so that a crash leaves a
// contiguous run of files. It refuses to delete the active file.
func (l *Log) RemoveBefore(seq uint64) error {
	l.mu.Lock()
	replayed, closed := l.replayed, l.closed
	l.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if l.opts.ReadOnly {
		return ErrReadOnly
	}
	if !replayed {
		return ErrNotReplayed
	}
	// removeMu serializes removers; filesMu is held only briefly so that a
	// rotation on the flusher never waits for our directory syncs.
	l.removeMu.Lock()
	defer l.removeMu.Unlock()
	l.filesMu.Lock()
	active := l.files[len(l.files)-1]
	var victims []uint64
	for _, s := range l.files {
		if s < seq {
			victims = append(victims, s)
		}
	}
	l.filesMu.Unlock()
	if seq > active {
		return fmt.Errorf("wal: RemoveBefore(%d) would remove the active file %d", seq, active)
	}
	// The span moves first: a crash during the removals leaves files older than its start,
	// which are replayed as before; a file missing inside it is then always an error.
	if len(victims) > 0 {
		if err := l.extendSpan(seq, 0); err != nil {
			return err
		}
	}
	for _, s := range victims {
		path := l.path(s)
		st, err := l.opts.FS.Stat(path)
		if err != nil {
			return fmt.Errorf("wal: stat %s before removal: %w", path, err)
		}
		if err := l.opts.FS.Remove(path); err != nil {
			return fmt.Errorf("wal: remove %s: %w", path, err)
		}
		l.filesMu.Lock()
		l.files = l.files[1:]
		l.filesMu.Unlock()
		l.size.Add(-st.Size())
		if err := l.syncDir(); err != nil {
			return err
		}
	}
	return nil
}
