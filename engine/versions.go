package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/authlake/authlake/columnar"
)

// Sign-ins seen again (docs/versions.md).
//
// A sign-in id is one sign-in per tenant. Sources emit a sign-in more than once: Log Analytics
// and diagnostic settings re-emit it as processing and risk evaluation complete, and exports
// overlap. A record whose id the tenant already stores is
//
//   - a duplicate when its content (columnar.ContentDigest) equals a stored version's, and
//   - otherwise a new version, numbered after the newest and newer than every stored one:
//     arrival order decides, as it does in Log Analytics itself.
//
// Reads see the newest version only; the earlier ones stay stored for audit (export
// --versions). The first version is the row in the tenant's own log, where it always was; later
// versions are stored in the partitions of the namespace "T!" (versionNamespace), which no
// tenant name can spell, carrying "@authlake.version": n. A snapshot of T hides the own-log rows
// of every id with later versions and, in T!, every version but the newest. Flush, compaction,
// the WAL and the manifest treat T! like any partition; retention follows T's.
//
// A record is matched against the tenant's own log on its createdDateTime's UTC day and the
// days either side (versionWindowDays), and against every later version whatever its day: a
// sign-in whose createdDateTime moved by more than that is taken for a new one. Checking every
// day of a long retention for every new event would make ingest cost grow with history.

// versionSuffix marks the namespace of a tenant's later versions; '!' cannot occur in a tenant.
const versionSuffix = "!"

// versionWindowDays is how many days either side of an event's day its id is looked up in the
// tenant's own log.
const versionWindowDays = 1

func versionNamespace(tenant string) string { return tenant + versionSuffix }

// splitVersionNamespace returns the tenant whose later versions ns holds.
func splitVersionNamespace(ns string) (tenant string, ok bool) {
	return strings.CutSuffix(ns, versionSuffix)
}

// namespaceOwner is the tenant whose events a partition namespace holds: the tenant itself,
// the home tenant of copies, the tenant of later versions.
func namespaceOwner(ns string) string {
	if t, ok := splitVersionNamespace(ns); ok {
		return t
	}
	if home, _, ok := splitCopyNamespace(ns); ok {
		return home
	}
	return ns
}

// versionKey is the memtable key of version n of id in a versions partition, where one id has
// several rows. It is a cryptographic hash, so it never equals another row's key.
func versionKey(id [16]byte, n int) [16]byte {
	var buf [24]byte
	copy(buf[:], id[:])
	binary.LittleEndian.PutUint64(buf[16:], uint64(n))
	sum := sha256.Sum256(buf[:])
	return [16]byte(sum[:16])
}

// versionEntry is what the engine knows of an id with later versions.
type versionEntry struct {
	newest    int            // the highest number given (by commit, before the row is published)
	published int            // the newest published version: what reads show (1: the own-log row)
	digests   map[uint64]int // content digest → version, of every version read so far
	first     bool           // whether version 1's digest is among digests (it is read on demand)
	flagged   bool           // a version was flagged for review: later versions keep the flag
}

// tenantVersions is, per tenant with later versions, the state derived from its T! partitions
// (rebuildVersions) and kept current by ingest.
type tenantVersions struct {
	entries map[[16]byte]*versionEntry
	// log lists the ids of entries in the order found: own-log rows with them are hidden,
	// computed once per segment and then only for ids found since (segment.hiddenFor).
	log      [][16]byte
	shadowed map[[16]byte]struct{} // the ids of log
	epoch    uint64                // which derivation log belongs to (shares DB.copyEpoch's numbering)
	// changes counts new versions; the stale rows of a T! segment are recomputed when it moves.
	changes uint64
}

// staleRows caches a versions segment's rows that a newer version supersedes.
type staleRows struct {
	mu      sync.Mutex
	epoch   uint64
	changes uint64
	valid   bool
	rows    *roaring.Bitmap
}

func newTenantVersions(epoch uint64) *tenantVersions {
	return &tenantVersions{entries: map[[16]byte]*versionEntry{}, shadowed: map[[16]byte]struct{}{}, epoch: epoch}
}

// shadow notes that id has a published later version: its own-log row is hidden.
func (tv *tenantVersions) shadow(id [16]byte) {
	if _, ok := tv.shadowed[id]; !ok {
		tv.shadowed[id] = struct{}{}
		tv.log = append(tv.log, id)
	}
}

