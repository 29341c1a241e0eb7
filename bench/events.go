package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/authlake/authlake/bench/gen"
)

// EnsureEvents returns the path of the NDJSON file for (events, seed) under cacheDir, generating
// it once. The generator is deterministic, so a cached file is exactly what a fresh run would
// write.
func EnsureEvents(cacheDir string, events int, seed uint64, logf func(string, ...any)) (string, int64, error) {
	if cacheDir == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			return "", 0, err
		}
		cacheDir = filepath.Join(d, "authlake", "bench")
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", 0, err
	}
	path := filepath.Join(cacheDir, fmt.Sprintf("signins-seed%d-n%d.ndjson", seed, events))
	if st, err := os.Stat(path); err == nil {
		return path, st.Size(), nil
	}
	start := time.Now()
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return "", 0, err
	}
	n, size, err := gen.Write(f, gen.Config{Events: events, Seed: seed})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return "", 0, err
	}
	logf("generated %d events (%.2f GB, %.0f B/event) in %s → %s", n, float64(size)/1e9, float64(size)/float64(max(n, 1)), time.Since(start).Round(time.Second), path)
	return path, size, nil
}
