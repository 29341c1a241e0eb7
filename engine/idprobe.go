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

// idProbes are the answers of id probes of stored segments made before commit took db.mu.
// A nil *idProbes answers nothing: every lookup goes to the segment.
type idProbes struct {
	// probed says which ids were looked up in every segment a partition had; segs names
	// those segments, with their partition.
	probed map[partKey]map[[16]byte]struct{}
	segs   map[*segment]partKey
	found  map[idProbe][]uint32 // rows of the probes that found the id; absent: none
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
	pr := &idProbes{probed: map[partKey]map[[16]byte]struct{}{}, segs: map[*segment]partKey{}, found: map[idProbe][]uint32{}}
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
		for _, id := range t.ids {
			rows, err := t.s.idRows(nil, id[:])
			if err != nil {
				failed = true // the lookup under the lock reads it again and reports the error
				break
			}
			if len(rows) > 0 {
				pr.found[idProbe{t.s, id}] = rows
			}
		}
		if failed {
			delete(pr.segs, t.s)
		}
		t.s.unref()
	}
	return pr
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
