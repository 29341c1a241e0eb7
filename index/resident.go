package index

import (
	"sync"
	"sync/atomic"
)

// Resident bounds the bytes of sections that Readers keep in memory after reading them whole:
// the keys sections that ingest's duplicate check probes often enough to read whole
// (keys_grouped.go) and the postings sections of format version 4 that probes have read half
// of piece by piece (postings_paged.go); both are wholeSections. Without a bound a database
// ingested in time order kept the id keys of every day it had ever checked until the segment
// closed (about 4 B an event: 400 MB at 100M events).
//
// Eviction is CLOCK (second chance): each use sets a section's reference bit, and a section
// that must make room clears the bits it passes and drops the first one found clear. A dropped
// section's probes read pieces from the file again until they earn the whole read back; a
// section larger than the whole bound, or of a released Reader, is never read whole. A Reader's
// sections leave when it is released (its segment is closed). One Resident serves every Reader
// of a database; nil keeps everything (tools, tests).
type Resident struct {
	limit int64
	mu    sync.Mutex
	used  int64
	ring  []*resident
	hand  int
}

// NewResident bounds resident sections to limit bytes.
func NewResident(limit int64) *Resident { return &Resident{limit: limit} }

// Used returns the bytes resident now.
func (rs *Resident) Used() int64 {
	if rs == nil {
		return 0
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.used
}

// resident is one droppable piece of section memory.
type resident struct {
	bytes int64
	ref   atomic.Bool // used since the clock hand last passed
	pos   int         // 1 + its position in the ring, 0 when not in it (guarded by Resident.mu)
	drop  func()      // forget the memory: the next use reads it again
}

// touch marks a use (a store only when the bit is clear: probes of one section from many
// goroutines do not fight over its cache line).
func (r *resident) touch() {
	if !r.ref.Load() {
		r.ref.Store(true)
	}
}

// admit makes room for r and keeps it, or says it is larger than the bound (then the caller
// must not keep it). A nil Resident admits everything.
func (rs *Resident) admit(r *resident) bool {
	if rs == nil {
		return true
	}
	if r.bytes > rs.limit {
		return false
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for rs.used+r.bytes > rs.limit && len(rs.ring) > 0 {
		if rs.hand >= len(rs.ring) {
			rs.hand = 0
		}
		v := rs.ring[rs.hand]
		if v.ref.Swap(false) {
			rs.hand++
			continue
		}
		rs.removeLocked(v)
		v.drop()
	}
	r.ref.Store(false) // a section used once is the first to go; a second use earns it a lap
	rs.ring = append(rs.ring, r)
	r.pos = len(rs.ring)
	rs.used += r.bytes
	return true
}

// removeLocked takes r out of the ring (it is there).
func (rs *Resident) removeLocked(r *resident) {
	last := len(rs.ring) - 1
	moved := rs.ring[last]
	rs.ring[r.pos-1], moved.pos = moved, r.pos
	rs.ring[last] = nil
	rs.ring = rs.ring[:last]
	rs.used -= r.bytes
	r.pos = 0
}

// release takes rs's resident pieces out without dropping them: their Reader is going away,
// and with it the memory.
func (rs *Resident) release(pieces []*resident) {
	if rs == nil {
		return
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, r := range pieces {
		if r.pos > 0 {
			rs.removeLocked(r)
		}
	}
}
