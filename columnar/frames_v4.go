package columnar

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/klauspost/compress/zstd"
)

// Version-4 and version-5 frames hold a column's Arrow buffers raw, with no IPC messages: the
// reader knows the column's Arrow type from its kind in the footer, so nothing about the type
// is stored per frame, and decoding is one zstd DecodeAll into one buffer and array.NewData
// over slices of it (or, for version 5's resolved encodings 2 to 4, one new buffer). The
// layout (docs/format/segment.md, "Frames"):
//
//	header   16 bytes: rows u32 │ nulls u32 │ encoding u8 │ 7 zero bytes
//	validity ⌈rows/8⌉ bytes, only when nulls > 0
//	values   by kind and encoding (see appendFrameV4)
//
// Every section starts at a multiple of 8 bytes from the start of the content (zero padding),
// so that typed views of the buffer are aligned.

const (
	frameV4Header = 16

	encPlain = 0 // values as Arrow lays them out
	// Dictionary codes: the encoding byte is the code width in bytes (1, 2 or 4), fixed by the
	// column's dictionary size (codeWidth). Narrower codes are widened to int32 on decode.
	// Time values (version 4): zigzag deltas (value i minus value i-1, value -1 being 0) as
	// uint64, summed in place on decode.
	encTimeDelta = 1
	// GUIDs of a column with a Sibling (Column.Sibling, version 5): references to the
	// sibling's rows in the same block, and the values no row of it holds (appendSiblingRefs).
	encSiblingRefs = 2
	// Time values (version 5): a unit (timeUnits), a width and the first value, then the
	// zigzag deltas divided by the unit, each in width bytes (appendScaledTimes).
	encTimeScaled = 3
	// Text of a column with Tokens (version 5): base64url tokens as their 16 bytes, the other
	// values as text (appendTokens).
	encTokens = 4
	// JSON of a column with Times (version 7): templates with the row's time as marks, and a
	// code per row (blockdict.go, jsontimes.go).
	encJSONTimes = 5
	// The extras column (version 7): a block's distinct values and a code per row (blockdict.go).
	encBlockDict = 6
	// A dictionary page (version 8): canonical lower-case GUIDs as their 16 bytes, the other
	// values as text (the layout of encTokens, packed16.go).
	encGUIDText = 7
)

// timeUnits are the units of scaled time deltas, largest first: a frame's unit is the largest
// that divides every delta. Graph writes sign-in times in whole seconds, whose deltas in
// nanoseconds have no zero low bytes for zstd to find; in seconds they are a few bits.
var timeUnits = [...]int64{1e9, 1e6, 1e3, 1}

// codeWidth is the width in bytes of a version-4 frame's dictionary codes for a dictionary of
// n entries.
func codeWidth(n int) int {
	switch {
	case n <= 1<<8:
		return 1
	case n <= 1<<16:
		return 2
	}
	return 4
}

// appendCodes appends codes, each in w bytes (1, 2 or 4), little-endian.
func appendCodes(dst []byte, codes []int32, w int) []byte {
	for _, c := range codes {
		switch w {
		case 1:
			dst = append(dst, byte(c))
		case 2:
			dst = binary.LittleEndian.AppendUint16(dst, uint16(c))
		default:
			dst = binary.LittleEndian.AppendUint32(dst, uint32(c))
		}
	}
	return dst
}

// rawBufs hold the content of a frame being encoded, reused across frames.
var rawBufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func pad8(b []byte) []byte {
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	return b
}

func align8(n int) int { return (n + 7) &^ 7 }

