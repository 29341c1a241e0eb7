package engine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/authlake/authlake/columnar"
)

// A WAL payload is one ingest call's decoded rows: one Arrow IPC stream per (tenant, day)
// partition, holding the chunk exactly as it enters the memtable (after dedup, with flags and
// event types applied). Logging decoded columns rather than the input JSON keeps the log several
// times smaller and makes replay skip JSON parsing; dedup on replay makes re-applying rows that
// already reached a segment harmless.
//
//	payload = version u8 | count uvarint | chunk*
//	chunk   = tenant (uvarint len + bytes) | day varint | stream (uvarint len + Arrow IPC stream)
//
// The tenant of a chunk may be a namespace of home-tenant copies, "home~source" (homecopy.go).

const (
	walRecordVersion = 2
	maxWALChunks     = 1 << 16
	maxTenantLen     = 128
	maxChunkBytes    = 1 << 30
)

// walStreams hold one chunk's IPC stream while it is copied into a payload, reused across
// ingests: a new one per call was allocated and cleared at the payload's size every time.
var walStreams = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// walPayloads hold whole payloads, reused once the log has written them (wal.Log.Append lets
// the caller reuse its payload on return): a fresh one per ingest call, sized up front, was
// cleared by the runtime every time (2.5% of a one-thread ingest's CPU).
var walPayloads = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func marshalWALChunks(s *columnar.Schema, chunks map[partKey]arrow.RecordBatch) ([]byte, error) {
	var out bytes.Buffer
	if err := appendWALChunks(&out, s, chunks); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// appendWALChunks writes the payload of chunks to out.
func appendWALChunks(out *bytes.Buffer, s *columnar.Schema, chunks map[partKey]arrow.RecordBatch) error {
	// Size the buffers up front: growing a multi-megabyte buffer by doubling costs as much as
	// encoding it.
	est := 64
	for _, c := range chunks {
		for _, col := range c.Columns() {
			est += int(columnar.ArrayBytes(col.Data()))
		}
		est += 64 << 10 // schema and message metadata
	}
	out.Grow(est)
	out.WriteByte(walRecordVersion)
	out.Write(binary.AppendUvarint(nil, uint64(len(chunks))))
	stream := walStreams.Get().(*bytes.Buffer)
	defer walStreams.Put(stream)
	for k, c := range chunks {
		stream.Reset()
		w := ipc.NewWriter(stream, ipc.WithSchema(s.Arrow()))
		if err := w.Write(c); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		out.Write(binary.AppendUvarint(nil, uint64(len(k.tenant))))
		out.WriteString(k.tenant)
		out.Write(binary.AppendVarint(nil, int64(k.day)))
		out.Write(binary.AppendUvarint(nil, uint64(stream.Len())))
		out.Write(stream.Bytes())
	}
	return nil
}

var errWALPayload = errors.New("malformed WAL payload")

func unmarshalWALChunks(s *columnar.Schema, src []byte) (map[partKey]arrow.RecordBatch, error) {
	if len(src) == 0 || src[0] != walRecordVersion {
		return nil, fmt.Errorf("%w: unknown version", errWALPayload)
	}
	src = src[1:]
	count, k := binary.Uvarint(src)
	if k <= 0 || count > maxWALChunks {
		return nil, fmt.Errorf("%w: bad chunk count", errWALPayload)
	}
	src = src[k:]
	out := make(map[partKey]arrow.RecordBatch, count)
	fail := func(format string, args ...any) (map[partKey]arrow.RecordBatch, error) {
		releaseChunks(out)
		return nil, fmt.Errorf("%w: "+format, append([]any{errWALPayload}, args...)...)
	}
	for i := uint64(0); i < count; i++ {
		n, k := binary.Uvarint(src)
		if k <= 0 || n > maxNamespaceLen || n > uint64(len(src)-k) {
			return fail("chunk %d: bad tenant", i)
		}
		tenant := string(src[k : k+int(n)])
		src = src[k+int(n):]
		day, k := binary.Varint(src)
		if k <= 0 {
			return fail("chunk %d: bad day", i)
		}
		src = src[k:]
		n, k = binary.Uvarint(src)
		if k <= 0 || n > maxChunkBytes || n > uint64(len(src)-k) {
			return fail("chunk %d: bad stream length", i)
		}
		stream := src[k : k+int(n)]
		src = src[k+int(n):]
		if !validNamespace(tenant) {
			return fail("chunk %d: invalid tenant %q", i, tenant)
		}
		// Bound what the IPC reader may allocate by what is actually there: a corrupt length
		// must fail, not exhaust memory.
		rd, err := ipc.NewReader(bytes.NewReader(stream), ipc.WithMetadataSizeLimit(1<<20), ipc.WithBodySizeLimit(int64(len(stream))))
		if err != nil {
			return fail("chunk %d: %v", i, err)
		}
		if !nextRecord(rd) {
			rd.Release()
			return fail("chunk %d: empty stream (%v)", i, rd.Err())
		}
		rec := rd.RecordBatch()
		rec.Retain()
		rd.Release()
		if err := columnar.ValidateRecord(s, rec); err != nil {
			rec.Release()
			return fail("chunk %d: %v", i, err)
		}
		key := partKey{tenant, int32(day)}
		if old, dup := out[key]; dup {
			old.Release()
			rec.Release()
			return fail("chunk %d: partition logged twice", i)
		}
		out[key] = columnar.Shareable(rec)
	}
	if len(src) != 0 {
		return fail("%d trailing bytes", len(src))
	}
	return out, nil
}

// nextRecord advances rd, turning a panic inside the Arrow IPC reader (it trusts lengths in the
// stream) into a failed read: a WAL payload passed its CRC, so this only guards against bugs and
// hostile files, and must not crash recovery.
func nextRecord(rd *ipc.Reader) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return rd.Next()
}
