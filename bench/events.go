package bench

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/authlake/authlake/bench/gen"
)

// EnsureEvents returns the path of the NDJSON file for (events, seed) under cacheDir, generating
// it once. The generator is deterministic, so a cached file is exactly what a fresh run would
// write.
//
// With zstdInput the file is kept zstd-compressed (about a tenth of the size; both engines read it
// directly), so runs of 10M events and more fit on a small disk. The returned size is always the
// uncompressed NDJSON size.
func EnsureEvents(cacheDir string, events int, seed uint64, zstdInput bool, logf func(string, ...any)) (string, int64, error) {
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
	if zstdInput {
		path += ".zst"
	}
	sizeFile := path + ".size"
	if st, err := os.Stat(path); err == nil {
		if !zstdInput {
			return path, st.Size(), nil
		}
		if b, err := os.ReadFile(sizeFile); err == nil {
			var size int64
			if _, err := fmt.Sscan(string(b), &size); err == nil {
				return path, size, nil
			}
		}
	}
	start := time.Now()
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return "", 0, err
	}
	var w io.Writer = f
	var zw *zstd.Encoder
	if zstdInput {
		if zw, err = zstd.NewWriter(f, zstd.WithEncoderLevel(zstd.SpeedFastest)); err != nil {
			f.Close()
			return "", 0, err
		}
		w = zw
	}
	n, size, err := gen.Write(w, gen.Config{Events: events, Seed: seed, End: gen.BenchEnd})
	if zw != nil {
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && zstdInput {
		err = os.WriteFile(sizeFile, []byte(fmt.Sprint(size)), 0o644)
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
