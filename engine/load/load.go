// Package load is the streaming ingest pipeline shared by the CLI, the demo, the benchmark and
// the HTTP ingest endpoint: it frames records from input streams (columnar/input), batches them,
// ingests the batches on several goroutines, and quarantines every bad record with its source,
// line and reason while all good records are stored.
package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authlake/authlake/columnar/input"
	"github.com/authlake/authlake/engine"
)

// Source is one named input stream (a file, stdin, an HTTP body).
type Source struct {
	Name string
	R    io.Reader
}

// Options configure a Load.
type Options struct {
	Tenant    string // see engine.IngestOptions.Tenant
	Threads   int    // ingest goroutines (default GOMAXPROCS)
	BatchSize int    // records per Ingest call (default 4096)
	NoWait    bool   // fail with engine.ErrBackpressure instead of waiting
	// Format overrides what each source's content says it is (input.FormatAuto: recognised).
	Format input.Format
	// Rejects receives each rejected record: its source position and reason, then its bytes
	// verbatim (see RejectWriter). nil discards them (they are still counted).
	Rejects RejectSink
	// Progress, when set, is called from time to time with the records read so far.
	Progress func(records int64)
	// MaxRejectedShare stops a load that is nearly all rejects: once RejectCheckAfter records
	// were rejected and they are at least this share of the records read, Load stops with
	// ErrMostlyRejected (default 0.99; negative never stops). A file of garbage then costs
	// seconds and a small rejects file, not minutes and gigabytes.
	MaxRejectedShare float64
}

// RejectCheckAfter is how many rejects a load tolerates before judging their share.
const RejectCheckAfter = 10_000

// ErrMostlyRejected is returned (wrapped, with the counts) by a load stopped by
// Options.MaxRejectedShare. The records accepted before it are stored.
var ErrMostlyRejected = errors.New("nearly every record was rejected")

// RejectSink stores quarantined records.
type RejectSink interface {
	Reject(source string, line, column int, reason string, raw []byte) error
}

// Summary counts what a Load did.
type Summary struct {
	Records    int64
	Accepted   int64
	Updated    int64 // stored as later versions of sign-ins seen again (engine.IngestResult)
	Duplicates int64
	Rejected   int64
	Bytes      int64 // raw record bytes read
	// Reframed is how many lines framed by their lines the engine did not take whole and the
	// JSON scanner framed again (docs/ingest-formats.md, "Framing NDJSON by lines").
	Reframed int64
	Elapsed  time.Duration
}

// EventsPerSecond is the records handled per second of wall time.
func (s Summary) EventsPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Records) / s.Elapsed.Seconds()
}

type origin struct {
	source       string
	line, column int
	offset       int64
}

// originOf is where rec stands in its input.
func originOf(rec *input.Record) origin { return origin{rec.Source, rec.Line, rec.Column, rec.Offset} }

// lineFraming frames NDJSON records by their lines (input.Options.Lines); tests turn it off to
// compare with framing every record by the JSON scanner.
var lineFraming = true

// Framing by lines is turned off for the rest of a load once at least linesJudged lines were
// framed by their lines and the engine had at least half of those it has seen framed again:
// framing a line twice costs more than scanning it once (an exporter that escapes every
// non-ASCII letter, say, made a load of such lines twice as slow).
const linesJudged = 4096

type batch struct {
	recs      []engine.Record
	origins   []origin
	arenas    []*[]byte // the records' bytes, recycled once the batch is ingested
	unchecked int       // records framed by their lines
}

// arenaBytes is the size of the arenas records are copied into. Arenas are recycled: a
// batch's records are not referenced once its Ingest call returned and its rejects were
// written (the engine copies what it stores), and copying into fresh memory faulted every
// page in (the copy was 9% of a one-thread ingest's CPU, most of it in page faults).
const arenaBytes = 4 << 20

var arenas = sync.Pool{New: func() any { b := make([]byte, 0, arenaBytes); return &b }}

// poisonArenas overwrites recycled arenas (tests), so that a use after recycling shows.
var poisonArenas bool

