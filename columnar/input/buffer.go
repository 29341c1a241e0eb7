package input

import (
	"bytes"
	"io"
)

// readChunk is how much is read from the decompressed stream at a time;
// large enough that per-read overhead vanishes, small enough to stay in L2.
const readChunk = 256 << 10

// The window holds buf = stream[base : base+len(buf)]. Everything from the
// mark (when >= 0) or else from pos onwards must stay buffered; the rest may
// be discarded when more input is read. Positions kept across reads are
// absolute stream offsets so that compaction never has to fix them up.

func (r *Reader) abs(i int) int64   { return r.base + int64(i) }
func (r *Reader) rel(off int64) int { return int(off - r.base) }

// fill reads more input. It returns false at the end of the input or on a
// read error (then r.rerr is set). While a record is buffered (mark >= 0) it
// may, once the record outgrows r.max, give up buffering it (overflow).
func (r *Reader) fill() bool {
	if r.eof || r.rerr != nil {
		return false
	}
	keep := r.pos
	if r.mark >= 0 {
		keep = r.rel(r.mark)
		if r.pos-keep > r.max {
			r.overflow()
			keep = r.pos
		}
	}
	if keep > 0 {
		r.countLines(r.abs(keep))
		n := copy(r.buf, r.buf[keep:])
		r.buf = r.buf[:n]
		r.base += int64(keep)
		r.pos -= keep
	}
	if cap(r.buf)-len(r.buf) < readChunk/2 {
		nb := make([]byte, len(r.buf), max(2*cap(r.buf), len(r.buf)+readChunk))
		copy(nb, r.buf)
		r.buf = nb
	}
	for range 100 { // io.Reader may return 0, nil; do not spin forever
		n, err := r.src.Read(r.buf[len(r.buf):cap(r.buf)])
		r.buf = r.buf[:len(r.buf)+n]
		if err == io.EOF {
			r.eof = true
		} else if err != nil {
			r.rerr = err
		}
		if n > 0 {
			return true
		}
		if err != nil {
			return false
		}
	}
	r.rerr = io.ErrNoProgress
	return false
}

// overflow stops buffering the current record because more than r.max
// bytes from its start were needed: a prefix is kept for the rejects file
// and the rest is scanned and dropped. If the record had already ended and
// only the bytes after it are being examined (holdEnd >= 0), the record is
// copied aside whole instead, since it is within the limit.
func (r *Reader) overflow() {
	start := r.rel(r.mark)
	if !r.cur.overflow {
		r.cur.overflow = true
		r.cur.trunc = append(r.cur.trunc[:0], r.buf[start:start+r.rejectPrefix()]...)
		if r.holdEnd >= 0 {
			r.cur.held = true
			r.hold = append(r.hold[:0], r.buf[start:r.rel(r.holdEnd)]...)
		}
	}
	r.mark = -1
}

// peek returns the byte at pos, reading more input if needed.
func (r *Reader) peek() (byte, bool) {
	if r.pos < len(r.buf) {
		return r.buf[r.pos], true
	}
	return r.peekSlow()
}

//go:noinline // the slow path stays out of every caller
func (r *Reader) peekSlow() (byte, bool) {
	for r.pos >= len(r.buf) {
		if !r.fill() {
			return 0, false
		}
	}
	return r.buf[r.pos], true
}

// skipWS skips JSON whitespace and returns the next byte without consuming
// it. Compact JSON has no whitespace, so the inlined fast path matters.
func (r *Reader) skipWS() (byte, bool) {
	if r.pos < len(r.buf) {
		if c := r.buf[r.pos]; c > ' ' {
			return c, true
		}
	}
	return r.skipWSSlow()
}

//go:noinline // the slow path stays out of every caller
func (r *Reader) skipWSSlow() (byte, bool) {
	for {
		for i := r.pos; i < len(r.buf); i++ {
			switch c := r.buf[i]; c {
			case ' ', '\n', '\r', '\t':
			default:
				r.pos = i
				return c, true
			}
		}
		r.pos = len(r.buf)
		if !r.fill() {
			return 0, false
		}
	}
}

// Line tracking counts newlines lazily with bytes.Count (SIMD) instead of in
// the scanner loops, which keeps the hot loops free of bookkeeping. The
// counter only moves forward: to record starts and to discarded bytes.

// countLines advances the line counter to off, which must be buffered.
func (r *Reader) countLines(off int64) {
	if off <= r.lnOff {
		return
	}
	seg := r.buf[r.rel(r.lnOff):r.rel(off)]
	if n := bytes.Count(seg, nl); n > 0 {
		r.lnNum += n
		r.lnStart = r.lnOff + int64(bytes.LastIndexByte(seg, '\n')) + 1
	}
	r.lnOff = off
}

var nl = []byte{'\n'}

// position returns the 1-based line and byte column of off without moving
// the counter. off must be at or after the counter and still buffered;
// otherwise (a position already discarded) the line is reported as 0.
func (r *Reader) position(off int64) (line, col int) {
	if off < r.lnOff || off > r.abs(len(r.buf)) {
		return 0, 0 // discarded already; callers only ask for live positions
	}
	seg := r.buf[r.rel(r.lnOff):r.rel(off)]
	line, start := r.lnNum, r.lnStart
	if n := bytes.Count(seg, nl); n > 0 {
		line += n
		start = r.lnOff + int64(bytes.LastIndexByte(seg, '\n')) + 1
	}
	return line, int(off-start) + 1
}
