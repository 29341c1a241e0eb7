package bench

import (
	"os"

	"golang.org/x/sys/unix"
)

// ColdMethod says what "cold" means in the results, for both engines alike.
const ColdMethod = "median of 3 runs, each the first query on a freshly opened database whose files were dropped from the OS page cache " +
	"(fsync, then posix_fadvise POSIX_FADV_DONTNEED on every file) just before the open; " +
	"each engine's query suite starts after sync(2)"

// settleWrites writes the whole system's dirty pages (sync(2)) before an engine's query suite.
// The kernel writes back what a load left for tens of seconds after it returns, and the suite
// that ran first (authlake's, right after DuckDB's load) ran beside it: its warm runs were 2-4x
// slower than in a fresh process (Q9 3.3 vs 1.2 ms, Q10 21 vs 7 ms at 1M), and a 30 s pause or
// a sync(2) before the suite took the difference away (200K events, 2026-12-05).
func settleWrites() { unix.Sync() }

// fadviseDontNeed drops the file's clean pages from the page cache (offset 0, length 0: all).
func fadviseDontNeed(f *os.File) error {
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}
