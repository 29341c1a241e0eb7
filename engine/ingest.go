package engine

import (
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
}

// IngestOptions apply to one Ingest call.
type IngestOptions struct {
	// Tenant is the tenant whose log the events belong to; "" means each event's
	// resourceTenantId. Nothing is written to any other tenant's log, except a marked copy of
	// a cross-tenant sign-in into Tenant for a home tenant that trusts it (Options.Trust).
	Tenant string
	// NoWait returns ErrBackpressure instead of waiting when ingest outruns flushing.
	NoWait bool
}

// Reject is a record that was not stored, and why.
type Reject struct {
	Index  int // position in the Ingest call's records
	Reason string
}

// IngestResult counts what happened to each record of an Ingest call. Every record is in
// exactly one of Accepted, Duplicates or Rejected.
type IngestResult struct {
	Accepted   int
	Duplicates int
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
)

type decodeState struct {
	dec *columnar.Decoder
	row *columnar.Row
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
		entries[i] = entry{Tenant: opts.Tenant, Category: r.Category, Raw: r.Raw}
	}
	if err := db.waitForRoom(opts.NoWait); err != nil {
		return IngestResult{}, err
	}
	return db.apply(entries)
}

// waitForRoom applies backpressure: once the memtable has grown to twice its limit, new ingests
// wait for the next flush (or fail with ErrBackpressure) instead of growing memory unboundedly.
// It waits whether or not a flush is already running: a long compaction holds the maintenance
// lock, and ingest that ran on meanwhile once filled 24 GB (100M events, a 3M-row day merging).
// Without the background loop only an explicit Flush drains the memtable, so there it waits only
// while one runs.
func (db *DB) waitForRoom(noWait bool) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	for db.memRows >= 2*db.opts.MemtableRows && (db.flushing || !db.opts.DisableBackground) && !db.closed {
		if noWait {
			return ErrBackpressure
		}
		db.flushed.Wait()
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
}

// entry is one record of an Ingest call with the tenant it is ingested for.
type entry struct {
	Tenant   string
	Category string
	Raw      []byte
}

