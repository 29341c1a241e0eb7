package wal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/authlake/authlake/internal/vfs"
)

func TestAppendReplayPositions(t *testing.T) {
	dir := t.TempDir()
	l, got, _ := openReplayed(t, dir, Options{})
	if len(got) != 0 {
		t.Fatalf("fresh log replayed %d records", len(got))
	}
	want := [][]byte{[]byte("a"), {}, []byte("sign-in batch"), make([]byte, directWriteMin+3)}
	var positions []Pos
	for _, p := range want {
		pos, err := l.Append(p)
		if err != nil {
			t.Fatal(err)
		}
		positions = append(positions, pos)
	}
	mustClose(t, l)

	l, err := Open(dir, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	var seen []Pos
	stats, err := l.Replay(func(pos Pos, p []byte) error {
		seen = append(seen, pos)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mustClose(t, l)
	if fmt.Sprint(seen) != fmt.Sprint(positions) {
		t.Fatalf("replayed positions %v, appended at %v", seen, positions)
	}
	if positions[0] != (Pos{Seq: 1, Offset: fileHeaderSize}) {
		t.Fatalf("first record at %+v", positions[0])
	}
	if stats.Records != 4 || stats.Files != 1 || stats.TornBytes != 0 || stats.ZeroTailBytes != 0 {
		t.Fatalf("stats after clean close: %+v", stats)
	}
	l, got, _ = openReplayed(t, dir, Options{})
	equalPayloads(t, got, want)
	// An open after appends starts a new file; an open after none reuses the empty last file
	// (opening without ingesting must not add a file each time). Every file still replays.
	files, _ := filepath.Glob(filepath.Join(dir, "*.wal"))
	if len(files) != 2 {
		t.Fatalf("want 2 files after three opens (the third reusing the second's empty file), got %v", files)
	}
	var onDisk int64
	for _, f := range files[:1] {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		onDisk += st.Size()
	}
	if want := onDisk + fileHeaderSize; l.Size() != want {
		t.Fatalf("Size after replay %d, want %d", l.Size(), want)
	}
	mustClose(t, l)
}

// TestGroupCommit checks that concurrent appenders share syncs and that
// replay order equals position order.
func TestGroupCommit(t *testing.T) {
	dir := t.TempDir()
	var syncs atomic.Int64
	opts := Options{FS: vfs.Inject(vfs.Default, func(op vfs.Op) error {
		if op.Kind == vfs.OpSync {
			syncs.Add(1)
			time.Sleep(time.Millisecond) // a slow disk makes batching visible
		}
		return nil
	})}
	l, _, _ := openReplayed(t, dir, opts)
	syncs.Store(0)
	const writers, each = 16, 40
	pos := make([][]Pos, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				p, err := l.Append(fmt.Appendf(nil, "w%d-%d", w, i))
				if err != nil {
					t.Error(err)
					return
				}
				pos[w] = append(pos[w], p)
			}
		})
	}
	wg.Wait()
	mustClose(t, l)
	if n := syncs.Load(); n > writers*each/4 {
		t.Fatalf("%d syncs for %d appends: group commit is not batching", n, writers*each)
	}
	t.Logf("%d syncs for %d appends", syncs.Load(), writers*each)

	byPos := map[Pos]string{}
	for w := range writers {
		for i, p := range pos[w] {
			byPos[p] = fmt.Sprintf("w%d-%d", w, i)
		}
	}
	l, err := Open(dir, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	var last Pos
	n := 0
	_, err = l.Replay(func(p Pos, payload []byte) error {
		if p.Seq < last.Seq || (p.Seq == last.Seq && p.Offset <= last.Offset) {
			return fmt.Errorf("position %+v after %+v", p, last)
		}
		last = p
		if byPos[p] != string(payload) {
			return fmt.Errorf("at %+v: %q, appended %q", p, payload, byPos[p])
		}
		n++
		return nil
	})
	mustClose(t, l)
	if err != nil || n != writers*each {
		t.Fatalf("replayed %d records, err %v", n, err)
	}
}

func TestSizeBasedRotation(t *testing.T) {
	dir := t.TempDir()
	const segment = 4096
	l, _, _ := openReplayed(t, dir, Options{SegmentSize: segment})
	var want [][]byte
	for i := range 100 {
		p := fmt.Appendf(nil, "%0500d", i)
		want = append(want, p)
		if _, err := l.Append(p); err != nil {
			t.Fatal(err)
		}
	}
	size := l.Size()
	mustClose(t, l)

	files, _ := filepath.Glob(filepath.Join(dir, "*.wal"))
	var total int64
	for i, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		total += st.Size()
		if i < len(files)-1 && (st.Size() < segment || st.Size() >= segment+recordHeaderSize+500) {
			t.Fatalf("sealed file %s is %d bytes, segment size %d", f, st.Size(), segment)
		}
	}
	if len(files) < 10 {
		t.Fatalf("only %d files for 50 KB at 4 KiB segments", len(files))
	}
	if total != size {
		t.Fatalf("Size() = %d, files hold %d", size, total)
	}
	got, _ := replayAll(t, dir, Options{})
	equalPayloads(t, got, want)
}

