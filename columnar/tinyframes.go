package columnar

import "sync"

// Tiny frames. A column that is null or constant in a block (most of the ~25 beta properties
// the generator and most tenants leave unset, a bool that is always false) has a frame of a
// few dozen bytes that decompresses to a few KB: zstd spells the block as one long match of
// the byte before, which it copies a byte at a time, about 20 µs a frame on this project's
// machine. A page of one user's sign-ins reads ~24 blocks of every column, and those copies
// were a fifth of it. Such frames repeat byte for byte across blocks and segments (every
// all-null block of a 4,096-row column is the same frame), so their content is kept by their
// bytes, and a frame seen before is copied, not decompressed (a page of one user's sign-ins
// at 10M, with the sparse reads of checked blocks: 43.7 → 39.5 ms).

const (
	// tinyFrameBytes is the largest frame whose content is kept.
	tinyFrameBytes = 64
	// tinyFrameContent is the largest content kept (an all-null int64 block of 4,096 rows is
	// 32 KB and some bytes of header and validity).
	tinyFrameContent = 40 << 10
	// tinyFramesKept bounds the frames kept, at most 10 MB. A 10M-event database holds 3,763
	// distinct tiny frames (86,024 at 100M), most of them used rarely; the ones that recur
	// (a column all null in a full block) come back at once when dropped: two rounds of 200
	// users' pages at 10M found 89% of their tiny frames kept.
	tinyFramesKept = 256
)

var tinyFrames = struct {
	mu sync.RWMutex
	m  map[string][]byte // a frame's bytes → its content
}{m: map[string][]byte{}}

// decodeFrameAll appends frame's decompressed content to dst, as zstd's DecodeAll does: from
// the content kept for a tiny frame seen before, else from the decoder (and kept, if tiny).
func decodeFrameAll(frame, dst []byte) ([]byte, error) {
	if len(frame) > tinyFrameBytes {
		return zstdDecoder.DecodeAll(frame, dst)
	}
	tinyFrames.mu.RLock()
	content, ok := tinyFrames.m[string(frame)]
	tinyFrames.mu.RUnlock()
	if ok {
		return append(dst, content...), nil
	}
	start := len(dst)
	out, err := zstdDecoder.DecodeAll(frame, dst)
	if err != nil || len(out)-start > tinyFrameContent {
		return out, err
	}
	kept := append([]byte(nil), out[start:]...)
	tinyFrames.mu.Lock()
	if len(tinyFrames.m) >= tinyFramesKept {
		for k := range tinyFrames.m { // any one: the frames worth keeping come back at once
			delete(tinyFrames.m, k)
			break
		}
	}
	tinyFrames.m[string(frame)] = kept
	tinyFrames.mu.Unlock()
	return out, nil
}
