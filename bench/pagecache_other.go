//go:build !linux

package bench

import "os"

// ColdMethod says what "cold" means in the results, for both engines alike: off Linux the
// benchmark does not drop pages from the OS page cache.
const ColdMethod = "median of 3 runs, each the first query on a freshly opened database (the OS page cache is not dropped on this system)"

func fadviseDontNeed(*os.File) error { return nil }

// settleWrites would write the system's dirty pages before a query suite (pagecache_linux.go).
func settleWrites() {}