// appendFrameV4 appends the version-4 content (before compression) of arr, a column block of
// kind (its codes for dictionary kinds, with dictLen entries in the column's dictionary; the
// dictionary itself is written as KindText), encoded as the column's traits ask.
func appendFrameV4(dst []byte, kind Kind, arr arrow.Array, dictLen int, traits encodeTraits) ([]byte, error) {
	d := arr.Data()
	n, off := d.Len(), d.Offset()
	nulls := arr.NullN()
	enc := byte(encPlain)
	switch kind {
	case KindDict, KindJSONDict:
		enc = byte(codeWidth(dictLen))
	case KindTime:
		enc = encTimeScaled
	case KindGUID:
		if traits.sib != nil {
			enc = encSiblingRefs
		}
	case KindText:
		switch {
		case traits.tokens:
			enc = encTokens
		case traits.guidPage && anyGUIDText(arr):
			enc = encGUIDText
		}
	}
	var (
		entries [][]byte
		codes   []int32
	)
	switch {
	case kind == KindJSON && traits.times != nil:
		ts, ok := traits.times.(*array.Timestamp)
		if !ok || ts.Len() != n {
			return nil, fmt.Errorf("BUG: JSON times of %s against %s of %d rows", arr.DataType(), traits.times.DataType(), traits.times.Len())
		}
		data, offs, err := binaryValues(arr)
		if err != nil {
			return nil, err
		}
		// A mark must be unambiguous: a block holding its byte is written as text.
		if n == 0 || bytes.IndexByte(data[offs[0]:offs[n]], timeMarkByte) < 0 {
			if entries, codes, err = blockDictEntries(arr, ts); err != nil {
				return nil, err
			}
			enc = encJSONTimes
		}
	case kind == KindExtras && traits.blockDict:
		var err error
		if entries, codes, err = blockDictEntries(arr, nil); err != nil {
			return nil, err
		}
		enc = encBlockDict
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(nulls))
	dst = append(dst, enc, 0, 0, 0, 0, 0, 0, 0)
	bits := func(buf []byte) {
		start := len(dst)
		dst = append(dst, make([]byte, bitutil.BytesForBits(int64(n)))...)
		bitutil.CopyBitmap(buf, off, n, dst[start:], 0)
		dst = pad8(dst)
	}
	if nulls > 0 {
		bits(d.Buffers()[0].Bytes())
	}
	switch kind {
	case KindDict, KindJSONDict:
		codes, ok := arr.(*array.Int32)
		if !ok {
			return nil, fmt.Errorf("dictionary codes are %s, not int32", arr.DataType())
		}
		for _, c := range codes.Int32Values() {
			if c < 0 || int(c) >= max(dictLen, 1) {
				return nil, fmt.Errorf("BUG: dictionary code %d out of range [0,%d)", c, dictLen)
			}
		}
		dst = appendCodes(dst, codes.Int32Values(), int(enc))
	case KindTime:
		dst = appendScaledTimes(dst, arr.(*array.Timestamp))
	case KindBool:
		bits(d.Buffers()[1].Bytes())
	case KindGUID, KindInt32, KindFloat64:
		if enc == encSiblingRefs {
			return appendSiblingRefs(dst, arr, traits.sib)
		}
		w := arr.DataType().(arrow.FixedWidthDataType).BitWidth() / 8
		dst = append(dst, d.Buffers()[1].Bytes()[off*w:(off+n)*w]...)
	case KindText, KindJSON, KindExtras:
		if sp := packedSpelling(enc); sp != nil {
			return pad8(appendPacked(dst, arr.(*array.String), sp)), nil
		}
		if enc == encJSONTimes || enc == encBlockDict {
			return appendBlockDict(dst, entries, codes), nil
		}
		offs := arrow.Int32Traits.CastFromBytes(d.Buffers()[1].Bytes())[off : off+n+1]
		base := offs[0]
		for _, o := range offs {
			dst = binary.LittleEndian.AppendUint32(dst, uint32(o-base))
		}
		dst = pad8(dst)
		var data []byte
		if len(d.Buffers()) > 2 && d.Buffers()[2] != nil {
			data = d.Buffers()[2].Bytes()
		}
		dst = append(dst, data[base:offs[n]]...)
	default:
		return nil, fmt.Errorf("BUG: kind %s", kind)
	}
	return pad8(dst), nil
}

// encodeTraits are what a column's frames are encoded from beyond its kind: its schema
// declarations.
type encodeTraits struct {
	sib       arrow.Array // the same block of the column's Sibling (Column.Sibling), or nil
	times     arrow.Array // the same block of the column's Times column (Column.Times), or nil
	tokens    bool        // Column.Tokens
	blockDict bool        // the extras column of version 7 and later: encBlockDict
	guidPage  bool        // a dictionary page of version 8 and later: encGUIDText
}

// decodeTraits are what a column's frames are decoded with beyond their kind.
type decodeTraits struct {
	// sib returns the same block of the column's Sibling, which the decoder releases (nil: the
	// column has none); it is called only for a frame of references to it.
	sib func() (arrow.Array, error)
	// times returns the same block of the column's Times column (version 7), which the decoder
	// releases (nil: the column has none); called only for a frame whose templates have marks.
	times     func() (arrow.Array, error)
	tokens    bool // Column.Tokens: a text frame may hold tokens
	blockDict bool // the extras column of version 7 and later: frames are encBlockDict
	guidPage  bool // a dictionary page of version 8 and later: frames are encGUIDText
	// take, when not nil, is the rows to decode (ascending, each within the block): the array
	// holds len(take) rows, row j being row take[j] of the block, and the whole frame is checked
	// as a full decode checks it (take.go).
	take []int
	// checked says that the frame's content passed a decode's checks whole before (the segment
	// remembers it per block: segColumn.checked). A sparse read of a block dictionary then
	// checks only what its rows use (blockDictTaken); the other encodings check whole still.
	checked bool
}

// encodeFrameV4 writes arr's version-4 content and zstd-compresses it.
func encodeFrameV4(kind Kind, arr arrow.Array, dictLen int, traits encodeTraits, better bool) ([]byte, error) {
	bp := rawBufs.Get().(*[]byte)
	defer rawBufs.Put(bp)
	raw, err := appendFrameV4((*bp)[:0], kind, arr, dictLen, traits)
	*bp = raw
	if err != nil {
		return nil, err
	}
	enc := zstdFast
	if better {
		enc = zstdBetter
	}
	// Compressed into a reused buffer and copied out at its size: a column's frames are held
	// until its region is assembled, and frames compressed into buffers sized for a quarter of
	// their input kept that capacity (a 1.67M-row merge's widest column held ~180 MB for a
	// region of ~20 MB; the 100M stream's heap profile showed 150 MB of it at its peak).
	zp := zstdOut.Get().(*[]byte)
	defer zstdOut.Put(zp)
	*zp = enc.EncodeAll(raw, (*zp)[:0])
	return bytes.Clone(*zp), nil
}

