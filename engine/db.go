// Package engine is the database: Open, tenants, the write-ahead log, the memtable, flushes,
// compaction, retention, snapshots and recovery, and the public embedded API. It turns bytes
// decoded by columnar into durable, indexed segments and hands consistent snapshots of segments
// and memtable to the query layer. It knows nothing about HTTP.
//
// Heavy CPU work (query scans, one token per block; ingest decoding, one per IngestChunk
// records) passes through a pool of CPU tokens, Options.CPU or the process-wide
// DefaultCPUPool of GOMAXPROCS tokens. An embedder that serves cheap requests beside heavy
// work registers them with CPUPool().Interactive(ctx) and runs them with the returned
// context: heavy work then leaves them a core. NewCPUPool(0) disables the pool.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/engine/wal"
	"github.com/authlake/authlake/index"
	"github.com/authlake/authlake/internal/cpu"
	"github.com/authlake/authlake/internal/fsutil"
	"github.com/authlake/authlake/internal/vfs"
)

// Options configure a DB. The zero value is usable.
type Options struct {
	// MemoryLimit is the database's memory budget in bytes (default DefaultMemoryLimit). The
	// memtable, the decoded-block cache and merges are sized from it (see memoryBudget); a
	// process should also give the Go runtime a soft limit near it (the CLI sets GOMEMLIMIT to
	// it), so that garbage does not pile up above what the engine holds.
	MemoryLimit int64
	// MemtableRows also triggers a flush when the memtable holds this many rows (default
	// 1,000,000), whatever their size; the memory budget usually triggers first.
	MemtableRows int
	// MemtableAge triggers a flush when the oldest unflushed row is this old (default 5 minutes).
	MemtableAge time.Duration
	// Retention keeps this many days of events per tenant (default 30); whole UTC days older
	// than that are dropped. TenantRetention overrides it per tenant. Negative keeps forever.
	Retention       int
	TenantRetention map[string]int
	// CompactMinSegments merges a day's segments once it has this many (default 4).
	CompactMinSegments int
	// BlockRows is the segment block size (default columnar.DefaultBlockRows), at most
	// index.MaxBlockRows.
	BlockRows int
	// CacheBytes bounds the decoded-block cache (default: an eighth of MemoryLimit).
	CacheBytes int64
	// NoSync skips fsync in the WAL. Only for tests and benchmarks that measure something else:
	// with it, acknowledged events can be lost on power failure.
	NoSync bool
	// Now is the database's clock: retention, flush age, and the clock that features built on
	// the DB (the server, flagging, Identity Protection, the diagnostic) use unless told
	// otherwise. Default time.Now.
	Now func() time.Time
	// Logger receives warnings (torn WAL tails, dropped partitions). Default slog.Default().
	Logger *slog.Logger
	// DisableBackground turns off the background flush/compaction/retention loop (tests drive
	// Flush and Compact explicitly).
	DisableBackground bool
	// FS is the file system the database lives on: nil is the operating system's. The
	// power-loss and disk-full tests give a crashable or error-injecting one (internal/vfs).
	FS vfs.FS
	// ReadOnly opens the database without changing anything on disk: no leftover is removed,
	// a torn WAL tail is skipped rather than truncated, no WAL file is started, and Ingest,
	// Flush, Compact and EnforceRetention return ErrReadOnly. Read-only commands use it, so
	// that reading can never destroy data or evidence. It implies DisableBackground.
	ReadOnly bool
	// Trust lets a home tenant accept other tenants' reports of its users' sign-ins: with
	// Trust[A] = [B], a sign-in of a user of A into B that is ingested into B's log is also
	// copied for A, marked "@authlake.reportedBy": B, and read as part of A's log unless A's own
	// log holds an event with the same id (see homecopy.go). Without an entry nothing another
	// tenant ingests reaches A's log. It governs reads too: removing it hides stored copies.
	Trust map[string][]string
	// CPU is the pool of CPU tokens the database's heavy work passes through: query scans take
	// one per block, ingest one per IngestChunk records decoded, a flush one per segment
	// written. nil uses the process-wide pool (DefaultCPUPool, GOMAXPROCS tokens);
	// NewCPUPool(0) disables it. A server registers its cheap requests as interactive work on
	// the same pool, so that heavy work leaves them a core (see internal/cpu).
	CPU *CPUPool
}

// CPUPool is a pool of CPU tokens for heavy work, with room kept for interactive work.
type CPUPool = cpu.Pool

// NewCPUPool returns a pool of n tokens; n <= 0 returns a disabled pool.
func NewCPUPool(n int) *CPUPool { return cpu.New(n) }

// DefaultCPUPool returns the process-wide pool that Options.CPU == nil means.
func DefaultCPUPool() *CPUPool { return cpu.Default() }

