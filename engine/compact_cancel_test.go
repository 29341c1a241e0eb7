package engine

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/authlake/authlake/internal/vfs"
)

// segReadHook calls at(n) at the n-th read of any segment file (from 1), or of the files
// named with suffix instead (".idx": index sidecars).
type segReadHook struct {
	vfs.FS
	suffix string
	n      atomic.Int64
	at     atomic.Pointer[func(n int64)] // merges read from several goroutines
}

func (h *segReadHook) hooked(name string) bool {
	if h.suffix != "" {
		return strings.HasSuffix(name, h.suffix)
	}
	return strings.HasSuffix(name, ".seg")
}

func (h *segReadHook) Open(name string) (vfs.File, error) {
	f, err := h.FS.Open(name)
	if err != nil || !h.hooked(name) {
		return f, err
	}
	return hookedFile{f, h}, nil
}

func (h *segReadHook) OpenFile(name string, flag int, perm fs.FileMode) (vfs.File, error) {
	f, err := h.FS.OpenFile(name, flag, perm)
	if err != nil || !h.hooked(name) {
		return f, err
	}
	return hookedFile{f, h}, nil
}

type hookedFile struct {
	vfs.File
	h *segReadHook
}

func (f hookedFile) ReadAt(p []byte, off int64) (int, error) {
	n := f.h.n.Add(1)
	if at := f.h.at.Load(); at != nil {
		(*at)(n)
	}
	return f.File.ReadAt(p, off)
}

// segFiles lists the segment and index files under dir.
func segFiles(t *testing.T, fsys vfs.FS, dir string) []string {
	t.Helper()
	var out []string
	var walk func(string)
	walk = func(d string) {
		ents, err := fsys.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			p := filepath.Join(d, e.Name())
			if e.IsDir() {
				walk(p)
			} else if strings.Contains(e.Name(), ".seg") {
				out = append(out, p)
			}
		}
	}
	walk(dir)
	slices.Sort(out)
	return out
}

// A whole-day merge can take minutes; CompactAllContext stops at the next block once its
// context is done. Cancelled at every point of the run (each count of segment reads), the
// database keeps every event, no file of the abandoned merge is left, the merges finished
// before the cancel stay, and a later CompactAll finishes the work.
func TestCompactAllStopsWhenCancelled(t *testing.T) {
	lines := makeEvents(1200, 7, 3)
	want := canonical(lines, nil)
	build := func(t *testing.T) (string, *segReadHook, Options) {
		dir := t.TempDir()
		hook := &segReadHook{FS: vfs.Default}
		opts := testOptions()
		opts.FS = hook
		db := mustOpen(t, dir, opts)
		ingestSegments(t, db, lines, 4)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		return dir, hook, opts
	}

	// The uncancelled run: how many segment reads it makes and what it leaves.
	dir, hook, opts := build(t)
	db := mustOpen(t, dir, opts)
	startSegs := db.Stats().Segments
	hook.n.Store(0)
	if err := db.CompactAll(); err != nil {
		t.Fatal(err)
	}
	reads, endSegs := hook.n.Load(), db.Stats().Segments
	db.Close()
	if endSegs >= startSegs || reads < 10 {
		t.Fatalf("test data: compaction went %d → %d segments in %d reads", startSegs, endSegs, reads)
	}

	stopped := 0
	for _, at := range []int64{1, 2, reads / 4, reads / 2, reads - 1} {
		dir, hook, opts := build(t)
		db := mustOpen(t, dir, opts)
		ctx, cancel := context.WithCancel(context.Background())
		hook.n.Store(0)
		fn := func(n int64) {
			if n == at {
				cancel()
			}
		}
		hook.at.Store(&fn)
		err := db.CompactAllContext(ctx)
		hook.at.Store(nil)
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled at read %d: %v, want context.Canceled", at, err)
			}
			stopped++
			// Stopped within a block: the merge in progress read little after the cancel, not
			// to its end. What may still come: the rest of a segment's first open (header,
			// trailer, footer) and, in each of the two column writers, the block it is reading
			// (dictionary and frame).
			if after := hook.n.Load() - at; after > 8 {
				t.Fatalf("cancelled at read %d of %d: %d more reads before it stopped", at, reads, after)
			}
		}
		segs := db.Stats().Segments
		if segs < endSegs || segs > startSegs {
			t.Fatalf("cancelled at read %d: %d segments, want between %d and %d", at, segs, endSegs, startSegs)
		}
		sameSet(t, "after a cancelled compaction", want, exportSet(t, db, tenantA))
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		// Every file on disk is one the manifest names: the abandoned merge left nothing.
		db = mustOpen(t, dir, opts)
		named := map[string]bool{}
		for _, p := range db.parts {
			for _, s := range p.segs {
				named[s.path] = true
				named[s.path+".idx"] = true
			}
		}
		for _, f := range segFiles(t, vfs.Default, dir) {
			if !named[f] {
				t.Fatalf("cancelled at read %d: %s is on disk but not in the manifest", at, f)
			}
		}
		sameSet(t, "reopened after a cancelled compaction", want, exportSet(t, db, tenantA))
		if err := db.CompactAll(); err != nil {
			t.Fatal(err)
		}
		if got := db.Stats().Segments; got != endSegs {
			t.Fatalf("compaction after the cancelled one left %d segments, want %d", got, endSegs)
		}
		db.Close()
	}
	if stopped < 4 {
		t.Fatalf("only %d of 5 cancelled compactions stopped early", stopped)
	}
}

// Close does not wait for a whole-day merge: it stops it at the next block, and the merge
// reports ErrClosed.
func TestCloseStopsACompaction(t *testing.T) {
	dir := t.TempDir()
	hook := &segReadHook{FS: vfs.Default}
	opts := testOptions()
	opts.FS = hook
	db := mustOpen(t, dir, opts)
	lines := makeEvents(1200, 8, 1)
	for i := 0; i < 4; i++ {
		ingestAll(t, db, lines[i*300:(i+1)*300], 300)
		if err := db.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	closed := make(chan error, 1)
	var started atomic.Bool
	fn := func(n int64) {
		if n == 3 && started.CompareAndSwap(false, true) {
			go func() { closed <- db.Close() }()
			<-db.closing.Done() // Close has begun: the merge must notice at its next block
		}
	}
	hook.at.Store(&fn)
	hook.n.Store(0)
	err := db.CompactAll()
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("CompactAll during Close: %v, want ErrClosed", err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	hook.at.Store(nil)
	if after := hook.n.Load() - 3; after > 8 {
		t.Fatalf("the merge read %d more times after Close began", after)
	}
	db = mustOpen(t, dir, testOptions())
	defer db.Close()
	sameSet(t, "after Close stopped a compaction", canonical(lines, nil), exportSet(t, db, tenantA))
}
