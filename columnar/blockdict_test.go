package columnar

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// extrasCase is a block of the extras column: mostly a few repeated entries lists (as the
// properties Graph sends empty or absent), some unique ones, empty values and nulls, and bytes
// of every value (0x01 included, which the extras encoding itself uses).
func extrasCase(rows int, seed uint64) arrow.Array {
	rng := rand.New(rand.NewPCG(seed, 13))
	b := array.NewBinaryBuilder(memory.NewGoAllocator(), arrow.BinaryTypes.Binary)
	defer b.Release()
	common := [][]byte{
		[]byte("\x01\x0fclientSessionId\x02\"\"\x03\x05agent\x02\x0eriskEventTypes\x02\x13alternateSignInName"),
		[]byte("\x01\tsessionId\x02\"\"\x01\x0fclientSessionId\x02\"\"\x03\x05agent"),
	}
	for range rows {
		switch rng.IntN(10) {
		case 0:
			b.AppendNull()
		case 1:
			b.Append([]byte{})
		case 2:
			v := make([]byte, rng.IntN(40))
			for i := range v {
				v[i] = byte(rng.Uint32())
			}
			b.Append(v)
		default:
			b.Append(common[rng.IntN(len(common))])
		}
	}
	return b.NewArray()
}

// TestBlockDictRoundTrip: the extras column's frames read back every value and null exactly,
// re-encode to the same bytes, leave nothing allocated, and repeated values cost little.
func TestBlockDictRoundTrip(t *testing.T) {
	for _, rows := range []int{0, 1, 9, 4096} {
		for seed := range uint64(3) {
			a := extrasCase(rows, seed)
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			raw, err := appendFrameV4(nil, KindExtras, a, 0, encodeTraits{blockDict: true})
			if err != nil {
				t.Fatal(err)
			}
			if raw[8] != encBlockDict {
				t.Fatalf("encoding %d", raw[8])
			}
			frame := zstdFast.EncodeAll(raw, nil)
			got, err := decodeFrameV4(frame, KindExtras, rows, 0, mem, decodeTraits{blockDict: true})
			if err != nil {
				t.Fatalf("%d rows, seed %d: %v", rows, seed, err)
			}
			if !array.Equal(got, a) || got.NullN() != a.NullN() {
				t.Fatalf("%d rows, seed %d: read back\n%v\nwrote\n%v", rows, seed, got, a)
			}
			again, err := appendFrameV4(nil, KindExtras, got, 0, encodeTraits{blockDict: true})
			if err != nil || !bytes.Equal(raw, again) {
				t.Fatalf("%d rows: re-encoding differs (%v)", rows, err)
			}
			got.Release()
			if left := mem.CurrentAlloc(); left != 0 {
				t.Fatalf("%d rows: %d bytes still allocated", rows, left)
			}
			// The encodings are per version: neither reads as the other.
			plain, _ := encodeFrameV4(KindExtras, a, 0, encodeTraits{}, false)
			if got, err := decodeFrameV4(plain, KindExtras, rows, 0, memory.NewGoAllocator(), decodeTraits{blockDict: true}); err == nil {
				t.Fatalf("a version-6 frame read as version 7: %v", got)
			}
			if got, err := decodeFrameV4(frame, KindExtras, rows, 0, memory.NewGoAllocator(), decodeTraits{}); err == nil && rows > 0 {
				t.Fatalf("a version-7 frame read as version 6: %v", got)
			}
		}
	}
}

// TestBlockDictSize: a block as the extras column mostly holds (a few lists of absent and
// empty properties, repeated) costs a few bytes, where its offsets alone took kilobytes.
func TestBlockDictSize(t *testing.T) {
	b := array.NewBinaryBuilder(memory.NewGoAllocator(), arrow.BinaryTypes.Binary)
	rng := rand.New(rand.NewPCG(1, 3))
	for range 4096 {
		if rng.IntN(4) == 0 {
			b.Append([]byte("\x01\tsessionId\x02\"\"\x01\x0fclientSessionId\x02\"\"\x03\x05agent"))
		} else {
			b.Append([]byte("\x01\x0fclientSessionId\x02\"\"\x03\x05agent\x02\x0eriskEventTypes"))
		}
	}
	a := b.NewArray()
	frame, _ := encodeFrameV4(KindExtras, a, 0, encodeTraits{blockDict: true}, false)
	plain, _ := encodeFrameV4(KindExtras, a, 0, encodeTraits{}, false)
	t.Logf("4,096 rows: %d bytes, %d as plain values", len(frame), len(plain))
	if 10*len(frame) > len(plain) {
		t.Errorf("4,096 rows take %d bytes, as plain values %d", len(frame), len(plain))
	}
}

