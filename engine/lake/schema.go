package lake

import (
	"encoding/json"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/authlake/authlake/columnar"
)

// The Parquet schema is the Graph signIn resource as distributed engines want it, derived from
// columnar.SignIns (the one truth): objects (status, deviceDetail, location, …) are structs of
// their members, collections of strings are lists of strings, request and correlation ids are
// their canonical text, times are UTC timestamps in nanoseconds, and the other collections
// (of objects) are their JSON text. Unknown properties (a row's extras) are not exported.

// Schema is the Arrow schema of the exported rows.
var Schema = arrow.NewSchema(fieldsOf(columnar.SignIns), nil)

func fieldsOf(s *columnar.Schema) []arrow.Field {
	var out []arrow.Field
	for _, p := range s.Properties {
		if p.Column != nil {
			out = append(out, arrow.Field{Name: p.Name, Type: columnType(p.Column), Nullable: true})
		} else {
			out = append(out, arrow.Field{Name: p.Name, Type: objectType(p.Object), Nullable: true})
		}
	}
	return out
}

func objectType(o *columnar.Object) arrow.DataType {
	var fs []arrow.Field
	for _, m := range o.Members {
		if m.Column != nil {
			fs = append(fs, arrow.Field{Name: m.Name, Type: columnType(m.Column), Nullable: true})
		} else {
			fs = append(fs, arrow.Field{Name: m.Name, Type: objectType(m.Object), Nullable: true})
		}
	}
	return arrow.StructOf(fs...)
}

func columnType(c *columnar.Column) arrow.DataType {
	switch {
	case c.Kind == columnar.KindGUID:
		return arrow.BinaryTypes.String
	case c.StringList():
		return arrow.ListOf(arrow.BinaryTypes.String)
	case c.Kind == columnar.KindJSONDict:
		return arrow.BinaryTypes.String
	}
	return c.Kind.ArrowType()
}

// verbatim holds, per GUID column and row, the text an event carried where the typed column
// could not reproduce it (a correlationId that is no GUID, one in capitals): the row's extras
// keep it, and the export writes it instead of the column's canonical form or null.
type verbatim map[int]map[int]string

func verbatimOf(flat arrow.RecordBatch) (verbatim, error) {
	s := columnar.SignIns
	b, err := columnar.NewBatch(s, flat)
	if err != nil {
		return nil, err
	}
	out := verbatim{}
	var entries []columnar.ExtraEntry
	for r := 0; r < b.Rows; r++ {
		if entries, err = b.Extras(r, entries); err != nil {
			return nil, err
		}
		for _, x := range entries {
			c, ok := s.Lookup(x.Path)
			if !ok || c.Kind != columnar.KindGUID || len(x.Value) == 0 || x.Value[0] != '"' {
				continue
			}
			var v string
			if json.Unmarshal(x.Value, &v) != nil {
				continue
			}
			if out[c.Index] == nil {
				out[c.Index] = map[int]string{}
			}
			out[c.Index][r] = v
		}
	}
	return out, nil
}

// convert turns one flat record of columnar.SignIns (all columns bound) into the export's.
func convert(mem memory.Allocator, flat arrow.RecordBatch) (arrow.RecordBatch, error) {
	s := columnar.SignIns
	vb, err := verbatimOf(flat)
	if err != nil {
		return nil, err
	}
	var cols []arrow.Array
	release := func() {
		for _, c := range cols {
			c.Release()
		}
	}
	for _, p := range s.Properties {
		var a arrow.Array
		var err error
		if p.Column != nil {
			a, err = convertColumn(mem, p.Column, flat.Column(p.Column.Index), vb[p.Column.Index])
		} else {
			a, err = convertObject(mem, p.Object, flat, vb)
		}
		if err != nil {
			release()
			return nil, err
		}
		cols = append(cols, a)
	}
	rec := array.NewRecordBatch(Schema, cols, flat.NumRows())
	release()
	return rec, nil
}

func convertObject(mem memory.Allocator, o *columnar.Object, flat arrow.RecordBatch, vb verbatim) (arrow.Array, error) {
	var kids []arrow.Array
	var names []string
	defer func() {
		for _, k := range kids {
			k.Release()
		}
	}()
	for _, m := range o.Members {
		var a arrow.Array
		var err error
		if m.Column != nil {
			a, err = convertColumn(mem, m.Column, flat.Column(m.Column.Index), vb[m.Column.Index])
		} else {
			a, err = convertObject(mem, m.Object, flat, vb)
		}
		if err != nil {
			return nil, err
		}
		kids = append(kids, a)
		names = append(names, m.Name)
	}
	return array.NewStructArray(kids, names)
}

// convertColumn returns the export's array for one stored column (a new reference).
func convertColumn(mem memory.Allocator, c *columnar.Column, a arrow.Array, verbatim map[int]string) (arrow.Array, error) {
	switch {
	case c.Kind == columnar.KindGUID:
		fb := a.(*array.FixedSizeBinary)
		b := array.NewStringBuilder(mem)
		defer b.Release()
		b.Reserve(fb.Len())
		b.ReserveData(fb.Len() * 36)
		buf := make([]byte, 0, 36)
		for i := 0; i < fb.Len(); i++ {
			if v, ok := verbatim[i]; ok {
				b.Append(v)
				continue
			}
			if fb.IsNull(i) {
				b.AppendNull()
				continue
			}
			b.BinaryBuilder.Append(columnar.AppendGUID(buf[:0], fb.Value(i)))
		}
		return b.NewArray(), nil
	case c.Kind == columnar.KindJSONDict:
		d := a.(*array.Dictionary)
		dict := d.Dictionary().(*array.String)
		codes := d.Indices().(*array.Int32)
		if c.StringList() {
			// Each dictionary value is parsed once, not each row's.
			vals := make([][]string, dict.Len())
			for i := range vals {
				if err := json.Unmarshal([]byte(dict.Value(i)), &vals[i]); err != nil {
					return nil, fmt.Errorf("column %s: %q is not a list of strings: %w", c.Name, dict.Value(i), err)
				}
			}
			lb := array.NewListBuilder(mem, arrow.BinaryTypes.String)
			defer lb.Release()
			vb := lb.ValueBuilder().(*array.StringBuilder)
			for i := 0; i < d.Len(); i++ {
				if d.IsNull(i) {
					lb.AppendNull()
					continue
				}
				lb.Append(true)
				for _, v := range vals[codes.Value(i)] {
					vb.Append(v)
				}
			}
			return lb.NewArray(), nil
		}
		b := array.NewStringBuilder(mem)
		defer b.Release()
		b.Reserve(d.Len())
		for i := 0; i < d.Len(); i++ {
			if d.IsNull(i) {
				b.AppendNull()
			} else {
				b.Append(dict.Value(int(codes.Value(i))))
			}
		}
		return b.NewArray(), nil
	}
	a.Retain()
	return a, nil
}