func (b *batch) recycle() {
	for _, a := range b.arenas {
		if cap(*a) == arenaBytes { // a record larger than an arena got its own
			if poisonArenas {
				clear((*a)[:cap(*a)])
			}
			*a = (*a)[:0]
			arenas.Put(a)
		}
	}
	b.arenas = nil
}

// Load ingests every record of the sources into db. A malformed record never stops the load;
// an I/O error, a corrupt compressed stream or an engine failure does, and is returned.
func Load(ctx context.Context, db *engine.DB, sources []Source, opts Options) (Summary, error) {
	if opts.Threads <= 0 {
		opts.Threads = runtime.GOMAXPROCS(0)
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 4096
	}
	start := time.Now()
	var (
		sum      Summary
		rejMu    sync.Mutex
		errOnce  sync.Once
		firstErr error
		records  atomic.Int64
	)
	fail := func(err error) { errOnce.Do(func() { firstErr = err }) }
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	share := opts.MaxRejectedShare
	if share == 0 {
		share = 0.99
	}
	reject := func(o origin, reason string, raw []byte) {
		n := atomic.AddInt64(&sum.Rejected, 1)
		// The share among records already judged (the reader runs ahead of the ingesters).
		judged := n + atomic.LoadInt64(&sum.Accepted) + atomic.LoadInt64(&sum.Updated) + atomic.LoadInt64(&sum.Duplicates)
		if share > 0 && n >= RejectCheckAfter && float64(n) >= share*float64(judged) {
			fail(fmt.Errorf("%w: %d of the first %d records; this does not look like sign-in data, so the load stopped (the records accepted before are stored)",
				ErrMostlyRejected, n, judged))
			cancel()
		}
		if opts.Rejects == nil {
			return
		}
		rejMu.Lock()
		defer rejMu.Unlock()
		if err := opts.Rejects.Reject(o.source, o.line, o.column, reason, raw); err != nil {
			fail(fmt.Errorf("write rejects: %w", err))
		}
	}
	readerOpts := input.Options{Format: opts.Format, Lines: lineFraming}
	// Lines framed by their lines that the engine has judged, and those of them it had framed
	// again (see linesJudged).
	var judged, reframed atomic.Int64
	// ingest stores recs. A line framed by its line that the engine does not take whole is
	// framed again by the scanner during the call (reframe), and the engine ingests the records
	// that gives in its place; their indexes in the result follow recs'.
	ingest := func(recs []engine.Record, origins []origin) {
		var (
			extra     []engine.Record
			extraOrig []origin
		)
		again := func(i int) ([]engine.Record, error) {
			reframed.Add(1)
			subs, subOrigins, err := reframe(recs[i].Raw, origins[i], readerOpts, &records, &sum.Bytes, reject)
			extra, extraOrig = append(extra, subs...), append(extraOrig, subOrigins...)
			return subs, err
		}
		res, err := db.IngestContext(ctx, recs, engine.IngestOptions{Tenant: opts.Tenant, NoWait: opts.NoWait, Reframe: again})
		if err != nil {
			fail(err)
			cancel()
			return
		}
		atomic.AddInt64(&sum.Accepted, int64(res.Accepted))
		atomic.AddInt64(&sum.Updated, int64(res.Updated))
		atomic.AddInt64(&sum.Duplicates, int64(res.Duplicates))
		for _, r := range res.Rejected {
			if r.Index < len(recs) {
				reject(origins[r.Index], r.Reason, recs[r.Index].Raw)
			} else {
				reject(extraOrig[r.Index-len(recs)], r.Reason, extra[r.Index-len(recs)].Raw)
			}
		}
	}
	batches := make(chan batch, opts.Threads)
	var wg sync.WaitGroup
	for w := 0; w < opts.Threads; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				ingest(b.recs, b.origins)
				judged.Add(int64(b.unchecked))
				b.recycle()
			}
		}()
	}
	readErr := func() error {
		defer close(batches)
		// A batch's tables are made at their size: grown from empty by doubling, they were
		// copied and cleared a dozen times a batch.
		newBatch := func() batch {
			return batch{recs: make([]engine.Record, 0, opts.BatchSize), origins: make([]origin, 0, opts.BatchSize)}
		}
		cur := newBatch()
		var (
			arena        *[]byte
			lastProgress int64
			rd           *input.Reader
		)
		lines := readerOpts.Lines
		send := func() bool {
			if len(cur.recs) == 0 {
				return true
			}
			if n := judged.Load(); lines && n >= linesJudged && 2*reframed.Load() >= n {
				// Half the lines framed by their lines were framed again: scan the rest.
				lines = false
				rd.SetLines(false)
			}
			select {
			case batches <- cur:
			case <-ctx.Done():
				return false
			}
			cur = newBatch()
			arena = nil
			return true
		}
		for _, src := range sources {
			ropts := readerOpts
			ropts.Lines = lines
			var err error
			rd, err = input.NewReaderOptions(src.R, src.Name, ropts)
			if err != nil {
				return fmt.Errorf("%s: %w", src.Name, err)
			}
			for {
				rec, err := rd.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					rd.Close()
					return err
				}
				// Lines framed again add their records from the ingesters: n may step over
				// a multiple of the interval.
				if n := records.Add(1); opts.Progress != nil && n-lastProgress >= 8192 {
					lastProgress = n
					opts.Progress(n)
				}
				atomic.AddInt64(&sum.Bytes, int64(len(rec.Raw)))
				o := originOf(rec)
				if rec.Err != nil {
					reject(o, rec.Err.Error(), rec.Raw)
					continue
				}
				if rec.Unchecked {
					cur.unchecked++
				}
				// Record.Raw is only valid until the next call: copy into the batch's arena.
				if arena == nil || cap(*arena)-len(*arena) < len(rec.Raw) {
					if len(rec.Raw) > arenaBytes {
						b := make([]byte, 0, len(rec.Raw))
						arena = &b
					} else {
						arena = arenas.Get().(*[]byte)
					}
					cur.arenas = append(cur.arenas, arena)
				}
				a := *arena
				off := len(a)
				a = append(a, rec.Raw...)
				*arena = a
				cur.recs = append(cur.recs, engine.Record{Raw: a[off:len(a):len(a)], Category: rec.Category, Unchecked: rec.Unchecked})
				cur.origins = append(cur.origins, o)
				if len(cur.recs) >= opts.BatchSize && !send() {
					rd.Close()
					return ctx.Err()
				}
			}
			if err := rd.Close(); err != nil {
				return err
			}
		}
		send()
		return nil
	}()
	wg.Wait()
	sum.Records = records.Load()
	sum.Elapsed, sum.Reframed = time.Since(start), reframed.Load()
	if opts.Progress != nil {
		opts.Progress(sum.Records)
	}
	if firstErr != nil {
		return sum, firstErr
	}
	if readErr != nil {
		return sum, readErr
	}
	return sum, nil
}

