package columnar

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/klauspost/compress/zstd"
)

// A column region is a frame table followed by frames. Frame 0 holds the column's dictionary
// (dictionary kinds) or is empty; frame 1+i holds block i. Each non-empty frame is one zstd
// frame: since format version 4 its content is the column's Arrow buffers (frames_v4.go); in
// versions 2 and 3, read by the code in this file, a complete Arrow IPC stream (schema message,
// one record batch, end marker) with a single column.
//
// Compressing whole frames ourselves, rather than using Arrow's per-buffer IPC compression,
// is measured, not taste: arrow-go builds a new streaming zstd encoder for every column region
// (an 8 MiB+ history allocation each, a quarter of flush time) and a new decoder for every block
// read (first queries after a restart took seconds on 1M events). Here one pooled encoder and one
// pooled decoder serve every frame, the compression level is ours to choose, and a dictionary is
// stored once per column and decoded once per segment.

const (
	maxFrames     = maxBlocks + 1
	maxFrameBytes = 1 << 31
)

// Frames carry no zstd content checksum, and one that does (written before) is not checked:
// every frame's stored bytes are covered by its CRC32C in the segment, so the xxhash of the
// content (4% of decoding a page's blocks, and 4 bytes a frame) guarded nothing more.
var (
	zstdDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)), zstd.WithDecoderMaxMemory(maxFrameBytes), zstd.IgnoreChecksum(true))
	zstdFast, _    = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)), zstd.WithEncoderCRC(false), zstd.WithWindowSize(encoderWindow))
	zstdBetter, _  = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)), zstd.WithEncoderCRC(false), zstd.WithWindowSize(encoderWindow))
)

// decodeFrame decompresses a frame and reads its single column. The array owns its memory: the
// one buffer the frame was decompressed into (from mem), which the array's buffers are slices of.
func decodeFrame(frame []byte, mem memory.Allocator) (arr arrow.Array, err error) {
	raw, err := decompressFrame(frame, mem)
	if err != nil {
		return nil, err
	}
	defer raw.Release()
	defer func() {
		// The frame passed its CRC, so this guards against bugs and hostile files only: the IPC
		// reader trusts lengths in the stream.
		if r := recover(); r != nil {
			arr, err = nil, fmt.Errorf("malformed IPC stream: %v", r)
		}
	}()
	fm := newFrameMessages(raw)
	// After the reader's release (deferred below, so run first), or alone when NewReader fails:
	// a reader that fails to start does not release its message reader.
	defer fm.close()
	rd, err := ipc.NewReaderFromMessageReader(fm, ipc.WithAllocator(mem))
	if err != nil {
		return nil, err
	}
	defer rd.Release()
	if !rd.Next() {
		if rd.Err() != nil {
			return nil, rd.Err()
		}
		return nil, fmt.Errorf("empty IPC stream")
	}
	rec := rd.RecordBatch()
	if rec.NumCols() != 1 {
		return nil, fmt.Errorf("IPC stream has %d columns", rec.NumCols())
	}
	a := rec.Column(0)
	if err := validateArray(a.Data()); err != nil {
		return nil, err
	}
	a.Retain()
	return a, nil
}

// decompressFrame decompresses a zstd frame into one buffer from mem (decompressFrameSlack),
// whose Len is the content's.
func decompressFrame(frame []byte, mem memory.Allocator) (*memory.Buffer, error) {
	raw, n, err := decompressFrameSlack(frame, mem)
	if err != nil {
		return nil, err
	}
	raw.ResizeNoShrink(n)
	return raw, nil
}

// frameMessages reads the IPC messages of a decompressed frame in place: each message's metadata
// and body are slices of the frame's buffer, not copies (arrow's own message reader copies every
// body out of its io.Reader into a new, zeroed buffer: a third of a cold full-page query's CPU).
type frameMessages struct {
	raw    *memory.Buffer
	pos    int
	msg    *ipc.Message
	refs   atomic.Int64
	closed bool
}

