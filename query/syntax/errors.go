package syntax

import "fmt"

// Error is a positioned syntax error. Every error returned by this package's
// parse functions is an *Error.
type Error struct {
	Pos Pos
	Msg string
}

// Error formats as `syntax error at LINE:COL: MSG`.
func (e *Error) Error() string {
	return fmt.Sprintf("syntax error at %d:%d: %s", e.Pos.Line, e.Pos.Column, e.Msg)
}

// Limits that keep hostile input from exhausting the stack or memory.
const (
	// MaxInputLen is the longest accepted input in bytes.
	MaxInputLen = 64 << 10
	// MaxDepth bounds the nesting of parentheses, calls, lambdas, unary
	// operators and JSON values.
	MaxDepth = 256
)
