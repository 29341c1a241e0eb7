package syntax

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"time"
)

// String prints e in normalized form: lower-case operators and function
// names, single spaces around operators, no spaces after commas, minimal
// parentheses for the precedence table, and canonical literal spellings
// (strings re-escaped with ”, DateTimeOffsets in UTC RFC 3339 with Z,
// lower-case GUIDs, canonical decimals and durations). Property names keep
// their case. Parse(String(Parse(s))) prints identically, so the result is
// suitable as a plan-cache key.
func String(e Expr) string {
	var b strings.Builder
	printExpr(&b, e)
	return b.String()
}

// prec is the binding strength of the printed form of e.
func prec(e Expr) int {
	switch e := e.(type) {
	case *BinaryExpr:
		return e.Op.Precedence()
	case *UnaryExpr:
		return PrecUnary
	case *InExpr:
		return PrecPrimary
	}
	return precAtom
}

func printOperand(b *strings.Builder, e Expr, minPrec int) {
	if prec(e) < minPrec {
		b.WriteByte('(')
		printExpr(b, e)
		b.WriteByte(')')
		return
	}
	printExpr(b, e)
}

// leftmost returns the node whose text starts the printed form of e.
func leftmost(e Expr) Expr {
	for {
		switch x := e.(type) {
		case *BinaryExpr:
			e = x.Left
		case *InExpr:
			e = x.X
		default:
			return e
		}
	}
}

func isNonNegativeNumber(e Expr) bool {
	l, ok := e.(*Literal)
	if !ok {
		return false
	}
	switch l.Kind {
	case LitInt:
		return l.Int >= 0
	case LitDecimal:
		return !strings.HasPrefix(l.Decimal, "-")
	case LitDouble:
		return !math.IsNaN(l.Float) && !math.Signbit(l.Float)
	}
	return false
}

func printExpr(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case *BinaryExpr:
		p := e.Op.Precedence()
		printOperand(b, e.Left, p)
		b.WriteByte(' ')
		b.WriteString(e.Op.String())
		b.WriteByte(' ')
		printOperand(b, e.Right, p+1)
	case *UnaryExpr:
		if e.Op == OpNot {
			b.WriteString("not ")
			printOperand(b, e.X, PrecUnary)
			return
		}
		b.WriteByte('-')
		// "-" before a printed number would re-parse as a negative literal.
		if isNonNegativeNumber(leftmost(e.X)) {
			b.WriteByte('(')
			printExpr(b, e.X)
			b.WriteByte(')')
			return
		}
		printOperand(b, e.X, PrecUnary)
	case *InExpr:
		printOperand(b, e.X, PrecPrimary)
		b.WriteString(" in ")
		if _, isList := e.Set.(*ListExpr); isList {
			printExpr(b, e.Set)
			return
		}
		printOperand(b, e.Set, precAtom)
	case *ListExpr:
		b.WriteByte('(')
		for i, it := range e.Items {
			if i > 0 {
				b.WriteByte(',')
			}
			printExpr(b, it)
		}
		b.WriteByte(')')
	case *ArrayExpr:
		b.WriteByte('[')
		for i, it := range e.Elems {
			if i > 0 {
				b.WriteByte(',')
			}
			printJSONValue(b, it)
		}
		b.WriteByte(']')
	case *ObjectExpr:
		b.WriteByte('{')
		for i, m := range e.Members {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(jsonQuote(m.Key))
			b.WriteByte(':')
			printJSONValue(b, m.Value)
		}
		b.WriteByte('}')
	case *Literal:
		printLiteral(b, e)
	case *Path:
		printPath(b, e)
	case *Lambda:
		printPath(b, e.Collection)
		if e.Any {
			b.WriteString("/any(")
		} else {
			b.WriteString("/all(")
		}
		if e.Body != nil {
			b.WriteString(e.Var)
			b.WriteByte(':')
			printExpr(b, e.Body)
		}
		b.WriteByte(')')
	case *Call:
		b.WriteString(e.Name)
		b.WriteByte('(')
		for i, a := range e.Args {
			if i > 0 {
				if e.Name == "case" && i%2 == 1 {
					b.WriteByte(':')
				} else {
					b.WriteByte(',')
				}
			}
			printExpr(b, a)
		}
		b.WriteByte(')')
	case *TypeName:
		b.WriteString(e.Name)
	default:
		panic("BUG: unknown Expr type in printer")
	}
}

func printJSONValue(b *strings.Builder, e Expr) {
	if l, ok := e.(*Literal); ok && l.Kind == LitString {
		b.WriteString(jsonQuote(l.Str))
		return
	}
	printExpr(b, e)
}

func printPath(b *strings.Builder, p *Path) {
	for i, s := range p.Segments {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(s.Name)
		if !s.Call {
			continue
		}
		b.WriteByte('(')
		for j, a := range s.Args {
			if j > 0 {
				b.WriteByte(',')
			}
			if a.Name != "" {
				b.WriteString(a.Name)
				b.WriteByte('=')
			}
			printExpr(b, a.Value)
		}
		b.WriteByte(')')
	}
}

func printLiteral(b *strings.Builder, l *Literal) {
	switch l.Kind {
	case LitNull:
		b.WriteString("null")
	case LitBool:
		b.WriteString(strconv.FormatBool(l.Bool))
	case LitInt:
		b.WriteString(strconv.FormatInt(l.Int, 10))
	case LitDecimal:
		b.WriteString(l.Decimal)
	case LitDouble:
		switch {
		case math.IsNaN(l.Float):
			b.WriteString("NaN")
		case math.IsInf(l.Float, 1):
			b.WriteString("INF")
		case math.IsInf(l.Float, -1):
			b.WriteString("-INF")
		default:
			// Always with an exponent so it re-parses as a double.
			b.WriteString(strconv.FormatFloat(l.Float, 'e', -1, 64))
		}
	case LitString:
		b.WriteString(quote(l.Str))
	case LitDateTimeOffset:
		b.WriteString(l.Time.UTC().Format(time.RFC3339Nano))
	case LitDate:
		b.WriteString(l.Time.Format(time.DateOnly))
	case LitTimeOfDay:
		b.WriteString(formatTimeOfDay(l.Duration))
	case LitDuration:
		b.WriteString("duration'" + formatDuration(l.Duration) + "'")
	case LitGUID:
		b.WriteString(formatGUID(l.GUID))
	case LitEnum:
		b.WriteString(l.EnumType)
		b.WriteString(quote(strings.Join(l.EnumMembers, ",")))
	case LitBinary:
		b.WriteString("binary'" + base64.RawURLEncoding.EncodeToString(l.Bytes) + "'")
	case LitGeography:
		b.WriteString("geography" + quote(l.Str))
	case LitGeometry:
		b.WriteString("geometry" + quote(l.Str))
	default:
		panic("BUG: unknown literal kind")
	}
}
