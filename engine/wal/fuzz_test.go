package wal

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// readAll decodes a whole file image the way Replay does, without touching
// the filesystem.
func readAll(data []byte) (payloads [][]byte, offs []int64, err error) {
	if _, err := parseFileHeader(data); err != nil {
		return nil, nil, err
	}
	rr := newRecordReader(bytes.NewReader(data[fileHeaderSize:]), int64(len(data)), fileHeaderSize)
	for {
		p, off, err := rr.next()
		if err != nil {
			return payloads, offs, err
		}
		payloads = append(payloads, bytes.Clone(p))
		offs = append(offs, off)
	}
}

func fuzzSeedFile(payloads ...string) []byte {
	b := appendFileHeader(nil, 1)
	for _, p := range payloads {
		b = appendRecord(b, []byte(p))
	}
	return b
}

// FuzzReader feeds arbitrary file images to the record reader: it must never
// panic, every record it returns must re-encode to exactly the bytes it was
// read from, and it must stop with a clean EOF at the end or a
// CorruptionError pointing inside the file.
func FuzzReader(f *testing.F) {
	valid := fuzzSeedFile("a", "", "sign-in batch", string(bytes.Repeat([]byte("z"), 300)))
	f.Add(valid)
	f.Add([]byte{})
	f.Add(appendFileHeader(nil, 1))
	f.Add(valid[:len(valid)-5])
	f.Add(append(bytes.Clone(valid), make([]byte, 64)...))
	f.Add(append(appendFileHeader(nil, 1), 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1))
	flipped := bytes.Clone(valid)
	flipped[30] ^= 0x40
	f.Add(flipped)
	f.Fuzz(func(t *testing.T, data []byte) {
		payloads, offs, err := readAll(data)
		for i, p := range payloads {
			frame := appendRecord(nil, p)
			if !bytes.Equal(frame, data[offs[i]:offs[i]+int64(len(frame))]) {
				t.Fatalf("record %d at %d does not re-encode to its bytes", i, offs[i])
			}
		}
		end := int64(fileHeaderSize)
		if n := len(payloads); n > 0 {
			end = offs[n-1] + recordHeaderSize + int64(len(payloads[n-1]))
		}
		var ce *CorruptionError
		switch {
		case len(data) < fileHeaderSize || err != nil && !errors.Is(err, io.EOF) && !errors.As(err, &ce):
			// header rejected: nothing decoded
			if len(payloads) != 0 {
				t.Fatalf("records returned with header error %v", err)
			}
		case errors.Is(err, io.EOF):
			if end != int64(len(data)) {
				t.Fatalf("clean EOF at %d of %d bytes", end, len(data))
			}
		case ce.Offset != end || ce.Offset >= int64(len(data)):
			t.Fatalf("corruption at %d, last record ended at %d, file %d bytes", ce.Offset, end, len(data))
		}
	})
}

// FuzzRoundTrip encodes payloads cut from arbitrary bytes and requires the
// reader to return exactly them.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("hello world"), uint8(3))
	f.Add([]byte{}, uint8(0))
	f.Add(bytes.Repeat([]byte{0}, 100), uint8(7))
	f.Fuzz(func(t *testing.T, data []byte, step uint8) {
		var want [][]byte
		file := appendFileHeader(nil, 9)
		for rest := data; ; {
			n := min(int(step), len(rest))
			want = append(want, rest[:n])
			file = appendRecord(file, rest[:n])
			rest = rest[n:]
			if len(rest) == 0 || step == 0 {
				break
			}
		}
		got, _, err := readAll(file)
		if !errors.Is(err, io.EOF) {
			t.Fatalf("reading a valid file: %v", err)
		}
		if len(got) != len(want) {
			t.Fatalf("got %d records, want %d", len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("record %d: %q, want %q", i, got[i], want[i])
			}
		}
	})
}

// FuzzNextValidRecord: the resync scan never panics, and an offset it returns holds a whole,
// checksummed record (what makes an earlier invalid frame damage rather than a torn tail).
func FuzzNextValidRecord(f *testing.F) {
	f.Add(appendRecord(appendRecord(nil, []byte("one")), []byte("two")), int64(0))
	f.Add(append(make([]byte, 40), appendRecord(nil, []byte("after zeros"))...), int64(3))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 1}, int64(0))
	f.Fuzz(func(t *testing.T, data []byte, from int64) {
		if from < 0 || from > int64(len(data)) {
			return
		}
		off, found, err := nextValidRecord(bytes.NewReader(data), from, int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		if !found {
			return
		}
		if off <= from || off >= int64(len(data)) {
			t.Fatalf("offset %d outside (%d, %d)", off, from, len(data))
		}
		rr := newRecordReader(bytes.NewReader(data[off:]), int64(len(data))-off, 0)
		if _, _, err := rr.next(); err != nil {
			t.Fatalf("no valid record at the returned offset %d: %v", off, err)
		}
	})
}
