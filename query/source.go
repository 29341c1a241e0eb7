package query

import (
	"github.com/RoaringBitmap/roaring/v2"
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/index"
	"github.com/authlake/authlake/internal/cpu"
)

// Source is what a query reads: per UTC day, immutable indexed segments and unflushed
// memtable chunks. It mirrors engine.Snapshot without importing the engine (the engine
// imports this package).
type Source struct {
	Days []Day // ascending by day
	// CPU is the pool the scan takes a token from for each block (and each memtable chunk)
	// it reads; nil means cpu.Default(). See internal/cpu.
	CPU *cpu.Pool
}

func (s Source) pool() *cpu.Pool {
	if s.CPU != nil {
		return s.CPU
	}
	return cpu.Default()
}

// Day is one UTC day of a Source.
type Day struct {
	Day      int32
	Segments []Segment
	Mem      []arrow.RecordBatch // logical schema, per-chunk (unsorted) dictionaries
}

// Segment is one segment with its index sidecar (Index may be nil: no index probes).
type Segment struct {
	ID    uint64
	Seg   *columnar.Segment
	Index *index.Reader
	// Hidden rows are not part of the source: no query matches, counts or groups them. The
	// engine hides a tenant's copies of sign-ins that its own log also holds (segments are
	// immutable, so the reader, not the file, decides). nil hides nothing.
	Hidden *roaring.Bitmap
}
