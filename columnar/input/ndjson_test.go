package input

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

const ndjson = "{\"id\":\"a\",\"n\":1}\n" +
	"\n" +
	"  {\"id\":\"b\",\"s\":\"x\\\"}y\",\"o\":{\"k\":[1,2.5e3,-0,true,false,null]}}\r\n" +
	"{\"id\":\"c\"}"

func wantNDJSON() []got {
	return []got{
		{Raw: `{"id":"a","n":1}`, Line: 1, Col: 1, Off: 0},
		{Raw: `{"id":"b","s":"x\"}y","o":{"k":[1,2.5e3,-0,true,false,null]}}`, Line: 3, Col: 3, Off: 20},
		{Raw: `{"id":"c"}`, Line: 4, Col: 1, Off: int64(strings.Index(ndjson, `{"id":"c"}`))},
	}
}

func TestNDJSONPlainGzipZstd(t *testing.T) {
	for name, data := range map[string][]byte{
		"plain": []byte(ndjson),
		"gzip":  gzipped(t, []byte(ndjson)),
		"zstd":  zstded(t, []byte(ndjson)),
	} {
		t.Run(name, func(t *testing.T) {
			expect(t, readAllFrom(t, bytes.NewReader(data), Options{}), wantNDJSON())
			rd, err := NewReader(bytes.NewReader(data), "x")
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			if want := map[string]Compression{"plain": None, "gzip": Gzip, "zstd": Zstd}[name]; rd.Compression() != want {
				t.Errorf("Compression() = %s, want %s", rd.Compression(), want)
			}
		})
	}
	expect(t, readAll(t, ndjson), wantNDJSON())
}

func TestNDJSONMixedGoodAndBad(t *testing.T) {
	in := strings.Join([]string{
		`{"id":1}`,                             // 1 good
		`{"id":2,"x":[1,2`,                     // 2 truncated object
		`{"id":3}`,                             // 3 good, right after the truncated line
		`this is not json`,                     // 4
		`[1,2]`,                                // 5 an array line of non-objects
		`42`,                                   // 6 a number
		`{"id":7} trailing`,                    // 7 trailing garbage
		`{"id":8,"s":"caf` + "\xff\xfe" + `"}`, // 8 invalid UTF-8 passes through
		`{"id":9,}`,                            // 9 trailing comma
		`{"id":10}`,                            // 10 good
	}, "\n") + "\n"
	have := readAll(t, in)
	want := []got{
		{Raw: `{"id":1}`, Line: 1, Col: 1, Off: 0},
		{Raw: `{"id":2,"x":[1,2`, Line: 2, Col: 1, Off: 9, ErrPos: "3:1",
			Err: `t.json:3:1: invalid JSON: expected ',' or ']' after array element, found '{'`},
		{Raw: `{"id":3}`, Line: 3, Col: 1, Off: 26},
		{Raw: `this is not json`, Line: 4, Col: 1, Off: 35, ErrPos: "4:1",
			Err: `t.json:4:1: invalid JSON: expected a JSON object or array, found 't'`},
		{Raw: `1`, Line: 5, Col: 2, Off: 53, ErrPos: "5:2",
			Err: `t.json:5:2: array element is not a JSON object`},
		{Raw: `2`, Line: 5, Col: 4, Off: 55, ErrPos: "5:4",
			Err: `t.json:5:4: array element is not a JSON object`},
		{Raw: `42`, Line: 6, Col: 1, Off: 58, ErrPos: "6:1",
			Err: `t.json:6:1: invalid JSON: expected a JSON object or array, found a JSON scalar`},
		{Raw: `{"id":7} trailing`, Line: 7, Col: 1, Off: 61, ErrPos: "7:10",
			Err: `t.json:7:10: invalid JSON: trailing data after a JSON value`},
		{Raw: `{"id":8,"s":"caf` + "\xff\xfe" + `"}`, Line: 8, Col: 1, Off: 79},
		{Raw: `{"id":9,}`, Line: 9, Col: 1, Off: int64(strings.Index(in, `{"id":9,}`)), ErrPos: "9:9",
			Err: `t.json:9:9: invalid JSON: expected a string key, found '}'`},
		{Raw: `{"id":10}`, Line: 10, Col: 1, Off: int64(strings.Index(in, `{"id":10}`))},
	}
	expect(t, have, want)
}

