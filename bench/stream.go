package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/load"
)

// StreamConfig is a streaming run: generated events go straight into one database through the
// same NDJSON ingest path a file takes, with no input file, as a log pipeline feeds the
// engine. It is how a billion events are measured on a disk that cannot also hold their
// 5.5 TB of NDJSON.
type StreamConfig struct {
	Events int64
	Seed   uint64
	// Days and Users shape the generated population (gen.Config; 0: its defaults): 10M events
	// over 3 days from 200,000 users make days and dictionaries as large as 100M over 30.
	Days, Users int
	Threads     int    // ingest goroutines (default: GOMAXPROCS)
	WorkDir     string // the database is created in WorkDir/authlake (removed first)
	MemoryLimit int64  // the database's budget (0: engine.DefaultMemoryLimit)
	// BlockRows is the segments' block size (0: columnar.DefaultBlockRows), a knob for
	// measuring what the block size trades (a page of one user's rows against scans and bytes).
	BlockRows int
	// Interval is the time between timeline samples (default 10 s).
	Interval time.Duration
	// Queries runs the query suite (cold and warm, Runs warm runs) on the database at the end.
	Queries bool
	Runs    int
	// GenCommand, when set, runs the generator as this command, whose standard output is the
	// NDJSON (authlake gen ... -o -), as a pipeline would feed the engine: its memory is then
	// its own (a 100M-event population is half a gigabyte of Go heap, which in this process
	// counted against the engine's budget and its collector). Unset, the generator runs in this
	// process (tests). Either way it takes its share of the CPU.
	GenCommand []string
	Log        io.Writer
}

// StreamResults is what a streaming run measured; written as JSON by the CLI.
type StreamResults struct {
	Date      time.Time `json:"date"`
	Revision  string    `json:"revision"`
	Machine   string    `json:"machine"`
	GoVersion string    `json:"go"`
	Events    int64     `json:"events"` // asked for
	// Ingested is what the database holds at the end: Events, or fewer when the run was stopped.
	Ingested int64  `json:"ingested"`
	Seed     uint64 `json:"seed"`
	// Days and Users are the generator's span and population as asked (0: its defaults).
	Days        int   `json:"days,omitempty"`
	Users       int   `json:"users,omitempty"`
	Threads     int   `json:"threads"`
	MemoryLimit int64 `json:"memoryLimit"`
	BlockRows   int   `json:"blockRows"`
	// RawBytes is the NDJSON the generator wrote into the ingest.
	RawBytes int64 `json:"rawBytes"`
	// Seconds covers generation, ingest, the last flush and the final whole-day merge
	// (CompactSeconds of it). The generator runs in this process and takes its share of the
	// CPU (GenerateNote).
	Seconds        float64        `json:"seconds"`
	CompactSeconds float64        `json:"compactSeconds"`
	EventsPerSec   float64        `json:"eventsPerSecond"`
	GenerateNote   string         `json:"generateNote"`
	Timeline       []StreamSample `json:"timeline"`
	DiskBytes      int64          `json:"diskBytes"`
	IndexBytes     int64          `json:"indexBytes"`
	BytesPerEvt    float64        `json:"bytesPerEvent"`
	// PeakRSS is this process's high-water mark over the whole run: the engine's, and the
	// generator's too when it ran in process (GeneratorProcess false).
	PeakRSS int64 `json:"peakRSSBytes"`
	// GeneratorProcess says the generator ran as its own process, whose peak RSS is
	// GeneratorPeakRSS.
	GeneratorProcess bool        `json:"generatorProcess"`
	GeneratorPeakRSS int64       `json:"generatorPeakRSSBytes,omitempty"`
	Params           *Params     `json:"params,omitempty"`
	Queries          []QueryStat `json:"queries,omitempty"`
	// Failed is why the run stopped before its end ("" when it did not): its figures are then
	// those of the part that ran.
	Failed string `json:"failed,omitempty"`
}

// StreamSample is the state of a streaming run at one moment.
type StreamSample struct {
	Seconds       float64 `json:"seconds"`
	Events        int64   `json:"events"`          // records ingested so far
	EventsPerSec  float64 `json:"eventsPerSecond"` // since the previous sample
	RSSBytes      int64   `json:"rssBytes"`
	MemtableBytes int64   `json:"memtableBytes"`
	Segments      int     `json:"segments"`
	DiskBytes     int64   `json:"diskBytes"` // segments and indexes
}