// zstdOut holds the buffers frames are compressed into before they are copied out.
var zstdOut = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// decodeFrameV4 decompresses a version-4 frame of kind holding rows rows (a dictionary kind's
// codes, given its dictionary's size, and KindText for a dictionary) and returns its array,
// whose buffers are slices of the one buffer the frame was decompressed into (from mem), or
// for narrow dictionary codes, of the one buffer they were widened into.
// Every length is checked against that buffer: a frame that passed its CRC may still be
// hostile, and gets an error, never a panic. Frames whose values are resolved (references to a
// sibling, tokens, scaled times) are read into one new buffer from mem.
func decodeFrameV4(frame []byte, kind Kind, rows, dictLen int, mem memory.Allocator, traits decodeTraits) (arrow.Array, error) {
	if (kind == KindDict || kind == KindJSONDict) && codeWidth(dictLen) < 4 {
		return decodeNarrowCodes(frame, kind, rows, dictLen, mem, traits.take)
	}
	rawMem := mem
	if traits.take != nil {
		rawMem = scratchMem // the rows taken are copied out of it
	}
	raw, n, err := decompressFrameSlack(frame, rawMem)
	if err != nil {
		return nil, err
	}
	defer raw.Release()
	return arrayFromFrameV4(raw, n, kind, rows, dictLen, mem, traits)
}

// scratchBufs hold the content of narrow dictionary codes while they are widened.
var scratchBufs = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// decodeNarrowCodes decodes a frame of 1- or 2-byte dictionary codes: decompressed into a reused
// scratch buffer (warm in cache), then its validity and the codes widened to int32 written to
// one new buffer from mem, the only memory the array holds. Decompressing into a fresh buffer
// with room for the widened codes after the content measured no faster per frame (ipAddress
// ~27 us either way) and allocated 29.6 KB per frame instead of 20.9 KB.
func decodeNarrowCodes(frame []byte, kind Kind, rows, dictLen int, mem memory.Allocator, take []int) (arrow.Array, error) {
	var h zstd.Header
	if err := h.Decode(frame); err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	// The largest content rows codes of this width can have: with a validity bitmap.
	most := frameV4Header + align8(int(bitutil.BytesForBits(int64(rows)))) + align8(rows*codeWidth(dictLen))
	if rows > maxBatchRows || (h.HasFCS && h.FrameContentSize > uint64(most)) {
		return nil, fmt.Errorf("frame of %d codes declares %d bytes (at most %d)", rows, h.FrameContentSize, most)
	}
	bp := scratchBufs.Get().(*[]byte)
	defer scratchBufs.Put(bp)
	if cap(*bp) < most+zstdSlack {
		*bp = make([]byte, 0, most+zstdSlack)
	}
	out, err := decodeFrameAll(frame, (*bp)[:0])
	if err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	if len(out) > most || (h.HasFCS && len(out) != int(h.FrameContentSize)) {
		return nil, fmt.Errorf("frame of %d codes holds %d bytes (declares %d, at most %d)", rows, len(out), h.FrameContentSize, most)
	}
	raw := memory.NewBufferBytes(out[:cap(out)])
	return arrayFromFrameV4(raw, len(out), kind, rows, dictLen, mem, decodeTraits{take: take})
}

