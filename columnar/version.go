package columnar

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/cespare/xxhash/v2"
)

// Versions of a sign-in: what makes two stored rows the same content, and how a row says which
// version it is. The engine decides what is a new version (docs/versions.md); these helpers
// only read and write rows.

// ContentDigest hashes what a row says about its sign-in: every column and every extras entry,
// except flaggedForReview (decided by authlake's flagging at ingest, not by the source),
// authlake's own annotations and the source envelopes (a record's metadata at its source). Two rows with equal digests are the same content; the same row
// read from a memtable chunk or a segment block has the same digest.
func ContentDigest(b *Batch, row int) (uint64, error) {
	h := xxhash.New()
	var num [8]byte
	for _, c := range b.Schema.Columns {
		if c == colFlaggedForReview {
			continue
		}
		if !b.Valid(c.Index, row) {
			h.Write([]byte{0})
			continue
		}
		h.Write([]byte{1})
		switch c.Kind {
		case KindTime:
			binary.LittleEndian.PutUint64(num[:], uint64(b.Int64(c.Index, row)))
			h.Write(num[:])
		case KindInt32:
			binary.LittleEndian.PutUint32(num[:4], uint32(b.Int32(c.Index, row)))
			h.Write(num[:4])
		case KindFloat64:
			binary.LittleEndian.PutUint64(num[:], math.Float64bits(b.Float64(c.Index, row)))
			h.Write(num[:])
		case KindBool:
			if b.Bool(c.Index, row) {
				h.Write([]byte{1})
			} else {
				h.Write([]byte{0})
			}
		default:
			v := b.Bytes(c.Index, row)
			binary.LittleEndian.PutUint64(num[:], uint64(len(v)))
			h.Write(num[:])
			h.Write(v)
		}
	}
	extras, err := b.Extras(row, nil)
	if err != nil {
		return 0, fmt.Errorf("row %d: %w", row, err)
	}
	for _, x := range extras {
		if x.Kind == extrasRaw && (IsAnnotation(x.Path) || isEnvelope(x.Path)) {
			continue
		}
		h.Write([]byte{x.Kind})
		binary.LittleEndian.PutUint64(num[:], uint64(len(x.Path)))
		h.Write(num[:])
		h.WriteString(x.Path)
		binary.LittleEndian.PutUint64(num[:], uint64(len(x.Value)))
		h.Write(num[:])
		h.Write(x.Value)
	}
	return h.Sum64(), nil
}

// RowVersion is the version a stored row says it is: its VersionAnnotation, 1 without one.
func RowVersion(b *Batch, row int) (int, error) {
	extras, err := b.Extras(row, nil)
	if err != nil {
		return 0, fmt.Errorf("row %d: %w", row, err)
	}
	for _, x := range extras {
		if x.Kind == extrasRaw && x.Path == VersionAnnotation {
			n, err := strconv.Atoi(string(x.Value))
			if err != nil || n < 2 {
				return 0, fmt.Errorf("row %d: %s is %q, not a version number above 1", row, VersionAnnotation, x.Value)
			}
			return n, nil
		}
	}
	return 1, nil
}

// SetVersions returns rec's rows with VersionAnnotation set to versions[i] (≥ 2) and
// flaggedForReview set where flagged[i] (a version keeps the flag of the one it follows). rec is
// not changed; the caller owns the result.
func SetVersions(s *Schema, rec arrow.RecordBatch, versions []int, flagged []bool) (arrow.RecordBatch, error) {
	n := int(rec.NumRows())
	if len(versions) != n || len(flagged) != n {
		panic("BUG: SetVersions needs one version and one flag per row")
	}
	b, err := NewBatch(s, rec)
	if err != nil {
		return nil, err
	}
	mem := memory.DefaultAllocator
	xb := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
	defer xb.Release()
	fb := array.NewBooleanBuilder(mem)
	defer fb.Release()
	var entries []ExtraEntry
	for r := 0; r < n; r++ {
		if versions[r] < 2 {
			panic("BUG: SetVersions of version " + strconv.Itoa(versions[r]))
		}
		if entries, err = b.Extras(r, entries); err != nil {
			return nil, fmt.Errorf("row %d: %w", r, err)
		}
		var out []byte
		for _, x := range entries {
			// Setting the flag replaces what the extras said about an absent flaggedForReview.
			if x.Path != VersionAnnotation && !(flagged[r] && x.Path == colFlaggedForReview.Name) {
				out = appendExtra(out, x.Kind, x.Path, x.Value)
			}
		}
		xb.Append(appendExtra(out, extrasRaw, VersionAnnotation, strconv.AppendInt(nil, int64(versions[r]), 10)))
		switch valid := b.Valid(colFlaggedForReview.Index, r); {
		case flagged[r]:
			fb.Append(true)
		case valid:
			fb.Append(b.Bool(colFlaggedForReview.Index, r))
		default:
			fb.AppendNull()
		}
	}
	xa, fa := xb.NewArray(), fb.NewArray()
	defer xa.Release()
	defer fa.Release()
	cols := make([]arrow.Array, rec.NumCols())
	for i, f := range rec.Schema().Fields() {
		switch f.Name {
		case ExtrasColumn:
			cols[i] = xa
		case colFlaggedForReview.Name:
			cols[i] = fa
		default:
			cols[i] = rec.Column(i)
		}
	}
	return Shareable(array.NewRecordBatch(rec.Schema(), cols, int64(n))), nil
}