// FuzzBlockDict feeds the reader of the extras column's frames it did not write: whatever it
// accepts validates and re-encodes to the bytes it read.
func FuzzBlockDict(f *testing.F) {
	for seed := range uint64(3) {
		raw, err := appendFrameV4(nil, KindExtras, extrasCase(30, seed), 0, encodeTraits{blockDict: true})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		rows := 0
		if len(raw) >= 4 {
			if rows = int(binary.LittleEndian.Uint32(raw)); rows > 1<<12 {
				return
			}
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		a := fuzzDecode(t, raw, KindExtras, rows, 0, mem, decodeTraits{blockDict: true})
		if a == nil {
			return
		}
		again, err := appendFrameV4(nil, KindExtras, a, 0, encodeTraits{blockDict: true})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(again, raw) {
			t.Fatalf("accepted frame re-encodes differently:\nread  %q\nwrote %q", raw, again)
		}
		a.Release()
		if left := mem.CurrentAlloc(); left != 0 {
			t.Fatalf("%d bytes still allocated after the array was released", left)
		}
	})
}

// TestMutatedBlockDictsHaveOneSpelling feeds both block-dictionary decoders frames the writer
// wrote and then damaged at random (bytes replaced, flipped, cut, set to the marks' own
// characters; CRCs do not guard here): whatever they accept must validate, leave nothing
// allocated and re-encode to the bytes read. A deterministic stand-in for fuzzing, which runs
// at about one input a second on the machines these tests were written on; it found the two
// second spellings TestJSONTimesRefusesOtherSpellings now lists (a mark inside a string as a
// damaged quote pairs them, an offset finer than its digits).
func TestMutatedBlockDictsHaveOneSpelling(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var js, xs [][]byte
	for seed := range uint64(3) {
		a, ts := jsonTimesCase(30, seed)
		raw, _ := appendFrameV4(nil, KindJSON, a, 0, encodeTraits{times: ts})
		js = append(js, raw)
		raw, _ = appendFrameV4(nil, KindExtras, extrasCase(30, seed), 0, encodeTraits{blockDict: true})
		xs = append(xs, raw)
	}
	mutate := func(raw []byte) []byte {
		raw = slices.Clone(raw)
		for range 1 + rng.IntN(4) {
			switch rng.IntN(4) {
			case 0:
				raw[rng.IntN(len(raw))] = byte(rng.Uint32())
			case 1:
				raw[rng.IntN(len(raw))] ^= 1 << rng.IntN(8)
			case 2:
				raw = raw[:rng.IntN(len(raw))+1]
			default:
				raw[rng.IntN(len(raw))] = "\x01\"+-0123456789Z:T.\x00\\"[rng.IntN(20)]
			}
		}
		return raw
	}
	accepted := [2]int{}
	for it := range 30_000 / mutationRounds {
		si, extras := rng.IntN(3), it%2 == 1
		kind, raw := KindJSON, mutate(js[si])
		if extras {
			kind, raw = KindExtras, mutate(xs[si])
		}
		rows := 0
		if len(raw) >= 4 {
			if rows = int(binary.LittleEndian.Uint32(raw)); rows > 1<<12 {
				continue
			}
		}
		_, ts := jsonTimesCase(rows, uint64(si))
		dec, enc := decodeTraits{times: timesOf(ts)}, encodeTraits{times: ts}
		if extras {
			dec, enc = decodeTraits{blockDict: true}, encodeTraits{blockDict: true}
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		a := fuzzDecode(t, raw, kind, rows, 0, mem, dec)
		if a == nil {
			continue
		}
		accepted[it%2]++
		again, err := appendFrameV4(nil, kind, a, 0, enc)
		if err != nil || !slices.Equal(again, raw) {
			t.Fatalf("an accepted %s frame re-encodes differently (%v):\nread  %q\nwrote %q", kind, err, raw, again)
		}
		a.Release()
		if left := mem.CurrentAlloc(); left != 0 {
			t.Fatalf("%d bytes still allocated", left)
		}
	}
	if accepted[0] < 1000/mutationRounds || accepted[1] < 1000/mutationRounds {
		t.Fatalf("accepted %v of the damaged frames: too few to say anything", accepted)
	}
}