// arrayFromFrameV4 reads the version-4 content in raw[:n] (raw may be longer). Its arrays are
// slices of raw, but for narrow dictionary codes, which are widened into a new buffer from
// outMem, and references to a sibling (sib), resolved into one (raw is then scratch: the array
// holds nothing of it).
func arrayFromFrameV4(raw *memory.Buffer, n int, kind Kind, rows, dictLen int, outMem memory.Allocator, traits decodeTraits) (arrow.Array, error) {
	b := raw.Bytes()
	if n < frameV4Header || align8(n) > len(b) {
		return nil, fmt.Errorf("frame of %d bytes is shorter than its header", n)
	}
	content := b[:n]
	fr := int(binary.LittleEndian.Uint32(content))
	nulls := int(binary.LittleEndian.Uint32(content[4:]))
	enc := content[8]
	if fr != rows {
		return nil, fmt.Errorf("frame holds %d rows, want %d", fr, rows)
	}
	if rows > maxBatchRows || nulls > rows {
		return nil, fmt.Errorf("frame says %d nulls in %d rows", nulls, rows)
	}
	take := traits.take
	if err := checkTake(take, rows); err != nil {
		return nil, err
	}
	outRows := outLen(take, rows) // the rows of the array returned
	taken := false                // the values below are the rows taken already
	for _, x := range content[9:frameV4Header] {
		if x != 0 {
			return nil, fmt.Errorf("reserved header bytes are not zero")
		}
	}
	pos := frameV4Header
	// section returns the next l bytes and moves past them and their padding, which must be
	// zero (a frame reads one way only, and re-encodes to the same bytes).
	var bad error
	section := func(what string, l int) *memory.Buffer {
		if bad != nil {
			return nil
		}
		end := pos + align8(l)
		if l < 0 || end > n || end < pos {
			bad = fmt.Errorf("%s of %d bytes at byte %d runs past the frame's %d", what, l, pos, n)
			return nil
		}
		for _, x := range content[pos+l : end] {
			if x != 0 {
				bad = fmt.Errorf("padding after the %s is not zero", what)
				return nil
			}
		}
		s := memory.SliceBuffer(raw, pos, l)
		pos = end
		return s
	}
	bitmapLen := int(bitutil.BytesForBits(int64(rows)))
	var validity *memory.Buffer
	if nulls > 0 {
		if validity = section("validity bitmap", bitmapLen); validity == nil {
			return nil, bad
		}
		defer validity.Release()
		if !tailClear(validity.Bytes(), rows) {
			return nil, fmt.Errorf("validity bitmap has bits set past row %d", rows)
		}
		if set := bitutil.CountSetBits(validity.Bytes(), 0, rows); set != rows-nulls {
			return nil, fmt.Errorf("validity bitmap has %d nulls, header says %d", rows-set, nulls)
		}
	}
	wantEnc := byte(encPlain)
	var values, data *memory.Buffer
	typ := kind.ArrowType()
	switch kind {
	case KindDict, KindJSONDict:
		typ = arrow.PrimitiveTypes.Int32
		if dictLen == 0 && nulls != rows {
			// Code 0 stands only under a null row in an empty dictionary.
			return nil, fmt.Errorf("%d values coded against an empty dictionary", rows-nulls)
		}
		w := codeWidth(dictLen)
		wantEnc = byte(w)
		if enc == wantEnc {
			values = section("codes", rows*w)
		}
		if values != nil && w == 4 {
			for _, c := range arrow.Int32Traits.CastFromBytes(values.Bytes()) {
				if c < 0 || int(c) >= max(dictLen, 1) {
					bad = fmt.Errorf("dictionary code %d out of range [0,%d)", c, dictLen)
					break
				}
			}
		}
		if values != nil && w < 4 {
			if outMem == nil {
				values.Release()
				return nil, fmt.Errorf("BUG: narrow codes without an allocator")
			}
			// One new buffer: the validity bitmap (copied), then the widened codes.
			nv, parts, outNulls := resolvedBuffers(outMem, validity, take, nulls, outRows*4)
			validity, nulls, taken = nv, outNulls, take != nil
			if nv != nil {
				defer nv.Release()
			}
			wide := parts[0]
			out := arrow.Int32Traits.CastFromBytes(wide.Bytes())
			src := values.Bytes()
			var top int32
			switch {
			case take != nil:
				top = widenTaken(out, src[:rows*w], w, take, max(dictLen, 1))
			case w == 1:
				src = src[:len(out)]
				for i := range out {
					out[i] = int32(src[i])
					top = max(top, out[i])
				}
			default:
				src = src[:2*len(out)]
				for i := range out {
					out[i] = int32(binary.LittleEndian.Uint16(src[2*i:]))
					top = max(top, out[i])
				}
			}
			if int(top) >= max(dictLen, 1) {
				bad = fmt.Errorf("dictionary code %d out of range [0,%d)", top, dictLen)
			}
			values.Release()
			values = wide
		}
	case KindTime:
		if enc == encTimeScaled {
			head := section("time unit, width and base", 24)
			if head == nil {
				return nil, bad
			}
			h := head.Bytes()
			unit, width, base := int64(binary.LittleEndian.Uint64(h)), int(h[8]), int64(binary.LittleEndian.Uint64(h[16:]))
			reserved := slices.ContainsFunc(h[9:16], func(b byte) bool { return b != 0 })
			head.Release()
			switch {
			case !slices.Contains(timeUnits[:], unit):
				return nil, fmt.Errorf("time unit %d is not one of %v", unit, timeUnits)
			case width != 1 && width != 2 && width != 4 && width != 8:
				return nil, fmt.Errorf("time deltas %d bytes wide", width)
			case reserved:
				return nil, fmt.Errorf("reserved bytes after the time unit are not zero")
			}
			deltas := section("deltas", rows*width)
			if deltas == nil {
				return nil, bad
			}
			defer deltas.Release()
			if pos != n {
				return nil, fmt.Errorf("%d bytes after the deltas", n-pos)
			}
			return scaledTimes(deltas.Bytes(), unit, width, base, validity, rows, nulls, outMem, take)
		}
		// Version 4: unscaled deltas, summed in place.
		wantEnc = encTimeDelta
		if enc == wantEnc {
			if values = section("values", rows*8); values != nil {
				vs := arrow.Int64Traits.CastFromBytes(values.Bytes())
				var prev int64
				for i, z := range vs {
					prev += int64(uint64(z)>>1) ^ -(z & 1)
					vs[i] = prev
				}
			}
		}
	case KindBool:
		if values = section("values", bitmapLen); values != nil && !tailClear(values.Bytes(), rows) {
			bad = fmt.Errorf("values have bits set past row %d", rows)
		}
	case KindGUID, KindInt32, KindFloat64:
		if kind == KindGUID && traits.sib != nil && enc == encSiblingRefs {
			refs := section("references", rows*4)
			if refs == nil {
				return nil, bad
			}
			defer refs.Release()
			lits := section("literals", 16*literalsIn(refs.Bytes(), validity))
			if lits == nil {
				return nil, bad
			}
			defer lits.Release()
			if pos != n {
				return nil, fmt.Errorf("%d bytes after the literals", n-pos)
			}
			return siblingValues(refs.Bytes(), lits.Bytes(), validity, rows, nulls, outMem, traits.sib, take)
		}
		values = section("values", rows*typ.(arrow.FixedWidthDataType).BitWidth()/8)
	case KindText, KindJSON, KindExtras:
		if kind == KindText && traits.guidPage && enc != encGUIDText && enc != encPlain {
			return nil, fmt.Errorf("encoding %d of a dictionary page (want %d or %d)", enc, encPlain, encGUIDText)
		}
		if kind == KindText && (traits.tokens && enc == encTokens || traits.guidPage && enc == encGUIDText) {
			sp := packedSpelling(enc)
			isTok := section(sp.what+" bitmap", bitmapLen)
			if isTok == nil {
				return nil, bad
			}
			defer isTok.Release()
			if !tailClear(isTok.Bytes(), rows) {
				return nil, fmt.Errorf("%s bitmap has bits set past row %d", sp.what, rows)
			}
			ntok := bitutil.CountSetBits(isTok.Bytes(), 0, rows)
			if ntok == 0 && enc == encGUIDText {
				return nil, fmt.Errorf("a page of GUIDs without one (the writer stores it as text)")
			}
			toks := section(sp.what+"s", 16*ntok)
			if toks == nil {
				return nil, bad
			}
			defer toks.Release()
			nlit := rows - nulls - ntok
			if nlit < 0 {
				return nil, fmt.Errorf("%d %ss in %d rows with %d nulls", ntok, sp.what, rows, nulls)
			}
			offs := section("offsets", (nlit+1)*4)
			if offs == nil {
				return nil, bad
			}
			defer offs.Release()
			lo := arrow.Int32Traits.CastFromBytes(offs.Bytes())
			if lo[0] != 0 {
				return nil, fmt.Errorf("first offset is %d, not 0", lo[0])
			}
			for i := 1; i < len(lo); i++ {
				if lo[i] < lo[i-1] {
					return nil, fmt.Errorf("offsets decrease at literal %d", i-1)
				}
			}
			lits := section("data", int(lo[nlit]))
			if lits == nil {
				return nil, bad
			}
			defer lits.Release()
			if pos != n {
				return nil, fmt.Errorf("%d bytes after the literals", n-pos)
			}
			return packedValues(sp, isTok.Bytes(), toks.Bytes(), lo, lits.Bytes(), validity, rows, nulls, outMem, take)
		}
		timed := kind == KindJSON && traits.times != nil
		if timed && enc == encJSONTimes || kind == KindExtras && traits.blockDict {
			wantEnc = encJSONTimes
			var times func() (arrow.Array, error)
			if timed {
				times = traits.times
			} else {
				wantEnc = encBlockDict
			}
			if enc != wantEnc {
				return nil, fmt.Errorf("encoding %d of a %s frame (want %d)", enc, kind, wantEnc)
			}
			head := section("entry count and bytes", 8)
			if head == nil {
				return nil, bad
			}
			count, size := int(binary.LittleEndian.Uint32(head.Bytes())), int(binary.LittleEndian.Uint32(head.Bytes()[4:]))
			head.Release()
			if count > rows {
				return nil, fmt.Errorf("%d entries for %d rows", count, rows)
			}
			offs := section("entry offsets", (count+1)*4)
			if offs == nil {
				return nil, bad
			}
			defer offs.Release()
			eo := arrow.Uint32Traits.CastFromBytes(offs.Bytes())
			if eo[0] != 0 || int(eo[count]) != size {
				return nil, fmt.Errorf("entry offsets run from %d to %d, want 0 to %d", eo[0], eo[count], size)
			}
			edata := section("entries", size)
			if edata == nil {
				return nil, bad
			}
			defer edata.Release()
			w := codeWidth(count)
			codes := section("entry codes", rows*w)
			if codes == nil {
				return nil, bad
			}
			defer codes.Release()
			if pos != n {
				return nil, fmt.Errorf("%d bytes after the entry codes", n-pos)
			}
			if take != nil && traits.checked {
				return blockDictTaken(typ, eo, edata.Bytes(), codes.Bytes(), w, validity, rows, nulls, outMem, times, take)
			}
			return blockDictValues(typ, eo, edata.Bytes(), codes.Bytes(), w, validity, rows, nulls, outMem, times, take)
		}
		if values = section("offsets", (rows+1)*4); values != nil {
			offs := arrow.Int32Traits.CastFromBytes(values.Bytes())
			if offs[0] != 0 {
				bad = fmt.Errorf("first offset is %d, not 0", offs[0])
			}
			for i := 1; i < len(offs) && bad == nil; i++ {
				if offs[i] < offs[i-1] {
					bad = fmt.Errorf("offsets decrease at row %d", i-1)
				}
			}
			if bad == nil {
				data = section("data", int(offs[rows]))
			}
			if data != nil && kind == KindText && traits.guidPage && bad == nil {
				bad = noGUIDText(offs, data.Bytes(), validity)
			}
			if data != nil && kind == KindJSON && traits.times != nil && bytes.IndexByte(data.Bytes(), timeMarkByte) < 0 {
				// The writer stores such a block as templates: one spelling.
				bad = fmt.Errorf("a block of text without a byte 0x01 in a column with times")
			}
		}
	default:
		return nil, fmt.Errorf("unknown kind %d", kind)
	}
	if enc != wantEnc && bad == nil {
		bad = fmt.Errorf("encoding %d of a %s frame (want %d)", enc, kind, wantEnc)
	}
	if values != nil {
		defer values.Release()
	}
	if data != nil {
		defer data.Release()
	}
	if bad != nil {
		return nil, bad
	}
	if pos != n {
		return nil, fmt.Errorf("%d bytes after the %s values", n-pos, kind)
	}
	bufs := []*memory.Buffer{validity, values}
	if data != nil {
		bufs = append(bufs, data)
	}
	length := rows
	if taken {
		length = outRows
	}
	ad := array.NewData(typ, length, bufs, nil, nulls, 0)
	defer ad.Release()
	if err := validateArray(ad); err != nil {
		return nil, err
	}
	a := array.MakeFromData(ad)
	if take == nil || taken {
		return a, nil
	}
	defer a.Release()
	return takeArray(a, take, outMem)
}