func TestBadRecordKinds(t *testing.T) {
	rd, err := NewReader(strings.NewReader("{\"a\":tru}\n[{\"a\":1},7]\n"), "k")
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	for _, want := range []error{ErrSyntax, nil, ErrNotObject} {
		rec, err := rd.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(rec.Err, want) || (want == nil) != (rec.Err == nil) {
			t.Fatalf("record at line %d: err %v, want kind %v", rec.Line, rec.Err, want)
		}
	}
}

func TestEmptyAndBlankInput(t *testing.T) {
	for _, in := range []string{"", "\n\n  \r\n\t", "\xef\xbb\xbf", "[]", "[ ]\n[]"} {
		if have := readAll(t, in); len(have) != 0 {
			t.Errorf("input %q: got records %v", in, have)
		}
	}
	for name, data := range map[string][]byte{"gzip": gzipped(t, nil), "zstd": zstded(t, nil)} {
		if have := readAllFrom(t, bytes.NewReader(data), Options{}); len(have) != 0 {
			t.Errorf("empty %s: got %v", name, have)
		}
	}
}

func TestByteOrderMarkIsSkipped(t *testing.T) {
	expect(t, readAll(t, "\xef\xbb\xbf{\"a\":1}\n"), []got{{Raw: `{"a":1}`, Line: 1, Col: 4, Off: 3}})
}

func TestTruncatedAtEOF(t *testing.T) {
	have := readAll(t, "{\"a\":1}\n{\"b\":\"unterminated")
	want := []got{
		{Raw: `{"a":1}`, Line: 1, Col: 1, Off: 0},
		{Raw: `{"b":"unterminated`, Line: 2, Col: 1, Off: 8, ErrPos: "2:19",
			Err: `t.json:2:19: invalid JSON: unexpected end of input inside a string`},
	}
	expect(t, have, want)
}

func TestDepthLimit(t *testing.T) {
	deep := func(n int) string {
		return `{"a":` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + "}"
	}
	ok := deep(MaxDepth)
	bad := deep(MaxDepth + 1)
	have := readAll(t, ok+"\n"+bad+"\n{}\n")
	if len(have) != 3 || have[0].Err != "" || have[2].Err != "" || have[2].Raw != "{}" {
		t.Fatalf("got %v", have)
	}
	if !strings.Contains(have[1].Err, "nesting deeper than 64 levels") || have[1].Raw != bad {
		t.Fatalf("depth %d: got %v", MaxDepth+1, have[1])
	}
}

func TestConcatenatedObjectsOnOneLine(t *testing.T) {
	expect(t, readAll(t, `{"a":1}{"b":2} [{"c":3}]`), []got{
		{Raw: `{"a":1}`, Line: 1, Col: 1, Off: 0},
		{Raw: `{"b":2}`, Line: 1, Col: 8, Off: 7},
		{Raw: `{"c":3}`, Line: 1, Col: 17, Off: 16},
	})
}

// TestRecordOverLimitReadInPieces: a record just over the limit is rejected however the input
// is read. Read a byte at a time after a first record, the second (one byte over) was held
// aside while the byte after it was examined, and then accepted whatever its size.
func TestRecordOverLimitReadInPieces(t *testing.T) {
	in := "{\"a\":\"{\",\"b\":{}}\n{\"a\":\"}}\",\"b\":{\"c\":\"{{\"}}\n" // 16 bytes, then 25
	for _, r := range []io.Reader{strings.NewReader(in), &oneByte{data: []byte(in)}} {
		recs := readAllFrom(t, r, Options{MaxRecordSize: 24})
		if len(recs) != 2 || recs[0].Err != "" || !strings.Contains(recs[1].Err, "record exceeds 24 bytes") {
			t.Fatalf("got %v", recs)
		}
	}
}
