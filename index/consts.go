// Package index owns the per-segment secondary indexes of authlake: roaring-bitmap
// postings (dictionary codes, bools, small-domain int32 values), hashed lookups for
// high-cardinality keys and per-block zone maps, together with their on-disk encoding,
// the index sidecar file specified in docs/format/index.md.
//
// A Builder collects the indexes of one immutable segment and marshals them into one
// sidecar. Open reads only the sidecar's header, trailer and directory; each section is
// read and CRC-verified on its first probe, so a query touching two columns pays for two
// sections, not for the whole file. Keys sections are read finer still: a probe reads and
// checks one group of buckets, a few KB, not the section.
package index

import "hash/crc32"

// formatVersion is written in the header and trailer. Bump it on any layout change and
// keep a decoding path for every older version: sidecars live as long as their segments.
// Version 2 writes keys sections in the compact layout, version 3 in the grouped layout
// (keys_grouped.go), which a probe reads one bucket group of; versions 1 and 2 are read
// (keys_whole.go). Version 4 writes postings with a checksum per posting (postings_paged.go),
// which a probe reads one posting of; earlier versions' postings are read whole. Version 5
// writes keys sections of layout 3, whose entries name a key's block instead of its row, and
// postings of a few runs as run lists (runlist.go). Version 6 writes postings in groups that
// share a start and a checksum, each posting's length in 2 or 4 bytes and only roaring bitmaps
// aligned (postings_grouped.go). Version 7 writes keys sections of layout 4, each entry's
// fingerprint and block packed into as few bytes as the segment's blocks allow (keys.go).
const formatVersion = 7

// oldestFormatVersion is the oldest version this reader decodes.
const oldestFormatVersion = 1

// magic identifies a sidecar at both ends of the file.
const magic = "ALIX"

const (
	headerLen  = 8
	trailerLen = 32
	// tailRead is how much of a sidecar's end Open reads at once: the trailer and, for every
	// sidecar of the sign-in schema (a directory of ~700 bytes), the directory.
	tailRead = 4 << 10
)

// Limits that every decoder checks before it trusts a length read from a file, so that a
// corrupt or hostile sidecar cannot make the reader allocate or loop without bound.
const (
	// maxRows bounds the rows of one segment; segments hold a few million rows, and row
	// ids must stay far from uint32 overflow when a block end is computed.
	maxRows = 1 << 31

	// maxSections bounds the directory: a sign-in segment indexes a few dozen columns.
	maxSections = 4096

	// maxColumnNameLen bounds a column name (Graph property paths are short).
	maxColumnNameLen = 255

	// maxDirectoryLen bounds the bytes Open reads besides header and trailer; it fits
	// maxSections entries with the longest names.
	maxDirectoryLen = 2 << 20

	// maxSectionLen bounds one section; section lengths are stored as uvarints but
	// buffers are allocated from them.
	maxSectionLen = 1<<31 - 1

	// maxPostings bounds the codes or distinct values of one postings section: the
	// offset table costs 4 bytes per posting even when the posting is empty.
	maxPostings = 1 << 24

	// maxKeyBucketBits bounds the keys bucket table to 64 MiB.
	maxKeyBucketBits = 24

	// minZoneBlockRows and maxZoneBlockRows bound a zone map block. A sidecar with keys
	// sections allows one row fewer (MaxBlockRows).
	minZoneBlockRows = 1
	maxZoneBlockRows = 1 << 24
)

// MaxBlockRows is the largest segment block a sidecar can index: a keys section stores a
// block's rows in 24 bits (docs/format/index.md).
const MaxBlockRows = 1<<24 - 1

// castagnoli is the CRC32C table; SSE4.2 makes it run at memory speed on amd64.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Kind is the kind of a sidecar section. Its numeric value is stored on disk.
type Kind uint8

// Section kinds. A column may have one section of each kind.
const (
	KindCodes          Kind = 1
	KindBools          Kind = 2
	KindInt32          Kind = 3
	KindKeys           Kind = 4
	KindZoneMapInt64   Kind = 5
	KindZoneMapFloat64 Kind = 6
)

func (k Kind) String() string {
	switch k {
	case KindCodes:
		return "codes"
	case KindBools:
		return "bools"
	case KindInt32:
		return "int32"
	case KindKeys:
		return "keys"
	case KindZoneMapInt64:
		return "zonemap-int64"
	case KindZoneMapFloat64:
		return "zonemap-float64"
	default:
		return "unknown"
	}
}

func (k Kind) valid() bool {
	return k >= KindCodes && k <= KindZoneMapFloat64
}
