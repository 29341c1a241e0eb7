package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/columnar/input"
)

// Record is one sign-in to ingest: its raw JSON and, for Azure Monitor diagnostic-settings input,
// the record's category (which carries the event type).
type Record struct {
	Raw      []byte
	Category string
	// Unchecked says Raw is a line framed by its line alone (input.Record.Unchecked). The
	// engine stores it as it is only if it is one sign-in object its decoder takes whole;
	// otherwise it has the caller frame it again (IngestOptions.Reframe).
	Unchecked bool
}

// IngestOptions apply to one Ingest call.
type IngestOptions struct {
	// Tenant is the tenant whose log the events belong to; "" means each event's
	// resourceTenantId. Nothing is written to any other tenant's log, except a marked copy of
	// a cross-tenant sign-in into Tenant for a home tenant that trusts it (Options.Trust).
	Tenant string
	// NoWait returns ErrBackpressure instead of waiting when ingest outruns flushing.
	NoWait bool
	// Reframe frames again, with a JSON scanner (input.Reframe), the Record.Unchecked record
	// at index i that the decoder did not take whole, and returns the good records that gives,
	// in order: they are ingested in its place, before the records after it, and the result
	// counts them (IngestResult) instead of it. Reporting what the scanner rejects is the
	// caller's. A call with Unchecked records must set it.
	Reframe func(i int) ([]Record, error)
}

// Reject is a record that was not stored, and why.
type Reject struct {
	Index  int // position in the Ingest call's records
	Reason string
}

// IngestResult counts what happened to each record of an Ingest call. Every record is in
// exactly one of Accepted, Updated, Duplicates or Rejected, but an Unchecked record framed
// again, which is replaced by the records IngestOptions.Reframe gave for it: their Reject
// indexes follow the call's records, in the order they were given.
type IngestResult struct {
	Accepted int // new sign-ins
	// Updated records were stored as a later version of a sign-in the tenant stores with
	// other content (docs/versions.md): reads see them instead of the earlier versions.
	Updated    int
	Duplicates int // the same content is stored already (or came earlier in the call)
	Rejected   []Reject
}

// ErrBackpressure means the memtable is full while a flush is running; retry later.
var ErrBackpressure = errors.New("ingest is ahead of flushing; retry later")

// Flagger decides, at ingest, whether an event is inside an active flagging window. Its decision
// is logged in the WAL, so replay reproduces it.
type Flagger func(tenant string, row *columnar.Row) bool

var (
	colResourceTenant, _ = columnar.SignIns.Lookup("resourceTenantId")
	colHomeTenant, _     = columnar.SignIns.Lookup("homeTenantId")
	colFlagged, _        = columnar.SignIns.Lookup("flaggedForReview")
	colID, _             = columnar.SignIns.Lookup("id")
)

type decodeState struct {
	dec *columnar.Decoder
	row *columnar.Row
}

// sizeHints are what the last ingest call learned about its chunks, for the next call to
// reserve by. They live in the DB, not in the pooled decodeState: the pool is emptied at every
// garbage collection, and a fresh state reserved as if it knew nothing.
type sizeHints struct {
	mu    sync.Mutex
	sizes columnar.RowSizes // what a row of each column took
	rows  map[partKey]int   // how many rows each partition's chunk took
}

// take returns a copy of the hints for one call to learn in.
func (h *sizeHints) take() (columnar.RowSizes, map[partKey]int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sizes.Clone(), h.rows
}

// keep records what a call learned (concurrent calls: the last to finish).
func (h *sizeHints) keep(sizes columnar.RowSizes, rows map[partKey]int) {
	h.mu.Lock()
	h.sizes, h.rows = sizes, rows
	h.mu.Unlock()
}

