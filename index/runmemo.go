package index

import (
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
)

// runMemo keeps the bitmaps a postings section's long run lists decoded to. A roaring
// bitmap is read in place, but a run list is rebuilt run by run, and since format version 7
// every posting that is smaller as a run list is stored as one, however many runs it has: an
// application's rows on a day sorted by user are thousands of runs, decoded by every query that
// counts them (a count by application name: 9 ms warm instead of 1.4). Each kept bitmap is a
// piece of the Reader's Resident, so the memo stays within the index's memory budget, and goes
// when the segment closes.
type runMemo struct {
	mu        sync.Mutex
	byPosting map[int]*memoRun
}

type memoRun struct {
	bm    *roaring.Bitmap // copy-on-write: a probe gets a clone that shares its containers
	piece resident
}

// memoRunListBytes is the shortest run list kept decoded: shorter ones (a user's rows, an
// address's) decode in less time than a lookup and a clone take.
const memoRunListBytes = 64

// get returns a clone of posting i's kept bitmap, or nil. Clones are made under m.mu: cloning
// a copy-on-write bitmap marks the source's containers as shared, a write.
func (m *runMemo) get(i int) *roaring.Bitmap {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.byPosting[i]
	if e == nil {
		return nil
	}
	e.piece.touch()
	return e.bm.Clone()
}

// keep offers bm, posting i's bitmap, to rd's Resident and returns the bitmap the probe hands
// out (a clone, when bm is kept: the caller may change it).
func (m *runMemo) keep(rd *Reader, i int, bm *roaring.Bitmap) *roaring.Bitmap {
	if rd == nil {
		return bm
	}
	bm.SetCopyOnWrite(true)
	e := &memoRun{bm: bm}
	e.piece.bytes = int64(bm.GetSizeInBytes())
	e.piece.drop = func() {
		m.mu.Lock()
		if m.byPosting[i] == e {
			delete(m.byPosting, i)
		}
		m.mu.Unlock()
	}
	m.mu.Lock()
	if m.byPosting == nil {
		m.byPosting = map[int]*memoRun{}
	}
	if m.byPosting[i] != nil { // another probe kept it meanwhile; bm is this probe's alone
		m.mu.Unlock()
		return bm
	}
	m.byPosting[i] = e
	out := bm.Clone()
	m.mu.Unlock()
	// Not under m.mu: making room may drop another of this memo's pieces.
	if !rd.keep(&e.piece) {
		e.piece.drop()
	}
	return out
}

// pieces appends the memo's resident pieces (a Reader's Release takes them out).
func (m *runMemo) pieces(dst []*resident) []*resident {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.byPosting {
		dst = append(dst, &e.piece)
	}
	return dst
}