// widenTaken writes the taken rows' codes of width w (1 or 2 bytes) in src to out and returns
// a code of the frame that is at least limit when any is (else one below it), which the
// caller checks against the dictionary as a full decode does: a page that takes a few rows of
// a block still refuses a block with a code out of range.
func widenTaken(out []int32, src []byte, w int, take []int, limit int) int32 {
	if w == 1 {
		for j, r := range take {
			out[j] = int32(src[r])
		}
	} else {
		for j, r := range take {
			out[j] = int32(binary.LittleEndian.Uint16(src[2*r:]))
		}
	}
	return codesBound(src, w, limit)
}

// codesBound returns the largest of the codes of width w in src when it is at least limit, else
// 0 or another value below limit. Whether any code reaches limit is found 8 bytes at a time:
// each code is added, in a lane twice its width, to 2^(8w) − limit, which carries into the
// lane's next bit exactly when the code is at least limit. Finding the largest code one code at
// a time in every 4,096-row block was 5% of the CPU of pages of one user's sign-ins, which take
// a few rows of each block; the exact largest is only looked for in a block that has one out
// of range.
func codesBound(src []byte, w int, limit int) int32 {
	if limit > 1<<(8*w) {
		// No code of width w reaches limit. A frame's width comes from its dictionary's size
		// (codeWidth), so widenTaken never asks this; the check keeps the addend below from
		// wrapping for any caller.
		return 0
	}
	lanes, ones, carry := uint64(0x00ff00ff00ff00ff), uint64(0x0001000100010001), uint64(0x0100010001000100)
	if w == 2 {
		lanes, ones, carry = 0x0000ffff0000ffff, 0x0000000100000001, 0x0001000000010000
	}
	add := (uint64(1)<<(8*w) - uint64(limit)) * ones
	var hit uint64
	i := 0
	for ; i+8 <= len(src); i += 8 {
		v := binary.LittleEndian.Uint64(src[i:])
		hit |= (v&lanes + add) | (v>>(8*w)&lanes + add)
	}
	var tail [8]byte
	copy(tail[:], src[i:])
	v := binary.LittleEndian.Uint64(tail[:])
	hit |= (v&lanes + add) | (v>>(8*w)&lanes + add)
	if hit&carry == 0 {
		return 0
	}
	var top int32
	for i := 0; i+w <= len(src); i += w {
		c := int32(src[i])
		if w == 2 {
			c = int32(binary.LittleEndian.Uint16(src[i:]))
		}
		top = max(top, c)
	}
	return top
}