// reframe frames raw, a line framed by its line (input.Record.Unchecked) that the engine did
// not take whole, again with the JSON scanner (input.Reframe), as it stood at o: what is bad
// there is rejected, what is good is returned, copied, with its origin. The records read and
// their bytes are corrected to what the scanner frames (a line may hold several records, or
// one record's "properties").
func reframe(raw []byte, o origin, opts input.Options, records *atomic.Int64, nbytes *int64,
	reject func(origin, string, []byte)) ([]engine.Record, []origin, error) {
	rd, err := input.Reframe(raw, o.source, input.Position{Line: o.line, Column: o.column, Offset: o.offset}, opts)
	if err != nil {
		return nil, nil, err
	}
	defer rd.Close()
	var (
		out     []engine.Record
		outOrig []origin
		n       int
		size    int64
	)
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		n++
		size += int64(len(rec.Raw))
		ro := originOf(rec)
		if rec.Err != nil {
			reject(ro, rec.Err.Error(), rec.Raw)
			continue
		}
		out = append(out, engine.Record{Raw: bytes.Clone(rec.Raw), Category: rec.Category})
		outOrig = append(outOrig, ro)
	}
	records.Add(int64(n - 1))
	atomic.AddInt64(nbytes, size-int64(len(raw)))
	return out, outOrig, nil
}
