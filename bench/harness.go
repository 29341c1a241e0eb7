package bench

import "context"

// IngestFile is the benchmark's file ingest, for harnesses outside this package (bench/httpload):
// the NDJSON file (size bytes uncompressed) into a fresh database in dir with threads
// goroutines and a memory budget (0: the engine's default), flushed, timed until the events sit
// in durable, indexed segments.
func IngestFile(ctx context.Context, input, dir string, threads int, size, memoryLimit int64) (IngestStat, error) {
	return ingest(ctx, input, dir, threads, size, memoryLimit)
}

// Machine describes the CPU, its core count and the platform, as results record it.
func Machine() string { return machine() }

// PeakRSS is this process's peak resident set size in bytes (0 where unknown).
func PeakRSS() int64 { return peakRSS() }