// tailClear reports whether the bits of bitmap b past its first rows bits are all zero (the
// writer leaves them so: a frame has one spelling).
func tailClear(b []byte, rows int) bool {
	return rows%8 == 0 || b[len(b)-1]>>(rows%8) == 0
}

// zstdSlack is room left after a frame's content in the buffer it is decompressed into: with
// less than 16 bytes there, klauspost/zstd decodes the frame's last block with its "safe"
// (bounds-checked copy) sequence loop, which was a third of the decompression time of a page.
const zstdSlack = 64

// decompressFrameSlack decompresses a zstd frame into one buffer from mem, sized by the frame's
// declared content size (klauspost's encoder declares it for contents of 256 bytes and more;
// smaller ones are decoded into Go memory) and zstdSlack. It returns the buffer (its Len covers
// the slack) and the content's length.
func decompressFrameSlack(frame []byte, mem memory.Allocator) (*memory.Buffer, int, error) {
	var h zstd.Header
	if err := h.Decode(frame); err != nil {
		return nil, 0, fmt.Errorf("zstd: %w", err)
	}
	if h.HasFCS && h.FrameContentSize > 0 && h.FrameContentSize <= maxFrameBytes {
		n := int(h.FrameContentSize)
		data := mem.Allocate(align8(n) + zstdSlack)
		out, err := decodeFrameAll(frame, data[:0])
		if err == nil && len(out) == n && &out[0] == &data[0] {
			return memory.NewBufferWithAllocator(data, mem), n, nil
		}
		mem.Free(data)
		if err != nil {
			return nil, 0, fmt.Errorf("zstd: %w", err)
		}
		return nil, 0, fmt.Errorf("zstd: frame declares %d bytes, holds %d", n, len(out))
	}
	out, err := zstdDecoder.DecodeAll(frame, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("zstd: %w", err)
	}
	return memory.NewBufferBytes(out), len(out), nil
}

// Frames of references to a sibling column (encSiblingRefs): after the validity bitmap, a u32
// per row, then the literals, 16 bytes each. A row's u32 is 0 for a null row and for a value
// the next literal holds, else 1 + zigzag(row − r) for the sibling's value in row r of the same
// block. A value equal to its own row's sibling is 1: a block of single-step sign-ins is a run
// of ones that zstd stores in a few bytes, where their 16 random bytes each did not compress.

