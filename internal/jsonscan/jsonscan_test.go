package jsonscan

import "testing"

// stringEndRef is StringEnd one byte at a time.
func stringEndRef(b []byte, i, lim int) (int, bool) {
	escaped := false
	for ; i < lim; i++ {
		switch b[i] {
		case '"':
			return i + 1, escaped
		case '\\':
			escaped = true
			i++
		}
	}
	return -1, escaped
}

func checkStringEnd(t *testing.T, b []byte, i, lim int) {
	t.Helper()
	end, esc := StringEnd(b, i, lim)
	wantEnd, wantEsc := stringEndRef(b, i, lim)
	if end != wantEnd || (end >= 0 && esc != wantEsc) {
		t.Fatalf("StringEnd(%q, %d, %d) = %d, %v; want %d, %v", b, i, lim, end, esc, wantEnd, wantEsc)
	}
}

// TestStringEndMatchesOneByteAtATime tries every string of up to 6 bytes of a small alphabet,
// at every offset of a word and with every limit, padded past the limit with quotes that must
// not be seen.
func TestStringEndMatchesOneByteAtATime(t *testing.T) {
	alphabet := []byte{'"', '\\', 'a', 0x80 | '"', 0}
	var rec func(s []byte)
	rec = func(s []byte) {
		for pad := range 9 {
			b := make([]byte, pad, pad+len(s)+16)
			b = append(b, s...)
			for lim := pad; lim <= len(b); lim++ {
				full := append(b[:len(b):len(b)], []byte(`""""""""""""""""`)...)
				checkStringEnd(t, full, pad, lim)
			}
		}
		if len(s) == 6 {
			return
		}
		for _, c := range alphabet {
			rec(append(s, c))
		}
	}
	rec(nil)
}

func FuzzStringEnd(f *testing.F) {
	f.Add([]byte(`abc"`), 0, 4)
	f.Add([]byte(`a\"bcdefghijklmnop\\"x`), 0, 21)
	f.Add([]byte(`0123456789abcdef\`), 0, 17)
	f.Fuzz(func(t *testing.T, b []byte, i, lim int) {
		if i < 0 || lim < i || lim > len(b) {
			return
		}
		checkStringEnd(t, b, i, lim)
	})
}
