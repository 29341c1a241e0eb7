package columnar

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/authlake/authlake/internal/vfs"
)

// FuzzDecode feeds arbitrary bytes to the sign-in decoder. It must never panic, and whatever it
// accepts must come back from the Arrow round trip as the same JSON value.
func FuzzDecode(f *testing.F) {
	raw, err := os.ReadFile("testdata/graph_beta_sample.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{"id":"3f2b7a10-5c1e-4d7a-9b8e-2a6c1d0e4b00","createdDateTime":"2025-03-04T08:15:27Z","x":[1,{"y":null}],"status":{"errorCode":1,"z":2},"location":null}`))
	f.Add([]byte(`{"id":"3F2B7A10-5C1E-4D7A-9B8E-2A6C1D0E4B00","createdDateTime":"2025-03-04T08:15:27.1200000+02:00"}`))
	f.Add([]byte(`[]`))
	d := NewDecoder(SignIns)
	row := NewRow(SignIns)
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := d.Decode(b, row); err != nil {
			if !IsDecodeError(err) {
				t.Fatalf("decode error of the wrong type: %v", err)
			}
			return
		}
		var want any
		if err := json.Unmarshal(b, &want); err != nil {
			// fastjson accepted something encoding/json does not (e.g. invalid UTF-8): the
			// encoder must still produce valid JSON of its own.
			want = nil
		}
		bld := NewBuilder(SignIns)
		bld.AppendRow(row)
		rec := bld.Seal()
		defer rec.Release()
		batch, err := NewBatch(SignIns, rec)
		if err != nil {
			t.Fatal(err)
		}
		var enc Encoder
		out, err := enc.AppendJSON(nil, batch, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got any
		if err := json.Unmarshal(out, &got); err != nil {
			if want == nil {
				return
			}
			t.Fatalf("encoder produced invalid JSON %q from %q: %v", out, b, err)
		}
		if want != nil && !reflect.DeepEqual(normalizeNumbers(want), normalizeNumbers(got)) {
			t.Fatalf("round trip changed the value\nin  %s\nout %s", b, out)
		}
	})
}

// normalizeNumbers makes 1 and 1.0 compare equal (JSON numbers are values, not text).
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeNumbers(e)
		}
	}
	return v
}

// FuzzExtras decodes arbitrary extras values: errors, never panics.
func FuzzExtras(f *testing.F) {
	f.Add(appendExtra(appendExtra(nil, extrasRaw, "a/b", []byte(`{"x":1}`)), extrasAbsent, "c", nil))
	f.Add([]byte{3, 1, 'x'})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := DecodeExtras(b, nil)
		if err != nil {
			return
		}
		var again []byte
		for _, e := range entries {
			again = appendExtra(again, e.Kind, e.Path, e.Value)
		}
		if re, err := DecodeExtras(again, nil); err != nil || len(re) != len(entries) {
			t.Fatalf("re-encoded extras do not decode the same: %v", err)
		}
	})
}

// FuzzOpenSegment opens arbitrary bytes as a segment and reads every block of every column: it
// must fail with an error or succeed, never panic.
func FuzzOpenSegment(f *testing.F) {
	dir := f.TempDir()
	path, _ := writeTestSegment(f, dir, testEvents(f, 20, 9), 8)
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "f.seg")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		seg, err := OpenSegment(vfs.Default, p, SignIns, nil)
		if err != nil {
			return
		}
		defer seg.Close()
		exportSegment(t, seg)
	})
}

// FuzzDecodeFrame feeds decodeFrame IPC streams it did not write (a frame's CRC keeps damage
// out of a real read, so FuzzOpenSegment seldom gets this far): it reads messages in place, and
// every length in them is checked against the buffer before it is sliced.
func FuzzDecodeFrame(f *testing.F) {
	for _, arr := range frameSeeds(f) {
		frame, err := encodeFrameIPC("c", arr, false)
		if err != nil {
			f.Fatal(err)
		}
		raw, err := zstdDecoder.DecodeAll(frame, nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
		f.Add(raw[:len(raw)/2])
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		a, err := decodeFrame(zstdFast.EncodeAll(raw, nil), mem)
		if err != nil {
			// Not checked for leaks: arrow-go's reader keeps what it holds when it panics
			// part-way through a damaged message (Go memory, collected all the same).
			return
		}
		_ = a.String()
		a.Release()
		if left := mem.CurrentAlloc(); left != 0 {
			t.Fatalf("%d bytes still allocated after the array was released", left)
		}
	})
}

// frameSeeds are arrays of the kinds frames hold.
func frameSeeds(t testing.TB) []arrow.Array {
	mem := memory.NewGoAllocator()
	s := array.NewStringBuilder(mem)
	s.AppendValues([]string{"a", "", "contoso"}, []bool{true, false, true})
	i := array.NewInt64Builder(mem)
	i.AppendValues([]int64{1, -2, 3}, nil)
	b := array.NewBooleanBuilder(mem)
	b.AppendValues([]bool{true, false}, []bool{true, true})
	return []arrow.Array{s.NewArray(), i.NewArray(), b.NewArray()}
}
