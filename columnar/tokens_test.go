package columnar

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// tokenCase is a block of text as uniqueTokenIdentifier holds it: mostly tokens, and what a
// token column may also hold: empty text, nulls, text that looks like a token and is not
// (a non-zero padding bit, a character outside base64url, a newline, 21 or 23 characters,
// standard base64's '+' and '/'), long and non-ASCII text.
func tokenCase(rows int, seed uint64) *array.String {
	rng := rand.New(rand.NewPCG(seed, 5))
	b := array.NewStringBuilder(memory.NewGoAllocator())
	defer b.Release()
	tok := func() string {
		var t [16]byte
		for i := range t {
			t[i] = byte(rng.Uint32())
		}
		return base64.RawURLEncoding.EncodeToString(t[:])
	}
	for range rows {
		switch rng.IntN(20) {
		case 0:
			b.AppendNull()
		case 1:
			b.Append("")
		case 2:
			b.Append(tok()[:21] + "B") // padding bits set: not canonical
		case 3:
			b.Append("!" + tok()[1:])
		case 4:
			b.Append(tok()[:10] + "\n" + tok()[11:])
		case 5:
			b.Append(tok()[:21])
		case 6:
			b.Append(tok() + "A")
		case 7:
			b.Append("+/" + tok()[2:])
		case 8:
			b.Append(strings.Repeat("é", 11)) // 22 bytes, not base64
		default:
			b.Append(tok())
		}
	}
	return b.NewArray().(*array.String)
}

// TestTokensRoundTrip: a token column's frames read back every value and null, re-encode to
// the same bytes, leave nothing allocated, and hold tokens in fewer bytes than text.
func TestTokensRoundTrip(t *testing.T) {
	for _, rows := range []int{0, 1, 9, 4096} {
		for seed := range uint64(3) {
			a := tokenCase(rows, seed)
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			frame, err := encodeFrameV4(KindText, a, 0, encodeTraits{tokens: true}, false)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeFrameV4(frame, KindText, rows, 0, mem, decodeTraits{tokens: true})
			if err != nil {
				t.Fatalf("%d rows, seed %d: %v", rows, seed, err)
			}
			if !array.Equal(got, a) || got.NullN() != a.NullN() {
				t.Fatalf("%d rows, seed %d: read back\n%v\nwrote\n%v", rows, seed, got, a)
			}
			raw1, _ := appendFrameV4(nil, KindText, a, 0, encodeTraits{tokens: true})
			raw2, err := appendFrameV4(nil, KindText, got, 0, encodeTraits{tokens: true})
			if err != nil || !bytes.Equal(raw1, raw2) {
				t.Fatalf("%d rows: re-encoding differs (%v)", rows, err)
			}
			got.Release()
			if left := mem.CurrentAlloc(); left != 0 {
				t.Fatalf("%d rows: %d bytes still allocated", rows, left)
			}
			if rows == 4096 && seed == 0 {
				plain, _ := encodeFrameV4(KindText, a, 0, encodeTraits{}, false)
				t.Logf("4,096 rows, 55%% tokens: %d bytes, %d as text", len(frame), len(plain))
			}
		}
	}
	// Tokens only: 16 bytes a row and little more, where their text took over 20.
	b := array.NewStringBuilder(memory.NewGoAllocator())
	rng := rand.New(rand.NewPCG(1, 1))
	for range 4096 {
		var tk [16]byte
		for i := range tk {
			tk[i] = byte(rng.Uint32())
		}
		b.Append(base64.RawURLEncoding.EncodeToString(tk[:]))
	}
	toks := b.NewArray()
	frame, _ := encodeFrameV4(KindText, toks, 0, encodeTraits{tokens: true}, false)
	plain, _ := encodeFrameV4(KindText, toks, 0, encodeTraits{}, false)
	t.Logf("4,096 tokens: %d bytes, %d as text", len(frame), len(plain))
	if len(frame) > 4096*33/2 || len(plain) < 4096*20 {
		t.Errorf("4,096 tokens take %d bytes, as text %d", len(frame), len(plain))
	}
	// A frame of tokens read by a column without the trait is refused, not misread.
	a := tokenCase(9, 1)
	frame, _ = encodeFrameV4(KindText, a, 0, encodeTraits{tokens: true}, false)
	if x, err := decodeFrameV4(frame, KindText, 9, 0, memory.NewGoAllocator(), decodeTraits{}); err == nil {
		t.Errorf("tokens read as plain text: %v", x)
	}
}

