package input

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// MaxZstdWindow bounds the zstd window a stream may ask for. The zstd CLI
// uses at most 8 MiB below --long; --long=27 needs 128 MiB. Anything larger
// is refused rather than letting a hostile header allocate gigabytes.
const MaxZstdWindow = 128 << 20

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// Compression names the detected container of a stream.
type Compression string

const (
	None Compression = "none"
	Gzip Compression = "gzip"
	Zstd Compression = "zstd"
)

// decompress sniffs the magic bytes of r and returns the decompressed
// stream, the detected compression and a function releasing the decoder.
func decompress(r io.Reader, source string) (io.Reader, Compression, func() error, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(4)
	if err != nil && err != io.EOF {
		return nil, None, nil, fmt.Errorf("input %s: reading header: %w", source, err)
	}
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, Gzip, nil, fmt.Errorf("input %s: gzip header: %w", source, err)
		}
		return zr, Gzip, zr.Close, nil
	case bytes.HasPrefix(head, zstdMagic):
		// Concurrency 1 decodes synchronously: no goroutines to leak, and
		// framing, not zstd, is the bottleneck here.
		zr, err := zstd.NewReader(br,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(MaxZstdWindow))
		if err != nil {
			return nil, Zstd, nil, fmt.Errorf("input %s: zstd header: %w", source, err)
		}
		return zr, Zstd, func() error { zr.Close(); return nil }, nil
	}
	return br, None, func() error { return nil }, nil
}