// tenantVersionsFor returns tenant's state, creating it. Callers hold db.mu for writing.
func (db *DB) tenantVersionsFor(tenant string) *tenantVersions {
	tv := db.versions[tenant]
	if tv == nil {
		db.copyEpoch++
		tv = newTenantVersions(db.copyEpoch)
		db.versions[tenant] = tv
	}
	return tv
}

// rebuildVersions derives the versions state again from the stored T! partitions of the given
// tenants (nil: every tenant). Version 1's digests are read again on demand. Callers hold db.mu
// for writing.
func (db *DB) rebuildVersions(only map[string]bool) error {
	fresh := map[string]*tenantVersions{}
	for k, p := range db.parts {
		t, ok := splitVersionNamespace(k.tenant)
		if !ok || (only != nil && !only[t]) || p.empty() {
			continue
		}
		tv := fresh[t]
		if tv == nil {
			db.copyEpoch++
			tv = newTenantVersions(db.copyEpoch)
			fresh[t] = tv
		}
		err := eachPartitionRow(p, func(b *columnar.Batch, r int) error {
			id := [16]byte(b.Bytes(colID.Index, r))
			n, err := columnar.RowVersion(b, r)
			if err != nil {
				return err
			}
			dg, err := columnar.ContentDigest(b, r)
			if err != nil {
				return err
			}
			e := tv.entries[id]
			if e == nil {
				e = &versionEntry{digests: map[uint64]int{}}
				tv.entries[id] = e
				tv.shadow(id)
			}
			e.digests[dg] = n
			e.newest = max(e.newest, n)
			e.published = e.newest
			e.flagged = e.flagged || b.Valid(colFlagged.Index, r) && b.Bool(colFlagged.Index, r)
			return nil
		})
		if err != nil {
			return fmt.Errorf("read later versions of %s: %w", t, err)
		}
	}
	for t := range db.versions {
		if only == nil || only[t] {
			delete(db.versions, t)
		}
	}
	for t, tv := range fresh {
		db.versions[t] = tv
	}
	return nil
}

