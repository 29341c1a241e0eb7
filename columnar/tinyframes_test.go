package columnar

import (
	"bytes"
	"fmt"
	"testing"
)

// decodeFrameAll is zstd's DecodeAll, whether a tiny frame's content comes from the decoder
// or from what was kept: appended after what dst holds, the same bytes the first time and
// after; a frame of more than tinyFrameBytes or of more content than tinyFrameContent is not
// kept, at most tinyFramesKept are, and a damaged frame is refused every time.
func TestTinyFramesDecodeAsZstdDoes(t *testing.T) {
	content := func(n int, b byte) []byte {
		c := make([]byte, n)
		for i := range c {
			c[i] = b
		}
		copy(c, fmt.Sprintf("frame %d of %d", b, n))
		return c
	}
	for _, c := range [][]byte{content(4096+528, 0), content(16, 1), content(tinyFrameContent+1, 2), []byte("x")} {
		frame := zstdFast.EncodeAll(c, nil)
		for round := range 3 {
			got, err := decodeFrameAll(frame, []byte("prefix"))
			if err != nil {
				t.Fatalf("%d-byte frame, round %d: %v", len(frame), round, err)
			}
			if !bytes.Equal(got, append([]byte("prefix"), c...)) {
				t.Fatalf("%d-byte frame, round %d: %d bytes, not the content after the prefix", len(frame), round, len(got))
			}
		}
		tinyFrames.mu.RLock()
		_, kept := tinyFrames.m[string(frame)]
		tinyFrames.mu.RUnlock()
		if want := len(frame) <= tinyFrameBytes && len(c) <= tinyFrameContent; kept != want {
			t.Fatalf("%d-byte frame of %d bytes: kept %v, want %v", len(frame), len(c), kept, want)
		}
	}
	frame := zstdFast.EncodeAll(content(4096, 3), nil)
	bad := bytes.Clone(frame)
	bad[len(bad)-1] ^= 0xff
	for round := range 2 {
		if _, err := decodeFrameAll(bad, nil); err == nil {
			t.Fatalf("round %d: a damaged frame decoded", round)
		}
	}
	for i := range 2 * tinyFramesKept {
		if _, err := decodeFrameAll(zstdFast.EncodeAll(fmt.Appendf(nil, "frame number %d", i), nil), nil); err != nil {
			t.Fatal(err)
		}
	}
	tinyFrames.mu.RLock()
	n := len(tinyFrames.m)
	tinyFrames.mu.RUnlock()
	if n > tinyFramesKept {
		t.Fatalf("%d frames kept, the bound is %d", n, tinyFramesKept)
	}
}
