package columnar

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/authlake/authlake/internal/vfs"
)

// Every buffer a segment read allocates is released once the blocks and the segment are.
func TestSegmentReadReleasesMemory(t *testing.T) {
	path, _ := writeTestSegment(t, t.TempDir(), testEvents(t, 300, 11), 64)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	seg, err := OpenSegmentAlloc(vfs.Default, path, SignIns, nil, mem)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := exportSegment(t, seg)
	if err != nil || len(rows) != 300 {
		t.Fatalf("read %d rows: %v", len(rows), err)
	}
	if mem.CurrentAlloc() == 0 {
		t.Fatal("the checked allocator saw no allocation: the test checks nothing")
	}
	seg.Close()
	mem.AssertSize(t, 0)
}
