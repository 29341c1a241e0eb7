package columnar

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/authlake/authlake/internal/utctime"
)

// jsonTimesCase is a block of authenticationDetails and its createdDateTime: mostly steps at
// the row's time (in seconds, as Graph writes them), and what such a column may also hold:
// steps seconds before or after, fraction digits, times that are not this spelling (an
// offset, a leap second, a day the month lacks), a time as an object key, escaped quotes,
// nulls, rows without a time, times out of a mark's range, and non-JSON text.
func jsonTimesCase(rows int, seed uint64) (*array.String, *array.Timestamp) {
	rng := rand.New(rand.NewPCG(seed, 11))
	sb := array.NewStringBuilder(memory.NewGoAllocator())
	defer sb.Release()
	tb := array.NewTimestampBuilder(memory.NewGoAllocator(), KindTime.ArrowType().(*arrow.TimestampType))
	defer tb.Release()
	base := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	for range rows {
		at := base.Add(time.Duration(rng.IntN(86400)) * time.Second)
		switch rng.IntN(40) {
		case 0:
			tb.AppendNull()
		case 1:
			tb.Append(arrow.Timestamp(utctime.MaxNanos + 1))
		case 2:
			at = at.Add(time.Duration(rng.IntN(1e9)))
			tb.Append(arrow.Timestamp(at.UnixNano()))
		default:
			tb.Append(arrow.Timestamp(at.UnixNano()))
		}
		step := func(t time.Time, k int) string {
			return fmt.Sprintf(`{"authenticationStepDateTime":"%s","authenticationMethod":"Password","succeeded":true}`, utctime.Append(nil, t.UnixNano(), k))
		}
		switch rng.IntN(20) {
		case 0:
			sb.AppendNull()
		case 1:
			sb.Append(`[` + step(at.Add(-time.Duration(rng.IntN(90))*time.Second), 0) + `,` + step(at.Add(time.Duration(rng.IntN(5))*time.Second), 0) + `]`)
		case 2:
			sb.Append(`[` + step(at, 7) + `,` + step(at, 3) + `]`)
		case 3:
			sb.Append(`[{"authenticationStepDateTime":"` + at.Format("2006-01-02T15:04:05+00:00") + `"},{"x":"2026-11-30T23:59:60Z"},{"y":"2026-02-30T00:00:00Z"}]`)
		case 4:
			sb.Append(`{"` + at.Format(time.RFC3339) + `":"\"` + at.Format(time.RFC3339) + `\""}`)
		case 5:
			sb.Append(`[]`)
		case 6:
			sb.Append(`"` + at.Format(time.RFC3339)) // unterminated
		case 7:
			sb.Append(`[{"authenticationStepDateTime":"` + time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339) + `"}]`)
		default:
			sb.Append(`[` + step(at, 0) + `,` + step(at, 0) + `]`)
		}
	}
	return sb.NewArray().(*array.String), tb.NewArray().(*array.Timestamp)
}

func timesOf(ts *array.Timestamp) func() (arrow.Array, error) {
	return func() (arrow.Array, error) { ts.Retain(); return ts, nil }
}