// appendSiblingRefs appends the references and literals of GUID block arr against sib, the
// same block of its sibling column.
func appendSiblingRefs(dst []byte, arr, sib arrow.Array) ([]byte, error) {
	a, ok1 := arr.(*array.FixedSizeBinary)
	s, ok2 := sib.(*array.FixedSizeBinary)
	if !ok1 || !ok2 || a.Len() != s.Len() {
		return nil, fmt.Errorf("BUG: references of %s against %s of %d rows", arr.DataType(), sib.DataType(), sib.Len())
	}
	var (
		rowOf map[[16]byte]int // the sibling's value → its first row, built at the first need
		lits  []int            // rows whose value is a literal
	)
	for i := range a.Len() {
		if a.IsNull(i) {
			dst = binary.LittleEndian.AppendUint32(dst, 0)
			continue
		}
		v := a.Value(i)
		if s.IsValid(i) && bytes.Equal(s.Value(i), v) {
			dst = binary.LittleEndian.AppendUint32(dst, 1)
			continue
		}
		if rowOf == nil {
			rowOf = make(map[[16]byte]int, s.Len())
			for r := s.Len() - 1; r >= 0; r-- {
				if s.IsValid(r) {
					rowOf[[16]byte(s.Value(r))] = r
				}
			}
		}
		r, ok := rowOf[[16]byte(v)]
		if !ok {
			dst = binary.LittleEndian.AppendUint32(dst, 0)
			lits = append(lits, i)
			continue
		}
		d := int64(i - r)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(1+(d<<1^d>>63)))
	}
	dst = pad8(dst)
	for _, i := range lits {
		dst = append(dst, a.Value(i)...)
	}
	return pad8(dst), nil
}

// literalsIn counts the literals a frame's references call for: the valid rows whose
// reference is 0.
func literalsIn(refs []byte, validity *memory.Buffer) int {
	n := 0
	for i := 0; i < len(refs)/4; i++ {
		if binary.LittleEndian.Uint32(refs[4*i:]) == 0 && (validity == nil || bitutil.BitIsSet(validity.Bytes(), i)) {
			n++
		}
	}
	return n
}

// siblingValues resolves a frame's references against its sibling's block into one new buffer
// from mem (the validity bitmap, then the values). Every reference is checked: to a row of the
// block, which the sibling holds a value in; null rows refer to nothing.
func siblingValues(refs, lits []byte, validity *memory.Buffer, rows, nulls int, mem memory.Allocator, sib func() (arrow.Array, error), take []int) (arrow.Array, error) {
	if mem == nil {
		return nil, fmt.Errorf("BUG: sibling references without an allocator")
	}
	var s *array.FixedSizeBinary
	needSibling := func() error {
		if s != nil {
			return nil
		}
		a, err := sib()
		if err != nil {
			return fmt.Errorf("sibling column: %w", err)
		}
		if a == nil {
			return fmt.Errorf("references a sibling column that holds no value in this block")
		}
		fs, ok := a.(*array.FixedSizeBinary)
		if !ok || fs.Len() != rows || fs.DataType().(*arrow.FixedSizeBinaryType).ByteWidth != 16 {
			return fmt.Errorf("sibling column block is %s of %d rows, want 16-byte values of %d", a.DataType(), a.Len(), rows)
		}
		s = fs
		return nil
	}
	defer func() {
		if s != nil {
			s.Release()
		}
	}()
	nv, parts, outNulls := resolvedBuffers(mem, validity, take, nulls, outLen(take, rows)*16)
	values := parts[0]
	defer release(nv, values)
	out := values.Bytes()
	clear(out)
	next := taker{take: take}
	for i := range rows {
		dst := next.dest(i)
		ref := binary.LittleEndian.Uint32(refs[4*i:])
		if validity != nil && !bitutil.BitIsSet(validity.Bytes(), i) {
			if ref != 0 {
				return nil, fmt.Errorf("null row %d refers to a row", i)
			}
			continue
		}
		if ref == 0 {
			if dst >= 0 {
				copy(out[16*dst:], lits[:16])
			}
			lits = lits[16:]
			continue
		}
		z := uint64(ref - 1)
		r := int64(i) - (int64(z>>1) ^ -int64(z&1))
		if r < 0 || r >= int64(rows) {
			return nil, fmt.Errorf("row %d refers to row %d of a block of %d", i, r, rows)
		}
		if err := needSibling(); err != nil {
			return nil, err
		}
		if s.IsNull(int(r)) {
			return nil, fmt.Errorf("row %d refers to row %d, where the sibling column is null", i, r)
		}
		if dst >= 0 {
			copy(out[16*dst:], s.Value(int(r)))
		}
	}
	ad := array.NewData(KindGUID.ArrowType(), outLen(take, rows), []*memory.Buffer{nv, values}, nil, outNulls, 0)
	defer ad.Release()
	return array.MakeFromData(ad), nil
}

// ownedBuffers allocates one buffer from mem for an array whose values a frame does not hold
// as Arrow lays them out (they are resolved or widened): the validity bitmap, copied (nil when
// validity is), then a part of each of sizes bytes, each at a multiple of 8. The array holds
// nothing of the decompressed frame. Release nv and the parts.
func ownedBuffers(mem memory.Allocator, validity *memory.Buffer, sizes ...int) (nv *memory.Buffer, parts []*memory.Buffer) {
	off := 0
	if validity != nil {
		off = align8(len(validity.Bytes()))
	}
	total := off
	for _, n := range sizes {
		total += align8(n)
	}
	ob := memory.NewBufferWithAllocator(mem.Allocate(total), mem)
	defer ob.Release() // the slices hold it
	if validity != nil {
		nv = memory.SliceBuffer(ob, 0, len(validity.Bytes()))
		copy(nv.Bytes(), validity.Bytes())
	}
	for _, n := range sizes {
		parts = append(parts, memory.SliceBuffer(ob, off, n))
		off += align8(n)
	}
	return nv, parts
}

