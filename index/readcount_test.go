package index

import (
	"bytes"
	"io"
	"slices"
	"sync/atomic"
	"testing"
)

// countingReaderAt counts the reads and bytes asked of a sidecar: what a probe costs in I/O,
// which is what the layout decides (time depends on the machine).
type countingReaderAt struct {
	r            io.ReaderAt
	reads, bytes atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.reads.Add(1)
	c.bytes.Add(int64(len(p)))
	return c.r.ReadAt(p, off)
}

func (c *countingReaderAt) take() (reads, bytes int64) { return c.reads.Swap(0), c.bytes.Swap(0) }

// openCounted opens a sidecar through a countingReaderAt (its counts reset after the open) and
// says how long its keys section is.
func openCounted(t *testing.T, data []byte) (*Reader, *countingReaderAt, int64) {
	t.Helper()
	cr := &countingReaderAt{r: bytes.NewReader(data)}
	rd, err := Open(cr, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	cr.take()
	var section int64
	for _, s := range rd.Sections() {
		if s.Kind == KindKeys {
			section = s.Length
		}
	}
	return rd, cr, section
}

// A keys probe reads the section header once, then per key one table entry and one bucket
// group: a few KB on a 1M-key sidecar whose keys section is 5 MB, which a version-2 reader
// reads whole.
func TestKeyProbeReadsOneGroup(t *testing.T) {
	const rows = 1 << 20
	b, key := keyedBuilder(rows)
	rd, cr, section := openCounted(t, b.Marshal(nil))
	var err error
	probe := func(r uint32, maxReads, maxBytes int64) {
		t.Helper()
		got, err := rd.AppendKeyRows(nil, "id", key(r))
		if err != nil || !slices.Contains(got, r) {
			t.Fatalf("row %d: %v, %v", r, got, err)
		}
		reads, n := cr.take()
		t.Logf("probe of row %d: %d reads, %d bytes (section %d bytes)", r, reads, n, section)
		if reads > maxReads || n > maxBytes {
			t.Fatalf("probe of row %d read %d bytes in %d reads; want at most %d in %d", r, n, reads, maxBytes, maxReads)
		}
	}
	probe(123_456, 3, 6<<10) // header, table entry, group
	probe(777_777, 2, 6<<10)
	probe(5, 2, 6<<10)

	// The same sidecar in version 2 reads the whole section on the first probe.
	ob, _ := keyedBuilderOf(oldKeysBuilder(rows))
	old := asVersion2(ob)
	cr = &countingReaderAt{r: bytes.NewReader(old)}
	if rd, err = Open(cr, int64(len(old))); err != nil {
		t.Fatal(err)
	}
	cr.take()
	if got, err := rd.AppendKeyRows(nil, "id", key(123_456)); err != nil || !slices.Contains(got, 123_456) {
		t.Fatalf("version 2: %v, %v", got, err)
	}
	reads, n := cr.take()
	t.Logf("version 2: %d reads, %d bytes", reads, n)
	if n < int64(rows)*5 {
		t.Fatalf("version 2 probe read %d bytes; the section is read whole", n)
	}
}

// A section probed as often as a quarter of its groups (ingest checks every new id against the
// day's segments) is read whole, once; the probes after it read nothing more from the file and
// still find every key.
func TestManyKeyProbesReadTheSectionOnce(t *testing.T) {
	const rows = 1 << 18
	b, key := keyedBuilder(rows)
	rd, cr, section := openCounted(t, b.Marshal(nil))
	for r := uint32(0); r < 5000; r++ {
		row := r * 52 % rows
		if got, err := rd.AppendKeyRows(nil, "id", key(row)); err != nil || !slices.Contains(got, row) {
			t.Fatalf("row %d: %v, %v", row, got, err)
		}
	}
	reads, n := cr.take()
	t.Logf("5000 probes: %d reads, %d bytes (section %d bytes)", reads, n, section)
	if n > 2*section || reads > 2000 {
		t.Fatalf("5000 probes read %d bytes in %d reads; the section is %d bytes and should have been read whole once", n, reads, section)
	}
	for r := uint32(1); r < 1000; r++ {
		if _, err := rd.AppendKeyRows(nil, "id", key(r)); err != nil {
			t.Fatal(err)
		}
	}
	if reads, n := cr.take(); reads != 0 {
		t.Fatalf("probes after the section was read whole read %d more bytes in %d reads", n, reads)
	}
}
