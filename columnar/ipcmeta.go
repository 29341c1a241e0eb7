package columnar

import (
	"fmt"

	flatbuffers "github.com/google/flatbuffers/go"
)

// Vtable slots (4 + 2×field index) of the Arrow IPC flatbuffer tables this check reads
// (format/Message.fbs and format/Schema.fbs of the Arrow specification).
const (
	slotMessageHeaderType  = 6  // Message.header_type
	slotMessageHeader      = 8  // Message.header
	slotSchemaFields       = 6  // Schema.fields
	slotSchemaMetadata     = 8  // Schema.custom_metadata
	slotSchemaFeatures     = 10 // Schema.features (int64s)
	slotFieldChildren      = 14 // Field.children
	slotFieldMetadata      = 16 // Field.custom_metadata
	messageHeaderSchema    = 1  // MessageHeader.Schema
	maxSchemaNesting       = 64
	flatbufferOffsetLength = 4
)

// checkSchemaVectors refuses a schema message whose vectors (fields, children, metadata,
// features) claim more entries than its metadata has bytes. arrow-go makes a slice of the
// claimed length before reading any entry: a damaged 300-byte frame asked for 29 GB. Frames pass
// a CRC before they are decoded, so this guards against bugs and hostile files only.
func checkSchemaVectors(meta []byte) (err error) {
	defer func() {
		if r := recover(); r != nil { // an offset that points outside meta
			err = fmt.Errorf("arrow/ipc: invalid schema metadata: %v", r)
		}
	}()
	var msg flatbuffers.Table
	msg.Bytes, msg.Pos = meta, flatbuffers.GetUOffsetT(meta)
	o := msg.Offset(slotMessageHeaderType)
	if o == 0 || msg.GetByte(msg.Pos+flatbuffers.UOffsetT(o)) != messageHeaderSchema {
		return nil
	}
	if o = msg.Offset(slotMessageHeader); o == 0 {
		return nil
	}
	var schema flatbuffers.Table
	schema.Bytes, schema.Pos = meta, msg.Indirect(msg.Pos+flatbuffers.UOffsetT(o))
	if err := checkVector(&schema, slotSchemaMetadata, flatbufferOffsetLength, nil); err != nil {
		return err
	}
	if err := checkVector(&schema, slotSchemaFeatures, 8, nil); err != nil {
		return err
	}
	return checkVector(&schema, slotSchemaFields, flatbufferOffsetLength, func(field *flatbuffers.Table) error {
		return checkField(field, 0)
	})
}

func checkField(field *flatbuffers.Table, depth int) error {
	if depth > maxSchemaNesting {
		return fmt.Errorf("arrow/ipc: schema nested deeper than %d", maxSchemaNesting)
	}
	if err := checkVector(field, slotFieldMetadata, flatbufferOffsetLength, nil); err != nil {
		return err
	}
	return checkVector(field, slotFieldChildren, flatbufferOffsetLength, func(child *flatbuffers.Table) error {
		return checkField(child, depth+1)
	})
}

// checkVector checks that the vector in slot of t fits in the buffer, and calls each, when
// non-nil, with every element (a table).
func checkVector(t *flatbuffers.Table, slot flatbuffers.VOffsetT, elem int, each func(*flatbuffers.Table) error) error {
	o := t.Offset(slot)
	if o == 0 {
		return nil
	}
	n := t.VectorLen(flatbuffers.UOffsetT(o))
	start := int(t.Vector(flatbuffers.UOffsetT(o)))
	if n < 0 || start < 0 || start > len(t.Bytes) || n > (len(t.Bytes)-start)/elem {
		return fmt.Errorf("arrow/ipc: schema vector of %d entries at byte %d of %d", n, start, len(t.Bytes))
	}
	if each == nil {
		return nil
	}
	for i := 0; i < n; i++ {
		pos := flatbuffers.UOffsetT(start + i*elem)
		el := flatbuffers.Table{Bytes: t.Bytes, Pos: pos + flatbuffers.GetUOffsetT(t.Bytes[pos:])}
		if err := each(&el); err != nil {
			return err
		}
	}
	return nil
}
