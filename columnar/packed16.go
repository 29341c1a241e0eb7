package columnar

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Text frames that store 16-byte values spelled as text as their bytes (encTokens, version 5;
// encGUIDText, version 8). After the validity bitmap: a bitmap of the rows whose text is the
// spelling of 16 bytes (a valid row whose text the spelling's parse accepts and that spelling
// the bytes gives back), then those 16 bytes in row order, then the other valid rows' text as
// offsets (one more than there are of them, the first 0) and data. Null rows are in neither. A
// literal that the spelling would pack is refused, so the frame has one spelling.
//
//   - Tokens (encTokens, a column with Column.Tokens): 22 characters of unpadded base64url.
//     Random 16 bytes as base64 text cost zstd about 21 bytes a value (6 bits a character, and
//     the offsets); as bytes, 16.
//   - GUIDs (encGUIDText, a dictionary page of version 8 that holds one; the others are plain
//     text, encPlain, which the reader checks holds none): the canonical lower-case
//     8-4-4-4-12 text. A page of 64 sorted GUIDs (user, device, application ids) cost zstd 24
//     bytes a value (4 bits a character, a Huffman table a page, the offsets); as bytes, 16,
//     which zstd stores raw and reads back as a copy.

// packed16 is a text spelling of 16 bytes.
type packed16 struct {
	enc   byte
	what  string // in errors: "token", "GUID"
	width int    // characters of the spelling
	parse func(v []byte) ([16]byte, bool)
	spell func(dst []byte, b []byte) // writes the width characters of b's spelling to dst
}

var (
	tokenSpelling = &packed16{enc: encTokens, what: "token", width: 22, parse: asToken,
		spell: func(dst, b []byte) { tokenText.Encode(dst, b) }}
	guidSpelling = &packed16{enc: encGUIDText, what: "GUID", width: 36, parse: asGUIDText,
		spell: func(dst, b []byte) { AppendGUID(dst[:0], b) }}
)

// packedSpelling is the spelling of encoding enc, or nil for an encoding that is none.
func packedSpelling(enc byte) *packed16 {
	switch enc {
	case encTokens:
		return tokenSpelling
	case encGUIDText:
		return guidSpelling
	}
	return nil
}

// tokenText is the encoding of a token's text.
var tokenText = base64.RawURLEncoding.Strict()

// asToken returns the 16 bytes of text v if it is a token.
func asToken(v []byte) (tok [16]byte, ok bool) {
	if len(v) != 22 {
		return tok, false
	}
	n, err := tokenText.Decode(tok[:], v)
	return tok, err == nil && n == 16 // Strict refuses non-zero padding bits: one text per token
}

// asGUIDText returns the 16 bytes of text v if it is a GUID's canonical lower-case text.
func asGUIDText(v []byte) ([16]byte, bool) {
	g, ok, canonical := ParseGUID(v)
	return g, ok && canonical
}

// firstGUIDText is the first valid row of text (value i is data[offs[i]:offs[i+1]]; valid nil
// when every row is) that is a canonical GUID, or -1: a version-8 dictionary page is stored as
// GUIDs (encGUIDText) when it holds one, else as text.
func firstGUIDText(offs []int32, data []byte, valid func(i int) bool) int {
	for i := range len(offs) - 1 {
		if valid != nil && !valid(i) {
			continue
		}
		if _, ok := asGUIDText(data[offs[i]:offs[i+1]]); ok {
			return i
		}
	}
	return -1
}

// anyGUIDText reports whether a valid value of a (text) is a canonical GUID (the writer's
// choice of encGUIDText).
func anyGUIDText(a arrow.Array) bool {
	data, offs, err := binaryValues(a)
	if err != nil {
		return false
	}
	var valid func(int) bool
	if a.NullN() > 0 {
		valid = a.IsValid // a page is a slice of the dictionary: the array knows its offset
	}
	return firstGUIDText(offs, data, valid) >= 0
}

// noGUIDText refuses a version-8 dictionary page stored as text whose values include a
// canonical GUID: the writer stores such a page as GUIDs.
func noGUIDText(offs []int32, data []byte, validity *memory.Buffer) error {
	var valid func(int) bool
	if validity != nil {
		valid = func(i int) bool { return bitutil.BitIsSet(validity.Bytes(), i) }
	}
	if i := firstGUIDText(offs, data, valid); i >= 0 {
		return fmt.Errorf("row %d's text %q is a GUID in a page stored as text", i, data[offs[i]:offs[i+1]])
	}
	return nil
}

// appendPacked appends the packed bitmap, packed values and literals of a.
func appendPacked(dst []byte, a *array.String, sp *packed16) []byte {
	n := a.Len()
	data, offs, _ := binaryValues(a)
	start := len(dst)
	dst = append(dst, make([]byte, bitutil.BytesForBits(int64(n)))...)
	dst = pad8(dst)
	var lits []int
	for i := range n {
		if a.IsNull(i) {
			continue
		}
		if b, ok := sp.parse(data[offs[i]:offs[i+1]]); ok {
			bitutil.SetBit(dst[start:], i)
			dst = append(dst, b[:]...)
		} else {
			lits = append(lits, i)
		}
	}
	dst = pad8(dst)
	var off uint32
	dst = binary.LittleEndian.AppendUint32(dst, 0)
	for _, i := range lits {
		off += uint32(len(a.Value(i)))
		dst = binary.LittleEndian.AppendUint32(dst, off)
	}
	dst = pad8(dst)
	for _, i := range lits {
		dst = append(dst, a.Value(i)...)
	}
	return dst
}

// packedValues builds the text of a packed frame into one new buffer from mem: the validity
// bitmap, the offsets, then the text.
func packedValues(sp *packed16, isPacked, packed []byte, litOffs []int32, lits []byte, validity *memory.Buffer, rows, nulls int, mem memory.Allocator, take []int) (arrow.Array, error) {
	if mem == nil {
		return nil, fmt.Errorf("BUG: %ss without an allocator", sp.what)
	}
	if validity != nil {
		// Packed values only in valid rows: then the valid rows that are not packed are the
		// literals, as many as their offsets say.
		for i, b := range isPacked {
			if extra := b &^ validity.Bytes()[i]; extra != 0 {
				return nil, fmt.Errorf("null row %d is marked a %s", 8*i+bits.TrailingZeros8(extra), sp.what)
			}
		}
	}
	np := len(packed) / 16
	size := sp.width*np + len(lits)
	if size > maxFrameBytes { // every row's, as a full read checks it
		return nil, fmt.Errorf("%d bytes of text in one block", size)
	}
	if take != nil {
		size = 0
		next, l := taker{take: take}, 0
		for i := range rows {
			packedRow, valid := bitutil.BitIsSet(isPacked, i), validity == nil || bitutil.BitIsSet(validity.Bytes(), i)
			if next.dest(i) >= 0 {
				if packedRow {
					size += sp.width
				} else if valid {
					size += int(litOffs[l+1] - litOffs[l])
				}
			}
			if !packedRow && valid {
				l++
			}
		}
	}
	length := outLen(take, rows)
	nv, parts, outNulls := resolvedBuffers(mem, validity, take, nulls, (length+1)*4, size)
	offsets, data := parts[0], parts[1]
	defer release(nv, offsets, data)
	out, text := arrow.Int32Traits.CastFromBytes(offsets.Bytes()), data.Bytes()
	w := int32(sp.width)
	var pos int32
	t, l := 0, 0
	next := taker{take: take}
	for i := range rows {
		dst := next.dest(i)
		if dst >= 0 {
			out[dst] = pos
		}
		valid := validity == nil || bitutil.BitIsSet(validity.Bytes(), i)
		switch {
		case bitutil.BitIsSet(isPacked, i):
			if dst >= 0 {
				sp.spell(text[pos:pos+w], packed[16*t:16*t+16])
				pos += w
			}
			t++
		case valid:
			v := lits[litOffs[l]:litOffs[l+1]]
			if _, ok := sp.parse(v); ok {
				return nil, fmt.Errorf("row %d's text %q is a %s stored as text", i, v, sp.what)
			}
			if dst >= 0 {
				copy(text[pos:], v)
				pos += int32(len(v))
			}
			l++
		}
	}
	out[length] = pos
	ad := array.NewData(arrow.BinaryTypes.String, length, []*memory.Buffer{nv, offsets, data}, nil, outNulls, 0)
	defer ad.Release()
	if err := validateArray(ad); err != nil {
		return nil, err
	}
	return array.MakeFromData(ad), nil
}
