package columnar

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"runtime"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/authlake/authlake/internal/fsutil"
	"github.com/authlake/authlake/internal/vfs"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// BlockVisitor sees each column of a segment being written, block by block, in segment row
// order; the engine uses it to build the index sidecar from the same data without a second read.
type BlockVisitor func(col int, blocks []arrow.Array) error

// WriteSegment writes the merged rows to path as a segment file: to a temporary file first,
// fsync'd, then renamed into place (and the directory fsync'd), so a crash never leaves a
// partial segment under the final name. visit, when non-nil, sees each column's blocks.
func WriteSegment(fsys vfs.FS, path string, tenant string, day int32, m *Merged, visit BlockVisitor) (*SegmentMeta, error) {
	meta := &SegmentMeta{Tenant: tenant, Day: day, Rows: m.Rows, BlockRows: m.BlockRows,
		MinTime: m.MinTime, MaxTime: m.MaxTime, Created: time.Now().UnixNano()}
	ncols := m.Schema.NumColumns()
	regions := make([][]byte, ncols)
	metas := make([]ColumnMeta, ncols)

	// Columns are independent: gather and compress them in parallel, then write them in order.
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan int)
	)
	workers := runtime.GOMAXPROCS(0)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for col := range next {
				region, cm, err := encodeColumn(m, col, visit)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				regions[col], metas[col] = region, cm
				mu.Unlock()
			}
		}()
	}
	for col := 0; col < ncols; col++ {
		next <- col
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}

	// Written beside its place and renamed over it once synced (fsutil.AtomicFile): a crash
	// leaves the whole segment or none of it.
	f, err := fsutil.CreateAtomic(fsys, path, 0o644, false)
	if err != nil {
		return nil, err
	}
	var hdr [segHeaderLen]byte
	copy(hdr[:], segMagic)
	hdr[6] = SegmentVersion
	if _, err := f.Write(hdr[:]); err != nil {
		f.Abort()
		return nil, err
	}
	off := uint64(segHeaderLen)
	for col := range regions {
		metas[col].Offset = off
		if _, err := f.Write(regions[col]); err != nil {
			f.Abort()
			return nil, err
		}
		off += uint64(len(regions[col]))
	}
	meta.Columns = metas
	footer := meta.marshal(nil)
	trailer := binary.LittleEndian.AppendUint32(nil, uint32(len(footer)))
	trailer = binary.LittleEndian.AppendUint32(trailer, crc32.Checksum(footer, castagnoli))
	trailer = append(trailer, SegmentVersion)
	trailer = append(trailer, segTrailerMagic...)
	if _, err := f.Write(append(footer, trailer...)); err != nil {
		f.Abort()
		return nil, err
	}
	if err := f.Commit(); err != nil {
		return nil, err
	}
	return meta, nil
}

func encodeColumn(m *Merged, col int, visit BlockVisitor) ([]byte, ColumnMeta, error) {
	name, kind := ExtrasColumn, KindExtras
	if col < len(m.Schema.Columns) {
		name, kind = m.Schema.Columns[col].Name, m.Schema.Columns[col].Kind
	}
	cm := ColumnMeta{Name: name, Kind: kind}
	blocks, err := m.Column(col)
	if err != nil {
		return nil, cm, fmt.Errorf("column %s: %w", name, err)
	}
	defer func() {
		for _, b := range blocks {
			b.Release()
		}
	}()
	if visit != nil {
		if err := visit(col, blocks); err != nil {
			return nil, cm, err
		}
	}
	frames := make([][]byte, 1, len(blocks)+1)
	frames[0] = []byte{}
	if len(blocks) > 0 {
		if d, ok := blocks[0].(*array.Dictionary); ok {
			cm.DictLen = uint64(d.Dictionary().Len())
			if frames[0], err = encodeFrame(name, d.Dictionary(), m.BetterCompression); err != nil {
				return nil, cm, fmt.Errorf("column %s dictionary: %w", name, err)
			}
		}
	}
	for i, b := range blocks {
		cm.Nulls += uint64(b.NullN())
		stored := b
		if d, ok := b.(*array.Dictionary); ok {
			stored = d.Indices() // the dictionary is frame 0
		}
		f, err := encodeFrame(name, stored, m.BetterCompression)
		if err != nil {
			return nil, cm, fmt.Errorf("column %s block %d: %w", name, i, err)
		}
		frames = append(frames, f)
	}
	size := 0
	for _, f := range frames {
		size += len(f)
	}
	region := appendFrameTableV3(make([]byte, 0, size+len(frames)*8+8), frames)
	cm.Table = uint64(len(region))
	cm.CRC = crc32.Checksum(region, castagnoli) // the table's; each frame has its own
	for _, f := range frames {
		region = append(region, f...)
	}
	cm.Length = uint64(len(region))
	return region, cm, nil
}