func TestRotateRemoveBefore(t *testing.T) {
	dir := t.TempDir()
	l, _, _ := openReplayed(t, dir, Options{})
	if _, err := l.Append([]byte("flushed")); err != nil {
		t.Fatal(err)
	}
	seq, err := l.Rotate()
	if err != nil || seq != 2 {
		t.Fatalf("Rotate = %d, %v; want 2", seq, err)
	}
	pos, err := l.Append([]byte("not yet flushed"))
	if err != nil || pos.Seq != 2 {
		t.Fatalf("append after rotate at %+v, %v", pos, err)
	}
	if err := l.RemoveBefore(seq + 1); err == nil {
		t.Fatal("RemoveBefore past the active file succeeded")
	}
	before := l.Size()
	if err := l.RemoveBefore(seq); err != nil {
		t.Fatal(err)
	}
	if want := before - (fileHeaderSize + recordHeaderSize + int64(len("flushed"))); l.Size() != want {
		t.Fatalf("Size after removal %d, want %d", l.Size(), want)
	}
	if _, err := os.Stat(filepath.Join(dir, fileName(1))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("file 1 still there: %v", err)
	}
	if err := l.RemoveBefore(seq); err != nil { // idempotent
		t.Fatal(err)
	}
	mustClose(t, l)
	got, _ := replayAll(t, dir, Options{})
	equalPayloads(t, got, [][]byte{[]byte("not yet flushed")})
}

