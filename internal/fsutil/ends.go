package fsutil

import (
	"fmt"
	"io"
	"sync"
)

// ReadEnds reads the first len(head) bytes of a file of size bytes into head and returns up to
// its last tail bytes (fewer when the file is shorter than head and tail: the bytes after head),
// the two reads side by side. Segment and index files keep a header at the front and their
// footer or directory at the back: read one after the other, a cold file's open waited for
// the disk twice, and a third time for a footer read apart from its trailer.
func ReadEnds(r io.ReaderAt, size int64, head []byte, tail int) ([]byte, error) {
	if size < int64(len(head)) {
		return nil, fmt.Errorf("file of %d bytes is shorter than its %d-byte header", size, len(head))
	}
	n := min(int64(tail), size-int64(len(head)))
	buf := make([]byte, n)
	var headErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		if got, err := r.ReadAt(head, 0); got < len(head) {
			headErr = fmt.Errorf("header: %w", shortRead(err))
		}
	})
	got, err := r.ReadAt(buf, size-n)
	wg.Wait()
	if headErr != nil {
		return nil, headErr
	}
	if got < len(buf) {
		return nil, fmt.Errorf("the %d bytes at offset %d: %w", n, size-n, shortRead(err))
	}
	return buf, nil
}

// shortRead is the error of a ReadAt that returned fewer bytes than asked for (io.EOF, or none,
// then io.ErrUnexpectedEOF).
func shortRead(err error) error {
	if err == nil || err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
