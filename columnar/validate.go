package columnar

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// maxBatchRows bounds the rows of one record batch read from disk or the WAL.
const maxBatchRows = 1 << 26

// ValidateRecord checks that a record batch read from outside (the WAL) is structurally sound
// for schema s before any accessor trusts its buffers: types match the schema, buffers are long
// enough for the declared length, offsets are monotonic and in range, dictionary codes are in
// range. The Arrow IPC reader trusts lengths written in the stream; this does not.
func ValidateRecord(s *Schema, rec arrow.RecordBatch) error {
	n := rec.NumRows()
	if n < 0 || n > maxBatchRows {
		return fmt.Errorf("record has %d rows (limit %d)", n, maxBatchRows)
	}
	if !rec.Schema().Equal(s.Arrow()) {
		return fmt.Errorf("record schema differs from this build's")
	}
	for i, col := range rec.Columns() {
		if int64(col.Len()) != n {
			return fmt.Errorf("column %s has %d rows, record %d", rec.ColumnName(i), col.Len(), n)
		}
		if err := validateArray(col.Data()); err != nil {
			return fmt.Errorf("column %s: %w", rec.ColumnName(i), err)
		}
	}
	return nil
}

func bufLen(d arrow.ArrayData, i int) int {
	bs := d.Buffers()
	if i >= len(bs) || bs[i] == nil {
		return 0
	}
	return bs[i].Len()
}

func validateArray(d arrow.ArrayData) error {
	n, off := d.Len(), d.Offset()
	if n < 0 || off < 0 || n > maxBatchRows || off > maxBatchRows {
		return fmt.Errorf("bad length %d or offset %d", n, off)
	}
	end := n + off
	if d.NullN() > 0 && bufLen(d, 0) < (end+7)/8 {
		return fmt.Errorf("validity bitmap too short")
	}
	switch t := d.DataType().(type) {
	case *arrow.DictionaryType:
		if bufLen(d, 1) < end*4 {
			return fmt.Errorf("dictionary codes too short")
		}
		dict, ok := d.Dictionary().(*array.Data)
		if !ok || dict == nil {
			return fmt.Errorf("dictionary missing")
		}
		if err := validateArray(dict); err != nil {
			return fmt.Errorf("dictionary: %w", err)
		}
		codes := arrow.Int32Traits.CastFromBytes(d.Buffers()[1].Bytes())[off:end]
		for _, c := range codes {
			if c < 0 || int(c) >= dict.Len() {
				// Null slots may hold any code, but ours hold 0; anything else out of range is
				// corruption.
				if !(c == 0 && dict.Len() == 0) {
					return fmt.Errorf("dictionary code %d out of range [0,%d)", c, dict.Len())
				}
			}
		}
	case *arrow.StringType, *arrow.BinaryType:
		if bufLen(d, 1) < (end+1)*4 {
			return fmt.Errorf("offsets too short")
		}
		offs := arrow.Int32Traits.CastFromBytes(d.Buffers()[1].Bytes())[off : end+1]
		data := bufLen(d, 2)
		prev := offs[0]
		if prev < 0 {
			return fmt.Errorf("negative offset")
		}
		for _, o := range offs[1:] {
			if o < prev {
				return fmt.Errorf("offsets decrease")
			}
			prev = o
		}
		if int(prev) > data {
			return fmt.Errorf("offset %d beyond %d data bytes", prev, data)
		}
	case *arrow.FixedSizeBinaryType:
		if bufLen(d, 1) < end*t.ByteWidth {
			return fmt.Errorf("values too short")
		}
	case *arrow.BooleanType:
		if bufLen(d, 1) < (end+7)/8 {
			return fmt.Errorf("values too short")
		}
	case arrow.FixedWidthDataType:
		if bufLen(d, 1) < end*t.BitWidth()/8 {
			return fmt.Errorf("values too short")
		}
	default:
		return fmt.Errorf("unexpected type %s", t)
	}
	return nil
}
