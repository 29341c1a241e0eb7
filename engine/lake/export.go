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
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/engine"
)

// ManifestName is the manifest's file name in the tree.
const ManifestName = "_authlake_manifest.json"

// Options configure a Publish.
type Options struct {
	NoSync bool // skip fsyncs of a directory tree (tests)
	// Tenants restricts publishing to these tenants (nil: every tenant of the database).
	Tenants []string
	// SealAfter publishes only sealed days: days that ended at least this long before the
	// database's clock (late events keep arriving for a while; Entra's own latency is up to a
	// few hours). Zero publishes every day, today's too, complete as of the snapshot.
	SealAfter time.Duration
	// Force writes every day again, changed or not.
	Force bool
}

// Day is one published day.
type Day struct {
	Tenant string `json:"tenant"`
	Date   string `json:"date"` // YYYY-MM-DD
	File   string `json:"file"` // relative to the tree
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	// Source identifies the database state the file was made from (its segments, the rows
	// they hide and the unflushed rows): a publisher rewrites a day only when it changed.
	Source string `json:"source,omitempty"`
	// Unfit counts JSON values written null because they did not fit their Parquet type
	// (distinct values, for a column of repeated ones); 0 for Graph-shaped data.
	Unfit int64 `json:"unfit,omitempty"`
}

// Manifest lists the published days; it is the tree's one truth of what is complete.
type Manifest struct {
	Version int   `json:"version"`
	Days    []Day `json:"days"`
}

// Report says what one Publish did.
type Report struct {
	Written   []Day // days written in this pass
	Unchanged int   // sealed days already published as they are
	Open      int   // days not sealed yet, left for a later pass
}

// Rows and Bytes total the days written.
func (r Report) Rows() (rows, bytes int64) {
	for _, d := range r.Written {
		rows, bytes = rows+d.Rows, bytes+d.Bytes
	}
	return rows, bytes
}

// Unfit totals the values of the days written that did not fit their type (see Day.Unfit).
func (r Report) Unfit() (n int64) {
	for _, d := range r.Written {
		n += d.Unfit
	}
	return n
}

// Export writes every day of tenant's snapshot into the directory or bucket dest (see OpenTree)
// and returns the days written: a day already published from the same database state is not
// written again.
func Export(db *engine.DB, tenant, dest string, opts Options) ([]Day, error) {
	ctx := context.Background()
	tree, err := OpenTree(ctx, dest, opts)
	if err != nil {
		return nil, err
	}
	defer tree.Close()
	opts.Tenants = []string{tenant}
	rep, err := Publish(ctx, db, tree, opts)
	return rep.Written, err
}

// Publish writes into tree each day of the database's tenants (opts.Tenants) that is sealed and
// changed since the tree's manifest recorded it, each tenant's days before the manifest that
// names them. One publisher per tree: two writing the same manifest would lose each other's days.
func Publish(ctx context.Context, db *engine.DB, tree Tree, opts Options) (Report, error) {
	var rep Report
	m, err := readManifest(ctx, tree)
	if err != nil {
		return rep, err
	}
	published := map[[2]string]string{}
	for _, d := range m.Days {
		published[[2]string{d.Tenant, d.Date}] = d.Source
	}
	tenants := opts.Tenants
	if tenants == nil {
		tenants = db.Tenants()
	}
	now := db.Now()
	for _, tenant := range tenants {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		snap, err := db.Snapshot(tenant)
		if err != nil {
			return rep, err
		}
		var todo []dayJob
		for _, d := range snap.Days {
			start := time.Unix(int64(d.Day)*86400, 0).UTC()
			if opts.SealAfter > 0 && now.Before(start.Add(24*time.Hour+opts.SealAfter)) {
				rep.Open++
				continue
			}
			date := start.Format("2006-01-02")
			src := sourceOf(d)
			if old, ok := published[[2]string{tenant, date}]; ok && old == src && !opts.Force {
				rep.Unchanged++
				continue
			}
			todo = append(todo, dayJob{view: d, day: Day{Tenant: tenant, Date: date, File: "tenant=" + tenant + "/date=" + date + "/part-00000.parquet", Source: src}})
		}
		days, err := writeDays(ctx, tree, todo)
		if err != nil {
			snap.Release()
			return rep, err
		}
		snap.Release()
		if len(days) == 0 {
			continue
		}
		m.update(tenant, days)
		if err := writeManifest(ctx, tree, m); err != nil {
			return rep, err
		}
		rep.Written = append(rep.Written, days...)
	}
	return rep, nil
}

// dayJob is a day to write: its rows and its manifest entry (Rows and Bytes to fill).
type dayJob struct {
	view engine.DayView
	day  Day
}

