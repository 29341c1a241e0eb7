// Package wal is the engine's write-ahead log: an append-only sequence of
// files of checksummed, opaque records. Append returns only after the record
// is fdatasync'd, so an acknowledged ingest survives kill -9 and power loss;
// concurrent appends share one write and one sync (group commit). On open the
// engine replays every record in order, then drops files whose contents have
// reached segment files with Rotate and RemoveBefore.
//
// The on-disk format is specified in docs/format/wal.md.
package wal

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/authlake/authlake/internal/fsutil"
	"github.com/authlake/authlake/internal/vfs"
)

// DefaultSegmentSize is the file size after which the log rotates.
const DefaultSegmentSize = 128 << 20

// Errors returned by Log methods; test with errors.Is.
var (
	ErrClosed         = errors.New("wal: log is closed")
	ErrNotReplayed    = errors.New("wal: Replay must be called once after Open, before Append")
	ErrReplayed       = errors.New("wal: Replay already called")
	ErrRecordTooLarge = errors.New("wal: record exceeds MaxRecordSize")
	ErrLocked         = errors.New("wal: directory is locked by another process")
	ErrReadOnly       = errors.New("wal: log is open read-only")
)

// Options configure a Log. The zero value is the production configuration.
type Options struct {
	// SegmentSize is the size after which the active file is sealed and a new
	// one started. The check happens before each Append, so a file may exceed
	// it by one Append. Zero means DefaultSegmentSize.
	SegmentSize int64

	// NoSync skips fdatasync. DANGER: an acknowledged Append is then only in
	// the page cache and is lost on power loss or a kernel crash (kill -9 of
	// the process alone still keeps it). For tests and benchmarks only.
	NoSync bool

	// Logger receives torn-tail warnings during Replay. Nil means slog.Default().
	Logger *slog.Logger

	// ReadOnly replays without changing anything on disk: a torn tail is skipped, not
	// truncated, no new file is started, and Append, Rotate and RemoveBefore return
	// ErrReadOnly. Read-only commands use it, so reading can never destroy evidence.
	ReadOnly bool

	// NoLock skips the directory lock: for a read-only reader beside the process that writes
	// the log (the engine's snapshot readers). Only with ReadOnly.
	NoLock bool

	// FS is the file system the log lives on; nil is the operating system's. Tests give a
	// crashable or error-injecting one (internal/vfs).
	FS vfs.FS
}

// Pos is the position of a record: the file it is in and the offset of its
// frame within that file. Positions increase in append order.
type Pos struct {
	Seq    uint64
	Offset int64
}

// Log is a write-ahead log in one directory. Append, AppendBatch, Rotate,
// RemoveBefore and Size are safe for concurrent use.
type Log struct {
	dir    string
	opts   Options
	logger *slog.Logger
	lock   vfs.File

	size atomic.Int64 // bytes of all files, preallocated zeros excluded

	// filesMu guards files: the seqs of all files on disk, ascending, the
	// last one being the active file once Replay has run.
	filesMu  sync.Mutex
	files    []uint64
	removeMu sync.Mutex // serializes RemoveBefore

	spanMu sync.Mutex // guards span and the span file
	span   span       // as last written (or found at Open)

	// mu guards the queue handed to the flusher and the lifecycle flags.
	mu       sync.Mutex
	cond     *sync.Cond // signalled when queue grows or closing is set
	queue    []*request
	replayed bool
	closing  bool
	closed   bool
	poison   error // first write or sync failure; permanent
	done     chan struct{}

	// Owned by the flusher goroutine after Replay.
	active *activeFile
	buf    []byte     // group buffer of small records
	group  []*request // written, waiting for the group's sync
}

// Open locks dir (creating it if needed) and lists its WAL files. Call
// Replay next, even on an empty directory: it starts the active file.
func Open(dir string, opts Options) (*Log, error) {
	if opts.SegmentSize < 0 {
		return nil, fmt.Errorf("wal: negative SegmentSize %d", opts.SegmentSize)
	}
	if opts.SegmentSize == 0 {
		opts.SegmentSize = DefaultSegmentSize
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.FS == nil {
		opts.FS = vfs.Default
	}
	if opts.ReadOnly {
		if _, err := opts.FS.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			// Nothing was ever logged: an empty log, and nothing created to say so.
			l := &Log{dir: dir, opts: opts, logger: opts.Logger, done: make(chan struct{})}
			l.cond = sync.NewCond(&l.mu)
			return l, nil
		}
	} else if err := fsutil.MkdirAllDurable(opts.FS, dir, 0o755); err != nil {
		return nil, fmt.Errorf("wal: create directory: %w", err)
	}
	if opts.NoLock && !opts.ReadOnly {
		return nil, errors.New("wal: NoLock needs ReadOnly")
	}
	var lock vfs.File
	if !opts.NoLock {
		l, err := lockDir(opts.FS, dir)
		if err != nil {
			return nil, err
		}
		lock = l
	}
	files, err := listFiles(opts.FS, dir)
	var sp span
	if err == nil {
		sp, err = checkSpan(opts.FS, dir, files)
	}
	if err != nil {
		if lock != nil {
			_ = lock.Close()
		}
		return nil, err
	}
	l := &Log{dir: dir, opts: opts, logger: opts.Logger, lock: lock, files: files, span: sp, done: make(chan struct{})}
	l.cond = sync.NewCond(&l.mu)
	return l, nil
}

// listFiles returns the seqs of the WAL files in dir, ascending, and checks
// that they are consecutive: a gap means a file holding acknowledged records
// is missing.
func listFiles(fsys vfs.FS, dir string) ([]uint64, error) {
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("wal: list directory: %w", err)
	}
	var seqs []uint64
	for _, e := range entries {
		seq, ok, err := parseFileName(e.Name())
		if err != nil {
			return nil, fmt.Errorf("wal: %s: %w", dir, err)
		}
		if ok {
			seqs = append(seqs, seq)
		}
	}
	slices.Sort(seqs)
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			return nil, fmt.Errorf("wal: %s: missing file between %s and %s", dir, fileName(seqs[i-1]), fileName(seqs[i]))
		}
	}
	return seqs, nil
}

// Size returns the bytes held by all WAL files, excluding preallocated space.
func (l *Log) Size() int64 { return l.size.Load() }

// Close waits for queued appends to become durable, seals the active file
// and releases the directory lock. Appends that start after Close return
// ErrClosed. It returns the log's poison error, if any, or the first error
// met while sealing.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	l.closing = true
	running := l.replayed && l.active != nil
	l.cond.Broadcast()
	l.mu.Unlock()

	var err error
	if running {
		<-l.done
		l.mu.Lock()
		err = l.poison
		l.mu.Unlock()
		if err != nil {
			// Poisoned: the file's state on disk is unknown, so leave its
			// tail for Replay to judge rather than truncating it.
			_ = l.active.f.Close()
		} else {
			err = l.seal(l.active)
		}
	}
	if l.lock == nil {
		return err
	}
	if cerr := l.lock.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("wal: release lock: %w", cerr)
	}
	return err
}

func (l *Log) path(seq uint64) string { return l.dir + string(os.PathSeparator) + fileName(seq) }
