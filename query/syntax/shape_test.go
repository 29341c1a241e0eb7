package syntax

import "testing"

// Every string of up to four characters of an alphabet that makes literals, and the
// characters that could join them into other tokens, is shaped twice: a shape is its own shape.
// FuzzShape goes further, slowly (the lexer reads a few MB/s).
func TestShapeOfShortStringsIsItsOwnShape(t *testing.T) {
	const alphabet = "01.e'a+-:T\" ("
	var walk func(s string, n int)
	walk = func(s string, n int) {
		once := Shape(s)
		if again := Shape(once); again != once {
			t.Fatalf("the shape of %q is %q, whose shape is %q", s, once, again)
		}
		if n == 0 {
			return
		}
		for i := range len(alphabet) {
			walk(s+alphabet[i:i+1], n-1)
		}
	}
	walk("", 4)
}
