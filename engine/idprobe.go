package engine

// Ingest decides each row's fate (new, duplicate, later version) under db.mu held for writing,
// since what it reserves must be seen by the next ingest at once. Most of that decision is
// looking the row's id up in the stored segments of its day and the days beside it: index
// reads, a block of the id column to verify a candidate, sometimes a cold file read. Done under
// the write lock, every query and every other ingest waited for those reads. So commit first
// probes the segments outside the lock, on references taken under a read lock, and the critical
// section answers from those probes: segments are immutable, so an answer about a segment holds
// for as long as the segment exists. What the probes cannot answer (a segment a flush or a
// merge installed in between, a row the memtable held when they ran) is still looked up under
// the lock, as before.

import (
	"slices"

	"github.com/authlake/authlake/columnar"
)

// idProbes are the answers of id probes of stored segments made before commit took db.mu.
// A nil *idProbes answers nothing: every lookup goes to the segment.
type idProbes struct {
	// probed says which ids were looked up in every segment a partition had; segs names
	// those segments, with their partition.
	probed map[partKey]map[[16]byte]struct{}
	segs   map[*segment]partKey
	found  map[idProbe][]uint32 // rows of the probes that found the id; absent: none
	// digests are the content digests of the first row of each found id (what classify compares
	// an incoming row with), read a block at a time: a re-ingested export is all duplicates, and
	// reading every column of a row's block for each of them ran at 1,900 events/s.
	digests map[storedRef]storedDigest
}

type storedRef struct {
	s   *segment
	row uint32
}

type storedDigest struct {
	dg      uint64
	flagged bool
}

type idProbe struct {
	s  *segment
	id [16]byte
}

// preprobe looks up, outside db.mu, the ids of the live own-log rows of pend in the stored
// segments commit's classify would read (the row's day and versionWindowDays around it), for
// the rows whose answer the memtable, a pending ingest or a known version does not give first.
func (db *DB) preprobe(pend []pending, live bool) *idProbes {
	if !live {
		return nil
	}
	type task struct {
		s   *segment
		ids [][16]byte
	}
	var tasks []task
	pr := &idProbes{probed: map[partKey]map[[16]byte]struct{}{}, segs: map[*segment]partKey{}, found: map[idProbe][]uint32{},
		digests: map[storedRef]storedDigest{}}
	bySeg := map[*segment]int{}
	db.mu.RLock()
	if db.closed {
		db.mu.RUnlock()
		return nil
	}
	for _, pd := range pend {
		if _, _, isCopy := splitCopyNamespace(pd.key.tenant); isCopy {
			continue
		}
		if _, isVersion := splitVersionNamespace(pd.key.tenant); isVersion {
			continue
		}
		if tv := db.versions[pd.key.tenant]; tv != nil && tv.entries[pd.id] != nil {
			continue
		}
		if _, ok := db.pendingOwn[ownID{pd.key.tenant, pd.id}]; ok {
			continue
		}
		var parts []*partition
		inMemory := false
		for d := pd.key.day - versionWindowDays; d <= pd.key.day+versionWindowDays; d++ {
			p := db.parts[partKey{pd.key.tenant, d}]
			if p == nil {
				continue
			}
			parts = append(parts, p)
			for _, m := range append(p.frozen[:len(p.frozen):len(p.frozen)], p.mem) {
				if _, ok := m.ids[pd.id]; ok {
					inMemory = true
				}
			}
		}
		if inMemory {
			continue
		}
		for _, p := range parts {
			k := p.key
			ids := pr.probed[k]
			if ids == nil {
				ids = map[[16]byte]struct{}{}
				pr.probed[k] = ids
			}
			if _, ok := ids[pd.id]; ok {
				continue
			}
			ids[pd.id] = struct{}{}
			for _, s := range p.segs {
				i, ok := bySeg[s]
				if !ok {
					s.ref()
					i = len(tasks)
					bySeg[s] = i
					tasks = append(tasks, task{s: s})
					pr.segs[s] = k
				}
				tasks[i].ids = append(tasks[i].ids, pd.id)
			}
		}
	}
	db.mu.RUnlock()

	for _, t := range tasks {
		failed := false
		var firsts []uint32
		for _, id := range t.ids {
			rows, err := t.s.idRows(nil, id[:])
			if err != nil {
				failed = true // the lookup under the lock reads it again and reports the error
				break
			}
			if len(rows) > 0 {
				pr.found[idProbe{t.s, id}] = rows
				firsts = append(firsts, rows[0])
			}
		}
		if failed {
			delete(pr.segs, t.s)
		} else {
			pr.readDigests(t.s, firsts) // an error: classify reads the row again, and reports it
		}
		t.s.unref()
	}
	return pr
}

// readDigests notes the content digests of rows of s, reading each block they are in once.
func (pr *idProbes) readDigests(s *segment, rows []uint32) {
	slices.Sort(rows)
	br := uint32(s.seg.Meta.BlockRows)
	for i := 0; i < len(rows); {
		block := rows[i] / br
		j := i
		for j < len(rows) && rows[j]/br == block {
			j++
		}
		b, release, err := s.seg.BlockBatch(int(block), allColumns())
		if err != nil {
			return
		}
		for _, r := range rows[i:j] {
			dg, err := columnar.ContentDigest(b, int(r-block*br))
			if err != nil {
				break
			}
			fl := b.Valid(colFlagged.Index, int(r-block*br)) && b.Bool(colFlagged.Index, int(r-block*br))
			pr.digests[storedRef{s, r}] = storedDigest{dg, fl}
		}
		if b.Err() != nil {
			// A dictionary page failed: what was computed from it is not trusted.
			for _, r := range rows[i:j] {
				delete(pr.digests, storedRef{s, r})
			}
		}
		release()
		i = j
	}
}

// digest is the content digest of a stored row, and whether it is flagged, from the probes
// when they read it.
func (pr *idProbes) digest(sr storedRow) (uint64, bool, error) {
	if pr != nil && sr.seg != nil {
		if d, ok := pr.digests[storedRef{sr.seg, uint32(sr.row)}]; ok {
			return d.dg, d.flagged, nil
		}
	}
	return sr.digest()
}

// idRows returns the rows of s that store id, from the probes when they looked it up in s.
func (pr *idProbes) idRows(s *segment, id [16]byte) ([]uint32, error) {
	if pr != nil {
		if k, ok := pr.segs[s]; ok {
			if _, ok := pr.probed[k][id]; ok {
				return pr.found[idProbe{s, id}], nil
			}
		}
	}
	return s.idRows(nil, id[:])
}
