package wal

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// tornFixture writes records into one file and returns its name and bytes
// and the offset where the last record starts.
func tornFixture(t *testing.T) (want [][]byte, name string, file []byte, lastStart int) {
	t.Helper()
	dir := t.TempDir()
	l, _, _ := openReplayed(t, dir, Options{NoSync: true})
	for i := range 5 {
		p := bytes.Repeat([]byte{byte('a' + i)}, 20*(i+1))
		want = append(want, p)
		if _, err := l.Append(p); err != nil {
			t.Fatal(err)
		}
	}
	mustClose(t, l)
	name = fileName(1)
	file, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	lastStart = len(file) - recordHeaderSize - len(want[4])
	return want, name, file, lastStart
}

// replayVariant writes file as the only WAL file of a new directory,
// replays it, and checks that appending afterwards works.
func replayVariant(t *testing.T, name string, file []byte) ([][]byte, ReplayStats, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	opts := Options{NoSync: true, SegmentSize: 64 << 10, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	l, got, stats := openReplayed(t, dir, opts)
	if _, err := l.Append([]byte("after recovery")); err != nil {
		t.Fatal(err)
	}
	mustClose(t, l)
	again, _ := replayAll(t, dir, opts)
	equalPayloads(t, again, append(got[:len(got):len(got)], []byte("after recovery")))
	return got, stats, logs.String()
}

func TestTornTailEveryTruncation(t *testing.T) {
	want, name, file, lastStart := tornFixture(t)
	for cut := lastStart; cut < len(file); cut++ {
		got, stats, logs := replayVariant(t, name, file[:cut])
		equalPayloads(t, got, want[:4])
		wantTorn := int64(cut - lastStart)
		if stats.TornBytes != wantTorn || stats.ZeroTailBytes != 0 {
			t.Fatalf("cut %d: stats %+v, want %d torn bytes", cut, stats, wantTorn)
		}
		if wantTorn > 0 && (stats.TornOffset != int64(lastStart) ||
			!strings.Contains(logs, "truncated torn tail") ||
			!strings.Contains(logs, "offset="+strconv.Itoa(lastStart)) ||
			!strings.Contains(logs, name)) {
			t.Fatalf("cut %d: stats %+v, log %q", cut, stats, logs)
		}
	}
}

// TestTornTailBitFlips flips every bit of the last record's header and of
// its first and last payload bytes, and one bit of each payload byte between.
func TestTornTailBitFlips(t *testing.T) {
	want, name, file, lastStart := tornFixture(t)
	payloadStart := lastStart + recordHeaderSize
	for bit := lastStart * 8; bit < len(file)*8; bit++ {
		if b := bit / 8; b >= payloadStart+4 && b < len(file)-4 && bit%8 != b%8 {
			continue
		}
		garbled := bytes.Clone(file)
		garbled[bit/8] ^= 1 << (bit % 8)
		got, stats, _ := replayVariant(t, name, garbled)
		equalPayloads(t, got, want[:4])
		if stats.TornOffset != int64(lastStart) || stats.TornBytes != int64(len(file)-lastStart) {
			t.Fatalf("bit %d: stats %+v", bit, stats)
		}
	}
}

func TestTornTailGarbage(t *testing.T) {
	want, name, file, _ := tornFixture(t)
	rng := rand.New(rand.NewPCG(1, 2))
	f := func(desc string, tail []byte, zero bool) {
		t.Helper()
		got, stats, _ := replayVariant(t, name, append(bytes.Clone(file), tail...))
		equalPayloads(t, got, want)
		if zero && (stats.ZeroTailBytes != int64(len(tail)) || stats.TornBytes != 0) {
			t.Fatalf("%s: stats %+v", desc, stats)
		}
		if !zero && (stats.TornBytes != int64(len(tail)) || stats.TornOffset != int64(len(file))) {
			t.Fatalf("%s: stats %+v", desc, stats)
		}
	}
	f("one zero byte", make([]byte, 1), false) // short header, not a zero frame
	f("zero frame", make([]byte, recordHeaderSize), true)
	f("preallocated zeros", make([]byte, 1<<20), true)
	f("zeros then junk", append(make([]byte, 100), 1), false)
	for i := range 50 {
		junk := make([]byte, 1+rng.IntN(300))
		for j := range junk {
			junk[j] = byte(rng.Uint32())
		}
		f(fmt.Sprintf("junk %d", i), junk, false)
	}
	// A frame claiming a payload of MaxRecordSize must not be allocated.
	f("huge length", []byte{0, 0, 0, 0x10, 1, 2, 3, 4, recTypeFull, 'x'}, false)
}

// TestPreallocatedActiveFile replays a copy of a live, preallocated active
// file: what a crash leaves behind.
func TestPreallocatedActiveFile(t *testing.T) {
	dir := t.TempDir()
	const segment = 1 << 20
	l, _, _ := openReplayed(t, dir, Options{SegmentSize: segment})
	var want [][]byte
	for i := range 10 {
		p := fmt.Appendf(nil, "record %d", i)
		want = append(want, p)
		if _, err := l.Append(p); err != nil {
			t.Fatal(err)
		}
	}
	live, err := os.ReadFile(filepath.Join(dir, fileName(1)))
	if err != nil {
		t.Fatal(err)
	}
	logical := l.Size()
	mustClose(t, l)
	if len(live) != segment {
		t.Fatalf("active file is %d bytes, want preallocated %d", len(live), segment)
	}
	got, stats, _ := replayVariant(t, fileName(1), live)
	equalPayloads(t, got, want)
	if stats.ZeroTailBytes != segment-logical || stats.TornBytes != 0 {
		t.Fatalf("stats %+v, want %d zero bytes", stats, segment-logical)
	}
}

// twoFiles writes records into files 1 and 2 and returns file 1's bytes.
func twoFiles(t *testing.T) (dir string, first []byte) {
	t.Helper()
	dir = t.TempDir()
	l, _, _ := openReplayed(t, dir, Options{NoSync: true})
	for i := range 6 {
		if i == 3 {
			if _, err := l.Rotate(); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := l.Append(fmt.Appendf(nil, "record %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	mustClose(t, l)
	first, err := os.ReadFile(filepath.Join(dir, fileName(1)))
	if err != nil {
		t.Fatal(err)
	}
	return dir, first
}

func TestCorruptNonFinalFile(t *testing.T) {
	recLen := recordHeaderSize + len("record 0")
	f := func(desc string, mutate func([]byte) []byte, wantOffset int64, wantReason string) {
		t.Helper()
		dir, first := twoFiles(t)
		path := filepath.Join(dir, fileName(1))
		if err := os.WriteFile(path, mutate(bytes.Clone(first)), 0o644); err != nil {
			t.Fatal(err)
		}
		l, err := Open(dir, Options{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		n := 0
		_, err = l.Replay(func(Pos, []byte) error { n++; return nil })
		var ce *CorruptionError
		if !errors.As(err, &ce) || ce.File != path || ce.Offset != wantOffset || ce.Reason != wantReason {
			t.Fatalf("%s: err %v, want %s at %d in %s", desc, err, wantReason, wantOffset, path)
		}
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), strconv.FormatInt(wantOffset, 10)) {
			t.Fatalf("%s: error %q does not name file and offset", desc, err)
		}
		if _, err := l.Append([]byte("x")); !errors.Is(err, ErrNotReplayed) {
			t.Fatalf("%s: Append after failed Replay: %v", desc, err)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, mutate(bytes.Clone(first))) {
			t.Fatalf("%s: replay modified the corrupt file", desc)
		}
	}
	second := int64(fileHeaderSize + recLen)
	f("flipped payload", func(b []byte) []byte { b[second+12] ^= 4; return b }, second, reasonCRC)
	f("truncated last record", func(b []byte) []byte { return b[:len(b)-1] }, second+int64(recLen), reasonShortPayload)
	f("zero tail", func(b []byte) []byte { return append(b, make([]byte, 64)...) }, fileHeaderSize+3*int64(recLen), reasonZeroFilled)

	// A bad header in a non-final file is a hard error too.
	dir, first := twoFiles(t)
	first[0] = 0
	if err := os.WriteFile(filepath.Join(dir, fileName(1)), first, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Open(dir, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Replay(func(Pos, []byte) error { return nil }); err == nil || !strings.Contains(err.Error(), "bad magic") {
		t.Fatalf("bad header in non-final file: %v", err)
	}
	mustClose(t, l)
}

func TestMissingFileIsAnError(t *testing.T) {
	dir, _ := twoFiles(t)
	l, _, _ := openReplayed(t, dir, Options{}) // creates file 3
	mustClose(t, l)
	if err := os.Remove(filepath.Join(dir, fileName(2))); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{Logger: quiet}); err == nil || !strings.Contains(err.Error(), "missing file") {
		t.Fatalf("Open with a gap: %v", err)
	}
}

// TestUnbornLastFile: a crash while creating a file leaves it empty, short
// or zero; it is removed, while a last file with a garbage header is not.
func TestUnbornLastFile(t *testing.T) {
	f := func(desc string, content []byte) {
		t.Helper()
		dir, _ := twoFiles(t)
		path := filepath.Join(dir, fileName(3))
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		got, stats := replayAll(t, dir, Options{})
		if len(got) != 6 || stats.RemovedFile != path {
			t.Fatalf("%s: %d records, stats %+v", desc, len(got), stats)
		}
		st, err := os.Stat(path) // recreated as the new active file
		if err != nil || st.Size() != fileHeaderSize {
			t.Fatalf("%s: recreated file: %v", desc, err)
		}
	}
	f("empty", nil)
	f("partial header", appendFileHeader(nil, 3)[:11])
	f("zeros", make([]byte, 4096))

	dir, _ := twoFiles(t)
	if err := os.WriteFile(filepath.Join(dir, fileName(3)), append(make([]byte, 30), 7), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Open(dir, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Replay(func(Pos, []byte) error { return nil }); err == nil {
		t.Fatal("garbage header with data behind it was accepted")
	}
	mustClose(t, l)
}
