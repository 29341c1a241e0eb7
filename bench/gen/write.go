package gen

import (
	"bufio"
	"io"
)

// Write generates cfg.Events events into w as NDJSON, buffered, and returns
// the number of events and bytes written.
func Write(w io.Writer, cfg Config) (events int64, bytes int64, err error) {
	g := New(cfg)
	bw := bufio.NewWriterSize(w, 1<<20)
	buf := make([]byte, 0, 512<<10)
	for {
		var ok bool
		buf, ok = g.Next(buf)
		if ok {
			events++
		}
		if len(buf) >= 448<<10 || !ok {
			n, werr := bw.Write(buf)
			bytes += int64(n)
			if werr != nil {
				return events, bytes, werr
			}
			buf = buf[:0]
		}
		if !ok {
			break
		}
	}
	if err := bw.Flush(); err != nil {
		return events, bytes, err
	}
	return events, bytes, nil
}