// writeDays writes the days, as many at once as there are cores (each file is compressed by one
// goroutine), and returns those that hold rows, in order. The first error stops the rest.
func writeDays(ctx context.Context, tree Tree, jobs []dayJob) ([]Day, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Go(func() {
			for i := range next {
				j := &jobs[i]
				errs[i] = writeDay(ctx, j.view, tree, &j.day)
				if errs[i] != nil {
					errs[i] = fmt.Errorf("tenant %s, %s: %w", j.day.Tenant, j.day.Date, errs[i])
					cancel()
				}
			}
		})
	}
feed:
	for i := range jobs {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	for _, err := range errs { // the first cause, not the cancellations it caused
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, err
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var days []Day
	for _, j := range jobs {
		if j.day.Rows > 0 {
			days = append(days, j.day)
		}
	}
	return days, nil
}

// sourceOf fingerprints what a day's file is made of. Segments are immutable and their ids never
// reused; rows are only ever added to a day or hidden (a newer version, a delete), so the
// segment ids, each one's hidden count and the unflushed row count change whenever what a
// reader sees of the day changes.
func sourceOf(d engine.DayView) string {
	h := sha256.New()
	for _, sv := range d.Segments {
		var hidden uint64
		if sv.Hidden != nil {
			hidden = sv.Hidden.GetCardinality()
		}
		fmt.Fprintf(h, "s%d-%d;", sv.ID, hidden)
	}
	var mem int64
	for _, c := range d.Mem {
		mem += c.NumRows()
	}
	fmt.Fprintf(h, "m%d", mem)
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// countingWriter counts what a day's file holds (a bucket cannot be asked cheaply).
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeDay writes one day's visible rows to its file in tree, whole or not at all, and fills
// in its Rows, Bytes and Unfit.
func writeDay(ctx context.Context, d engine.DayView, tree Tree, day *Day) error {
	f, err := tree.Create(ctx, day.File)
	if err != nil {
		return err
	}
	cw := &countingWriter{w: f}
	rows, err := writeParquet(d, cw, &day.Unfit)
	if err != nil {
		f.Abort()
		return err
	}
	if err := f.Commit(); err != nil {
		return err
	}
	day.Rows, day.Bytes = rows, cw.n
	return nil
}

// writerProps: zstd, dictionary encoding but for the columns whose values are unique per sign-in
// (a dictionary of a million distinct ids is only work: the writer would build it, find it too
// big and fall back to plain pages).
var writerProps = func() *parquet.WriterProperties {
	props := []parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Zstd), parquet.WithCompressionLevel(compressionLevel),
		parquet.WithDictionaryDefault(true), parquet.WithMaxRowGroupLength(1 << 20)}
	for _, c := range uniqueColumns {
		props = append(props, parquet.WithDictionaryFor(c, false))
	}
	return parquet.NewWriterProperties(props...)
}()

// compressionLevel is zstd's level for the Parquet pages.
const compressionLevel = 1

// uniqueColumns are the Parquet column paths that hold one value per sign-in.
var uniqueColumns = []string{"id", "correlationId", "originalRequestId", "uniqueTokenIdentifier"}

// writeParquet writes the day's visible rows as one Parquet file to w.
func writeParquet(d engine.DayView, w io.Writer, unfit *int64) (rows int64, err error) {
	fw, err := pqarrow.NewFileWriter(Schema, w, writerProps, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			fw.Close()
		}
	}()
	mem := memory.DefaultAllocator
	write := func(flat arrow.RecordBatch) error {
		rec, err := convert(mem, flat, unfit)
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
				return 0, err
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
				return 0, err
			}
		}
	}
	for _, c := range d.Mem {
		if err := write(c); err != nil {
			return 0, err
		}
	}
	return rows, fw.Close() // closes w only if it is an io.Closer: countingWriter is not
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

// readManifest reads the tree's manifest; a tree without one has published nothing.
func readManifest(ctx context.Context, tree Tree) (*Manifest, error) {
	m := &Manifest{Version: 1}
	b, err := tree.ReadFile(ctx, ManifestName)
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("%s in %s: %w (delete it to publish every day again)", ManifestName, tree, err)
	}
	if m.Version != 1 {
		return nil, fmt.Errorf("%s in %s: version %d, this authlake writes version 1", ManifestName, tree, m.Version)
	}
	return m, nil
}

// update replaces tenant's entries for the dates of days with days.
func (m *Manifest) update(tenant string, days []Day) {
	dates := map[string]bool{}
	for _, d := range days {
		dates[d.Date] = true
	}
	m.Days = slices.DeleteFunc(m.Days, func(d Day) bool { return d.Tenant == tenant && dates[d.Date] })
	m.Days = append(m.Days, days...)
	slices.SortFunc(m.Days, func(a, b Day) int {
		return cmp.Or(strings.Compare(a.Tenant, b.Tenant), strings.Compare(a.Date, b.Date))
	})
}

// writeManifest replaces the manifest, whole (after the files it names).
func writeManifest(ctx context.Context, tree Tree, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	f, err := tree.Create(ctx, ManifestName)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}