// TestJSONTimesRoundTrip: a JSON column with times reads back every value and null exactly,
// re-encodes to the same bytes, leaves nothing allocated, and is far smaller than its text.
func TestJSONTimesRoundTrip(t *testing.T) {
	for _, rows := range []int{0, 1, 9, 4096} {
		for seed := range uint64(3) {
			a, ts := jsonTimesCase(rows, seed)
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			traits := encodeTraits{times: ts}
			raw, err := appendFrameV4(nil, KindJSON, a, 0, traits)
			if err != nil {
				t.Fatal(err)
			}
			if raw[8] != encJSONTimes {
				t.Fatalf("%d rows: encoding %d", rows, raw[8])
			}
			frame, _ := encodeFrameV4(KindJSON, a, 0, traits, false)
			got, err := decodeFrameV4(frame, KindJSON, rows, 0, mem, decodeTraits{times: timesOf(ts)})
			if err != nil {
				t.Fatalf("%d rows, seed %d: %v", rows, seed, err)
			}
			if !array.Equal(got, a) || got.NullN() != a.NullN() {
				t.Fatalf("%d rows, seed %d: read back\n%v\nwrote\n%v", rows, seed, got, a)
			}
			again, err := appendFrameV4(nil, KindJSON, got, 0, traits)
			if err != nil || !bytes.Equal(raw, again) {
				t.Fatalf("%d rows: re-encoding differs (%v)", rows, err)
			}
			got.Release()
			if left := mem.CurrentAlloc(); left != 0 {
				t.Fatalf("%d rows: %d bytes still allocated", rows, left)
			}
			if rows == 4096 && seed == 0 {
				plain, _ := encodeFrameV4(KindJSON, a, 0, encodeTraits{}, false)
				t.Logf("4,096 rows of every kind: %d bytes, %d as text", len(frame), len(plain))
			}
		}
	}
	// A block as Graph writes it (two steps at the sign-in's time, in seconds, rows of users
	// ordered by user): a few templates and a byte a row, where each row's text was unique.
	{
		sb := array.NewStringBuilder(memory.NewGoAllocator())
		tb := array.NewTimestampBuilder(memory.NewGoAllocator(), KindTime.ArrowType().(*arrow.TimestampType))
		rng := rand.New(rand.NewPCG(1, 2))
		methods := []string{"Password", "Previously satisfied", "Mobile app notification", "FIDO2 security key"}
		for range 4096 {
			at := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(86400)) * time.Second)
			tb.Append(arrow.Timestamp(at.UnixNano()))
			s := at.Format(time.RFC3339)
			sb.Append(fmt.Sprintf(`[{"authenticationStepDateTime":"%s","authenticationMethod":"%s","succeeded":true},{"authenticationStepDateTime":"%s","authenticationMethod":"%s","succeeded":%v}]`,
				s, methods[rng.IntN(2)], s, methods[2+rng.IntN(2)], rng.IntN(10) > 0))
		}
		a, ts := sb.NewArray(), tb.NewArray()
		frame, _ := encodeFrameV4(KindJSON, a, 0, encodeTraits{times: ts}, false)
		plain, _ := encodeFrameV4(KindJSON, a, 0, encodeTraits{}, false)
		t.Logf("4,096 rows as Graph writes them: %d bytes, %d as text", len(frame), len(plain))
		if 10*len(frame) > len(plain) {
			t.Errorf("4,096 rows as Graph writes them take %d bytes, as text %d", len(frame), len(plain))
		}
	}
	// A block holding a 0x01 byte keeps the plain encoding, and reads back.
	sb := array.NewStringBuilder(memory.NewGoAllocator())
	sb.Append("[\"\x010\"]")
	sb.Append(`["2026-11-30T00:00:00Z"]`)
	a := sb.NewArray()
	tb := array.NewTimestampBuilder(memory.NewGoAllocator(), KindTime.ArrowType().(*arrow.TimestampType))
	tb.AppendValues([]arrow.Timestamp{0, arrow.Timestamp(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC).UnixNano())}, nil)
	ts := tb.NewArray().(*array.Timestamp)
	frame, _ := encodeFrameV4(KindJSON, a, 0, encodeTraits{times: ts}, false)
	got, err := decodeFrameV4(frame, KindJSON, 2, 0, memory.NewGoAllocator(), decodeTraits{times: timesOf(ts)})
	if err != nil || !array.Equal(got, a) {
		t.Fatalf("a block with a 0x01 byte: %v, %v", got, err)
	}
	// Templates read by a column without the trait (or a version before 7) are refused.
	a, ts = jsonTimesCase(9, 1)
	frame, _ = encodeFrameV4(KindJSON, a, 0, encodeTraits{times: ts}, false)
	if got, err := decodeFrameV4(frame, KindJSON, 9, 0, memory.NewGoAllocator(), decodeTraits{}); err == nil {
		t.Fatalf("templates read as text: %v", got)
	}
}

// timesFrame builds an encJSONTimes frame's content by hand.
func timesFrame(valid []bool, tmpls []string, codes []int) []byte {
	rows := len(valid)
	nulls := 0
	for _, v := range valid {
		if !v {
			nulls++
		}
	}
	raw := binary.LittleEndian.AppendUint32(nil, uint32(rows))
	raw = binary.LittleEndian.AppendUint32(raw, uint32(nulls))
	raw = append(raw, encJSONTimes, 0, 0, 0, 0, 0, 0, 0)
	if nulls > 0 {
		bm := make([]byte, (rows+7)/8)
		for i, v := range valid {
			if v {
				bm[i/8] |= 1 << (i % 8)
			}
		}
		raw = pad8(append(raw, bm...))
	}
	bs := make([][]byte, len(tmpls))
	for i, s := range tmpls {
		bs[i] = []byte(s)
	}
	cs := make([]int32, len(codes))
	for i, c := range codes {
		cs[i] = int32(c)
	}
	return appendBlockDict(raw, bs, cs)
}

