package syntax

import (
	"time"
)

// Pos is a position in the parsed text: byte Offset (0-based) and 1-based
// Line and Column (columns count runes, as participle's lexer does).
type Pos struct {
	Offset, Line, Column int
}

// Expr is any expression node. The binder switches on the concrete types:
// *BinaryExpr, *UnaryExpr, *InExpr, *ListExpr, *ArrayExpr, *ObjectExpr,
// *Literal, *Path, *Lambda, *Call and *TypeName.
type Expr interface {
	Pos() Pos
	exprNode()
}

// BinaryOp is a binary operator. Its canonical spelling is String().
type BinaryOp uint8

// Binary operators. OpHas is a primary-level operator in OData (it binds
// tighter than the arithmetic operators); all others follow the precedence
// table in the package documentation.
const (
	OpOr BinaryOp = iota + 1
	OpAnd
	OpEq
	OpNe
	OpGt
	OpGe
	OpLt
	OpLe
	OpAdd
	OpSub
	OpMul
	OpDiv
	OpDivBy
	OpMod
	OpHas
)

var binaryOpNames = [...]string{
	OpOr: "or", OpAnd: "and", OpEq: "eq", OpNe: "ne", OpGt: "gt", OpGe: "ge", OpLt: "lt", OpLe: "le",
	OpAdd: "add", OpSub: "sub", OpMul: "mul", OpDiv: "div", OpDivBy: "divby", OpMod: "mod", OpHas: "has",
}

// String returns the canonical lower-case spelling of the operator.
func (op BinaryOp) String() string {
	if int(op) >= len(binaryOpNames) || binaryOpNames[op] == "" {
		panic("BUG: unknown BinaryOp")
	}
	return binaryOpNames[op]
}

// Precedence levels, highest binding last. Exported so that the binder and
// the printer agree on one table.
const (
	PrecOr = iota + 1
	PrecAnd
	PrecEquality
	PrecRelational
	PrecAdditive
	PrecMultiplicative
	PrecUnary
	PrecPrimary // has, in, navigation, calls
	precAtom    // literals, paths, calls, parenthesised forms
)

// Precedence returns the operator's precedence level (Prec* constants).
func (op BinaryOp) Precedence() int {
	switch op {
	case OpOr:
		return PrecOr
	case OpAnd:
		return PrecAnd
	case OpEq, OpNe:
		return PrecEquality
	case OpGt, OpGe, OpLt, OpLe:
		return PrecRelational
	case OpAdd, OpSub:
		return PrecAdditive
	case OpMul, OpDiv, OpDivBy, OpMod:
		return PrecMultiplicative
	case OpHas:
		return PrecPrimary
	}
	panic("BUG: unknown BinaryOp")
}

// UnaryOp is a prefix operator.
type UnaryOp uint8

// Unary operators.
const (
	OpNot UnaryOp = iota + 1
	OpNeg
)

// String returns the canonical spelling ("not" or "-").
func (op UnaryOp) String() string {
	switch op {
	case OpNot:
		return "not"
	case OpNeg:
		return "-"
	}
	panic("BUG: unknown UnaryOp")
}

// BinaryExpr is Left Op Right. At is the operator's position.
type BinaryExpr struct {
	Op          BinaryOp
	Left, Right Expr
	At          Pos
}

// UnaryExpr is `not X` or `-X`. A minus directly before a numeric literal is
// folded into the literal instead (`-5` is a *Literal with Int -5), so that
// int64's minimum value is representable.
type UnaryExpr struct {
	Op UnaryOp
	X  Expr
	At Pos
}

// InExpr is `X in Set`. Set is a *ListExpr for the parenthesised literal list
// form `in ('a','b')`, an *ArrayExpr for the JSON form `in ["a","b"]`, or any
// other expression (typically a collection-valued *Path). At is the position
// of the `in` keyword.
type InExpr struct {
	X   Expr
	Set Expr
	At  Pos
}

// ListExpr is the parenthesised list of primitive literals that may only
// appear on the right of `in`. Items are *Literal. `in ()` gives no items.
type ListExpr struct {
	Items []Expr
	At    Pos
}

// ArrayExpr is a JSON array `[a, b]` whose elements are expressions or JSON
// strings (*Literal of kind LitString).
type ArrayExpr struct {
	Elems []Expr
	At    Pos
}

// ObjectExpr is a JSON object `{"k": v}`.
type ObjectExpr struct {
	Members []Member
	At      Pos
}

// Member is one key/value pair of an ObjectExpr.
type Member struct {
	Key   string
	Value Expr
	At    Pos
}

// LitKind is the lexical kind of a literal.
type LitKind uint8