// firstRoom is how many rows a call's new chunk builder reserves when rest records are left;
// last is what the partition's chunk took in the last call (known says whether it had one),
// first whether this is the call's first chunk. Reserving is clearing memory, so the room
// should be what the chunk will take. Input sorted by time (a generator, a day's export) puts
// most of a call in one partition, the first: room for the rest of the call saves regrowth.
// Input of many days mixed (a Log Analytics export, several streams interleaved) spreads a
// call over tens of partitions, and room for the rest of the call in each cleared memory for
// tens of calls: 24% of a one-core ingest of shuffled events. So a partition seen in the last
// call starts at what it took then (and a quarter more), a new one after the first at
// IngestChunk rows, and a builder doubles when full.
func firstRoom(rest, last int, known, first bool) int {
	switch {
	case known:
		return min(rest, max(IngestChunk, last+last/4))
	case first:
		return rest
	default:
		return min(rest, IngestChunk)
	}
}

var decoders = sync.Pool{New: func() any {
	return &decodeState{dec: columnar.NewDecoder(columnar.SignIns), row: columnar.NewRow(columnar.SignIns)}
}}

// SetFlagger installs the flagging decision (see the flagging feature). nil disables it.
func (db *DB) SetFlagger(f Flagger) {
	db.mu.Lock()
	db.flagger = f
	db.mu.Unlock()
}

// Ingest stores records. When it returns nil, every accepted record is durable (in the fsync'd
// WAL) and visible to new snapshots. Records already stored for their tenant count as
// duplicates and are not stored twice; malformed records are rejected with a reason while the
// others are stored.
func (db *DB) Ingest(recs []Record, opts IngestOptions) (IngestResult, error) {
	return db.IngestContext(context.Background(), recs, opts)
}

// IngestContext is Ingest whose wait for room (backpressure, see IngestOptions.NoWait) ends
// when ctx does, with ctx's error and nothing stored: a log pipeline shutting down, or an HTTP
// client that went away, does not stay blocked behind a flush. Once the records are being
// written, the call completes (it is durable or it fails) whatever ctx does.
func (db *DB) IngestContext(ctx context.Context, recs []Record, opts IngestOptions) (IngestResult, error) {
	if db.opts.ReadOnly {
		return IngestResult{}, ErrReadOnly
	}
	if err := db.healWAL(); err != nil {
		return IngestResult{}, err
	}
	if opts.Tenant != "" && !validTenant(opts.Tenant) {
		return IngestResult{}, fmt.Errorf("invalid tenant %q: use letters, digits, '-', '_' or '.'", opts.Tenant)
	}
	entries := make([]entry, len(recs))
	for i, r := range recs {
		if r.Unchecked && opts.Reframe == nil {
			return IngestResult{}, fmt.Errorf("record %d is Unchecked and IngestOptions.Reframe is not set", i)
		}
		entries[i] = entry{Tenant: opts.Tenant, Category: r.Category, Raw: r.Raw, Unchecked: r.Unchecked}
	}
	if err := db.waitForRoom(ctx, opts.NoWait); err != nil {
		return IngestResult{}, err
	}
	return db.apply(ctx, entries, opts.Reframe)
}

