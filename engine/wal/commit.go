package wal

import (
	"fmt"
	"github.com/authlake/authlake/internal/failpoint"
	"sync"
)

// request is one Append, AppendBatch or Rotate waiting for the flusher.
type request struct {
	payloads [][]byte
	crcs     []uint32 // computed by the caller, in parallel with other callers
	one      [1][]byte
	rotate   bool

	pos  Pos    // result: position of the first record
	seq  uint64 // result of a rotate: the new file's seq
	err  error
	done chan struct{}
}

var requestPool = sync.Pool{New: func() any { return &request{done: make(chan struct{}, 1)} }}

func getRequest() *request { return requestPool.Get().(*request) }

func putRequest(r *request) {
	r.one[0] = nil
	r.payloads, r.crcs = nil, r.crcs[:0]
	r.rotate, r.pos, r.seq, r.err = false, Pos{}, 0, nil
	requestPool.Put(r)
}

func (r *request) complete(err error) {
	r.err = err
	r.done <- struct{}{}
}

// directWriteMin is the payload size from which the flusher writes a payload
// from the caller's memory instead of copying it into the group buffer.
const directWriteMin = 256 << 10

// Append writes payload as one record and returns once it is durable. It
// blocks until the group commit it joined has been fdatasync'd. The caller
// may reuse payload after Append returns.
func (l *Log) Append(payload []byte) (Pos, error) {
	r := getRequest()
	r.one[0] = payload
	r.payloads = r.one[:]
	pos, err := l.submit(r)
	return pos, err
}

// AppendBatch writes payloads as consecutive records in one file and returns
// the position of the first once all are durable. Either all are
// acknowledged or none is (a crash during the call may still leave a prefix
// of them on disk, as with any unacknowledged append).
func (l *Log) AppendBatch(payloads [][]byte) (Pos, error) {
	if len(payloads) == 0 {
		return Pos{}, fmt.Errorf("wal: AppendBatch with no payloads")
	}
	r := getRequest()
	r.payloads = payloads
	return l.submit(r)
}

func (l *Log) submit(r *request) (Pos, error) {
	for _, p := range r.payloads {
		if len(p) > MaxRecordSize {
			putRequest(r)
			return Pos{}, fmt.Errorf("%w: %d bytes, limit %d", ErrRecordTooLarge, len(p), MaxRecordSize)
		}
		r.crcs = append(r.crcs, recordCRC(p))
	}
	if err := l.enqueue(r); err != nil {
		putRequest(r)
		return Pos{}, err
	}
	<-r.done
	pos, err := r.pos, r.err
	putRequest(r)
	return pos, err
}

// Rotate seals the active file (fdatasync) and starts a new one, returning
// its seq. Every Append that returned before Rotate was called is in a file
// with a smaller seq; every Append called after Rotate returned is in that
// file or a later one.
func (l *Log) Rotate() (uint64, error) {
	r := getRequest()
	r.rotate = true
	if err := l.enqueue(r); err != nil {
		putRequest(r)
		return 0, err
	}
	<-r.done
	seq, err := r.seq, r.err
	putRequest(r)
	return seq, err
}

func (l *Log) enqueue(r *request) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closing:
		return ErrClosed
	case l.opts.ReadOnly:
		return ErrReadOnly
	case !l.replayed:
		return ErrNotReplayed
	case l.poison != nil:
		return l.poison
	}
	l.queue = append(l.queue, r)
	l.cond.Signal()
	return nil
}

// run is the flusher: it takes everything queued, writes it, syncs once and
// acknowledges the lot. Appends arriving while it syncs form the next group.
func (l *Log) run() {
	defer close(l.done)
	var batch []*request
	for {
		l.mu.Lock()
		for len(l.queue) == 0 && !l.closing {
			l.cond.Wait()
		}
		if len(l.queue) == 0 {
			l.mu.Unlock()
			return
		}
		batch, l.queue = l.queue, batch[:0]
		l.mu.Unlock()
		l.process(batch)
		clear(batch)
	}
}

// process handles one batch in queue order. group holds the requests whose
// records are written (or buffered) but not yet synced.
func (l *Log) process(batch []*request) {
	group := l.group[:0]
	for _, r := range batch {
		if err := l.poisoned(); err != nil {
			r.complete(err)
			continue
		}
		if r.rotate {
			group = l.commit(group)
			seq, err := l.rotate()
			r.seq = seq
			r.complete(err)
			continue
		}
		if l.active.hasRecords() && l.active.size >= l.opts.SegmentSize {
			group = l.commit(group)
			if _, err := l.rotate(); err != nil {
				r.complete(err)
				continue
			}
		}
		r.pos = Pos{Seq: l.active.seq, Offset: l.active.size}
		for i, p := range r.payloads {
			l.buf = appendRecordHeader(l.buf, len(p), r.crcs[i])
			if len(p) >= directWriteMin {
				l.write(l.buf)
				l.write(p)
				l.buf = l.buf[:0]
			} else {
				l.buf = append(l.buf, p...)
			}
			l.active.size += recordHeaderSize + int64(len(p))
		}
		group = append(group, r)
	}
	l.group = l.commit(group)
}

// write writes b to the active file; a failure poisons the log, and every
// request of the current group then fails in commit.
func (l *Log) write(b []byte) {
	if len(b) == 0 || l.poisoned() != nil {
		return
	}
	if _, err := l.active.f.Write(b); err != nil {
		l.setPoison(fmt.Errorf("wal: write %s: %w", l.active.path, err))
		return
	}
	l.size.Add(int64(len(b)))
}

// commit writes the buffered bytes, syncs once and completes the group.
func (l *Log) commit(group []*request) []*request {
	if len(group) == 0 {
		return group
	}
	l.write(l.buf)
	l.buf = l.buf[:0]
	failpoint.Hit(failpoint.WALBeforeSync)
	if l.poisoned() == nil {
		if err := l.sync(l.active.f); err != nil {
			l.setPoison(fmt.Errorf("wal: fdatasync %s: %w", l.active.path, err))
		}
	}
	failpoint.Hit(failpoint.WALAfterSync)
	err := l.poisoned()
	for _, r := range group {
		r.complete(err)
	}
	clear(group)
	return group[:0]
}

// Poisoned is the write or sync failure that stopped the log, nil while it accepts appends.
// Only closing and reopening the log (which reads what is really on disk) clears it.
func (l *Log) Poisoned() error { return l.poisoned() }

func (l *Log) poisoned() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.poison
}

// setPoison records the first write or sync failure. After a failed fsync
// the kernel may have dropped the dirty pages and marked them clean, so a
// retry could "succeed" over lost data: the log refuses all further writes.
func (l *Log) setPoison(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.poison == nil {
		l.poison = err
		l.logger.Error("wal: log poisoned; every further append fails until reopened", "dir", l.dir, "err", err)
	}
}