// SetDefaultCPUPool replaces the process-wide pool (NewCPUPool(0) disables it) and returns
// the previous one.
func SetDefaultCPUPool(p *CPUPool) *CPUPool { return cpu.SetDefault(p) }

// cpu returns the pool the database's heavy work uses.
func (db *DB) cpu() *cpu.Pool {
	if db.opts.CPU != nil {
		return db.opts.CPU
	}
	return cpu.Default()
}

func (o *Options) fill() {
	if o.MemtableRows <= 0 {
		o.MemtableRows = 1_000_000
	}
	if o.MemtableAge <= 0 {
		o.MemtableAge = 5 * time.Minute
	}
	if o.Retention == 0 {
		o.Retention = 30
	}
	if o.CompactMinSegments <= 1 {
		o.CompactMinSegments = 4
	}
	if o.BlockRows <= 0 {
		o.BlockRows = columnar.DefaultBlockRows
	}
	if o.MemoryLimit <= 0 {
		o.MemoryLimit = DefaultMemoryLimit
	}
	if o.CacheBytes <= 0 {
		o.CacheBytes = budgetOf(o.MemoryLimit).cache
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.FS == nil {
		o.FS = vfs.Default
	}
}

// DB is an open database directory. It is safe for concurrent use. One process at a time may
// open a directory (an exclusive lock on DIR/LOCK).
type DB struct {
	dir    string
	opts   Options
	schema *columnar.Schema
	fs     vfs.FS
	lock   vfs.File
	wal    *wal.Log
	cache  *columnar.BlockCache
	log    *slog.Logger
	// resident bounds the index sections segments keep in memory after use (budget.index).
	resident *index.Resident

	// hints are what ingest calls learned about their chunks' sizes (its own lock).
	hints sizeHints

	// ingestMu is held shared by each ingest from dedup to memtable append, and exclusively by
	// the flush freeze, so a WAL rotation never separates a record from its memtable rows.
	ingestMu sync.RWMutex

	// manMu guards man and orphans, and is held across a manifest save (its fsync), so that
	// no query or ingest waits for one; it is taken before mu when both are.
	manMu sync.Mutex
	// orphans are segment files written for a manifest change whose save failed (saveManifest).
	orphans []string
	mu      sync.RWMutex // guards parts, memRows, memBytes, frozenBytes, flushing, closed
	parts   map[partKey]*partition
	man     *manifest
	// retention is the manifest's retention settings, readable without db.mu (ingest's
	// decode phase checks them lock-free); replaced whole by SetRetention.
	retention atomic.Pointer[retentionSettings]
	memRows   int
	// memBytes is what the active memtable holds (columnar.RecordBytes plus memRowOverhead a
	// row), frozenBytes what the memtables being flushed still hold; budget says where a flush
	// starts and where ingest waits.
	memBytes, frozenBytes int64
	budget                memoryBudget
	oldest                time.Time // arrival time of the oldest unflushed row
	lastIngest            time.Time // when rows were last published (the compactor's idleness)
	flushing              bool
	flushed               *sync.Cond // signalled when a flush finishes (backpressure waiters)
	// roomWaiters counts ingests waiting for room (tests wait for a waiter by state, not time).
	roomWaiters int
	closed      bool
	flagger     Flagger

	trust     trustSet                   // Options.Trust, checked
	homes     map[string]*homeCopies     // per home tenant holding copies (guarded by mu)
	copyEpoch uint64                     // numbers homeCopies and tenantVersions derivations (guarded by mu)
	versions  map[string]*tenantVersions // per tenant with later versions of sign-ins (guarded by mu)
	// pendingOwn holds the own-log rows that ingests reserved and have not published yet, in
	// their call's chunk: a concurrent record with the same id compares with them (guarded by mu).
	pendingOwn map[ownID]storedRow

	// flushMu serializes flushes (and the WAL's healing, which swaps the log a flush rotates);
	// compactMu serializes compactions and retention. A flush never waits for a merge, which
	// can take minutes on a big day: ingest's backpressure would stall behind it. Retention
	// holds both (it drops the partitions flushes install into). Lock order: compactMu,
	// flushMu, manMu, mu.
	flushMu   sync.Mutex
	compactMu sync.Mutex
	healMu    sync.Mutex // guards lastHeal
	lastHeal  time.Time  // last attempt to reopen a poisoned WAL (durability.go)
	stop      chan struct{}
	// closing is done once Close starts (cause ErrClosed): merges in progress stop at their next
	// block instead of making Close wait minutes for a whole-day merge.
	closing     context.Context
	stopClosing context.CancelCauseFunc
	kick        chan struct{}
	bg          sync.WaitGroup
}

type partKey struct {
	tenant string
	day    int32
}

// Now reads the database's clock (Options.Now).
func (db *DB) Now() time.Time { return db.opts.Now() }

// ErrLocked is returned by Open when another process holds the directory.
var ErrLocked = errors.New("data directory is locked by another authlake process")

// ErrClosed is returned by calls on a closed DB.
var ErrClosed = errors.New("database is closed")

// ErrReadOnly is returned by calls that would write to a database opened with ReadOnly.
var ErrReadOnly = errors.New("database is open read-only")

// Open opens (creating if needed) the database in dir, recovers it (deleting leftovers of an
// interrupted flush or compaction, replaying the WAL) and starts background maintenance.
func Open(dir string, opts Options) (*DB, error) {
	opts.fill()
	if opts.BlockRows > index.MaxBlockRows {
		return nil, fmt.Errorf("engine: blocks of %d rows: at most %d (an index sidecar stores a block's rows in 24 bits)", opts.BlockRows, index.MaxBlockRows)
	}
	if opts.ReadOnly {
		opts.DisableBackground = true
	}
	trust, err := newTrustSet(opts.Trust)
	if err != nil {
		return nil, err
	}
	if opts.ReadOnly {
		return openReadOnly(dir, opts, trust)
	}
	if err := fsutil.MkdirAllDurable(opts.FS, dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	lock, err := lockDir(opts.FS, dir)
	if err != nil {
		return nil, err
	}
	return open(dir, opts, trust, lock)
}

// open recovers the database in dir, holding lock (nil for a reader beside a writer).
func open(dir string, opts Options, trust trustSet, lock vfs.File) (*DB, error) {
	budget := budgetOf(opts.MemoryLimit)
	db := &DB{
		dir: dir, fs: opts.FS, opts: opts, schema: columnar.SignIns, lock: lock, log: opts.Logger,
		cache: columnar.NewBlockCache(opts.CacheBytes), budget: budget,
		resident: index.NewResident(budget.index),
		parts:    map[partKey]*partition{},
		stop:     make(chan struct{}), kick: make(chan struct{}, 1),
		trust: trust, homes: map[string]*homeCopies{}, versions: map[string]*tenantVersions{}, pendingOwn: map[ownID]storedRow{},
	}
	db.flushed = sync.NewCond(&db.mu)
	db.closing, db.stopClosing = context.WithCancelCause(context.Background())
	if err := db.recover(); err != nil {
		db.closeFiles()
		return nil, err
	}
	db.mu.Lock()
	err := db.rebuildHomes(nil)
	if err == nil {
		err = db.rebuildVersions(nil)
	}
	db.mu.Unlock()
	if err != nil {
		db.closeFiles()
		return nil, err
	}
	if lock != nil && !opts.ReadOnly && db.memRows > 0 {
		// Recovery ends with a flush of what the WAL replayed (as RocksDB flushes recovered
		// memtables): those rows outlived a crash, and a process that restarts often (a crash
		// loop, an orchestrator killing it) would otherwise carry a growing WAL from life to
		// life, replaying more of it at every start and never living long enough to flush it
		// (a kill -9 soak's server took over a minute to start after 684 rounds, its WAL 1.1 GB
		// in 506 files and not one segment). A failure here is not the open's: the rows stay
		// in the WAL and the background loop retries.
		if ferr := db.Flush(); ferr != nil {
			db.log.Warn("flush of the rows replayed from the WAL failed; they stay in the WAL", "err", ferr)
		}
	}
	if !opts.DisableBackground {
		db.bg.Add(1)
		go db.maintain()
	}
	return db, nil
}

// lockName is the writer's lock file in a database directory (flock(2), with its pid).
const lockName = "LOCK"

// lockDir takes the directory's exclusive lock (the writer's; readers take none) and records
// the writer's pid in the lock file, for the message another writer gets.
func lockDir(fsys vfs.FS, dir string) (vfs.File, error) {
	path := filepath.Join(dir, lockName)
	f, err := fsys.Lock(path)
	if errors.Is(err, vfs.ErrLocked) {
		owner, _ := vfs.ReadFile(fsys, path)
		return nil, fmt.Errorf("%w (%s, held by pid %s)", ErrLocked, dir, strings.TrimSpace(string(owner)))
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(fmt.Sprintf("%d\n", os.Getpid())), 0)
	return f, nil
}

func (db *DB) recover() error {
	man, err := loadManifest(db.fs, db.dir)
	if err != nil {
		return err
	}
	db.man = man
	if man.Retention != nil {
		r := man.Retention
		db.retention.Store(&r)
	}
	live := map[string]bool{}
	for i, ms := range man.Segments {
		s, err := openSegment(db.fs, db.dir, ms, db.schema, db.cache, db.resident, db.lock == nil)
		if err != nil {
			return fmt.Errorf("open segment %d of tenant %s day %s: %w", ms.ID, ms.Tenant, dayString(ms.Day), err)
		}
		if !ms.cataloged() {
			// A manifest of an earlier version: its footer was read now; the snapshot a
			// read-write open writes records what a lazy open needs.
			m := s.seg.Meta
			man.Segments[i].BlockRows, man.Segments[i].MinTime, man.Segments[i].MaxTime = m.BlockRows, m.MinTime, m.MaxTime
			man.Segments[i].Bytes = s.seg.Size()
			s.ms = man.Segments[i]
		}
		p := db.partition(partKey{ms.Tenant, ms.Day})
		p.segs = append(p.segs, s)
		live[s.path] = true
		live[s.path+".idx"] = true
	}
	// Files the manifest does not name are leftovers of an interrupted flush or compaction
	// (the manifest is known to be there: loadManifest refuses a database that lost it). A
	// read-only open leaves them.
	if !db.opts.ReadOnly {
		root := filepath.Join(db.dir, "segments")
		vfs.WalkFiles(db.fs, root, func(path string) error {
			if !live[path] {
				db.log.Warn("removing segment file not in the manifest (interrupted flush or compaction)", "file", path)
				db.fs.Remove(path)
			}
			return nil
		})
	}
	w, err := wal.Open(filepath.Join(db.dir, "wal"), db.walOptions())
	if err != nil {
		return err
	}
	db.wal = w
	stats, err := w.Replay(func(pos wal.Pos, payload []byte) error {
		if err := db.replay(payload); err != nil {
			return fmt.Errorf("WAL record at %d:%d: %w", pos.Seq, pos.Offset, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replay WAL: %w", err)
	}
	// Beside a live writer, the end of its active file is being written: a partial record there
	// is the writer's business, not damage.
	if stats.TornBytes > 0 && db.lock != nil {
		what := "it was truncated"
		if db.opts.ReadOnly {
			what = "it was skipped (read-only: the file is unchanged)"
		}
		db.log.Warn("WAL had a torn tail (a write interrupted by a crash, with no valid record after it); "+what+", no acknowledged event is affected",
			"file", stats.TornFile, "offset", stats.TornOffset, "bytes", stats.TornBytes, "reason", stats.TornReason)
	}
	if !db.opts.ReadOnly {
		// Only now that everything replayed: an open that fails changes nothing.
		return db.man.openLog(db.fs, db.dir)
	}
	return nil
}

func (db *DB) partition(k partKey) *partition {
	p := db.parts[k]
	if p == nil {
		p = &partition{key: k, mem: newMemPart()}
		db.parts[k] = p
	}
	return p
}

// Close flushes nothing (the WAL already holds every acknowledged event), stops background work
// and closes files.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return ErrClosed
	}
	db.closed = true
	db.flushed.Broadcast()
	db.mu.Unlock()
	db.stopClosing(ErrClosed)
	close(db.stop)
	db.bg.Wait()
	db.compactMu.Lock()
	defer db.compactMu.Unlock()
	db.flushMu.Lock()
	defer db.flushMu.Unlock()
	return db.closeFiles()
}

func (db *DB) closeFiles() error {
	var errs []error
	if db.wal != nil {
		errs = append(errs, db.wal.Close())
	}
	errs = append(errs, db.man.close())
	for _, p := range db.parts {
		for _, s := range p.segs {
			s.unref()
		}
		p.segs = nil
		p.mem.release()
		for _, f := range p.frozen {
			f.release()
		}
	}
	if db.lock != nil {
		errs = append(errs, db.lock.Close())
	}
	return errors.Join(errs...)
}

// Dir is the database directory.
func (db *DB) Dir() string { return db.dir }

// Tenants lists the tenants whose own logs have events, sorted.
func (db *DB) Tenants() []string {
	db.mu.RLock()
	defer db.mu.RUnlock()
	seen := map[string]bool{}
	for k, p := range db.parts {
		if !p.empty() && !strings.Contains(k.tenant, copySep) {
			seen[namespaceOwner(k.tenant)] = true
		}
	}
	out := make([]string, 0, len(seen))
	for t := range seen {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

func dayOf(ns int64) int32 { return int32(floorDiv(ns, int64(24*time.Hour))) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func dayString(d int32) string {
	return time.Unix(int64(d)*86400, 0).UTC().Format("2006-01-02")
}

// DayTime is the start of a UTC day number.
func DayTime(d int32) time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// validTenant keeps tenant names safe as directory names.
func validTenant(t string) bool {
	if t == "" || len(t) > maxTenantLen || t == "." || t == ".." {
		return false
	}
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// CPUPool returns the pool of CPU tokens the database's heavy work passes through
// (Options.CPU, or the process-wide pool). A server registers its cheap requests on it.
func (db *DB) CPUPool() *CPUPool { return db.cpu() }