func release(bufs ...*memory.Buffer) {
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
}

// Scaled time deltas (encTimeScaled): after the validity bitmap, 24 bytes: the unit u64 (the
// largest of timeUnits that divides every delta), the width u8 (the fewest of 1, 2, 4 and 8
// bytes that hold every zigzag'd delta), 7 zero bytes, the base i64 (the first row's value, 0
// in an empty block); then per row the zigzag of (value i − value i−1) / unit, value −1 being
// the base (so row 0's is 0), in width bytes, wrapping int64 arithmetic. A null row's delta is
// 0 and it takes the value before it (what a null row held is not kept: it was 0, a jump of
// decades either side). Every choice is the writer's only one, and the reader refuses others:
// a frame has one spelling. Graph's whole-second times in a
// block sorted by time are deltas of a few seconds: a byte each, of which zstd keeps a few
// bits, where nanosecond deltas as eight bytes kept about four.

// appendScaledTimes appends the unit, width and deltas of the timestamps a.
func appendScaledTimes(dst []byte, a *array.Timestamp) []byte {
	// vals holds a null row's value as the value before it.
	vals := slices.Clone(a.TimestampValues())
	for i := range vals {
		if a.IsNull(i) {
			vals[i] = 0
			if i > 0 {
				vals[i] = vals[i-1]
			}
		}
	}
	var base int64
	for i := range vals {
		if a.IsValid(i) {
			base = int64(vals[i]) // the first value; a leading null row takes it too
			break
		}
	}
	for i := 0; i < len(vals) && a.IsNull(i); i++ {
		vals[i] = arrow.Timestamp(base)
	}
	unit, prev := 0, base
	for _, v := range vals {
		delta := int64(v) - prev
		prev = int64(v)
		for delta%timeUnits[unit] != 0 {
			unit++ // ends at 1, which divides everything
		}
	}
	var most uint64
	prev = base
	for _, v := range vals {
		q := (int64(v) - prev) / timeUnits[unit]
		prev = int64(v)
		most = max(most, uint64(q<<1^q>>63))
	}
	width := 8
	for _, w := range []int{1, 2, 4} {
		if most < 1<<(8*w) {
			width = w
			break
		}
	}
	dst = binary.LittleEndian.AppendUint64(dst, uint64(timeUnits[unit]))
	dst = append(dst, byte(width), 0, 0, 0, 0, 0, 0, 0)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(base))
	prev = base
	for _, v := range vals {
		q := (int64(v) - prev) / timeUnits[unit]
		prev = int64(v)
		z := uint64(q<<1 ^ q>>63)
		switch width {
		case 1:
			dst = append(dst, byte(z))
		case 2:
			dst = binary.LittleEndian.AppendUint16(dst, uint16(z))
		case 4:
			dst = binary.LittleEndian.AppendUint32(dst, uint32(z))
		default:
			dst = binary.LittleEndian.AppendUint64(dst, z)
		}
	}
	return dst
}

// scaledTimes sums a frame's scaled deltas into one new buffer from mem, refusing a unit or a
// width other than the writer's.
func scaledTimes(deltas []byte, unit int64, width int, base int64, validity *memory.Buffer, rows, nulls int, mem memory.Allocator, take []int) (arrow.Array, error) {
	if mem == nil {
		return nil, fmt.Errorf("BUG: scaled times without an allocator")
	}
	nv, parts, outNulls := resolvedBuffers(mem, validity, take, nulls, outLen(take, rows)*8)
	values := parts[0]
	defer release(nv, values)
	out := arrow.Int64Traits.CastFromBytes(values.Bytes())
	var (
		prev    = base
		most    uint64
		coarser = unit < timeUnits[0] // every delta so far divides by unit*1000
		next    = taker{take: take}
	)
	for i := range rows {
		var z uint64
		switch width {
		case 1:
			z = uint64(deltas[i])
		case 2:
			z = uint64(binary.LittleEndian.Uint16(deltas[2*i:]))
		case 4:
			z = uint64(binary.LittleEndian.Uint32(deltas[4*i:]))
		default:
			z = binary.LittleEndian.Uint64(deltas[8*i:])
		}
		if i == 0 && z != 0 {
			return nil, fmt.Errorf("first time delta is %d, not 0 (the base is the first value)", z)
		}
		if z != 0 && validity != nil && !bitutil.BitIsSet(validity.Bytes(), i) {
			return nil, fmt.Errorf("null row %d has a time delta", i)
		}
		most = max(most, z)
		q := int64(z>>1) ^ -int64(z&1)
		coarser = coarser && q%1000 == 0
		prev += q * unit // wrapping, as the writer's subtraction
		if dst := next.dest(i); dst >= 0 {
			out[dst] = prev
		}
	}
	if coarser {
		return nil, fmt.Errorf("time unit %d where every delta is a multiple of %d", unit, unit*1000)
	}
	if rows == 0 && base != 0 {
		return nil, fmt.Errorf("empty block with base %d", base)
	}
	if width > 1 && most < 1<<(4*width) {
		return nil, fmt.Errorf("time deltas %d bytes wide where fewer hold every one", width)
	}
	ad := array.NewData(KindTime.ArrowType(), outLen(take, rows), []*memory.Buffer{nv, values}, nil, outNulls, 0)
	defer ad.Release()
	return array.MakeFromData(ad), nil
}
