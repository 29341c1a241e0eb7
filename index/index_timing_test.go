package index

import (
	"bytes"
	"math/rand/v2"
	"sync"
	"testing"
)

// timingSegment is one realistic day of a busy tenant: 1M sign-ins sorted by user then
// time, 50K users, errorCode with 30 distinct values (80% zero), 0.1% flagged, random
// 16-byte request ids.
type timingSegment struct {
	rows      uint32
	users     []uint32
	userCard  uint32
	errorCode []int32
	flagged   []bool
	ids       [][16]byte
	times     []int64
}

const timingRows = 1 << 20

var timingData = sync.OnceValue(func() *timingSegment {
	rng := rand.New(rand.NewPCG(1, 2))
	s := &timingSegment{rows: timingRows, userCard: 50_000}
	s.users = make([]uint32, timingRows)
	for r := range s.users {
		// Sorted runs of uneven length: users sign in 1 to ~40 times a day.
		s.users[r] = uint32(uint64(r) * uint64(s.userCard) / timingRows)
	}
	codes := []int32{50126, 50140, 50074, 50076, 50079, 50053, 50055, 50057, 50058, 50072,
		50097, 50105, 50125, 50131, 50132, 50133, 50144, 50173, 51004, 53003,
		65001, 70043, 70044, 81010, 81012, 90095, 500011, 700016, 7000218}
	s.errorCode = make([]int32, timingRows)
	s.flagged = make([]bool, timingRows)
	s.ids = make([][16]byte, timingRows)
	s.times = make([]int64, timingRows)
	for r := range s.errorCode {
		if rng.IntN(5) == 0 {
			s.errorCode[r] = codes[rng.IntN(len(codes))]
		}
		s.flagged[r] = rng.IntN(1000) == 0
		for i := range s.ids[r] {
			s.ids[r][i] = byte(rng.Uint32())
		}
		s.times[r] = 1_760_000_000_000_000_000 + rng.Int64N(86_400_000_000_000)
	}
	return s
})

func (s *timingSegment) add(b *Builder, section string) {
	var err error
	switch section {
	case "user":
		err = b.AddCodes("userId", s.users, ^uint32(0), s.userCard)
	case "errorCode":
		err = b.AddInt32Values("status/errorCode", s.errorCode, nil)
	case "flagged":
		err = b.AddBools("flaggedForReview", func(r uint32) (bool, bool) { return s.flagged[r], true })
	case "requestId":
		err = b.AddKeys("id", 1, func(r uint32) ([]byte, bool) { return s.ids[r][:], true })
	case "createdDateTime":
		zm := ComputeZoneMap(s.times, nil, 65_536)
		err = b.AddZoneMapInt64("createdDateTime", zm.BlockRows, zm.Min, zm.Max, zm.Nulls)
	default:
		panic("BUG: unknown timing section " + section)
	}
	if err != nil {
		panic(err)
	}
}

var timingSections = []string{"user", "errorCode", "flagged", "requestId", "createdDateTime"}

var timingBuilder = sync.OnceValue(func() *Builder { return timingFill(NewBuilder(timingData().rows)) })

// timingBuilderOld writes keys in layout 3, which asVersion2 rewrites.
var timingBuilderOld = sync.OnceValue(func() *Builder { return timingFill(oldKeysBuilder(timingData().rows)) })

func timingFill(b *Builder) *Builder {
	s := timingData()
	for _, sec := range timingSections {
		s.add(b, sec)
	}
	return b
}

var timingSidecar = sync.OnceValue(func() []byte { return timingBuilder().Marshal(nil) })

