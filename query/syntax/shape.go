package syntax

import "strings"

// Shape is s with its literals taken out: each string (prefixed or not, terminated or not) is
// written as an empty string (two quotes), each JSON string as "", each number, date, time,
// date-time or GUID as 0, and each run of whitespace as one space. Everything else is kept as
// written. Two filters that differ only in their literals have one shape, and a shape is its
// own shape.
//
// Shape reads any text, valid or not, with the filter lexer, so it agrees with the parser on
// where a literal starts and ends (a doubled quote inside a string is an escaped quote). The
// server uses it to group queries by what they cost, before it parses them.
func Shape(s string) string {
	l, err := lexDef.LexString("", s)
	if err != nil {
		return s // the lexer's catch-all rules never fail; keep the text if they ever do
	}
	var b strings.Builder
	b.Grow(len(s))
	var prevLit, prevTight bool // the last token written was a literal; was punctuation or space
	for {
		t, err := l.Next()
		if err != nil || t.EOF() {
			return b.String()
		}
		if t.Type == tokWhitespace {
			b.WriteByte(' ')
			prevLit, prevTight = false, true
			continue
		}
		out, lit := t.Value, true
		switch t.Type {
		case tokString, tokPrefixedString, tokUnterminatedString:
			out = "''"
		case tokJSONString, tokUnterminatedJSONString:
			out = `""`
		case tokNumber, tokDate, tokTimeOfDay, tokDateTimeOffset, tokGUID:
			out = "0"
		default:
			lit = false
		}
		// A literal's stand-in is kept apart from a neighbour that is neither punctuation nor
		// space: written against it, the two could read as one token the next time (1.5.5 as
		// 0.0, a number; a+1'x' as a0'', a prefixed string; 1+2 as 00), and the shape of the
		// shape would differ.
		tight := t.Type == tokPunct
		if (lit || prevLit) && b.Len() > 0 && !prevTight && !tight {
			b.WriteByte(' ')
		}
		b.WriteString(out)
		prevLit, prevTight = lit, tight
	}
}
