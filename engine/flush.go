package engine

import (
	"fmt"
	"github.com/authlake/authlake/internal/failpoint"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/internal/fsutil"
)

// Flush writes every memtable row to segments and drops the WAL files that held them. Ingest
// continues during a flush, into a fresh memtable.
func (db *DB) Flush() error {
	if db.opts.ReadOnly {
		return ErrReadOnly
	}
	db.flushMu.Lock()
	defer db.flushMu.Unlock()
	return db.flushLocked()
}

func (db *DB) flushLocked() error {
	// Freeze: with ingestMu held exclusively no ingest is between WAL append and memtable append,
	// so the rotated-away WAL files hold exactly the frozen rows (or rows already in segments).
	db.ingestMu.Lock()
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		db.ingestMu.Unlock()
		return ErrClosed
	}
	var frozen []*partition
	for _, p := range db.parts {
		if p.mem.rows == 0 {
			continue
		}
		p.frozen = append(p.frozen, p.mem)
		p.mem = newMemPart()
		frozen = append(frozen, p)
	}
	if len(frozen) == 0 {
		db.mu.Unlock()
		db.ingestMu.Unlock()
		return nil
	}
	frozenRows := db.memRows
	db.memRows = 0
	db.frozenBytes += db.memBytes
	db.memBytes = 0
	db.flushing = true
	db.mu.Unlock()
	seq, err := db.wal.Rotate()
	db.ingestMu.Unlock()
	defer func() {
		db.mu.Lock()
		db.flushing = false
		db.flushed.Broadcast()
		db.mu.Unlock()
	}()
	if err != nil {
		return fmt.Errorf("rotate WAL: %w", err)
	}
	start := time.Now()
	slices.SortFunc(frozen, func(a, b *partition) int {
		if a.key.tenant != b.key.tenant {
			if a.key.tenant < b.key.tenant {
				return -1
			}
			return 1
		}
		return int(a.key.day - b.key.day)
	})
	if err := db.flushPartitions(frozen); err != nil {
		return err
	}
	failpoint.Hit(failpoint.FlushInstalled)
	if err := db.wal.RemoveBefore(seq); err != nil {
		return fmt.Errorf("remove flushed WAL files: %w", err)
	}
	db.log.Debug("flushed memtable", "rows", frozenRows, "partitions", len(frozen), "took", time.Since(start))
	return nil
}

// flushPartitions writes each partition's frozen memtable as one segment (two at a time: the
// writer is itself parallel across columns), then installs them all with a single manifest write.
func (db *DB) flushPartitions(frozen []*partition) error {
	type out struct {
		p     *partition
		parts []*memPart
		seg   *segment
		err   error
	}
	outs := make([]out, len(frozen))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				p := frozen[i]
				db.mu.RLock()
				parts := slices.Clone(p.frozen)
				db.mu.RUnlock()
				var units []columnar.Unit
				for _, m := range parts {
					for _, c := range m.chunks {
						units = append(units, columnar.RecordUnit{Schema: db.schema, Rec: c})
					}
				}
				s, err := db.writeSegment(p.key, units, false)
				if err != nil {
					err = fmt.Errorf("flush tenant %s day %s: %w", p.key.tenant, dayString(p.key.day), err)
				}
				outs[i] = out{p: p, parts: parts, seg: s, err: err}
			}
		}()
	}
	for i := range frozen {
		next <- i
	}
	close(next)
	wg.Wait()
	var firstErr error
	for _, o := range outs {
		if o.err != nil && firstErr == nil {
			firstErr = o.err
		}
	}
	if firstErr != nil {
		// Nothing is installed: the frozen rows stay readable and in the WAL, and the files
		// written are not in the manifest (deleted at the next open).
		for _, o := range outs {
			if o.seg != nil {
				o.seg.unref()
				db.fs.Remove(o.seg.path)
				db.fs.Remove(o.seg.path + ".idx")
			}
		}
		return firstErr
	}
	// The manifest is saved under manMu alone: its fsync must not hold up queries and ingests,
	// which take db.mu. Until the install below they see the frozen rows, after it the segments.
	db.manMu.Lock()
	defer db.manMu.Unlock()
	prev := db.man.Segments
	next2 := slices.Clone(prev)
	for _, o := range outs {
		next2 = append(next2, o.seg.ms)
	}
	db.man.Segments = next2
	var written []string
	for _, o := range outs {
		written = append(written, o.seg.path, o.seg.path+".idx")
	}
	if err := db.saveManifest(written...); err != nil {
		db.man.Segments = prev
		for _, o := range outs {
			o.seg.unref()
		}
		return err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, o := range outs {
		o.p.segs = append(o.p.segs, o.seg)
		for _, m := range o.parts {
			m.release()
			db.frozenBytes -= m.bytes
		}
		o.p.frozen = o.p.frozen[len(o.parts):]
	}
	return nil
}

// writeSegment merges units into a new segment file with its index sidecar and opens it. The
// manifest is not changed here.
func (db *DB) writeSegment(k partKey, units []columnar.Unit, better bool) (*segment, error) {
	m, err := columnar.Merge(db.schema, units, db.opts.BlockRows)
	if err != nil {
		return nil, err
	}
	m.BetterCompression = better
	db.manMu.Lock()
	id := db.man.NextID
	db.man.NextID++
	db.manMu.Unlock()
	ms := manifestSegment{ID: id, Tenant: k.tenant, Day: k.day, Rows: m.Rows}
	path := filepath.Join(db.dir, ms.relPath())
	if err := fsutil.MkdirAllDurable(db.fs, filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	ib := newIndexBuilder(db.schema, m)
	meta, err := columnar.WriteSegment(db.fs, path, k.tenant, k.day, m, ib.visit)
	if err != nil {
		return nil, err
	}
	failpoint.Hit(failpoint.SegmentWritten)
	idxBytes, err := ib.finish()
	if err != nil {
		db.fs.Remove(path)
		return nil, err
	}
	if err := fsutil.WriteFileAtomic(db.fs, path+".idx", idxBytes, 0o644, false); err != nil {
		db.fs.Remove(path)
		return nil, err
	}
	if err := fsutil.SyncDir(db.fs, filepath.Dir(path)); err != nil {
		return nil, err
	}
	failpoint.Hit(failpoint.IndexWritten)
	var size int64
	for _, c := range meta.Columns {
		size += int64(c.Length)
	}
	if st, err := db.fs.Stat(path); err == nil {
		size = st.Size()
	}
	ms.Bytes = size
	ms.Index = int64(len(idxBytes))
	ms.BlockRows, ms.MinTime, ms.MaxTime = meta.BlockRows, meta.MinTime, meta.MaxTime
	return openSegment(db.fs, db.dir, ms, db.schema, db.cache, db.resident, false)
}