func newFrameMessages(raw *memory.Buffer) *frameMessages {
	raw.Retain()
	r := &frameMessages{raw: raw}
	r.refs.Add(1)
	return r
}

var emptyBody = memory.NewBufferBytes(nil)

// Message returns the next message, valid until the next call.
func (r *frameMessages) Message() (*ipc.Message, error) {
	b := r.raw.Bytes()
	word := func() (uint32, bool) {
		if r.pos+4 > len(b) {
			return 0, false
		}
		v := binary.LittleEndian.Uint32(b[r.pos:])
		r.pos += 4
		return v, true
	}
	cid, ok := word()
	if !ok || cid == 0 {
		return nil, io.EOF
	}
	n := int64(cid)
	if cid == 0xFFFFFFFF { // continuation marker, then the length
		l, ok := word()
		if !ok {
			return nil, fmt.Errorf("arrow/ipc: message length cut off at byte %d", r.pos)
		}
		if l == 0 {
			return nil, io.EOF
		}
		n = int64(int32(l))
	}
	if n < 4 || int64(r.pos)+n > int64(len(b)) {
		return nil, fmt.Errorf("arrow/ipc: message metadata of %d bytes at byte %d of %d", n, r.pos, len(b))
	}
	if err := checkSchemaVectors(b[r.pos : r.pos+int(n)]); err != nil {
		return nil, err
	}
	meta := memory.SliceBuffer(r.raw, r.pos, int(n))
	defer meta.Release()
	r.pos += int(n)
	bodyLen, err := messageBodyLen(meta)
	if err != nil {
		return nil, err
	}
	if bodyLen < 0 || int64(r.pos)+bodyLen > int64(len(b)) {
		return nil, fmt.Errorf("arrow/ipc: message body of %d bytes at byte %d of %d", bodyLen, r.pos, len(b))
	}
	body := memory.SliceBuffer(r.raw, r.pos, int(bodyLen))
	defer body.Release()
	r.pos += int(bodyLen)
	if r.msg != nil {
		r.msg.Release()
	}
	r.msg = ipc.NewMessage(meta, body)
	return r.msg, nil
}

// messageBodyLen reads the body length a message's metadata declares. Reading a damaged
// flatbuffer panics; the panic is turned into an error here, where meta is still released.
func messageBodyLen(meta *memory.Buffer) (n int64, err error) {
	probe := ipc.NewMessage(meta, emptyBody)
	defer probe.Release()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("arrow/ipc: invalid message metadata: %v", r)
		}
	}()
	return probe.BodyLen(), nil
}

func (r *frameMessages) Retain() { r.refs.Add(1) }

func (r *frameMessages) Release() {
	if r.refs.Add(-1) == 0 {
		r.close()
	}
}

// close lets go of the current message and the frame's buffer, once (decodeFrame's goroutine
// only: the arrays it returns hold their own references).
func (r *frameMessages) close() {
	if r.closed {
		return
	}
	r.closed = true
	if r.msg != nil {
		r.msg.Release()
		r.msg = nil
	}
	r.raw.Release()
}

// appendFrameTableV3 writes the frame count and each frame's length and CRC-32C (segment
// version 3): a reader then reads and checks one block's frame, not the whole region.
func appendFrameTableV3(dst []byte, frames [][]byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(frames)))
	for _, f := range frames {
		dst = binary.AppendUvarint(dst, uint64(len(f)))
		dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(f, castagnoli))
	}
	return dst
}

// frameRef locates one frame of a version-3 region in the file.
type frameRef struct {
	off int64
	len int64
	crc uint32
}