func BenchmarkBuild(b *testing.B) {
	s := timingData()
	for _, sec := range append(timingSections, "all") {
		b.Run(sec, func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for b.Loop() {
				bl := NewBuilder(s.rows)
				if sec == "all" {
					for _, x := range timingSections {
						s.add(bl, x)
					}
				} else {
					s.add(bl, sec)
				}
				size = len(bl.Marshal(nil))
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(s.rows), "ns/row")
			b.ReportMetric(float64(size-headerLen-trailerLen)/float64(s.rows), "B/row")
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	data := timingSidecar()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFirstProbe includes reading and CRC-checking the section, as the first query
// touching a column in a freshly opened segment pays it.
func BenchmarkFirstProbe(b *testing.B) {
	data := timingSidecar()
	f := func(name string, probe func(rd *Reader) error) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rd, _ := Open(bytes.NewReader(data), int64(len(data)))
				if err := probe(rd); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	f("user", func(rd *Reader) error { _, err := rd.Codes("userId", 123); return err })
	f("errorCode", func(rd *Reader) error { _, err := rd.Int32("status/errorCode", 50126); return err })
	f("requestId", func(rd *Reader) error { _, err := rd.Keys("id", []byte("x")); return err })
	f("createdDateTime", func(rd *Reader) error { _, err := rd.ZoneMapInt64("createdDateTime"); return err })
}

// BenchmarkColdKeyProbe is one request id lookup in a freshly opened 1M-row sidecar, as a
// Graph GET by id or ingest's duplicate check meets a stored day: the reads and bytes the probe
// asks of the file (Open's not counted, nor timed) and its time with the file in memory. v2 is
// the same sidecar in format version 2, whose first probe reads and checks the whole section.
func BenchmarkColdKeyProbe(b *testing.B) {
	s := timingData()
	for _, v := range []struct {
		name string
		data []byte
	}{{"v3", timingSidecar()}, {"v2", asVersion2(timingBuilderOld())}} {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			cr := &countingReaderAt{r: bytes.NewReader(v.data)}
			var reads, n int64
			i := 0
			for b.Loop() {
				b.StopTimer()
				rd, err := Open(cr, int64(len(v.data)))
				if err != nil {
					b.Fatal(err)
				}
				cr.take()
				i = (i + 7919) % len(s.ids)
				b.StartTimer()
				if rows, err := rd.AppendKeyRows(nil, "id", s.ids[i][:]); err != nil || len(rows) == 0 {
					b.Fatal(rows, err)
				}
				r, m := cr.take()
				reads, n = reads+r, n+m
			}
			b.ReportMetric(float64(n)/float64(b.N), "read-B/op")
			b.ReportMetric(float64(reads)/float64(b.N), "reads/op")
		})
	}
}

func BenchmarkProbe(b *testing.B) {
	s := timingData()
	data := timingSidecar()
	rd := openBytes(b, data)
	b.Run("Codes/user", func(b *testing.B) {
		b.ReportAllocs()
		i := uint32(0)
		for b.Loop() {
			i = (i + 7919) % s.userCard
			if _, err := rd.Codes("userId", i); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Int32/errorCode=50126", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := rd.Int32("status/errorCode", 50126); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Int32/errorCode=0", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := rd.Int32("status/errorCode", 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Bools/flagged", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := rd.Bools("flaggedForReview", true); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Keys/requestId", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i = (i + 7919) % len(s.ids)
			if _, err := rd.Keys("id", s.ids[i][:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AppendKeyRows/requestId", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		var buf []uint32
		for b.Loop() {
			i = (i + 7919) % len(s.ids)
			var err error
			if buf, err = rd.AppendKeyRows(buf[:0], "id", s.ids[i][:]); err != nil || len(buf) == 0 {
				b.Fatal(err)
			}
		}
	})
	b.Run("ZoneMap/prune", func(b *testing.B) {
		b.ReportAllocs()
		var blocks []int
		for b.Loop() {
			zm, err := rd.ZoneMapInt64("createdDateTime")
			if err != nil {
				b.Fatal(err)
			}
			blocks = zm.AppendPruneRange(blocks[:0], 1_760_000_000_000_000_000, 1_760_000_000_000_000_000+3_600_000_000_000)
		}
	})
	b.Run("And/user∧failed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			u, _ := rd.Codes("userId", 4242)
			f, _ := rd.Int32("status/errorCode", 50126)
			u.And(f)
		}
	})
}

func BenchmarkBlockWords(b *testing.B) {
	rd := openBytes(b, timingSidecar())
	zero, _ := rd.Int32("status/errorCode", 0)
	words := make([]uint64, 0, 1024)
	b.Run("AppendBlockWords/errorCode=0", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			words = AppendBlockWords(words[:0], zero, 3*65_536, 65_536)
		}
	})
	b.Run("OrBlockWords", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			bm := AllRows(0)
			OrBlockWords(bm, words, 3*65_536)
		}
	})
}
