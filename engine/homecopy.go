package engine

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/authlake/authlake/columnar"
)

// Home-tenant copies of cross-tenant sign-ins.
//
// Entra shows a sign-in of a user of tenant A into tenant B in both tenants' logs. In authlake a
// tenant's ingest writes that tenant's log and nothing else: whoever can ingest for B could
// otherwise write into A's log, and a copy stored under A's own ids would make A's genuine event
// a "duplicate". A copy for the home tenant is made only where the operator configured that A
// trusts B's reports (Options.Trust), and then it is kept apart rather than mixed in:
//
//   - It is stored in partitions of the namespace "A~B" (copyNamespace): '~' cannot occur in a
//     tenant name, so no token, --tenant or resourceTenantId can name it, while segments, the
//     WAL, the manifest, flush, compaction and retention (A's) handle it like any partition.
//     Its dedup is its own, so it never pre-empts an event of A's own log.
//   - It carries the annotation "@authlake.reportedBy": "B" (columnar.ReportedBy), which
//     ingested records may not carry, so a reader can tell a copy from the tenant's own event.
//   - A's reads include it only while A trusts B, and never when A's own log holds an event
//     with the same id, on any day: the own event wins on every read path (list, get, count,
//     aggregate, export, Identity Protection). A copy whose id A already holds is not stored;
//     a copy stored before A's own event arrived is hidden from then on (homeCopies below).
//
// The counts an ingest returns describe the caller's own log only: whether a copy was stored
// depends on the home tenant's log, and must not tell the caller anything about it.

// copySep joins a home tenant and the tenant that reported the copies it holds.
const copySep = "~"

// maxNamespaceLen bounds a partition's namespace (a tenant, or home~source): what a segment
// footer holds.
const maxNamespaceLen = 256

// copyNamespace names the partitions holding home's copies of sign-ins reported by source.
func copyNamespace(home, source string) string { return home + copySep + source }

// splitCopyNamespace undoes copyNamespace; ok is false for a tenant's own partitions.
func splitCopyNamespace(ns string) (home, source string, ok bool) {
	home, source, ok = strings.Cut(ns, copySep)
	return home, source, ok
}

// validNamespace accepts what a partition (WAL chunk, manifest segment) may belong to.
func validNamespace(ns string) bool {
	if t, ok := splitVersionNamespace(ns); ok {
		return validTenant(t)
	}
	if home, source, ok := splitCopyNamespace(ns); ok {
		return len(ns) <= maxNamespaceLen && validTenant(home) && validTenant(source) && home != source
	}
	return validTenant(ns)
}

// trustSet is Options.Trust checked: home → reporting tenants it accepts copies from.
type trustSet map[string]map[string]bool

func newTrustSet(trust map[string][]string) (trustSet, error) {
	ts := trustSet{}
	for home, sources := range trust {
		if !validTenant(home) {
			return nil, fmt.Errorf("trust: invalid home tenant %q", home)
		}
		for _, src := range sources {
			switch {
			case !validTenant(src):
				return nil, fmt.Errorf("trust: tenant %s: invalid reporting tenant %q", home, src)
			case src == home:
				return nil, fmt.Errorf("trust: tenant %s cannot trust itself: its own events are its own log", home)
			case len(copyNamespace(home, src)) > maxNamespaceLen:
				return nil, fmt.Errorf("trust: tenant names %s and %s are too long together (%d bytes at most)", home, src, maxNamespaceLen-len(copySep))
			}
			if ts[home] == nil {
				ts[home] = map[string]bool{}
			}
			ts[home][src] = true
		}
	}
	return ts, nil
}

func (ts trustSet) trusts(home, source string) bool { return ts[home][source] }

// Trust returns the trust the database was opened with (Options.Trust), sorted.
func (db *DB) Trust() map[string][]string {
	out := make(map[string][]string, len(db.trust))
	for home, srcs := range db.trust {
		for src := range srcs {
			out[home] = append(out[home], src)
		}
		slices.Sort(out[home])
	}
	return out
}

// copyTarget says whether an event reported by reporter (the tenant whose log it is ingested
// into) is also copied for the user's home tenant: only a cross-tenant sign-in into the
// reporter itself (a tenant reports what happened in it, not elsewhere), and only when the
// home tenant trusts the reporter.
func (db *DB) copyTarget(reporter string, row *columnar.Row) (home string, ok bool) {
	if len(db.trust) == 0 {
		return "", false
	}
	home = row.String(colHomeTenant)
	if home == "" || home == reporter || row.String(colResourceTenant) != reporter || !db.trust.trusts(home, reporter) {
		return "", false
	}
	return home, true
}

// reportedBy is the annotation's JSON value for copies reported by tenant.
func reportedBy(tenant string) []byte { return strconv.AppendQuote(nil, tenant) }

// homeCopies is what the engine keeps in memory, per home tenant holding copies, so that the
// tenant's own events win over copies with the same id. It is derived from stored data
// (rebuildHomes at open and after retention) and kept up to date as rows are committed.
type homeCopies struct {
	// ids of every stored copy (any reporter, any day) → the newest day one is stored under:
	// an own event committed later checks it to find the copies it shadows.
	ids map[[16]byte]int32
	// shadowed are the ids that the home tenant's own log also holds: copies with them are
	// hidden. log lists them in the order found, so that a segment's hidden rows are computed
	// once and then only for ids found since (segmentHidden).
	shadowed map[[16]byte]struct{}
	log      [][16]byte
	epoch    uint64 // which derivation log belongs to; a rebuild starts a new one
}