// parseFrameTableV3 parses a version-3 frame table whose frames start at base and must end at
// end, checking every length against them.
func parseFrameTableV3(table []byte, base, end int64) ([]frameRef, error) {
	n, k := binary.Uvarint(table)
	if k <= 0 || n == 0 || n > maxFrames {
		return nil, fmt.Errorf("bad frame count")
	}
	src := table[k:]
	refs := make([]frameRef, n)
	off := base
	for i := range refs {
		l, k := binary.Uvarint(src)
		if k <= 0 || l > maxFrameBytes || len(src) < k+4 {
			return nil, fmt.Errorf("bad entry of frame %d", i)
		}
		refs[i] = frameRef{off: off, len: int64(l), crc: binary.LittleEndian.Uint32(src[k:])}
		off += int64(l)
		src = src[k+4:]
	}
	if len(src) != 0 {
		return nil, fmt.Errorf("%d bytes after the frame table", len(src))
	}
	if off != end {
		return nil, fmt.Errorf("frames end at %d, the region at %d", off, end)
	}
	return refs, nil
}

// appendFrameTable writes the frame count and each frame's length (segment version 2).
func appendFrameTable(dst []byte, frames [][]byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(frames)))
	for _, f := range frames {
		dst = binary.AppendUvarint(dst, uint64(len(f)))
	}
	return dst
}

// splitFrames parses a region into its frames, checking every length against the region.
func splitFrames(region []byte) ([][]byte, error) {
	n, k := binary.Uvarint(region)
	if k <= 0 || n == 0 || n > maxFrames {
		return nil, fmt.Errorf("bad frame count")
	}
	src := region[k:]
	lens := make([]uint64, n)
	var total uint64
	for i := range lens {
		l, k := binary.Uvarint(src)
		if k <= 0 || l > maxFrameBytes {
			return nil, fmt.Errorf("bad length of frame %d", i)
		}
		lens[i] = l
		total += l
		src = src[k:]
	}
	if total != uint64(len(src)) {
		return nil, fmt.Errorf("frames hold %d bytes, region has %d", total, len(src))
	}
	frames := make([][]byte, n)
	for i, l := range lens {
		frames[i] = src[:l:l]
		src = src[l:]
	}
	return frames, nil
}

// checkCodes refuses a code outside a dictionary of n values (codes decoded by version 2 and 3
// readers; version 4 decoders check them against the footer's dictionary length themselves).
func checkCodes(codes arrow.Array, n int) error {
	if codes.DataType().ID() != arrow.INT32 {
		return fmt.Errorf("dictionary codes are %s, not int32", codes.DataType())
	}
	d := codes.Data()
	vals := arrow.Int32Traits.CastFromBytes(d.Buffers()[1].Bytes())[d.Offset() : d.Offset()+d.Len()]
	// Codes in range (the usual case) are settled in one branch-free pass; the row-by-row
	// check, which lets a null row's code be 0 in an empty dictionary, runs only when that
	// pass finds one outside.
	var lo, hi int32
	for _, c := range vals {
		lo, hi = min(lo, c), max(hi, c)
	}
	if lo < 0 || int(hi) >= n {
		for i, c := range vals {
			if (c < 0 || int(c) >= n) && !(codes.IsNull(i) && c == 0) {
				return fmt.Errorf("dictionary code %d out of range [0,%d)", c, n)
			}
		}
	}
	return nil
}

// dictArray is the dictionary array of codes d over dict.
func dictArray(d arrow.ArrayData, dict arrow.Array) arrow.Array {
	data := array.NewData(dictUTF8, d.Len(), d.Buffers(), nil, d.NullN(), d.Offset())
	data.SetDictionary(dict.Data())
	defer data.Release()
	return array.MakeFromData(data)
}

// encoderWindow bounds how far back a match may reach. The library's default (8 MB) gave each
// encoder a 16 MB history buffer whatever its input: 64 MB across the four a 2-core process
// keeps (two levels, one per core), which a heap profile of a 10M-event stream showed as 6% of
// the 1 GiB budget. Frames are one column of one block (the widest, authenticationDetails, is
// about 1.8 MB) and a dictionary's sorted values repeat their neighbours: 200K events took
// 140.5 B/event instead of 140.3 (2026-12-05).
const encoderWindow = 2 << 20