// eachPartitionRow calls fn for every row of p (segments, then memtable), all columns bound.
func eachPartitionRow(p *partition, fn func(b *columnar.Batch, r int) error) error {
	all := allColumns()
	for _, s := range p.segs {
		for blk := 0; blk < s.seg.NumBlocks(); blk++ {
			b, release, err := s.seg.BlockBatch(blk, all)
			if err != nil {
				return err
			}
			for r := 0; r < b.Rows && err == nil; r++ {
				err = fn(b, r)
			}
			if err == nil {
				err = b.Err()
			}
			release()
			if err != nil {
				return err
			}
		}
	}
	for _, m := range append(append([]*memPart(nil), p.frozen...), p.mem) {
		for _, c := range m.chunks {
			b, err := columnar.NewBatch(columnar.SignIns, c)
			if err != nil {
				return err
			}
			for r := 0; r < b.Rows; r++ {
				if err := fn(b, r); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func allColumns() []int {
	all := make([]int, columnar.SignIns.NumColumns())
	for i := range all {
		all[i] = i
	}
	return all
}

// storedRow is one stored row: in a memtable chunk, or in a segment.
type storedRow struct {
	chunk arrow.RecordBatch
	seg   *segment
	row   int
}

// read calls fn with the row's batch (all columns bound).
func (sr storedRow) read(fn func(b *columnar.Batch, r int) error) error {
	if sr.chunk != nil {
		b, err := columnar.NewBatch(columnar.SignIns, sr.chunk)
		if err != nil {
			return err
		}
		return fn(b, sr.row)
	}
	br := sr.seg.seg.Meta.BlockRows
	b, release, err := sr.seg.seg.BlockBatch(sr.row/br, allColumns())
	if err != nil {
		return err
	}
	defer release()
	if err := fn(b, sr.row%br); err != nil {
		return err
	}
	return b.Err()
}

// digest is the stored row's content digest and whether it is flagged for review.
func (sr storedRow) digest() (dg uint64, flagged bool, err error) {
	err = sr.read(func(b *columnar.Batch, r int) error {
		dg, err = columnar.ContentDigest(b, r)
		flagged = b.Valid(colFlagged.Index, r) && b.Bool(colFlagged.Index, r)
		return err
	})
	return dg, flagged, err
}

// errPending means an id is reserved by an ingest in flight but its row is not in
// DB.pendingOwn, where classify looks before findOwn.
var errPending = fmt.Errorf("BUG: an id reserved by an ingest in flight is not in pendingOwn")

// findOwn finds id in the partitions of one tenant's own log (any that are given). Callers
// hold db.mu.
func findOwn(parts []*partition, id [16]byte, pr *idProbes) (storedRow, bool, error) {
	for _, p := range parts {
		if p == nil {
			continue
		}
		for _, m := range append(append([]*memPart(nil), p.frozen...), p.mem) {
			if loc, ok := m.ids[id]; ok {
				if loc.chunk < 0 {
					return storedRow{}, true, errPending
				}
				return storedRow{chunk: m.chunks[loc.chunk], row: int(loc.row)}, true, nil
			}
		}
		for _, s := range p.segs {
			rows, err := pr.idRows(s, id)
			if err != nil {
				return storedRow{}, false, err
			}
			if len(rows) > 0 {
				return storedRow{seg: s, row: int(rows[0])}, true, nil
			}
		}
	}
	return storedRow{}, false, nil
}

// hasVersion reports whether a versions partition stores version n of id. Callers hold db.mu.
func (p *partition) hasVersion(id [16]byte, n int) (bool, error) {
	key := versionKey(id, n)
	if _, ok := p.mem.ids[key]; ok {
		return true, nil
	}
	for _, f := range p.frozen {
		if _, ok := f.ids[key]; ok {
			return true, nil
		}
	}
	for _, s := range p.segs {
		rows, err := s.idRows(nil, id[:])
		if err != nil {
			return false, err
		}
		for _, r := range rows {
			var v int
			err := storedRow{seg: s, row: int(r)}.read(func(b *columnar.Batch, r int) (err error) {
				v, err = columnar.RowVersion(b, r)
				return err
			})
			if err != nil {
				return false, err
			}
			if v == n {
				return true, nil
			}
		}
	}
	return false, nil
}

// staleFor returns the rows of a versions segment that a newer version of their id supersedes
// (nil when none). Callers hold db.mu (at least for reading): tv is read.
func (s *segment) staleFor(tv *tenantVersions) (*roaring.Bitmap, error) {
	c := &s.stale
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.valid && c.epoch == tv.epoch && c.changes == tv.changes {
		return c.rows, nil
	}
	cols := []int{colID.Index, columnar.SignIns.Extras()}
	var rows *roaring.Bitmap
	br := s.seg.Meta.BlockRows
	for blk := 0; blk < s.seg.NumBlocks(); blk++ {
		b, release, err := s.seg.BlockBatch(blk, cols)
		if err != nil {
			return nil, err
		}
		stale, err := staleIn(b, tv)
		if err == nil {
			err = b.Err()
		}
		release()
		if err != nil {
			return nil, err
		}
		for _, r := range stale {
			if rows == nil {
				rows = roaring.New()
			}
			rows.Add(uint32(blk*br + r))
		}
	}
	c.valid, c.epoch, c.changes, c.rows = true, tv.epoch, tv.changes, rows
	return rows, nil
}

// staleIn lists the rows of b (id and extras bound) that a newer version supersedes.
func staleIn(b *columnar.Batch, tv *tenantVersions) ([]int, error) {
	var out []int
	for r := 0; r < b.Rows; r++ {
		e := tv.entries[[16]byte(b.Bytes(colID.Index, r))]
		if e == nil {
			continue
		}
		n, err := columnar.RowVersion(b, r)
		if err != nil {
			return nil, err
		}
		if n < e.published {
			out = append(out, r)
		}
	}
	return out, nil
}

// currentRows returns the rows of a versions memtable chunk that are their id's newest version,
// and whether any is not.
func currentRows(c arrow.RecordBatch, tv *tenantVersions) ([]int, bool, error) {
	b, err := columnar.NewBatch(columnar.SignIns, c)
	if err != nil {
		return nil, false, err
	}
	stale, err := staleIn(b, tv)
	if err != nil || len(stale) == 0 {
		return nil, false, err
	}
	keep := make([]int, 0, b.Rows-len(stale))
	for r, s := 0, 0; r < b.Rows; r++ {
		if s < len(stale) && stale[s] == r {
			s++
			continue
		}
		keep = append(keep, r)
	}
	return keep, true, nil
}

// classify decides what an own-log row of a live ingest is, as a versionRow: n 0 a
// duplicate, 1 a new sign-in, above 1 the version it is stored as. A later version is numbered
// here (so that concurrent ingests number apart) and its digest noted; undo takes the digest
// back if the row is never stored. pr answers the lookups of stored segments that commit made
// before it took the lock (idprobe.go). Callers hold db.mu for writing.
func (db *DB) classify(pd pending, chunks map[partKey]arrow.RecordBatch, pr *idProbes, undo *[]func()) (versionRow, error) {
	v := versionRow{pd: pd}
	tenant := pd.key.tenant
	incoming := storedRow{chunk: chunks[pd.key], row: pd.row}
	var e *versionEntry
	tv := db.versions[tenant]
	if tv != nil {
		e = tv.entries[pd.id]
	}
	if e == nil {
		// Is there a first version: reserved by an ingest not yet published (this one or a
		// concurrent one, whose rows are readable in its chunk), or stored near the event's day?
		ref, found := db.pendingOwn[ownID{tenant, pd.id}]
		if !found {
			var parts []*partition
			for d := pd.key.day - versionWindowDays; d <= pd.key.day+versionWindowDays; d++ {
				parts = append(parts, db.parts[partKey{tenant, d}])
			}
			var err error
			if ref, found, err = findOwn(parts, pd.id, pr); err != nil {
				return v, err
			}
		}
		if !found {
			v.n = 1
			return v, nil
		}
		d1, fl1, err := pr.digest(ref)
		if err != nil {
			return v, err
		}
		dg, fl, err := incoming.digest()
		if err != nil {
			return v, err
		}
		if dg == d1 {
			return v, nil
		}
		tv = db.tenantVersionsFor(tenant)
		e = &versionEntry{newest: 1, published: 1, digests: map[uint64]int{d1: 1}, first: true, flagged: fl1}
		tv.entries[pd.id] = e
		return db.nextVersion(v, e, dg, fl, undo), nil
	}
	dg, fl, err := incoming.digest()
	if err != nil {
		return v, err
	}
	if _, ok := e.digests[dg]; ok {
		return v, nil
	}
	if !e.first {
		// Version 1 is in the tenant's own log, on any day: read it once.
		own := db.ownPartitions(map[string]bool{tenant: true})[tenant]
		ref, found := db.pendingOwn[ownID{tenant, pd.id}]
		if !found {
			var err error
			if ref, found, err = findOwn(own, pd.id, pr); err != nil {
				return v, err
			}
		}
		if found {
			d1, fl1, err := pr.digest(ref)
			if err != nil {
				return v, err
			}
			e.digests[d1] = 1
			e.flagged = e.flagged || fl1
		}
		e.first = true
		if e.digests[dg] == 1 {
			return v, nil
		}
	}
	return db.nextVersion(v, e, dg, fl, undo), nil
}

// nextVersion numbers a later version of e. Callers hold db.mu for writing.
func (db *DB) nextVersion(v versionRow, e *versionEntry, dg uint64, flagged bool, undo *[]func()) versionRow {
	e.newest++
	v.n, v.digest = e.newest, dg
	v.flagged = e.flagged || flagged
	e.flagged = v.flagged
	e.digests[dg] = v.n
	n := v.n
	*undo = append(*undo, func() {
		// The version was never stored: its content is not known. (Its number is not given
		// again; numbers only say which version is newer.)
		if e.digests[dg] == n {
			delete(e.digests, dg)
		}
	})
	return v
}

// publishVersions makes newly published later versions of tenant what reads see. Callers hold
// db.mu for writing.
func (db *DB) publishVersions(tenant string, vs []versionRow) {
	tv := db.tenantVersionsFor(tenant)
	for _, v := range vs {
		e := tv.entries[v.pd.id]
		if e == nil { // rebuilt since commit numbered it (retention)
			e = &versionEntry{digests: map[uint64]int{}}
			tv.entries[v.pd.id] = e
		}
		e.digests[v.digest] = v.n
		tv.shadow(v.pd.id)
		e.published = max(e.published, v.n)
		e.newest = max(e.newest, v.n)
	}
	tv.changes++
}

// versionChunk builds the versions partition chunk of vs, whose rows are in own (the call's
// chunk of their own-log partition).
func versionChunk(s *columnar.Schema, own arrow.RecordBatch, vs []versionRow) (arrow.RecordBatch, error) {
	rows := make([]int, len(vs))
	ns := make([]int, len(vs))
	flags := make([]bool, len(vs))
	for i, v := range vs {
		rows[i], ns[i], flags[i] = v.pd.row, v.n, v.flagged
	}
	t := columnar.Take(s, own, rows)
	defer t.Release()
	return columnar.SetVersions(s, t, ns, flags)
}
