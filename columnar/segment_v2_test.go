package columnar

import (
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/authlake/authlake/internal/vfs"
)

// segmentFile opens the segment at path (the caller closes it) and returns its bytes and a copy
// of its footer that a rewriter may change.
func segmentFile(t *testing.T, path string) (*Segment, []byte, SegmentMeta) {
	t.Helper()
	seg, err := OpenSegment(vfs.Default, path, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		seg.Close()
		t.Fatal(err)
	}
	meta := *seg.Meta
	meta.Columns = slices.Clone(meta.Columns)
	return seg, raw, meta
}

// rewriteAsV2 rewrites a segment of this build's version in the version-2 layout (a frame
// table of lengths only, each region checked by one CRC, IPC-stream frames), as segments
// written before version 3 are.
func rewriteAsV2(t *testing.T, path, out string) { rewriteAsVersion(t, path, out, 2) }

// rewriteAsVersion rewrites a segment of this build's version as version 2 or 3: each frame
// decoded and written again as a one-column Arrow IPC stream, in the version's frame table.
func rewriteAsVersion(t *testing.T, path, out string, version byte) {
	t.Helper()
	seg, raw, meta := segmentFile(t, path)
	defer seg.Close()
	file := append([]byte(segMagic), version, 0)
	for i := range meta.Columns {
		c := &meta.Columns[i]
		table := raw[c.Offset : c.Offset+c.Table]
		refs, err := parseFrameTableV3(table, int64(c.Offset+c.Table), int64(c.Offset+c.Length))
		if err != nil {
			t.Fatal(err)
		}
		// Version 6 stores a dictionary as pages after the blocks; older versions as frame 0.
		nb := seg.NumBlocks()
		frames := make([][]byte, nb+1)
		var pages []arrow.Array
		for j, r := range refs {
			f := raw[r.off : r.off+r.len]
			if j > nb {
				rows := min(DictPageValues, int(c.DictLen)-(j-nb-1)*DictPageValues)
				a, err := decodeFrameV4(f, KindText, rows, 0, memory.DefaultAllocator, decodeTraits{guidPage: true})
				if err != nil {
					t.Fatal(err)
				}
				pages = append(pages, a)
				continue
			}
			if j == 0 || len(f) == 0 {
				continue // frame 0 holds page fences (version 9) or nothing; the pages make it below
			}
			kind, rows := c.Kind, seg.BlockLen(j-1)
			traits := decodeTraits{blockDict: c.Kind == KindExtras && j > 0}
			if sc, ok := SignIns.Lookup(c.Name); ok && j > 0 {
				traits.tokens = sc.Tokens
				if sc.Sibling != nil {
					traits.sib = func() (arrow.Array, error) { return seg.Block(sc.Sibling.Index, j-1) }
				}
				if sc.Times != nil {
					traits.times = func() (arrow.Array, error) { return seg.Block(sc.Times.Index, j-1) }
				}
			}
			a, err := decodeFrameV4(f, kind, rows, int(c.DictLen), memory.DefaultAllocator, traits)
			if err != nil {
				t.Fatal(err)
			}
			if frames[j], err = encodeFrameIPC(c.Name, a, false); err != nil {
				t.Fatal(err)
			}
			a.Release()
		}
		if len(pages) > 0 {
			dict, err := array.Concatenate(pages, memory.DefaultAllocator)
			if err != nil {
				t.Fatal(err)
			}
			if frames[0], err = encodeFrameIPC(c.Name, dict, false); err != nil {
				t.Fatal(err)
			}
			dict.Release()
			for _, p := range pages {
				p.Release()
			}
		}
		var region []byte
		if version == 2 {
			region = appendFrameTable(nil, frames)
			c.Table = 0
		} else {
			region = appendFrameTableV3(nil, frames)
			c.Table = uint64(len(region))
		}
		c.CRC = crc32.Checksum(region, castagnoli)
		for _, f := range frames {
			region = append(region, f...)
		}
		if version == 2 {
			c.CRC = crc32.Checksum(region, castagnoli)
		}
		c.Offset, c.Length = uint64(len(file)), uint64(len(region))
		file = append(file, region...)
	}
	file = appendFooter(file, meta.marshalVersion(nil, version), version)
	if err := os.WriteFile(out, file, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReadsVersion3: a segment of version 3 (IPC-stream frames) reads the same rows as the
// version-4 segment it was rewritten from.
func TestReadsVersion3(t *testing.T) {
	dir := t.TempDir()
	path, _ := writeTestSegment(t, dir, testEvents(t, 600, 5), 64)
	v3 := filepath.Join(dir, "v3.seg")
	rewriteAsVersion(t, path, v3, 3)
	want, got := readSegmentRows(t, path), readSegmentRows(t, v3)
	if len(want) != 600 || !slices.Equal(want, got) {
		t.Fatalf("version 3 read %d rows, version 4 %d; equal: %t", len(got), len(want), slices.Equal(want, got))
	}
	st4, _ := os.Stat(path)
	st3, _ := os.Stat(v3)
	t.Logf("600 rows in blocks of 64: %d bytes (version 4), %d (version 3)", st4.Size(), st3.Size())

	// A merge of version-3 blocks (a compaction of old segments) writes version 4.
	seg, err := OpenSegment(vfs.Default, v3, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	var units []Unit
	for _, u := range SegmentUnits(seg) {
		defer u.Release()
		units = append(units, u)
	}
	m, err := Merge(SignIns, units, 100)
	if err != nil {
		t.Fatal(err)
	}
	merged := filepath.Join(dir, "merged.seg")
	if _, err := WriteSegment(vfs.Default, merged, "tenant-a", 20395, m, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(merged)
	if b[6] != SegmentVersion || b[len(b)-9] != SegmentVersion {
		t.Fatalf("the merge wrote version %d (trailer %d)", b[6], b[len(b)-9])
	}
	if got := readSegmentRows(t, merged); !slices.Equal(canonicalSet(t, got), canonicalSet(t, want)) {
		t.Fatal("the merge of version-3 blocks does not hold the same events")
	}
}

// TestReadsVersion2: a segment of version 2 (whole regions, one CRC each) reads the same rows as
// the version-3 segment it was rewritten from, and a flipped byte in one of its frames is
// caught by the region's CRC.
func TestReadsVersion2(t *testing.T) {
	dir := t.TempDir()
	path, _ := writeTestSegment(t, dir, testEvents(t, 600, 5), 64)
	v2 := filepath.Join(dir, "v2.seg")
	rewriteAsV2(t, path, v2)
	want, got := readSegmentRows(t, path), readSegmentRows(t, v2)
	if len(want) != 600 || !slices.Equal(want, got) {
		t.Fatalf("version 2 read %d rows, version 4 %d; equal: %t", len(got), len(want), slices.Equal(want, got))
	}
	b, _ := os.ReadFile(v2)
	seg, err := OpenSegment(vfs.Default, v2, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := seg.Meta.Columns[0]
	seg.Close()
	b[c.Offset+c.Length-3] ^= 0x40
	os.WriteFile(v2, b, 0o644)
	seg, err = OpenSegment(vfs.Default, v2, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	if _, err := exportSegment(t, seg); err == nil {
		t.Fatal("a flipped byte in a version-2 region was served")
	}
}

// readCounter counts the bytes read through the files of a file system (a block's columns are
// read side by side: atomically).
type readCounter struct {
	vfs.FS
	n *atomic.Int64
}

type countedFile struct {
	vfs.File
	n *atomic.Int64
}

func (c readCounter) Open(name string) (vfs.File, error) {
	f, err := c.FS.Open(name)
	if err != nil {
		return nil, err
	}
	return countedFile{f, c.n}, nil
}

func (f countedFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.File.ReadAt(p, off)
	f.n.Add(int64(n))
	return n, err
}

// TestReadsOneBlock: reading one block of every column of a version-3 segment reads that
// block's frames (and each column's frame table and dictionary), not the whole regions as
// version 2 must: counted in bytes, 20 blocks in the segment.
func TestReadsOneBlock(t *testing.T) {
	dir := t.TempDir()
	path, meta := writeTestSegment(t, dir, testEvents(t, 2000, 6), 100)
	if meta.NumBlocks() != 20 {
		t.Fatalf("%d blocks", meta.NumBlocks())
	}
	v2 := filepath.Join(dir, "v2.seg")
	rewriteAsV2(t, path, v2)
	cols := allColumns()
	read := func(p string) (int64, []string) {
		var n atomic.Int64
		seg, err := OpenSegment(readCounter{vfs.Default, &n}, p, SignIns, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer seg.Close()
		before := n.Load()
		b, release, err := seg.BlockBatch(7, cols)
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		var enc Encoder
		var rows []string
		for r := range b.Rows {
			row, err := enc.AppendJSON(nil, b, r, nil)
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, string(row))
		}
		return n.Load() - before, rows
	}
	n3, rows3 := read(path)
	n2, rows2 := read(v2)
	if !slices.Equal(rows3, rows2) || len(rows3) != 100 {
		t.Fatalf("block 7 differs between the versions (%d and %d rows)", len(rows3), len(rows2))
	}
	if n3*4 > n2 {
		t.Fatalf("one block of 20 read %d bytes from version %d, %d from version 2: want at most a quarter", n3, SegmentVersion, n2)
	}
	t.Logf("one block of 20, every column: %d bytes read (version %d), %d (version 2)", n3, SegmentVersion, n2)
}

// readSegmentRows opens the segment at p and exports its rows.
func readSegmentRows(t *testing.T, p string) []string {
	t.Helper()
	seg, err := OpenSegment(vfs.Default, p, SignIns, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	rows, err := exportSegment(t, seg)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