// waitForRoom applies backpressure: once the memtable and the one being flushed hold the
// memtable's share of the memory budget (or twice MemtableRows), new ingests wait for the flush
// (or fail with ErrBackpressure) instead of growing memory unboundedly.
// It waits whether or not a flush is already running: a long compaction holds the maintenance
// lock, and ingest that ran on meanwhile once filled 24 GB (100M events, a 3M-row day merging).
// Without the background loop only an explicit Flush drains the memtable, so there it waits only
// while one runs.
func (db *DB) waitForRoom(ctx context.Context, noWait bool) error {
	// A cancelled ctx wakes the waiters, so that this one sees ctx.Err.
	stop := context.AfterFunc(ctx, func() {
		db.mu.Lock()
		db.flushed.Broadcast()
		db.mu.Unlock()
	})
	defer stop()
	db.mu.Lock()
	defer db.mu.Unlock()
	for db.memtableOver() && (db.flushing || !db.opts.DisableBackground) && !db.closed {
		if noWait {
			return ErrBackpressure
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		db.roomWaiters++
		db.flushed.Wait()
		db.roomWaiters--
	}
	if db.closed {
		return ErrClosed
	}
	return nil
}

// pending is one decoded copy of a record destined for a partition.
type pending struct {
	entry int
	key   partKey
	id    [16]byte
	ns    int64
	row   int // row in the call-local chunk of key
	// version is the version a replayed row of a versions partition says it is.
	version int
}

// entry is one record of an Ingest call with the tenant it is ingested for.
type entry struct {
	Tenant    string
	Category  string
	Raw       []byte
	Unchecked bool // Record.Unchecked
}

// IngestChunk is how many records an ingest call decodes between passes through the CPU
// pool: at 5-10 µs a record (5.5-KB events), about a millisecond.
const IngestChunk = 128

// apply decodes entries into per-partition chunks (no locks held), then commits them.
func (db *DB) apply(ctx context.Context, entries []entry, reframe func(int) ([]Record, error)) (IngestResult, error) {
	var res IngestResult
	ds := decoders.Get().(*decodeState)
	defer decoders.Put(ds)

	db.mu.RLock()
	flagger := db.flagger
	closed := db.closed
	db.mu.RUnlock()
	if closed {
		return res, ErrClosed
	}
	now := db.opts.Now()

	// Phase 1, no locks: decode into call-local chunk builders, one per partition.
	builders := map[partKey]*columnar.Builder{}
	sizes, lastRows := db.hints.take()
	pend := make([]pending, 0, len(entries))     // a row each, rarely two (a home copy)
	local := map[partKey]map[[16]byte]struct{}{} // copies of one id inside this call
	targets := make([]string, 0, 2)
	// Decoding is heavy work: it holds a CPU token (internal/cpu) and passes through the pool
	// every IngestChunk records, about a millisecond of decoding.
	pool := db.cpu()
	if err := pool.Acquire(ctx); err != nil {
		return res, err
	}
	holding := true
	defer func() {
		if holding {
			pool.Release()
		}
	}()
	// place stores the row decoded from entries[i] (in ds.row) in the chunks of its
	// partitions, or rejects it.
	place := func(i int) {
		e := &entries[i]
		row := ds.row
		// The version number is authlake's to give (versions.go); an export's is not kept.
		row.DropExtra(columnar.VersionAnnotation)
		if _, ok := row.Extra(columnar.ReportedBy); ok {
			res.Rejected = append(res.Rejected, Reject{Index: i, Reason: fmt.Sprintf("%s is reserved: authlake sets it on copies of sign-ins reported by another tenant", columnar.ReportedBy)})
			return
		}
		if et, ok := input.EventTypeForCategory(e.Category); ok {
			row.ApplyEventType(et)
		} else if e.Category != "" {
			res.Rejected = append(res.Rejected, Reject{Index: i, Reason: fmt.Sprintf("unsupported diagnostic category %q", e.Category)})
			return
		}
		primary := e.Tenant
		if primary == "" {
			primary = row.String(colResourceTenant)
			if primary == "" {
				res.Rejected = append(res.Rejected, Reject{Index: i, Reason: "no tenant: the event has no resourceTenantId and no tenant was given"})
				return
			}
			if !validTenant(primary) {
				res.Rejected = append(res.Rejected, Reject{Index: i, Reason: fmt.Sprintf("resourceTenantId %q is not a valid tenant id", primary)})
				return
			}
			e.Tenant = primary
		}
		ns := row.CreatedUnixNano()
		day := dayOf(ns)
		if reason := db.outsideRetention(primary, day, now); reason != "" {
			res.Rejected = append(res.Rejected, Reject{Index: i, Reason: reason})
			return
		}
		// The flagging decision is made once, here; the WAL logs the resulting row, so replay
		// reproduces it whatever the flagging windows are by then.
		if flagger != nil && flagger(primary, row) {
			row.SetBool(colFlagged, true)
		}
		targets = append(targets[:0], primary)
		// A cross-tenant sign-in is copied for the user's home tenant only where that tenant
		// trusts the reporting one, and apart from its own log (see homecopy.go).
		if home, ok := db.copyTarget(primary, row); ok && db.outsideRetention(home, day, now) == "" {
			targets = append(targets, copyNamespace(home, primary))
		}
		var id [16]byte
		copy(id[:], row.ID())
		for _, t := range targets {
			if t != primary && row.SetExtra(columnar.ReportedBy, reportedBy(primary)) != nil {
				continue // no room left in the row for the mark: no copy
			}
			k := partKey{t, day}
			// An own-log row whose id came earlier in the call goes to commit like any other
			// (it may be a later version); a copy is made once.
			if t != primary {
				seen := local[k]
				if seen == nil {
					seen = map[[16]byte]struct{}{}
					local[k] = seen
				}
				if _, dup := seen[id]; dup {
					continue
				}
				seen[id] = struct{}{}
			}
			b := builders[k]
			if rest := len(entries) - i; b == nil {
				last, known := lastRows[k]
				b = columnar.NewSizedBuilder(db.schema, firstRoom(rest, last, known, len(builders) == 0), &sizes)
				builders[k] = b
			} else if b.Room() == 0 {
				b.Grow(min(rest, max(b.Len(), IngestChunk))) // doubling, to the rest of the call
			}
			pend = append(pend, pending{entry: i, key: k, id: id, ns: ns, row: b.Len()})
			b.AppendRow(row)
		}
	}
	// A line the decoder does not take whole (Record.Unchecked) is framed again by the caller
	// (IngestOptions.Reframe), and the records that gives are decoded in its place: appended to
	// entries, they are placed before the next record, so the call keeps the input's order
	// (which decides versions).
	for i, n := 0, len(entries); i < n; i++ {
		if i > 0 && i%IngestChunk == 0 {
			if err := pool.Yield(ctx); err != nil {
				holding = false
				return IngestResult{}, err
			}
		}
		e := &entries[i]
		switch {
		case !e.Unchecked:
			if err := ds.dec.Decode(e.Raw, ds.row); err != nil {
				res.Rejected = append(res.Rejected, Reject{Index: i, Reason: err.Error()})
				continue
			}
			place(i)
			continue
		case ds.dec.DecodeLine(e.Raw, ds.row, input.FramesMember):
			// Framed by its line, and one object the fast decoder reads whole, none of whose
			// members would have made the Reader frame it otherwise.
			place(i)
			continue
		}
		tenant := e.Tenant
		subs, err := reframe(i)
		if err != nil {
			return IngestResult{}, err
		}
		for _, sub := range subs {
			entries = append(entries, entry{Tenant: tenant, Category: sub.Category, Raw: sub.Raw})
			j := len(entries) - 1
			if err := ds.dec.Decode(sub.Raw, ds.row); err != nil {
				res.Rejected = append(res.Rejected, Reject{Index: j, Reason: err.Error()})
				continue
			}
			place(j)
		}
	}
	chunks := make(map[partKey]arrow.RecordBatch, len(builders))
	rows := make(map[partKey]int, len(builders))
	for k, b := range builders {
		rows[k] = b.Len()
		chunks[k] = b.Seal()
	}
	if len(builders) > 0 {
		db.hints.keep(sizes, rows)
	}
	// The commit waits on locks and the WAL's fsync: no token is held across it.
	pool.Release()
	holding = false
	defer releaseChunks(chunks)
	fates, err := db.commit(chunks, pend, len(entries), true)
	if err != nil {
		return IngestResult{}, err
	}
	for _, f := range fates {
		switch f {
		case fateNew:
			res.Accepted++
		case fateUpdated:
			res.Updated++
		case fateDup:
			res.Duplicates++
		}
	}
	return res, nil
}

func releaseChunks(chunks map[partKey]arrow.RecordBatch) {
	for _, c := range chunks {
		c.Release()
	}
}

// fate is what became of one record's row in its own log.
type fate uint8

const (
	fateNone    fate = iota // no own-log row (rejected before commit)
	fateNew                 // stored as a new sign-in
	fateUpdated             // stored as a later version of a stored sign-in
	fateDup                 // the same content is stored already
)

// memLoc locates a memtable row by its dedup key: chunk -1 while the ingest that reserved it
// has not published it yet.
type memLoc struct{ chunk, row int32 }

var pendingLoc = memLoc{chunk: -1, row: -1}

// reservation is a memtable key reserved by commit (undone if the WAL write fails).
type reservation struct {
	key partKey
	id  [16]byte // the dedup key: the id, or versionKey in a versions partition
}

// versionRow is an own-log row stored as a later version.
type versionRow struct {
	pd      pending
	n       int
	digest  uint64
	flagged bool
}

// ownID names a sign-in of one tenant's own log.
type ownID struct {
	tenant string
	id     [16]byte
}

// commit dedups the decoded rows against what is stored (a row whose id is stored with other
// content becomes a later version: versions.go), logs the surviving rows in the WAL (when live)
// and publishes them to the memtable. It reports per entry what became of its row in the
// caller's own log; home-tenant copies do not count (their fate depends on the home tenant's
// log, which the caller must learn nothing about). Replay (live false) only drops rows stored
// already: the WAL holds rows as they were decided.
func (db *DB) commit(chunks map[partKey]arrow.RecordBatch, pend []pending, nEntries int, live bool) ([]fate, error) {
	// ingestMu (shared) keeps a flush from rotating the WAL until these rows are in the memtable.
	db.ingestMu.RLock()
	defer db.ingestMu.RUnlock()

	// Dedup against stored events and reserve the new ids; the stored segments are read
	// before the lock is taken (idprobe.go).
	probes := db.preprobe(pend, live)
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return nil, ErrClosed
	}
	keep := map[partKey][]pending{}
	dupRows := map[partKey]int{}
	vers := map[partKey][]versionRow{} // by versions partition
	fates := make([]fate, nEntries)
	reserved := make([]reservation, 0, len(pend))
	var undo []func()
	var homeParts map[string][]*partition // own logs of the home tenants of copies, when needed
	copies := false
	var pendingOwn []ownID // own rows reserved, readable by later rows with their id until published
	undo = append(undo, func() {
		for _, o := range pendingOwn {
			delete(db.pendingOwn, o)
		}
	})
	fail := func(err error) ([]fate, error) {
		db.unreserve(reserved, undo)
		db.mu.Unlock()
		return nil, fmt.Errorf("dedup lookup: %w", err)
	}
	reserve := func(k partKey, key [16]byte) {
		db.partition(k).mem.ids[key] = pendingLoc
		reserved = append(reserved, reservation{k, key})
	}
	for _, pd := range pend {
		home, _, isCopy := splitCopyNamespace(pd.key.tenant)
		_, isVersion := splitVersionNamespace(pd.key.tenant)
		switch {
		case isVersion: // replay only: a version as it was decided
			has, err := db.partition(pd.key).hasVersion(pd.id, pd.version)
			if err != nil {
				return fail(err)
			}
			if has {
				dupRows[pd.key]++
				continue
			}
			reserve(pd.key, versionKey(pd.id, pd.version))
			keep[pd.key] = append(keep[pd.key], pd)
			continue
		case isCopy:
			copies = true
			// A copy whose id the home tenant's own log holds (any day) would only be hidden.
			if homeParts == nil {
				homeParts = map[string][]*partition{}
			}
			parts, ok := homeParts[home]
			if !ok {
				parts = db.ownPartitions(map[string]bool{home: true})[home]
				homeParts[home] = parts
			}
			own, err := ownHasID(parts, pd.id)
			if err != nil {
				return fail(err)
			}
			if own {
				dupRows[pd.key]++
				continue
			}
		case live:
			v, err := db.classify(pd, chunks, probes, &undo)
			if err != nil {
				return fail(err)
			}
			switch {
			case v.n == 0:
				fates[pd.entry] = fateDup
				dupRows[pd.key]++
				continue
			case v.n > 1:
				fates[pd.entry] = fateUpdated
				dupRows[pd.key]++ // not kept in the own-log chunk
				vk := partKey{versionNamespace(pd.key.tenant), pd.key.day}
				reserve(vk, versionKey(pd.id, v.n))
				vers[vk] = append(vers[vk], v)
				continue
			}
			fates[pd.entry] = fateNew
			o := ownID{pd.key.tenant, pd.id}
			db.pendingOwn[o] = storedRow{chunk: chunks[pd.key], row: pd.row}
			pendingOwn = append(pendingOwn, o)
			reserve(pd.key, pd.id)
			keep[pd.key] = append(keep[pd.key], pd)
			continue
		}
		// A copy, or an own row replayed: stored unless its partition holds the id.
		dup, err := db.partition(pd.key).hasID(pd.id, pd.ns)
		if err != nil {
			return fail(err)
		}
		if dup {
			dupRows[pd.key]++
			if !isCopy {
				fates[pd.entry] = fateDup
			}
			continue
		}
		reserve(pd.key, pd.id)
		if !isCopy {
			fates[pd.entry] = fateNew
		}
		keep[pd.key] = append(keep[pd.key], pd)
	}
	db.mu.Unlock()

	final := make(map[partKey]arrow.RecordBatch, len(chunks)+len(vers))
	for k, c := range chunks {
		switch rows := keep[k]; {
		case len(rows) == 0:
		case dupRows[k] == 0:
			c.Retain()
			final[k] = c
		default:
			final[k] = columnar.Take(db.schema, c, rowsOf(rows))
		}
	}
	for vk, vs := range vers {
		c, err := versionChunk(db.schema, chunks[partKey{namespaceOwner(vk.tenant), vk.day}], vs)
		if err != nil {
			releaseChunks(final)
			db.mu.Lock()
			db.unreserve(reserved, undo)
			db.mu.Unlock()
			return nil, err
		}
		final[vk] = c
	}

	// Make the rows durable: the WAL logs the decoded chunks themselves (Arrow IPC), not the
	// input JSON, which is several times larger and would be parsed again on replay.
	if live && len(final) > 0 {
		payload := walPayloads.Get().(*bytes.Buffer)
		payload.Reset()
		err := appendWALChunks(payload, db.schema, final)
		if err == nil {
			_, err = db.wal.Append(payload.Bytes())
		}
		walPayloads.Put(payload)
		if err != nil {
			releaseChunks(final)
			db.mu.Lock()
			db.unreserve(reserved, undo)
			db.mu.Unlock()
			return nil, fmt.Errorf("%w (%s): %w", ErrNotDurable, filepath.Join(db.dir, "wal"), err)
		}
	}

	// Publish.
	db.mu.Lock()
	now := db.opts.Now()
	if len(final) > 0 {
		if db.memRows == 0 {
			db.oldest = now
		}
		db.lastIngest = now
	}
	for k, c := range final {
		p := db.partition(k)
		p.lastWrite = now
		ci := int32(len(p.mem.chunks))
		if vs, ok := vers[k]; ok {
			for i, v := range vs {
				p.mem.ids[versionKey(v.pd.id, v.n)] = memLoc{ci, int32(i)}
			}
			if live {
				db.publishVersions(namespaceOwner(k.tenant), vs)
			}
		} else {
			for i, pd := range keep[k] {
				key := pd.id
				if pd.version > 1 {
					key = versionKey(pd.id, pd.version)
				}
				p.mem.ids[key] = memLoc{ci, int32(i)}
			}
		}
		p.mem.chunks = append(p.mem.chunks, c)
		p.mem.rows += int(c.NumRows())
		db.memRows += int(c.NumRows())
		cost := chunkCost(c)
		p.mem.bytes += cost
		db.memBytes += cost
	}
	for _, o := range pendingOwn {
		delete(db.pendingOwn, o) // published: readable where they are stored
	}
	var published []pending
	for _, rows := range keep {
		published = append(published, rows...)
	}
	db.noteCommitted(published, copies)
	full := db.memtableFull()
	db.mu.Unlock()
	if full {
		db.kickMaintenance()
	}
	return fates, nil
}