func TestAPIMisuse(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{Logger: quiet}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if _, err := l.Append([]byte("x")); !errors.Is(err, ErrNotReplayed) {
		t.Fatalf("Append before Replay: %v", err)
	}
	if _, err := l.Rotate(); !errors.Is(err, ErrNotReplayed) {
		t.Fatalf("Rotate before Replay: %v", err)
	}
	if err := l.RemoveBefore(1); !errors.Is(err, ErrNotReplayed) {
		t.Fatalf("RemoveBefore before Replay: %v", err)
	}
	if _, err := l.Replay(func(Pos, []byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Replay(func(Pos, []byte) error { return nil }); !errors.Is(err, ErrReplayed) {
		t.Fatalf("second Replay: %v", err)
	}
	if _, err := l.AppendBatch(nil); err == nil {
		t.Fatal("empty AppendBatch succeeded")
	}
	if _, err := l.Append(make([]byte, MaxRecordSize+1)); !errors.Is(err, ErrRecordTooLarge) {
		t.Fatalf("oversized Append: %v", err)
	}
	pos, err := l.AppendBatch([][]byte{[]byte("one"), []byte("two")})
	if err != nil || pos.Offset != fileHeaderSize {
		t.Fatalf("AppendBatch = %+v, %v", pos, err)
	}
	mustClose(t, l)
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := l.Append([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	got, _ := replayAll(t, dir, Options{})
	equalPayloads(t, got, [][]byte{[]byte("one"), []byte("two")})
}

// TestPoisonAfterSyncFailure: once fdatasync failed, no later write may
// succeed, even when the disk "recovers" (fsyncgate).
func TestPoisonAfterSyncFailure(t *testing.T) {
	dir := t.TempDir()
	fail := &vfs.Switch{Errno: syscall.EIO, Kinds: []vfs.OpKind{vfs.OpSync}}
	opts := Options{FS: vfs.Inject(vfs.Default, fail.Inject)}
	l, _, _ := openReplayed(t, dir, opts)
	if _, err := l.Append([]byte("durable")); err != nil {
		t.Fatal(err)
	}
	fail.On()
	if _, err := l.Append([]byte("lost")); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Append during failing sync: %v, want EIO", err)
	}
	fail.Off()
	if _, err := l.Append([]byte("after")); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Append after recovery: %v, want the poison EIO", err)
	}
	if _, err := l.Rotate(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Rotate after poison: %v", err)
	}
	if err := l.Close(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Close of poisoned log: %v", err)
	}
	got, _ := replayAll(t, dir, Options{})
	if len(got) == 0 || string(got[0]) != "durable" {
		t.Fatalf("acknowledged record missing after reopen: %q", got)
	}
}

func TestReplayCallbackError(t *testing.T) {
	dir := t.TempDir()
	l, _, _ := openReplayed(t, dir, Options{})
	for i := range 5 {
		if _, err := l.Append(fmt.Append(nil, i)); err != nil {
			t.Fatal(err)
		}
	}
	mustClose(t, l)
	l, err := Open(dir, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("memtable full")
	n := 0
	_, err = l.Replay(func(Pos, []byte) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("Replay: %v, want the callback's error", err)
	}
	if _, err := l.Append([]byte("x")); !errors.Is(err, ErrNotReplayed) {
		t.Fatalf("Append after failed Replay: %v", err)
	}
	stats, err := l.Replay(func(Pos, []byte) error { return nil })
	if err != nil || stats.Records != 5 {
		t.Fatalf("retried Replay: %+v, %v", stats, err)
	}
	mustClose(t, l)
}

// TestCloseDuringAppends: every Append returns nil (then it is replayed) or
// ErrClosed; Close leaves no goroutine behind (goleak in TestMain).
func TestCloseDuringAppends(t *testing.T) {
	dir := t.TempDir()
	l, _, _ := openReplayed(t, dir, Options{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[string]bool{}
	// Close once the appenders have a few hundred acknowledged records between them, so the
	// test always checks something (a sleep could close before anything was acknowledged).
	const before = 400
	enough := make(chan struct{})
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				p := fmt.Sprintf("%d-%d", w, i)
				_, err := l.Append([]byte(p))
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked[p] = true
				if len(acked) == before {
					close(enough)
				}
				mu.Unlock()
			}
		})
	}
	select {
	case <-enough:
	case <-time.After(5 * time.Minute): // only against a hang
		t.Fatalf("fewer than %d records acknowledged in 5 minutes", before)
	}
	mustClose(t, l)
	wg.Wait()
	got, _ := replayAll(t, dir, Options{})
	mu.Lock()
	total := len(acked)
	mu.Unlock()
	for _, p := range got {
		delete(acked, string(p))
	}
	if len(acked) != 0 || total < before {
		t.Fatalf("%d of %d acknowledged records missing", len(acked), total)
	}
}

// TestRotateRemoveWhileAppending drives the engine's flush cycle (Rotate,
// then RemoveBefore) against concurrent appenders: nothing in a kept file
// may be lost, and Size must match the files on disk.
func TestRotateRemoveWhileAppending(t *testing.T) {
	dir := t.TempDir()
	l, _, _ := openReplayed(t, dir, Options{NoSync: true, SegmentSize: 8 << 10})
	var mu sync.Mutex
	acked := map[Pos]string{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 300 {
				p := fmt.Sprintf("%d-%d-%0200d", w, i, 0)
				pos, err := l.Append([]byte(p))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked[pos] = p
				mu.Unlock()
			}
		})
	}
	writersDone := make(chan struct{})
	go func() { wg.Wait(); close(writersDone) }()
	var kept uint64
	flushes := 0
	for running := true; running; flushes++ {
		select {
		case <-writersDone:
			running = false
		default:
		}
		seq, err := l.Rotate()
		if err != nil {
			t.Fatal(err)
		}
		if err := l.RemoveBefore(seq); err != nil {
			t.Fatal(err)
		}
		kept = seq
	}
	for i := range 10 { // lands in a kept file
		p := fmt.Sprintf("final-%d", i)
		pos, err := l.Append([]byte(p))
		if err != nil {
			t.Fatal(err)
		}
		acked[pos] = p
	}
	size := l.Size()
	mustClose(t, l)

	files, _ := filepath.Glob(filepath.Join(dir, "*.wal"))
	var onDisk int64
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		onDisk += st.Size()
	}
	if onDisk != size {
		t.Fatalf("Size() = %d, files hold %d", size, onDisk)
	}
	l, err := Open(dir, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	_, err = l.Replay(func(pos Pos, p []byte) error {
		if pos.Seq < kept {
			return fmt.Errorf("record at %+v survived RemoveBefore(%d)", pos, kept)
		}
		if acked[pos] != string(p) {
			return fmt.Errorf("at %+v: %.10q, acked %.10q", pos, p, acked[pos])
		}
		seen++
		return nil
	})
	mustClose(t, l)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for pos := range acked {
		if pos.Seq >= kept {
			want++
		}
	}
	if seen != want || want < 10 || flushes < 2 {
		t.Fatalf("replayed %d records, %d acked in kept files, %d flush cycles", seen, want, flushes)
	}
}
