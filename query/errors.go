package query

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/authlake/authlake/query/syntax"
)

// Error is a positioned error in a $filter, $orderby, $apply or $select value. Its text
// starts with Graph's "Invalid filter clause" so that the server can pass it through.
type Error struct {
	Pos  syntax.Pos
	Msg  string
	Hint string // e.g. "did you mean 'flaggedForReview'?"; may be empty
}

func (e *Error) Error() string {
	s := fmt.Sprintf("Invalid filter clause: %s at %d:%d", e.Msg, e.Pos.Line, e.Pos.Column)
	if e.Pos.Line == 0 {
		// A node of a Request.Where predicate: it has no text to point into.
		s = "Invalid filter clause: " + e.Msg + " in the Where predicate"
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

func errorf(at syntax.Pos, format string, args ...any) *Error {
	return &Error{Pos: at, Msg: fmt.Sprintf(format, args...)}
}

// wrapSyntax turns a *syntax.Error into an *Error, keeping the position.
func wrapSyntax(err error) error {
	var se *syntax.Error
	if errors.As(err, &se) {
		// Keep the documented shape: message, position, then the suggestion.
		if i := strings.Index(se.Msg, " (did you mean "); i >= 0 && strings.HasSuffix(se.Msg, ")") {
			return &Error{Pos: se.Pos, Msg: se.Msg[:i], Hint: se.Msg[i+2 : len(se.Msg)-1]}
		}
		return &Error{Pos: se.Pos, Msg: se.Msg}
	}
	return err
}

// ErrBadSkipToken is returned (wrapped) for a $skiptoken that is malformed or belongs to
// another query.
var ErrBadSkipToken = errors.New("invalid $skiptoken")

// suggest returns "did you mean 'x'?" for the candidates closest to name (edit distance
// at most 2, case-insensitive), or "".
func suggest(name string, candidates []string) string {
	lower := strings.ToLower(name)
	best, bestD := []string(nil), 3
	for _, c := range candidates {
		d := syntax.EditDistance(lower, strings.ToLower(c))
		if d < bestD {
			best, bestD = []string{c}, d
		} else if d == bestD {
			best = append(best, c)
		}
	}
	if len(best) == 0 {
		return ""
	}
	sort.Strings(best)
	return "did you mean '" + strings.Join(best, "' or '") + "'?"
}