const generateNote = "events are generated on the same machine while they are ingested (about a fifth of " +
	"the CPU ingest takes) and parsed from NDJSON as a file's would be"

// Stream runs a streaming measurement. A cancelled context or a failure (a flush, a merge, the
// query suite) stops it with the figures so far (the timeline and what is on disk), the error
// in them too (Failed), and the error.
func Stream(ctx context.Context, cfg StreamConfig) (res *StreamResults, err error) {
	if cfg.Threads <= 0 {
		cfg.Threads = runtime.GOMAXPROCS(0)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Second
	}
	if cfg.Runs <= 0 {
		cfg.Runs = 10
	}
	if cfg.Events <= 0 {
		return nil, fmt.Errorf("stream: %d events", cfg.Events)
	}
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format+"\n", args...)
		}
	}
	defer func() {
		if res != nil && err != nil {
			res.Failed = err.Error()
		}
	}()
	res = &StreamResults{Date: time.Now().UTC(), Revision: Revision(), Machine: machine(), GoVersion: runtime.Version(),
		Events: cfg.Events, Seed: cfg.Seed, Days: cfg.Days, Users: cfg.Users, Threads: cfg.Threads, MemoryLimit: cfg.MemoryLimit, BlockRows: cfg.BlockRows, GenerateNote: generateNote}
	if res.BlockRows <= 0 {
		res.BlockRows = columnar.DefaultBlockRows
	}
	if res.MemoryLimit <= 0 {
		res.MemoryLimit = engine.DefaultMemoryLimit
	}
	dir := streamDir(cfg.WorkDir)
	if err := engine.Remove(dir); err != nil {
		return nil, err
	}
	start := time.Now()
	db, err := engine.Open(dir, engine.Options{Retention: -1, MemoryLimit: cfg.MemoryLimit, BlockRows: cfg.BlockRows})
	if err != nil {
		return nil, err
	}
	// The sampler reads the database while the load runs, and takes the last sample itself.
	var (
		samplerDone = make(chan struct{})
		stopSampler = make(chan struct{})
		mu          sync.Mutex
	)
	sample := func() {
		st := db.Stats()
		s := StreamSample{Seconds: time.Since(start).Seconds(), Events: st.Events, RSSBytes: currentRSS(),
			MemtableBytes: st.MemtableBytes, Segments: st.Segments, DiskBytes: st.SegmentBytes + st.IndexBytes}
		mu.Lock()
		defer mu.Unlock()
		if n := len(res.Timeline); n > 0 {
			prev := res.Timeline[n-1]
			if dt := s.Seconds - prev.Seconds; dt > 0 {
				s.EventsPerSec = float64(s.Events-prev.Events) / dt
			}
		} else if s.Seconds > 0 {
			s.EventsPerSec = float64(s.Events) / s.Seconds
		}
		res.Timeline = append(res.Timeline, s)
		logf("%7.0f s  %12d events  %8.0f events/s  RSS %6.0f MB  memtable %5.0f MB  %4d segments  %.1f B/event",
			s.Seconds, s.Events, s.EventsPerSec, float64(s.RSSBytes)/1e6, float64(s.MemtableBytes)/1e6, s.Segments,
			float64(s.DiskBytes)/float64(max(s.Events, 1)))
	}
	go func() {
		defer close(samplerDone)
		t := time.NewTicker(cfg.Interval)
		defer t.Stop()
		for {
			select {
			case <-stopSampler:
				return
			case <-t.C:
				sample()
			}
		}
	}()

	src, err := startGenerator(ctx, cfg, res, &mu)
	if err != nil {
		close(stopSampler)
		<-samplerDone
		db.Close()
		return nil, err
	}
	sum, err := load.Load(ctx, db, []load.Source{{Name: "generator", R: src.r}}, load.Options{Threads: cfg.Threads, Tenant: gen.DefaultTenant})
	err = errors.Join(err, src.wait())
	if err == nil && sum.Rejected > 0 {
		err = fmt.Errorf("the generated stream had %d rejected records", sum.Rejected)
	}
	if err == nil {
		err = db.Flush()
	}
	merge := time.Now()
	if err == nil {
		err = db.CompactAllContext(ctx)
	}
	res.CompactSeconds = time.Since(merge).Seconds()
	res.Seconds = time.Since(start).Seconds()
	close(stopSampler)
	<-samplerDone
	sample()
	st := db.Stats()
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	res.Ingested = st.Events
	res.EventsPerSec = float64(st.Events) / res.Seconds
	res.DiskBytes, res.IndexBytes = st.SegmentBytes+st.IndexBytes, st.IndexBytes
	res.BytesPerEvt = float64(res.DiskBytes) / float64(max(st.Events, 1))
	res.PeakRSS = peakRSS()
	if err != nil {
		return res, err
	}
	if st.Events != cfg.Events {
		return res, fmt.Errorf("stream: %d events generated, %d stored", cfg.Events, st.Events)
	}
	logf("streamed %d events in %.1f s (final merge %.1f s): %.0f events/s, %.1f B/event, peak RSS %.0f MB",
		st.Events, res.Seconds, res.CompactSeconds, res.EventsPerSec, res.BytesPerEvt, float64(res.PeakRSS)/1e6)
	if cfg.Queries {
		p, err := pickParams(ctx, dir, cfg.MemoryLimit)
		if err != nil {
			return res, err
		}
		res.Params = &p
		if res.Queries, err = runSuite(ctx, dir, p, cfg.Runs, cfg.MemoryLimit, logf); err != nil {
			return res, err
		}
		res.PeakRSS = peakRSS()
	}
	return res, nil
}

