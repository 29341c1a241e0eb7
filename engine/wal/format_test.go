package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"strings"
	"testing"
)

func TestFileHeader(t *testing.T) {
	f := func(seq uint64) {
		t.Helper()
		b := appendFileHeader([]byte("prefix"), seq)
		if len(b) != len("prefix")+fileHeaderSize {
			t.Fatalf("seq %d: header is %d bytes", seq, len(b)-len("prefix"))
		}
		got, err := parseFileHeader(b[len("prefix"):])
		if err != nil || got != seq {
			t.Fatalf("seq %d: parse = %d, %v", seq, got, err)
		}
	}
	f(0)
	f(1)
	f(1<<63 + 12345)
	f(^uint64(0))
}

func TestFileHeaderRejects(t *testing.T) {
	f := func(name string, mutate func(b []byte) []byte, wantErr string) {
		t.Helper()
		b := mutate(appendFileHeader(nil, 7))
		_, err := parseFileHeader(b)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("%s: err = %v, want %q", name, err, wantErr)
		}
	}
	f("short", func(b []byte) []byte { return b[:19] }, "short file header")
	f("magic", func(b []byte) []byte { b[0] = 'X'; return b }, "bad magic")
	f("crc", func(b []byte) []byte { b[10] ^= 1; return b }, "crc mismatch")
	f("all zero", func(b []byte) []byte { return make([]byte, 20) }, "bad magic")
	f("version", func(b []byte) []byte {
		b[4] = 2
		return appendCRCFix(b)
	}, "unsupported format version 2")
	f("reserved", func(b []byte) []byte {
		b[6] = 1
		return appendCRCFix(b)
	}, "reserved header bytes")
}

// appendCRCFix recomputes the header CRC so a test reaches later checks.
func appendCRCFix(b []byte) []byte {
	binary.LittleEndian.PutUint32(b[16:], crc32.Checksum(b[:16], castagnoli))
	return b
}

func TestRecordRoundTrip(t *testing.T) {
	f := func(payloads ...[]byte) {
		t.Helper()
		file := appendFileHeader(nil, 1)
		for _, p := range payloads {
			file = appendRecord(file, p)
		}
		want := int64(fileHeaderSize)
		for _, p := range payloads {
			want += recordHeaderSize + int64(len(p))
		}
		if int64(len(file)) != want {
			t.Fatalf("encoded %d bytes, want %d", len(file), want)
		}
		rr := newRecordReader(bytes.NewReader(file[fileHeaderSize:]), int64(len(file)), fileHeaderSize)
		off := int64(fileHeaderSize)
		for i, p := range payloads {
			got, gotOff, err := rr.next()
			if err != nil || !bytes.Equal(got, p) || gotOff != off {
				t.Fatalf("record %d: %q at %d, %v; want %q at %d", i, got, gotOff, err, p, off)
			}
			off += recordHeaderSize + int64(len(p))
		}
		if _, _, err := rr.next(); err != io.EOF {
			t.Fatalf("after last record: %v, want io.EOF", err)
		}
	}
	f()
	f([]byte{})
	f([]byte("a"))
	f([]byte("a"), []byte{}, []byte("ccc"))
	f(bytes.Repeat([]byte{0}, 1000))
	f(bytes.Repeat([]byte("signIn"), 100_000), []byte("x"))
}

func TestRecordReaderReasons(t *testing.T) {
	valid := appendRecord(nil, []byte("hello"))
	f := func(name string, frame []byte, reason string) {
		t.Helper()
		rr := newRecordReader(bytes.NewReader(frame), int64(len(frame)), 0)
		_, _, err := rr.next()
		var ce *CorruptionError
		if !errors.As(err, &ce) || ce.Reason != reason || ce.Offset != 0 {
			t.Fatalf("%s: err = %v, want reason %q at 0", name, err, reason)
		}
	}
	mut := func(i int, v byte) []byte { b := bytes.Clone(valid); b[i] = v; return b }
	f("short header", valid[:8], reasonShortHeader)
	f("zero-filled", make([]byte, 64), reasonZeroFilled)
	f("unknown type", mut(8, 2), reasonUnknownType)
	f("too large", append([]byte{0xff, 0xff, 0xff, 0x7f}, valid[4:]...), reasonTooLarge)
	f("short payload", valid[:len(valid)-1], reasonShortPayload)
	f("length shrunk", mut(0, 4), reasonCRC)
	f("payload flipped", mut(10, 'E'), reasonCRC)
	f("crc flipped", mut(5, valid[5]^0x80), reasonCRC)
}

func TestFileName(t *testing.T) {
	f := func(seq uint64, name string) {
		t.Helper()
		if got := fileName(seq); got != name {
			t.Fatalf("fileName(%d) = %q, want %q", seq, got, name)
		}
		got, ok, err := parseFileName(name)
		if !ok || err != nil || got != seq {
			t.Fatalf("parseFileName(%q) = %d, %v, %v", name, got, ok, err)
		}
	}
	f(0, "00000000000000000000.wal")
	f(1, "00000000000000000001.wal")
	f(^uint64(0), "18446744073709551615.wal")

	bad := func(name string, wantOK bool) {
		t.Helper()
		_, ok, err := parseFileName(name)
		if ok != wantOK || (ok && err == nil) {
			t.Fatalf("parseFileName(%q) = ok %v, err %v", name, ok, err)
		}
	}
	bad("LOCK", false)
	bad("00000000000000000001.wal.tmp", false)
	bad("1.wal", true)
	bad("0000000000000000000x.wal", true)
	bad("99999999999999999999.wal", true) // overflows uint64
}