func rowsOf(pend []pending) []int {
	rows := make([]int, len(pend))
	for i, pd := range pend {
		rows[i] = pd.row
	}
	return rows
}

// unreserve undoes commit's reservations after a failure. Callers hold db.mu for writing.
func (db *DB) unreserve(reserved []reservation, undo []func()) {
	for _, r := range reserved {
		if p := db.parts[r.key]; p != nil {
			delete(p.mem.ids, r.id)
		}
	}
	for _, u := range undo {
		u()
	}
}

// replay re-applies one WAL payload: the chunks it logged, deduplicated again (some of their
// rows may already have reached a segment before the crash).
func (db *DB) replay(payload []byte) error {
	chunks, err := unmarshalWALChunks(db.schema, payload)
	if err != nil {
		return err
	}
	defer releaseChunks(chunks)
	tCol, _ := db.schema.Lookup("createdDateTime")
	var pend []pending
	for k, c := range chunks {
		b, err := columnar.NewBatch(db.schema, c)
		if err != nil {
			return err
		}
		_, isVersion := splitVersionNamespace(k.tenant)
		for r := 0; r < b.Rows; r++ {
			pd := pending{entry: 0, key: k, id: [16]byte(b.Bytes(colID.Index, r)), ns: b.Int64(tCol.Index, r), row: r}
			if isVersion {
				if pd.version, err = columnar.RowVersion(b, r); err != nil {
					return err
				}
			}
			pend = append(pend, pd)
		}
	}
	_, err = db.commit(chunks, pend, 1, false)
	return err
}

