package input

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

func TestCorruptGzipIsFatal(t *testing.T) {
	var in bytes.Buffer
	for i := range 2000 {
		fmt.Fprintf(&in, "{\"id\":%d,\"pad\":\"%s\"}\n", i, strings.Repeat("p", i%50))
	}
	gz := gzipped(t, in.Bytes())
	truncated := gz[:len(gz)/2]
	have, err := readAllErr(bytes.NewReader(truncated), Options{})
	if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "input t.json: gzip stream broken at offset") {
		t.Fatalf("truncated gzip: err %v", err)
	}
	for i, g := range have {
		if g.Err != "" || g.Raw != fmt.Sprintf("{\"id\":%d,\"pad\":\"%s\"}", i, strings.Repeat("p", i%50)) {
			t.Fatalf("record %d before the break: %v", i, g)
		}
	}
	if len(have) == 0 {
		t.Fatal("no records before the break")
	}
	corrupt := bytes.Clone(gz)
	corrupt[len(corrupt)-6] ^= 0xff // the CRC
	if _, err := readAllErr(bytes.NewReader(corrupt), Options{}); err == nil {
		t.Fatal("corrupt gzip checksum not reported")
	}
}

func TestCorruptZstdIsFatal(t *testing.T) {
	z := zstded(t, bytes.Repeat([]byte(`{"a":"bcdefgh"}`+"\n"), 5000))
	if _, err := readAllErr(bytes.NewReader(z[:len(z)-10]), Options{}); err == nil || !strings.Contains(err.Error(), "zstd stream broken") {
		t.Fatalf("truncated zstd: err %v", err)
	}
}

func TestReadErrorIsFatalAndSticky(t *testing.T) {
	boom := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader("{\"a\":1}\n{\"b\":"), iotest.ErrReader(boom))
	rd, err := NewReader(r, "f")
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	rec, err := rd.Next()
	if err != nil || string(rec.Raw) != `{"a":1}` {
		t.Fatalf("first record: %v %v", rec, err)
	}
	for range 2 {
		if _, err := rd.Next(); !errors.Is(err, boom) || !strings.Contains(err.Error(), "input f: none stream broken at offset 13 (line 2)") {
			t.Fatalf("got %v", err)
		}
	}
}

func TestNextAfterClose(t *testing.T) {
	rd, err := NewReader(strings.NewReader("{}"), "c")
	if err != nil {
		t.Fatal(err)
	}
	if err := rd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := rd.Next(); err == nil {
		t.Fatal("Next after Close succeeded")
	}
	if err := rd.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

func TestNegativeLimitIsACallerError(t *testing.T) {
	if _, err := NewReaderOptions(strings.NewReader(""), "n", Options{MaxRecordSize: -1}); err == nil {
		t.Fatal("accepted a negative MaxRecordSize")
	}
}

// genStream produces n bytes (roughly) of sign-in-like input lazily, so
// that the test itself holds no copy of it.
type genStream struct {
	left   int64
	pend   []byte
	i      int
	lineFn func(i int) []byte // must not allocate: the heap is being measured
}

func (g *genStream) Read(p []byte) (int, error) {
	if g.left <= 0 && len(g.pend) == 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) {
		if len(g.pend) == 0 {
			if g.left <= 0 {
				break
			}
			g.pend = g.lineFn(g.i)
			g.i++
			g.left -= int64(len(g.pend))
		}
		c := copy(p[n:], g.pend)
		g.pend = g.pend[c:]
		n += c
	}
	return n, nil
}

func TestBoundedMemoryOver100MB(t *testing.T) {
	line := []byte(string(sampleSignIn) + "\n")
	// A whole Graph page on one line, about 1.5 MB.
	page := []byte(`{"@odata.context":"c","value":[` + strings.TrimSuffix(strings.Repeat(string(sampleSignIn)+",", 400), ",") + "]}\n")
	pages := func(i int) []byte {
		if i%3 == 0 {
			return page
		}
		return line
	}
	for name, fn := range map[string]func(int) []byte{"ndjson": func(int) []byte { return line }, "pages": pages} {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			rd, err := NewReader(&genStream{left: 100 << 20, lineFn: fn}, name)
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			var n int
			var peak uint64
			for {
				rec, err := rd.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if rec.Err != nil || len(rec.Raw) != len(sampleSignIn) {
					t.Fatalf("record %d at line %d: %v", n, rec.Line, rec.Err)
				}
				n++
				if n%5000 == 0 {
					runtime.ReadMemStats(&after)
					peak = max(peak, after.HeapInuse)
				}
			}
			if n < (100<<20)/len(line)-10 {
				t.Fatalf("only %d records", n)
			}
			if limit := before.HeapInuse + 16<<20; peak > limit {
				t.Fatalf("heap in use reached %d MB (started at %d MB)", peak>>20, before.HeapInuse>>20)
			}
			t.Logf("%d records, peak heap %d MB", n, peak>>20)
		})
	}
}