// TestJSONTimesRefusesOtherSpellings: a frame the writer would not have written is refused
// with a reason, not read as something else.
func TestJSONTimesRefusesOtherSpellings(t *testing.T) {
	day := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC).UnixNano()
	tb := array.NewTimestampBuilder(memory.NewGoAllocator(), KindTime.ArrowType().(*arrow.TimestampType))
	tb.AppendValues([]arrow.Timestamp{arrow.Timestamp(day), arrow.Timestamp(day)}, []bool{true, false})
	ts := tb.NewArray().(*array.Timestamp)
	traits := decodeTraits{times: timesOf(ts)}
	yes, no := true, false
	for _, tc := range []struct {
		name  string
		raw   []byte
		wants string
	}{
		{"templates out of order", timesFrame([]bool{yes, yes}, []string{`"a"`, `"b"`}, []int{1, 0}), "the next new one"},
		{"a template unused", timesFrame([]bool{yes, yes}, []string{`"a"`, `"b"`}, []int{0, 0}), "1 of 2 entries"},
		{"a repeated template", timesFrame([]bool{yes, yes}, []string{`"a"`, `"a"`}, []int{0, 1}), "repeats"},
		{"a code under a null row", timesFrame([]bool{no, yes}, []string{`"a"`, `"b"`}, []int{1, 0}), "null row 0"},
		{"a time as text in a row with one", timesFrame([]bool{yes, yes}, []string{`"2026-11-30T08:00:00Z"`, "\"\x010\""}, []int{0, 1}), "spells one as text"},
		{"a mark in a row without a time", timesFrame([]bool{yes, yes}, []string{`"a"`, "\"\x010\""}, []int{0, 1}), "no time"},
		{"a zero offset", timesFrame([]bool{yes, no}, []string{"\"\x010+0\""}, []int{0, 0}), "offset"},
		{"an offset without a sign", timesFrame([]bool{yes, no}, []string{"\"\x0105\""}, []int{0, 0}), "offset"},
		{"a leading zero", timesFrame([]bool{yes, no}, []string{"\"\x010+05\""}, []int{0, 0}), "offset"},
		{"a mark outside a string", timesFrame([]bool{yes, no}, []string{"[\x010]"}, []int{0, 0}), "whole content"},
		{"a mark without digits", timesFrame([]bool{yes, no}, []string{"\"\x01\""}, []int{0, 0}), "no fraction digits"},
		{"a mark inside a string", timesFrame([]bool{yes, no}, []string{"\"a\x010\""}, []int{0, 0}), "whole content"},
		{"a mark between strings", timesFrame([]bool{yes, no}, []string{"{x\":\"\x010\"}"}, []int{0, 0}), "whole content"},
		{"an offset finer than the digits", timesFrame([]bool{yes, no}, []string{"\"\x010+500\""}, []int{0, 0}), "finer"},
		{"an offset past the range", timesFrame([]bool{yes, no}, []string{"\"\x010+9000000000000000000\""}, []int{0, 0}), "out of range"},
	} {
		expectRefused(t, tc.name, tc.raw, KindJSON, 2, traits, tc.wants)
	}
	// The offset of a step before the row's time reads back.
	raw := timesFrame([]bool{yes, no}, []string{"[\"\x010-90000000000\"]"}, []int{0, 0})
	a, err := decodeFrameV4(zstdFast.EncodeAll(raw, nil), KindJSON, 2, 0, memory.NewGoAllocator(), traits)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.(*array.String).Value(0); got != `["2026-11-30T07:58:30Z"]` {
		t.Fatalf("read %q", got)
	}
}

// FuzzJSONTimes feeds the reader of JSON-times frames it did not write: whatever it accepts
// validates and re-encodes to the bytes it read.
func FuzzJSONTimes(f *testing.F) {
	for seed := range uint64(3) {
		a, ts := jsonTimesCase(30, seed)
		raw, err := appendFrameV4(nil, KindJSON, a, 0, encodeTraits{times: ts})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(seed, raw)
	}
	f.Fuzz(func(t *testing.T, seed uint64, raw []byte) {
		rows := 0
		if len(raw) >= 4 {
			if rows = int(binary.LittleEndian.Uint32(raw)); rows > 1<<12 {
				return
			}
		}
		_, ts := jsonTimesCase(rows, seed%3)
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		a := fuzzDecode(t, raw, KindJSON, rows, 0, mem, decodeTraits{times: timesOf(ts)})
		if a == nil {
			return
		}
		again, err := appendFrameV4(nil, KindJSON, a, 0, encodeTraits{times: ts})
		if err != nil {
			t.Fatal(err)
		}
		if raw[8] == encJSONTimes && !slices.Equal(again, raw) {
			t.Fatalf("accepted frame re-encodes differently:\nread  %q\nwrote %q", raw, again)
		}
		a.Release()
		if left := mem.CurrentAlloc(); left != 0 {
			t.Fatalf("%d bytes still allocated after the array was released", left)
		}
	})
}