func (h *homeCopies) shadow(id [16]byte) {
	if _, ok := h.shadowed[id]; !ok {
		h.shadowed[id] = struct{}{}
		h.log = append(h.log, id)
	}
}

func (h *homeCopies) noteCopy(id [16]byte, day int32) {
	if d, ok := h.ids[id]; !ok || d < day {
		h.ids[id] = day
	}
}

// home returns home's state, creating it. Callers hold db.mu for writing.
func (db *DB) home(home string) *homeCopies {
	h := db.homes[home]
	if h == nil {
		db.copyEpoch++
		h = &homeCopies{ids: map[[16]byte]int32{}, shadowed: map[[16]byte]struct{}{}, epoch: db.copyEpoch}
		db.homes[home] = h
	}
	return h
}

// ownPartitions lists the partitions of each tenant's own log. Callers hold db.mu.
func (db *DB) ownPartitions(tenants map[string]bool) map[string][]*partition {
	out := make(map[string][]*partition, len(tenants))
	for k, p := range db.parts {
		if tenants[k.tenant] {
			out[k.tenant] = append(out[k.tenant], p)
		}
	}
	return out
}

// ownHasID reports whether any of parts (one tenant's own log) holds id, on any day: a copy
// dated another day than the tenant's own event must not show beside it either.
func ownHasID(parts []*partition, id [16]byte) (bool, error) {
	for _, p := range parts {
		if _, ok := p.mem.ids[id]; ok {
			return true, nil
		}
		for _, f := range p.frozen {
			if _, ok := f.ids[id]; ok {
				return true, nil
			}
		}
		for _, s := range p.segs {
			rows, err := s.idRows(nil, id[:])
			if err != nil || len(rows) > 0 {
				return len(rows) > 0, err
			}
		}
	}
	return false, nil
}

// noteCommitted keeps homeCopies current with rows just published (copies says whether any
// is a copy): a stored copy is recorded (and hidden at once if its home tenant's log holds the
// id, e.g. an own event reserved by a concurrent ingest), an own event hides the copies of its
// id. Callers hold db.mu for writing.
func (db *DB) noteCommitted(rows []pending, copies bool) {
	if len(db.homes) == 0 && !copies {
		return // no copies anywhere: nothing to keep
	}
	own := map[string][]*partition{}
	for _, pd := range rows {
		home, _, isCopy := splitCopyNamespace(pd.key.tenant)
		if !isCopy {
			if h := db.homes[pd.key.tenant]; h != nil {
				if _, ok := h.ids[pd.id]; ok {
					h.shadow(pd.id)
				}
			}
			continue
		}
		h := db.home(home)
		h.noteCopy(pd.id, pd.key.day)
		parts, ok := own[home]
		if !ok {
			parts = db.ownPartitions(map[string]bool{home: true})[home]
			own[home] = parts
		}
		has, err := ownHasID(parts, pd.id)
		if err != nil {
			// The rows are durable already; when the home's own log cannot be read, keep the
			// copy hidden rather than risk showing it beside the tenant's own event.
			db.log.Error("cannot tell whether a home-tenant copy is shadowed; hiding it", "namespace", pd.key.tenant, "err", err)
		}
		if has || err != nil {
			h.shadow(pd.id)
		}
	}
}

// rebuildHomes derives homeCopies again from stored data, for the given home tenants (nil:
// every one). Callers hold db.mu for writing.
func (db *DB) rebuildHomes(only map[string]bool) error {
	fresh := map[string]*homeCopies{}
	for k, p := range db.parts {
		home, _, ok := splitCopyNamespace(k.tenant)
		if !ok || (only != nil && !only[home]) || p.empty() {
			continue
		}
		h := fresh[home]
		if h == nil {
			db.copyEpoch++
			h = &homeCopies{ids: map[[16]byte]int32{}, shadowed: map[[16]byte]struct{}{}, epoch: db.copyEpoch}
			fresh[home] = h
		}
		// Reserved ids of an ingest in flight count too: at worst an id is noted whose row then
		// fails to commit, which only hides nothing.
		for id := range p.mem.ids {
			h.noteCopy(id, k.day)
		}
		for _, f := range p.frozen {
			for id := range f.ids {
				h.noteCopy(id, k.day)
			}
		}
		for _, s := range p.segs {
			if err := s.eachID(func(id [16]byte) { h.noteCopy(id, k.day) }); err != nil {
				return fmt.Errorf("read copies of %s: %w", k.tenant, err)
			}
		}
	}
	homes := map[string]bool{}
	for home := range fresh {
		homes[home] = true
	}
	own := db.ownPartitions(homes)
	for home, h := range fresh {
		for id := range h.ids {
			has, err := ownHasID(own[home], id)
			if err != nil {
				return fmt.Errorf("tenant %s: %w", home, err)
			}
			if has {
				h.shadow(id)
			}
		}
	}
	for home := range db.homes {
		if only == nil || only[home] {
			delete(db.homes, home)
		}
	}
	for home, h := range fresh {
		db.homes[home] = h
	}
	return nil
}

// eachID calls fn with every request id of the segment.
func (s *segment) eachID(fn func(id [16]byte)) error {
	for b := 0; b < s.seg.NumBlocks(); b++ {
		a, err := s.seg.Block(s.idCol, b)
		if err != nil {
			return err
		}
		col := a.(*array.FixedSizeBinary)
		for r := 0; r < col.Len(); r++ {
			fn([16]byte(col.Value(r)))
		}
		a.Release()
	}
	return nil
}
