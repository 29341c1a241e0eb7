package wal

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

// nextValidRecord looks for a whole, checksummed record starting anywhere in (from, size) of
// r, and returns its offset. It is how Replay tells a torn tail from damage: a crash can only
// leave invalid bytes after the last record it wrote, so an invalid frame followed by a valid
// record is corruption (bit rot, a bad write, tampering), never a tear. Candidates are cheap to
// reject (type byte 1, a length that fits), and preallocated zeros never are one.
func nextValidRecord(r io.ReaderAt, from, size int64) (int64, bool, error) {
	const window = 1 << 20
	buf := make([]byte, window+recordHeaderSize)
	var payload []byte
	for base := from + 1; base+recordHeaderSize <= size; base += window {
		n, err := r.ReadAt(buf[:min(int64(len(buf)), size-base)], base)
		if err != nil && err != io.EOF {
			return 0, false, fmt.Errorf("wal: scan for records at offset %d: %w", base, err)
		}
		limit := min(n-recordHeaderSize+1, window) // candidates starting in this window
		for i := 0; i < limit; i++ {
			// Jump to the next type byte 1 (IndexByte is vectorized: a 128 MiB zero tail
			// takes milliseconds, not a byte-at-a-time loop).
			j := bytes.IndexByte(buf[i+8:limit+8], recTypeFull)
			if j < 0 {
				break
			}
			i += j
			off := base + int64(i)
			ln := binary.LittleEndian.Uint32(buf[i : i+4])
			if ln > MaxRecordSize || int64(ln) > size-off-recordHeaderSize {
				continue
			}
			if cap(payload) < int(ln) {
				payload = make([]byte, ln)
			}
			p := payload[:ln]
			if _, err := r.ReadAt(p, off+recordHeaderSize); err != nil && err != io.EOF {
				return 0, false, fmt.Errorf("wal: read candidate record at offset %d: %w", off, err)
			}
			crc := crc32.Update(0, castagnoli, buf[i:i+4])
			crc = crc32.Update(crc, castagnoli, buf[i+8:i+9])
			if crc32.Update(crc, castagnoli, p) == binary.LittleEndian.Uint32(buf[i+4:i+8]) {
				return off, true, nil
			}
		}
	}
	return 0, false, nil
}