// hasID reports whether the partition already stores id (memtable or segments). Callers hold
// db.mu.
func (p *partition) hasID(id [16]byte, ns int64) (bool, error) {
	if _, ok := p.mem.ids[id]; ok {
		return true, nil
	}
	for _, f := range p.frozen {
		if _, ok := f.ids[id]; ok {
			return true, nil
		}
	}
	for _, s := range p.segs {
		ok, err := s.containsID(id[:], ns)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

func (db *DB) retentionDays(tenant string) int {
	d, _ := db.RetentionOf(tenant)
	return d
}

// outsideRetention explains why an event of day is not kept for tenant, or returns "".
// Retention is kept in whole UTC days: a day is kept while any of it is younger than the
// retention (so an export of "the last 30 days" loads whole), and dropped once all of it is
// older.
func (db *DB) outsideRetention(tenant string, day int32, now time.Time) string {
	keep := db.retentionDays(tenant)
	if keep < 0 {
		return ""
	}
	cutoff := dayOf(now.AddDate(0, 0, -keep).UnixNano())
	if day < cutoff {
		_, source := db.RetentionOf(tenant)
		return fmt.Sprintf("createdDateTime %s is older than tenant %s's retention of %d days (%s; choose another with --retention on ingest or serve, e.g. --retention 400d, or 0 to keep every event)",
			dayString(day), tenant, keep, source)
	}
	return ""
}

func (db *DB) kickMaintenance() {
	select {
	case db.kick <- struct{}{}:
	default:
	}
}
