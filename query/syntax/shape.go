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
	last := ""
	for {
		t, err := l.Next()
		if err != nil || t.EOF() {
			return b.String()
		}
		out, lit := t.Value, true
		switch t.Type {
		case tokString, tokPrefixedString, tokUnterminatedString:
			out = "''"
		case tokJSONString, tokUnterminatedJSONString:
			out = `""`
		case tokNumber, tokDate, tokTimeOfDay, tokDateTimeOffset, tokGUID:
			out = "0"
		case tokWhitespace:
			out, lit = " ", false
		default:
			lit = false
		}
		// Two literals of a kind next to each other are written once: written twice they would
		// read as one (four quotes are one string, 00 is one number) and the shape would change.
		if lit && out == last {
			continue
		}
		b.WriteString(out)
		last = out
	}
}
