package columnar

import (
	"bytes"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// The version-2 and -3 frame writer, kept for tests: segments of those versions are still read.

// ipcBufs hold the IPC stream of a frame being encoded, reused: a fresh bytes.Buffer grew by
// doubling, clearing each new array, up to a wide column's whole block (a tenth of ingest's CPU).
var ipcBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// encodeFrameIPC writes arr as a one-column IPC stream and zstd-compresses it.
func encodeFrameIPC(name string, arr arrow.Array, better bool) ([]byte, error) {
	schema := arrow.NewSchema([]arrow.Field{{Name: name, Type: arr.DataType(), Nullable: true}}, nil)
	buf := ipcBufs.Get().(*bytes.Buffer)
	defer ipcBufs.Put(buf)
	buf.Reset()
	w := ipc.NewWriter(buf, ipc.WithSchema(schema))
	rec := array.NewRecordBatch(schema, []arrow.Array{arr}, int64(arr.Len()))
	err := w.Write(rec)
	rec.Release()
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	enc := zstdFast
	if better {
		enc = zstdBetter
	}
	return enc.EncodeAll(buf.Bytes(), make([]byte, 0, buf.Len()/4+64)), nil
}
