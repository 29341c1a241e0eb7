package engine

import (
	"slices"
	"strings"
)

// Stats describes what the database holds.
type Stats struct {
	Events       int64 `json:"events"`
	MemtableRows int64 `json:"memtableRows"`
	// MemtableBytes is what unflushed rows hold in memory (the memtable being filled and any
	// being flushed), against MemoryLimit's memtable share (docs/memory.md).
	MemtableBytes int64            `json:"memtableBytes"`
	MemoryLimit   int64            `json:"memoryLimit"`
	Segments      int              `json:"segments"`
	SegmentBytes  int64            `json:"segmentBytes"`
	IndexBytes    int64            `json:"indexBytes"`
	WALBytes      int64            `json:"walBytes"`
	Tenants       []TenantStats    `json:"tenants"`
	ColumnBytes   map[string]int64 `json:"columnBytes,omitempty"` // filled by ColumnBytes, not Stats
	// The decoded-block cache: bytes held, hits and misses since Open.
	CacheBytes  int64 `json:"cacheBytes"`
	CacheHits   int64 `json:"cacheHits"`
	CacheMisses int64 `json:"cacheMisses"`
	// IndexResidentBytes is what index sections kept in memory after use hold (at most a
	// sixteenth of MemoryLimit; docs/memory.md).
	IndexResidentBytes int64 `json:"indexResidentBytes"`
	// DictionaryBytes is what the segment dictionaries queries have loaded hold: kept until
	// their segment closes, not bounded by MemoryLimit (docs/memory.md).
	DictionaryBytes int64 `json:"dictionaryBytes"`
}

// TenantStats describes one tenant's own log, or with ReportedBy the copies it holds of its
// users' cross-tenant sign-ins that tenant reported.
type TenantStats struct {
	Tenant     string `json:"tenant"`
	ReportedBy string `json:"reportedBy,omitempty"`
	Events     int64  `json:"events"`
	Days       int    `json:"days"`
	FirstDay   string `json:"firstDay"`
	LastDay    string `json:"lastDay"`
	Segments   int    `json:"segments"`
	// Versions counts the later versions stored of sign-ins seen again with other content
	// (docs/versions.md); Events counts each sign-in once.
	Versions int64 `json:"versions,omitempty"`
}

// Stats reports events, tenants, days, segments and bytes on disk (in total and per column).
func (db *DB) Stats() Stats {
	db.mu.RLock()
	defer db.mu.RUnlock()
	st := Stats{MemtableRows: int64(db.memRows), MemtableBytes: db.memBytes + db.frozenBytes, MemoryLimit: db.budget.limit}
	st.CacheBytes, st.CacheHits, st.CacheMisses = db.cache.Stats()
	st.IndexResidentBytes = db.resident.Used()
	if db.wal != nil {
		st.WALBytes = db.wal.Size()
	}
	byTenant := map[string]*TenantStats{}
	var first, last = map[string]int32{}, map[string]int32{}
	for k, p := range db.parts {
		if p.empty() {
			continue
		}
		if t, ok := splitVersionNamespace(k.tenant); ok {
			ts := byTenant[t]
			if ts == nil {
				ts = &TenantStats{Tenant: t}
				byTenant[t] = ts
			}
			ts.Versions += int64(p.rows())
			ts.Segments += len(p.segs)
			st.addSegments(p)
			continue
		}
		ts := byTenant[k.tenant]
		if ts == nil {
			ts = &TenantStats{Tenant: k.tenant}
			if home, src, ok := splitCopyNamespace(k.tenant); ok {
				ts.Tenant, ts.ReportedBy = home, src
			}
			byTenant[k.tenant] = ts
			first[k.tenant], last[k.tenant] = k.day, k.day
		}
		ts.Days++
		ts.Events += int64(p.rows())
		ts.Segments += len(p.segs)
		first[k.tenant] = min(first[k.tenant], k.day)
		last[k.tenant] = max(last[k.tenant], k.day)
		st.addSegments(p)
	}
	for t, ts := range byTenant {
		if ts.Days > 0 {
			ts.FirstDay, ts.LastDay = dayString(first[t]), dayString(last[t])
		}
		st.Events += ts.Events
		st.Tenants = append(st.Tenants, *ts)
	}
	slices.SortFunc(st.Tenants, func(a, b TenantStats) int {
		if c := strings.Compare(a.Tenant, b.Tenant); c != 0 {
			return c
		}
		return strings.Compare(a.ReportedBy, b.ReportedBy)
	})
	return st
}

func (st *Stats) addSegments(p *partition) {
	for _, s := range p.segs {
		st.Segments++
		st.SegmentBytes += s.seg.Size()
		st.IndexBytes += s.ms.Index
		st.DictionaryBytes += s.seg.DictionaryBytes()
	}
}

// ColumnBytes returns the bytes each column takes in the segments, summed over every tenant: it
// reads every segment's footer (opening the segments a lazy open left closed), so Stats, which
// metrics and status pages call often, leaves it out.
func (db *DB) ColumnBytes() (map[string]int64, error) {
	db.mu.RLock()
	var segs []*segment
	for _, p := range db.parts {
		for _, s := range p.segs {
			s.ref()
			segs = append(segs, s)
		}
	}
	db.mu.RUnlock()
	defer func() {
		for _, s := range segs {
			s.unref()
		}
	}()
	out := map[string]int64{}
	for _, s := range segs {
		cols, err := s.seg.Columns()
		if err != nil {
			return nil, err
		}
		for _, c := range cols {
			out[c.Name] += int64(c.Length)
		}
	}
	return out, nil
}
