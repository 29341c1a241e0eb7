package input

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// got is a comparable snapshot of a Record.
type got struct {
	Raw    string
	Line   int
	Col    int
	Off    int64
	Cat    string
	Err    string // RecordError.Error(), "" for good records
	ErrPos string // "line:col" of the error
}

func (g got) String() string {
	return fmt.Sprintf("{%q L%d C%d @%d cat=%q err=%q}", g.Raw, g.Line, g.Col, g.Off, g.Cat, g.Err)
}

func snapshot(rec *Record) got {
	g := got{Raw: string(rec.Raw), Line: rec.Line, Col: rec.Column, Off: rec.Offset, Cat: rec.Category}
	if rec.Err != nil {
		g.Err = rec.Err.Error()
		var re *RecordError
		if !errors.As(rec.Err, &re) {
			panic("record error is not a *RecordError")
		}
		g.ErrPos = fmt.Sprintf("%d:%d", re.Line, re.Column)
	}
	return g
}

// readAllFrom frames everything from r, failing the test on a fatal error.
func readAllFrom(t testing.TB, r io.Reader, opts Options) []got {
	t.Helper()
	out, err := readAllErr(r, opts)
	if err != nil {
		t.Fatalf("fatal error: %v", err)
	}
	return out
}

func readAllErr(r io.Reader, opts Options) ([]got, error) {
	rd, err := NewReaderOptions(r, "t.json", opts)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	var out []got
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, snapshot(rec))
	}
}

// readAll frames s whole and also one byte per Read, which puts every
// buffer boundary everywhere; both must agree.
func readAll(t testing.TB, s string) []got {
	t.Helper()
	whole := readAllFrom(t, bytes.NewReader([]byte(s)), Options{})
	bytewise := readAllFrom(t, &oneByte{data: []byte(s)}, Options{})
	if fmt.Sprint(whole) != fmt.Sprint(bytewise) {
		t.Fatalf("framing depends on read sizes:\nwhole:    %v\nbytewise: %v", whole, bytewise)
	}
	return whole
}

type oneByte struct{ data []byte }

func (o *oneByte) Read(p []byte) (int, error) {
	if len(o.data) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = o.data[0]
	o.data = o.data[1:]
	return 1, nil
}

func expect(t *testing.T, have, want []got) {
	t.Helper()
	if len(have) != len(want) {
		t.Fatalf("got %d records, want %d:\n%v", len(have), len(want), have)
	}
	for i := range want {
		if have[i] != want[i] {
			t.Errorf("record %d:\n got  %v\n want %v", i, have[i], want[i])
		}
	}
}

func gzipped(t testing.TB, s []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(s); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zstded(t testing.TB, s []byte) []byte {
	w, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	return w.EncodeAll(s, nil)
}
