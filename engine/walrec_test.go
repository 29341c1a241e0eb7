package engine

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/authlake/authlake/columnar"
)

// recordOf decodes sign-in lines into one memtable chunk.
func recordOf(t *testing.T, lines []string) arrow.RecordBatch {
	t.Helper()
	b := columnar.NewBuilder(columnar.SignIns)
	d := columnar.NewDecoder(columnar.SignIns)
	row := columnar.NewRow(columnar.SignIns)
	for _, l := range lines {
		if err := d.Decode([]byte(l), row); err != nil {
			t.Fatal(err)
		}
		b.AppendRow(row)
	}
	return b.Seal()
}

func TestWALChunksRoundTrip(t *testing.T) {
	rec := recordOf(t, makeEvents(50, 1, 2))
	defer rec.Release()
	in := map[partKey]arrow.RecordBatch{{"t1", 20000}: rec, {"t2", 20001}: rec}
	payload, err := marshalWALChunks(columnar.SignIns, in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := unmarshalWALChunks(columnar.SignIns, payload)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseChunks(out)
	if len(out) != 2 {
		t.Fatalf("got %d chunks", len(out))
	}
	var enc columnar.Encoder
	for k, got := range out {
		want, _ := columnar.NewBatch(columnar.SignIns, in[k])
		gb, err := columnar.NewBatch(columnar.SignIns, got)
		if err != nil || gb.Rows != want.Rows {
			t.Fatalf("%v: %v rows %d", k, err, gb.Rows)
		}
		for r := 0; r < want.Rows; r++ {
			a, _ := enc.AppendJSON(nil, want, r, nil)
			bb, _ := enc.AppendJSON(nil, gb, r, nil)
			if string(a) != string(bb) {
				t.Fatalf("%v row %d differs after WAL round trip", k, r)
			}
		}
	}
	// Every truncation and many corruptions are rejected with an error, never a panic.
	rng := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 200; i++ {
		bad := append([]byte(nil), payload[:rng.IntN(len(payload))]...)
		if c, err := unmarshalWALChunks(columnar.SignIns, bad); err == nil {
			releaseChunks(c)
			t.Fatalf("truncated payload of %d bytes accepted", len(bad))
		}
	}
	_ = time.Now
}

func FuzzWALChunks(f *testing.F) {
	f.Add([]byte{walRecordVersion, 0})
	f.Add([]byte{walRecordVersion, 1, 1, 't', 2, 5, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := unmarshalWALChunks(columnar.SignIns, b)
		if err == nil {
			releaseChunks(c)
		}
	})
}
