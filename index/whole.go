package index

import (
	"io"
	"sync"
	"sync/atomic"
)

// wholeSection is a section that probes read piece by piece from the sidecar until they have
// earned reading it whole, and then in place while the Reader's Resident keeps it: a keys
// section once ingest's duplicate check has probed it as often as a quarter of its groups, a
// postings section once probes have read half of it piece by piece. Evicted, it earns its
// place again from zero, so a section probed once in a while (a day that ingest has moved on
// from) stays on disk.
type wholeSection struct {
	r         io.ReaderAt
	off, size int64 // of the section in the file
	units     int   // what its checked bits count: groups or postings
	threshold int64 // the credit that earns the whole read

	credit atomic.Int64
	mem    atomic.Pointer[sectionBytes] // the section in memory (nil until earned, and once evicted)
	mu     sync.Mutex                   // one goroutine reads the section whole
	rd     *Reader                      // whose Resident holds mem
	piece  resident
}

// never is a credit that no earning reaches: the section stays on disk (it cannot be read
// whole, or is larger than the Resident's whole bound).
const never = -1 << 62

// earn adds credit: a probe, or bytes read piece by piece.
func (w *wholeSection) earn(n int64) { w.credit.Add(n) }

// grant earns the whole read at once (a caller about to probe much of the section).
func (w *wholeSection) grant() {
	if c := w.credit.Load(); c >= 0 && c < w.threshold {
		w.credit.CompareAndSwap(c, w.threshold)
	}
}

// source is where a probe reads: the section in memory, else the sidecar. The first probe past
// the threshold reads the section whole and offers it to the Resident; a section it does not
// admit serves that probe and is dropped.
func (w *wholeSection) source() io.ReaderAt {
	if m := w.mem.Load(); m != nil {
		w.piece.touch()
		return m
	}
	if w.credit.Load() < w.threshold {
		return w.r
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if m := w.mem.Load(); m != nil {
		return m
	}
	if w.credit.Load() < w.threshold { // evicted meanwhile: earning again
		return w.r
	}
	b := alignedBytes(int(w.size)) // postings' bitmaps decode in place: 8-aligned
	if readFull(w.r, b, w.off) != nil {
		w.credit.Store(never) // probes go on reading pieces, and say why
		return w.r
	}
	m := &sectionBytes{b: b, off: w.off, checked: make([]atomic.Bool, w.units)}
	if w.piece.drop == nil {
		w.piece.bytes = w.size
		w.piece.drop = func() {
			w.mem.Store(nil)
			w.credit.Store(0)
		}
	}
	w.mem.Store(m) // before keep: an eviction right after admitting it must find it
	if w.rd == nil || !w.rd.keep(&w.piece) {
		w.mem.Store(nil)
		w.credit.Store(never) // larger than the whole bound, or its Reader released: stays on disk
	}
	return m
}