// generatorSource is the generator's NDJSON and how to wait for it to end.
type generatorSource struct {
	r    io.Reader
	wait func() error // after the load: stops the generator if the load stopped early
}

// startGenerator starts the generator, in this process or as cfg.GenCommand.
func startGenerator(ctx context.Context, cfg StreamConfig, res *StreamResults, mu *sync.Mutex) (*generatorSource, error) {
	if len(cfg.GenCommand) > 0 {
		res.GeneratorProcess = true
		cmd := exec.CommandContext(ctx, cfg.GenCommand[0], cfg.GenCommand[1:]...)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("generator: %w", err)
		}
		counted := &countingReader{r: out}
		return &generatorSource{r: counted, wait: func() error {
			out.Close() // a load that stopped early leaves the generator blocked on a full pipe
			err := cmd.Wait()
			mu.Lock()
			res.RawBytes = counted.n
			res.GeneratorPeakRSS = childPeakRSS(cmd.ProcessState)
			mu.Unlock()
			if err != nil && ctx.Err() == nil {
				return fmt.Errorf("generator: %w", err)
			}
			return nil
		}}, nil
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, n, err := gen.Write(pw, gen.Config{Events: int(cfg.Events), Seed: cfg.Seed, End: gen.BenchEnd, Days: cfg.Days, Users: cfg.Users})
		mu.Lock()
		res.RawBytes = n
		mu.Unlock()
		pw.CloseWithError(err) // nil: the reader sees EOF
		done <- err
	}()
	return &generatorSource{r: pr, wait: func() error {
		pr.CloseWithError(errors.New("ingest stopped")) // unblocks the generator if the load stopped early
		err := <-done
		if ctx.Err() != nil {
			return nil // the load reports the cancellation
		}
		return err
	}}, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// streamDir is where a streaming run keeps its database.
func streamDir(work string) string { return filepath.Join(work, "authlake") }

// WriteTable prints a streaming run's summary.
func (r *StreamResults) WriteTable(w io.Writer) {
	if r.Failed != "" {
		fmt.Fprintln(w, FailedLine(r.Failed))
	}
	stopped := ""
	if r.Ingested != r.Events {
		stopped = fmt.Sprintf(" (stopped early: %d were asked for)", r.Events)
	}
	fmt.Fprintf(w, "streamed %d events%s (%.1f GB of NDJSON) into one database, %d threads, budget %d MiB, %d-row blocks, revision %s\n",
		r.Ingested, stopped, float64(r.RawBytes)/1e9, r.Threads, r.MemoryLimit>>20, r.BlockRows, r.Revision)
	fmt.Fprintf(w, "  %.1f s (final merge %.1f s): %.0f events/s; %.1f B/event on disk (indexes %.1f); peak RSS %.0f MB\n",
		r.Seconds, r.CompactSeconds, r.EventsPerSec, r.BytesPerEvt, float64(r.IndexBytes)/float64(max(r.Ingested, 1)), float64(r.PeakRSS)/1e6)
	for _, q := range r.Queries {
		fmt.Fprintf(w, "  %-12s %10d  cold %9.2f ms  warm %9.3f ms\n", q.ID, q.Count, q.ColdMs, q.WarmMs)
	}
}
