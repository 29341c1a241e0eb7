package main

import (
	"bytes"
	"runtime/metrics"
	"runtime/pprof"
	"time"

	"github.com/authlake/authlake/internal/fsutil"
	"github.com/authlake/authlake/internal/vfs"
)

// peakHeapProfiler keeps, in a file, the heap profile of the moment the live heap was largest:
// a profile written at exit shows what is left, not what took the memory (a merge's peak is
// gone by the time the command ends). Every 50 ms it reads the live heap of the last collection;
// when that exceeds the largest seen by 4 MiB it rewrites the file. For diagnosing, not for
// production: the hidden --heapprofile flag starts it.
type peakHeapProfiler struct {
	path string
	stop chan struct{}
	done chan struct{}
}

func startPeakHeapProfiler(path string) *peakHeapProfiler {
	p := &peakHeapProfiler{path: path, stop: make(chan struct{}), done: make(chan struct{})}
	go p.run()
	return p
}

func (p *peakHeapProfiler) run() {
	defer close(p.done)
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var peak uint64
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		metrics.Read(sample)
		if live := sample[0].Value.Uint64(); live > peak+4<<20 {
			peak = live
			var b bytes.Buffer
			if pprof.Lookup("heap").WriteTo(&b, 0) == nil {
				_ = fsutil.WriteFileAtomic(vfs.Default, p.path, b.Bytes(), 0o644, true) // best effort: a diagnostic
			}
		}
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
	}
}

// Stop ends sampling; the file holds the profile of the largest live heap seen.
func (p *peakHeapProfiler) Stop() {
	close(p.stop)
	<-p.done
}