// tokenFrame writes a frame of tokens by hand.
func tokenFrame(valid, isTok []bool, toks [][]byte, lits []string) []byte {
	rows := len(valid)
	nulls := 0
	for _, v := range valid {
		if !v {
			nulls++
		}
	}
	bitmap := func(bits []bool) []byte {
		bm := make([]byte, (rows+7)/8)
		for i, v := range bits {
			if v {
				bm[i/8] |= 1 << (i % 8)
			}
		}
		return bm
	}
	b := binary.LittleEndian.AppendUint32(nil, uint32(rows))
	b = binary.LittleEndian.AppendUint32(b, uint32(nulls))
	b = append(b, encTokens, 0, 0, 0, 0, 0, 0, 0)
	if nulls > 0 {
		b = pad8(append(b, bitmap(valid)...))
	}
	b = pad8(append(b, bitmap(isTok)...))
	for _, tk := range toks {
		b = append(b, tk...)
	}
	b = pad8(b)
	off := uint32(0)
	b = binary.LittleEndian.AppendUint32(b, 0)
	for _, l := range lits {
		off += uint32(len(l))
		b = binary.LittleEndian.AppendUint32(b, off)
	}
	b = pad8(b)
	for _, l := range lits {
		b = append(b, l...)
	}
	return pad8(b)
}

// TestTokensRejects: frames of tokens that do not say one thing one way are refused.
func TestTokensRejects(t *testing.T) {
	tok := bytes.Repeat([]byte{7}, 16)
	tokText := base64.RawURLEncoding.EncodeToString(tok)
	yes, no := true, false
	for _, tc := range []struct {
		name  string
		raw   []byte
		wants string
	}{
		{"a null token", tokenFrame([]bool{yes, no}, []bool{yes, yes}, [][]byte{tok, tok}, nil), "2 tokens in 2 rows with 1 nulls"},
		{"a null token, a literal before", tokenFrame([]bool{yes, no, yes}, []bool{no, yes, yes}, [][]byte{tok, tok}, nil), "null row 1 is marked"},
		{"a token as text", tokenFrame([]bool{yes, yes}, []bool{yes, no}, [][]byte{tok}, []string{tokText}), "is a token stored as text"},
		{"a literal too many", tokenFrame([]bool{yes, yes}, []bool{yes, no}, [][]byte{tok}, []string{"a", "b"}), "bytes after the literals"},
		{"tokens short", tokenFrame([]bool{yes, yes}, []bool{yes, yes}, [][]byte{tok}, nil), "runs past"},
	} {
		expectRefused(t, tc.name, tc.raw, KindText, int(binary.LittleEndian.Uint32(tc.raw)), decodeTraits{tokens: true}, tc.wants)
	}
	// Bits past the last row.
	raw := tokenFrame([]bool{yes, yes}, []bool{yes, yes}, [][]byte{tok, tok}, nil)
	raw[frameV4Header] |= 0x80
	if a, err := decodeFrameV4(zstdFast.EncodeAll(raw, nil), KindText, 2, 0, memory.NewGoAllocator(), decodeTraits{tokens: true}); err == nil {
		t.Errorf("a token bit past the rows accepted: %v", a)
	}
}

// FuzzTokens feeds the reader of a token column frames it did not write: whatever it accepts
// validates and re-encodes to the bytes it read.
func FuzzTokens(f *testing.F) {
	var seeds []*array.String
	for seed := range uint64(3) {
		seeds = append(seeds, tokenCase(30, seed))
	}
	fuzzPacked(f, seeds, tokenSpelling)
}

// fuzzPacked feeds the reader of sp's frames (a token column's, or dictionary pages of GUIDs)
// frames it did not write, seeded with the frames of seeds: whatever it accepts validates and
// re-encodes to the bytes it read.
func fuzzPacked(f *testing.F, seeds []*array.String, sp *packed16) {
	enc := encodeTraits{tokens: sp == tokenSpelling, guidPage: sp == guidSpelling}
	for _, a := range seeds {
		raw, err := appendFrameV4(nil, KindText, a, 0, enc)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) { packedFrameRoundTrips(t, raw, sp) })
}

// packedFrameRoundTrips decodes raw as a frame of sp's column (a frame of its text whose rows
// the header says): if it is accepted, it validates, re-encodes to raw and leaves nothing
// allocated once released. It reports whether raw was accepted.
func packedFrameRoundTrips(t *testing.T, raw []byte, sp *packed16) bool {
	t.Helper()
	enc := encodeTraits{tokens: sp == tokenSpelling, guidPage: sp == guidSpelling}
	dec := decodeTraits{tokens: enc.tokens, guidPage: enc.guidPage}
	rows := 0
	if len(raw) >= 4 {
		if rows = int(binary.LittleEndian.Uint32(raw)); rows > 1<<12 {
			return false
		}
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	a := fuzzDecode(t, raw, KindText, rows, 0, mem, dec)
	if a == nil {
		return false
	}
	// A token column's frames of version 4 are plain text (encoding 0).
	again, err := appendFrameV4(nil, KindText, a, 0, encodeTraits{tokens: enc.tokens && raw[8] == encTokens, guidPage: enc.guidPage})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again, raw) {
		t.Fatalf("accepted frame re-encodes differently:\nread  %x\nwrote %x", raw, again)
	}
	a.Release()
	if left := mem.CurrentAlloc(); left != 0 {
		t.Fatalf("%d bytes still allocated after the array was released", left)
	}
	return true
}