// apply decodes entries into per-partition chunks (no locks held), then commits them.
func (db *DB) apply(entries []entry) (IngestResult, error) {
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
	var pend []pending
	inCallDup := make([]bool, len(entries))      // entries whose own-log copy repeats an earlier entry
	local := map[partKey]map[[16]byte]struct{}{} // duplicates inside this call
	targets := make([]string, 0, 2)
	for i := range entries {
		e := &entries[i]
		row := ds.row
		if err := ds.dec.Decode(e.Raw, row); err != nil {
			res.Rejected = append(res.Rejected, Reject{Index: i, Reason: err.Error()})
			continue
		}
		if _, ok := row.Extra(columnar.ReportedBy); ok {
			res.Rejected = append(res.Rejected, Reject{Index: i, Reason: fmt.Sprintf("%s is reserved: authlake sets it on copies of sign-ins reported by another tenant", columnar.ReportedBy)})
			continue
		}
		if et, ok := input.EventTypeForCategory(e.Category); ok {
			row.ApplyEventType(et)
		} else if e.Category != "" {
			res.Rejected = append(res.Rejected, Reject{Index: i, Reason: fmt.Sprintf("unsupported diagnostic category %q", e.Category)})
			continue
		}
		primary := e.Tenant
		if primary == "" {
			primary = row.String(colResourceTenant)
			if primary == "" {
				res.Rejected = append(res.Rejected, Reject{Index: i, Reason: "no tenant: the event has no resourceTenantId and no tenant was given"})
				continue
			}
			if !validTenant(primary) {
				res.Rejected = append(res.Rejected, Reject{Index: i, Reason: fmt.Sprintf("resourceTenantId %q is not a valid tenant id", primary)})
				continue
			}
			e.Tenant = primary
		}
		ns := row.CreatedUnixNano()
		day := dayOf(ns)
		if reason := db.outsideRetention(primary, day, now); reason != "" {
			res.Rejected = append(res.Rejected, Reject{Index: i, Reason: reason})
			continue
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
			seen := local[k]
			if seen == nil {
				seen = map[[16]byte]struct{}{}
				local[k] = seen
			}
			if _, dup := seen[id]; dup {
				if t == primary {
					inCallDup[i] = true // counted below: a file holding an event twice says so
				}
				continue
			}
			seen[id] = struct{}{}
			b := builders[k]
			if b == nil {
				b = columnar.NewBuilder(db.schema)
				builders[k] = b
			}
			pend = append(pend, pending{entry: i, key: k, id: id, ns: ns, row: b.Len()})
			b.AppendRow(row)
		}
	}
	chunks := make(map[partKey]arrow.RecordBatch, len(builders))
	for k, b := range builders {
		chunks[k] = b.Seal()
	}
	defer releaseChunks(chunks)
	entryNew, entryCopies, err := db.commit(chunks, pend, len(entries), true)
	if err != nil {
		return IngestResult{}, err
	}
	for i := range entries {
		switch {
		case entryNew[i]:
			res.Accepted++
		case entryCopies[i] || inCallDup[i]:
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

// commit dedups the decoded rows against what is stored, logs the surviving rows in the WAL
// (when live) and publishes them to the memtable. It reports per entry whether its row in the
// caller's own log was new, and whether it had one; home-tenant copies do not count (their fate
// depends on the home tenant's log, which the caller must learn nothing about).
func (db *DB) commit(chunks map[partKey]arrow.RecordBatch, pend []pending, nEntries int, live bool) (entryNew, entryCopies []bool, err error) {
	// ingestMu (shared) keeps a flush from rotating the WAL until these rows are in the memtable.
	db.ingestMu.RLock()
	defer db.ingestMu.RUnlock()

	// Dedup against stored events and reserve the new ids.
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return nil, nil, ErrClosed
	}
	keep := map[partKey][]int{}
	dupRows := map[partKey]int{}
	entryNew = make([]bool, nEntries)
	entryCopies = make([]bool, nEntries)
	var reserved []pending
	var homeParts map[string][]*partition // own logs of the home tenants of copies, when needed
	copies := false
	unreserve := func() {
		for _, pd := range reserved {
			if p := db.parts[pd.key]; p != nil {
				delete(p.mem.ids, pd.id)
			}
		}
	}
	for _, pd := range pend {
		home, _, isCopy := splitCopyNamespace(pd.key.tenant)
		if isCopy {
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
				unreserve()
				db.mu.Unlock()
				return nil, nil, fmt.Errorf("dedup lookup: %w", err)
			}
			if own {
				dupRows[pd.key]++
				continue
			}
		} else {
			entryCopies[pd.entry] = true
		}
		p := db.partition(pd.key)
		dup, err := p.hasID(pd.id, pd.ns)
		if err != nil {
			unreserve()
			db.mu.Unlock()
			return nil, nil, fmt.Errorf("dedup lookup: %w", err)
		}
		if dup {
			dupRows[pd.key]++
			continue
		}
		p.mem.ids[pd.id] = struct{}{}
		reserved = append(reserved, pd)
		if !isCopy {
			entryNew[pd.entry] = true
		}
		keep[pd.key] = append(keep[pd.key], pd.row)
	}
	db.mu.Unlock()

	final := make(map[partKey]arrow.RecordBatch, len(chunks))
	for k, c := range chunks {
		switch rows := keep[k]; {
		case len(rows) == 0:
		case dupRows[k] == 0:
			c.Retain()
			final[k] = c
		default:
			final[k] = columnar.Take(db.schema, c, rows)
		}
	}

	// Make the rows durable: the WAL logs the decoded chunks themselves (Arrow IPC), not the
	// input JSON, which is several times larger and would be parsed again on replay.
	if live && len(final) > 0 {
		payload, err := marshalWALChunks(db.schema, final)
		if err == nil {
			_, err = db.wal.Append(payload)
		}
		if err != nil {
			releaseChunks(final)
			db.mu.Lock()
			unreserve()
			db.mu.Unlock()
			return nil, nil, fmt.Errorf("%w (%s): %w", ErrNotDurable, filepath.Join(db.dir, "wal"), err)
		}
	}

	// Publish.
	db.mu.Lock()
	for k, c := range final {
		p := db.partition(k)
		p.mem.chunks = append(p.mem.chunks, c)
		p.mem.rows += int(c.NumRows())
		if db.memRows == 0 {
			db.oldest = db.opts.Now()
		}
		db.memRows += int(c.NumRows())
	}
	db.noteCommitted(reserved, copies)
	full := db.memRows >= db.opts.MemtableRows
	db.mu.Unlock()
	if full {
		db.kickMaintenance()
	}
	return entryNew, entryCopies, nil
}

// replay re-applies one WAL payload: the chunks it logged, deduplicated again (some of their
// rows may already have reached a segment before the crash).
func (db *DB) replay(payload []byte) error {
	chunks, err := unmarshalWALChunks(db.schema, payload)
	if err != nil {
		return err
	}
	defer releaseChunks(chunks)
	idCol, _ := db.schema.Lookup("id")
	tCol, _ := db.schema.Lookup("createdDateTime")
	var pend []pending
	for k, c := range chunks {
		b, err := columnar.NewBatch(db.schema, c)
		if err != nil {
			return err
		}
		for r := 0; r < b.Rows; r++ {
			var id [16]byte
			copy(id[:], b.Bytes(idCol.Index, r))
			pend = append(pend, pending{entry: 0, key: k, id: id, ns: b.Int64(tCol.Index, r), row: r})
		}
	}
	_, _, err = db.commit(chunks, pend, 1, false)
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
