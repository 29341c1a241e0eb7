// Package lake publishes a tenant's sign-ins as Parquet in a Hive-partitioned tree, for
// distributed engines (Spark, Trino, ClickHouse, DuckDB over object storage) to take over where
// one node ends:
//
//	DIR/tenant=T/date=YYYY-MM-DD/part-00000.parquet
//	DIR/_authlake_manifest.json
//
// Each file is a whole UTC day of the tenant's sign-ins (each in its newest version, as every
// read sees them), zstd-compressed. A day's file is written beside its place and renamed into
// it, and the manifest, replaced last, lists the days published: a reader that follows the
// manifest sees whole days only. See docs/lake.md.
package lake

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/internal/fsutil"
)

// ManifestName is the manifest's file name in the tree.
const ManifestName = "_authlake_manifest.json"

// Options configure an Export.
type Options struct {
	NoSync bool // skip fsyncs (tests)
}

// Day is one published day.
type Day struct {
	Tenant string `json:"tenant"`
	Date   string `json:"date"` // YYYY-MM-DD
	File   string `json:"file"` // relative to the tree
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
}

// Manifest lists the published days; it is the tree's one truth of what is complete.
type Manifest struct {
	Version int   `json:"version"`
	Days    []Day `json:"days"`
}

// Export writes every day of tenant's snapshot into the tree at dir, replacing the days it
// publishes, and returns them.
func Export(db *engine.DB, tenant, dir string, opts Options) ([]Day, error) {
	snap, err := db.Snapshot(tenant)
	if err != nil {
		return nil, err
	}
	defer snap.Release()
	var days []Day
	for _, d := range snap.Days {
		date := time.Unix(int64(d.Day)*86400, 0).UTC().Format("2006-01-02")
		rel := filepath.Join("tenant="+tenant, "date="+date, "part-00000.parquet")
		rows, size, err := writeDay(d, filepath.Join(dir, rel), opts)
		if err != nil {
			return days, fmt.Errorf("tenant %s, %s: %w", tenant, date, err)
		}
		if rows > 0 {
			days = append(days, Day{Tenant: tenant, Date: date, File: filepath.ToSlash(rel), Rows: rows, Bytes: size})
		}
	}
	return days, publish(dir, tenant, days, opts)
}

// writeDay writes one day's visible rows to path, atomically.
func writeDay(d engine.DayView, path string, opts Options) (rows, size int64, err error) {
	if err := fsutil.MkdirAllDurable(filepath.Dir(path), 0o755); err != nil {
		return 0, 0, err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return 0, 0, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithCompressionLevel(3),
		parquet.WithDictionaryDefault(true), parquet.WithMaxRowGroupLength(1<<20))
	fw, err := pqarrow.NewFileWriter(Schema, f, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return 0, 0, err
	}
	mem := memory.DefaultAllocator
	write := func(flat arrow.RecordBatch) error {
		rec, err := convert(mem, flat)
		if err != nil {
			return err
		}
		defer rec.Release()
		rows += rec.NumRows()
		return fw.WriteBuffered(rec)
	}
	s := columnar.SignIns
	for _, sv := range d.Segments {
		br := sv.Seg.Meta.BlockRows
		for b := 0; b < sv.Seg.NumBlocks(); b++ {
			flat, err := blockRecord(mem, sv.Seg, b)
			if err != nil {
				fw.Close()
				return 0, 0, err
			}
			if sv.Hidden != nil && !sv.Hidden.IsEmpty() {
				var keep []int
				for r := 0; r < int(flat.NumRows()); r++ {
					if !sv.Hidden.Contains(uint32(b*br + r)) {
						keep = append(keep, r)
					}
				}
				t := columnar.Take(s, flat, keep)
				flat.Release()
				flat = t
			}
			err = write(flat)
			flat.Release()
			if err != nil {
				fw.Close()
				return 0, 0, err
			}
		}
	}
	for _, c := range d.Mem {
		if err := write(c); err != nil {
			fw.Close()
			return 0, 0, err
		}
	}
	if err := fw.Close(); err != nil { // closes f too
		return 0, 0, err
	}
	if !opts.NoSync {
		g, err := os.Open(tmp)
		if err == nil {
			err = g.Sync()
			g.Close()
		}
		if err != nil {
			return 0, 0, err
		}
	}
	st, err := os.Stat(tmp)
	if err != nil {
		return 0, 0, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, 0, err
	}
	if !opts.NoSync {
		if err := fsutil.SyncDir(filepath.Dir(path)); err != nil {
			return 0, 0, err
		}
	}
	return rows, st.Size(), nil
}

// blockRecord is block b of a segment as a record of every column (absent ones null).
func blockRecord(mem memory.Allocator, seg *columnar.Segment, b int) (arrow.RecordBatch, error) {
	s := columnar.SignIns
	n := seg.BlockLen(b)
	cols := make([]arrow.Array, s.NumColumns())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i := range cols {
		a, err := seg.Block(i, b)
		if err != nil {
			return nil, err
		}
		if a == nil {
			a = array.MakeArrayOfNull(mem, s.Arrow().Field(i).Type, n)
		}
		cols[i] = a
	}
	return array.NewRecordBatch(s.Arrow(), cols, int64(n)), nil
}

// publish replaces tenant's days in the manifest with days, atomically, after their files.
func publish(dir, tenant string, days []Day, opts Options) error {
	path := filepath.Join(dir, ManifestName)
	var m Manifest
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("%s: %w (delete it to start the tree's manifest over)", path, err)
		}
	} else if !os.IsNotExist(err) {
		return err
	}
	published := map[string]bool{}
	for _, d := range days {
		published[d.Date] = true
	}
	kept := m.Days[:0]
	for _, d := range m.Days {
		if d.Tenant != tenant || !published[d.Date] {
			kept = append(kept, d)
		}
	}
	m.Version, m.Days = 1, append(kept, days...)
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(path, append(b, '\n'), 0o644, nil, opts.NoSync)
}
