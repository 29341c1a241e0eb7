package syntax

import (
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// Identifier characters follow the ABNF's odataIdentifier (letters, letter
// numbers and '_' first; then also digits, marks, connector punctuation and
// format characters). Qualified names (Ns.Type) are one token because a dot
// can only ever join identifiers in this language.
const (
	identStart = `[\p{L}\p{Nl}_]`
	identRest  = `[\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}\p{Pc}\p{Cf}]*`
	identPart  = identStart + identRest
	qualIdent  = identPart + `(?:\.` + identPart + `)*`
	quoted     = `'(?:[^']|'')*'`
	timeOfDay  = `\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?`
	dateRE     = `-?\d{4,}-\d{2}-\d{2}`
	hexRE      = `[0-9A-Fa-f]`
)

// lexRules are tried in order, first match wins, so the longer literal forms
// (GUID before Date before Number, prefixed strings before identifiers) come
// first. Keywords are deliberately not a lexer rule: they are identifiers that
// the parser recognises by case-insensitive comparison in operator position,
// which gives word boundaries for free (`android`, `index`, `order` stay
// identifiers) and works for non-ASCII identifier characters where RE2's
// ASCII-only \b would not. The final catch-all rules mean the lexer never
// fails: the parser turns Bad and unterminated tokens into positioned errors.
var lexRules = []lexer.SimpleRule{
	{Name: "Whitespace", Pattern: `[ \t\r\n]+`},
	{Name: "PrefixedString", Pattern: qualIdent + quoted},
	{Name: "String", Pattern: quoted},
	{Name: "UnterminatedString", Pattern: `(?:` + qualIdent + `)?'(?:[^']|'')*`},
	{Name: "JSONString", Pattern: `"(?:[^"\\]|\\.)*"`},
	{Name: "UnterminatedJSONString", Pattern: `"(?:[^"\\]|\\.)*\\?`},
	{Name: "DateTimeOffset", Pattern: dateRE + `[Tt]` + timeOfDay + `(?:[Zz]|[+-]\d{2}:\d{2})`},
	{Name: "GUID", Pattern: hexRE + `{8}-` + hexRE + `{4}-` + hexRE + `{4}-` + hexRE + `{4}-` + hexRE + `{12}\b`},
	{Name: "Date", Pattern: dateRE},
	{Name: "TimeOfDay", Pattern: timeOfDay},
	{Name: "Number", Pattern: `\+?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|INF\b|NaN\b`},
	{Name: "Ident", Pattern: `(?:\$|@)?` + qualIdent + `(?:#` + identPart + `)?`},
	{Name: "Punct", Pattern: `[(),/:\[\]{}=;-]`},
	{Name: "Bad", Pattern: `.`},
}

var lexDef = lexer.MustSimple(lexRules)

// Token types resolved once; the parser switches on these.
var (
	tokWhitespace             = lexDef.Symbols()["Whitespace"]
	tokPrefixedString         = lexDef.Symbols()["PrefixedString"]
	tokString                 = lexDef.Symbols()["String"]
	tokUnterminatedString     = lexDef.Symbols()["UnterminatedString"]
	tokJSONString             = lexDef.Symbols()["JSONString"]
	tokUnterminatedJSONString = lexDef.Symbols()["UnterminatedJSONString"]
	tokDateTimeOffset         = lexDef.Symbols()["DateTimeOffset"]
	tokGUID                   = lexDef.Symbols()["GUID"]
	tokDate                   = lexDef.Symbols()["Date"]
	tokTimeOfDay              = lexDef.Symbols()["TimeOfDay"]
	tokNumber                 = lexDef.Symbols()["Number"]
	tokIdent                  = lexDef.Symbols()["Ident"]
	tokPunct                  = lexDef.Symbols()["Punct"]
	tokBad                    = lexDef.Symbols()["Bad"]
)

// lex tokenises s with the participle lexer and returns a PeekingLexer with
// whitespace elided.
func lex(s string) (*lexer.PeekingLexer, error) {
	l, err := lexDef.LexString("", s)
	if err != nil {
		return nil, err
	}
	return lexer.Upgrade(l, tokWhitespace)
}

// isWord reports whether t is an identifier spelled like the keyword kw
// (already lower case), ignoring case.
func isWord(t *lexer.Token, kw string) bool {
	return t.Type == tokIdent && len(t.Value) == len(kw) && strings.EqualFold(t.Value, kw)
}

func isPunct(t *lexer.Token, p string) bool {
	return t.Type == tokPunct && t.Value == p
}