// Literal kinds. Which fields of Literal are set depends on the kind; see
// Literal.
const (
	LitNull LitKind = iota + 1
	LitBool
	LitInt
	LitDecimal
	LitDouble
	LitString
	LitDateTimeOffset
	LitDate
	LitTimeOfDay
	LitDuration
	LitGUID
	LitEnum
	LitBinary
	LitGeography
	LitGeometry
)

var litKindNames = [...]string{
	LitNull: "null", LitBool: "bool", LitInt: "int", LitDecimal: "decimal", LitDouble: "double",
	LitString: "string", LitDateTimeOffset: "datetimeoffset", LitDate: "date", LitTimeOfDay: "timeofday",
	LitDuration: "duration", LitGUID: "guid", LitEnum: "enum", LitBinary: "binary",
	LitGeography: "geography", LitGeometry: "geometry",
}

func (k LitKind) String() string {
	if int(k) >= len(litKindNames) || litKindNames[k] == "" {
		panic("BUG: unknown LitKind")
	}
	return litKindNames[k]
}

// Literal is a primitive value. Raw is always the source text. Per kind:
//
//	LitBool                Bool
//	LitInt                 Int (fits int64), Float (same value)
//	LitDecimal             Decimal (canonical decimal text), Float (nearest float64)
//	LitDouble              Float (±Inf and NaN included)
//	LitString              Str (unescaped)
//	LitDateTimeOffset      Time (UTC), OffsetMinutes (the written offset)
//	LitDate                Time (midnight UTC of that date)
//	LitTimeOfDay           Duration (time since midnight)
//	LitDuration            Duration
//	LitGUID                GUID
//	LitEnum                EnumType (qualified name, as written), EnumMembers
//	LitBinary              Bytes
//	LitGeography/Geometry  Str (the well-known text inside the quotes, unchecked)
type Literal struct {
	Kind          LitKind
	Raw           string
	Str           string
	Int           int64
	Float         float64
	Decimal       string
	Bool          bool
	Time          time.Time
	OffsetMinutes int
	Duration      time.Duration
	GUID          [16]byte
	EnumType      string
	EnumMembers   []string
	Bytes         []byte
	At            Pos
}

// Segment is one step of a Path. Name is as written (case preserved; the
// binder matches properties case-insensitively): a property, a qualified type
// cast or bound function (`Model.Fn`), `$it`, `$this`, `$root`, `$count`,
// `$filter`, a parameter alias `@p` or an annotation `@Ns.Term#Qual`.
// Call is true when the segment was followed by parentheses; Args then holds
// the arguments (named `k=v` for function parameters, positional for key
// predicates and `$filter(...)`).
type Segment struct {
	Name string
	Call bool
	Args []Arg
	At   Pos
}

// Arg is an argument of a call Segment. Name is empty for positional ones.
type Arg struct {
	Name  string
	Value Expr
	At    Pos
}

// Path is a member path `a/b/c`. The first segment may be a lambda variable,
// `$it`, `$this`, `$root` or a parameter alias.
type Path struct {
	Segments []Segment
	At       Pos
}

// Lambda is `Collection/any(Var: Body)` or `Collection/all(Var: Body)`.
// For the empty form `Collection/any()`, Var is "" and Body is nil.
// Var is case-sensitive.
type Lambda struct {
	Collection *Path
	Any        bool
	Var        string
	Body       Expr
	At         Pos
}

// Call is a built-in function call. Name is the canonical lower-case name
// (`startswith`, `geo.distance`). For `cast` and `isof` the last argument is
// a *TypeName. For `case` the arguments alternate condition, value.
type Call struct {
	Name string
	Args []Expr
	At   Pos
}

// TypeName is the type argument of cast and isof (`Edm.String`, `Model.Customer`).
type TypeName struct {
	Name string
	At   Pos
}

func (e *BinaryExpr) Pos() Pos { return e.At }
func (e *UnaryExpr) Pos() Pos  { return e.At }
func (e *InExpr) Pos() Pos     { return e.At }
func (e *ListExpr) Pos() Pos   { return e.At }
func (e *ArrayExpr) Pos() Pos  { return e.At }
func (e *ObjectExpr) Pos() Pos { return e.At }
func (e *Literal) Pos() Pos    { return e.At }
func (e *Path) Pos() Pos       { return e.At }
func (e *Lambda) Pos() Pos     { return e.At }
func (e *Call) Pos() Pos       { return e.At }
func (e *TypeName) Pos() Pos   { return e.At }

func (*BinaryExpr) exprNode() {}
func (*UnaryExpr) exprNode()  {}
func (*InExpr) exprNode()     {}
func (*ListExpr) exprNode()   {}
func (*ArrayExpr) exprNode()  {}
func (*ObjectExpr) exprNode() {}
func (*Literal) exprNode()    {}
func (*Path) exprNode()       {}
func (*Lambda) exprNode()     {}
func (*Call) exprNode()       {}
func (*TypeName) exprNode()   {}
