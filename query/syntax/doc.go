// Package syntax is the pure-syntax layer of authlake's OData 4.01 query
// language: it turns $filter, $orderby and $apply strings into an AST and
// prints a normalized form of that AST. It knows no schema: names are kept as
// written and resolved (case-insensitively) by the binder, which switches on
// the concrete node types defined in ast.go.
//
// # Entry points
//
//	ParseFilter(s)  boolCommonExpr, e.g. status/errorCode ne 0
//	ParseOrderBy(s) expr [asc|desc] {, expr [asc|desc]}
//	ParseApply(s)   filter / groupby / aggregate / compute / orderby / top / skip
//	String(e)       normalized text, stable under re-parsing (plan-cache key)
//	Shape(s)        s with its literals taken out, for any text (a query's cost class)
//
// Inputs must already be URL-decoded. Errors are *Error with a 1-based
// line:column and byte offset. Inputs over 64 KiB and nesting deeper than 256
// are rejected.
//
// # Implementation
//
// The lexer is a participle lexer.MustSimple with ordered rules; the parser
// is hand-written precedence climbing over participle's PeekingLexer (why:
// see parser.go).
//
// # Precedence (highest first; binary operators are left-associative)
//
//	primary         ( )  a/b  f(...)  has  in
//	unary           -x  not x
//	multiplicative  mul div divby mod
//	additive        add sub
//	relational      gt ge lt le
//	equality        eq ne
//	and             and
//	or              or
//
// So `a or b and c` is `a or (b and c)`, `not a eq b` is `(not a) eq b`
// (write `not (a eq b)` for the other reading), `-x mul y` is `(-x) mul y`
// and `x in (1,2) eq true` is `(x in (1,2)) eq true`. Operators, function
// names and any/all are case-insensitive; lambda variables are
// case-sensitive. Keywords are recognised only in operator position, so
// `android`, `index` and `order` are ordinary identifiers.
//
// # Operands
//
//	paths      status/errorCode, location/geoCoordinates/latitude, $it/x,
//	           $this, $root/Set, @alias, Price/@Ns.Term#Qual, x/$count,
//	           Ns.Type/x (type cast), x/Ns.Fn(p=1)/y (bound functions)
//	lambdas    coll/any(v: expr), coll/all(v: expr), coll/any()
//	in         x in ('a','b') (literals only), x in ["a","b"], x in coll
//	JSON       [1,"a",x], {"k":v} (double-quoted strings only inside these)
//
// # Literals
//
//	null true false           booleans case-insensitive, null lower case
//	42 -42                    int64 (a minus before a number is part of it)
//	1.50 9223372036854775808  decimal (printed canonically: 1.5, ...808.0)
//	1.5e3 INF -INF NaN        double
//	'o''brien'                string, '' is an escaped quote
//	2021-10-01T12:00:00.5+02:00  DateTimeOffset (printed in UTC with Z)
//	2021-10-01  07:59:59.999  Date, TimeOfDay
//	duration'P1DT2H'          Duration (a bare 'P1D' is just a string)
//	de8bc8b5-d9f9-48b1-a8ad-b748da725064  GUID, unquoted
//	microsoft.graph.riskLevel'medium'  Ns.Flags'a,b'  qualified enum
//	binary'AQID'  geography'SRID=4326;Point(1 2)'  geometry'...'
//
// Quoted dates ('2021-10-01') are strings here; rejecting them is the
// binder's decision.
//
// # Functions (arity checked; unknown names get a did-you-mean suggestion)
//
//	string    contains startswith endswith indexof length substring(s,i[,n])
//	          tolower toupper trim concat matchespattern
//	date/time year month day hour minute second fractionalseconds
//	          totalseconds date time totaloffsetminutes now() mindatetime()
//	          maxdatetime()
//	math      round floor ceiling
//	type      cast([expr,]Type) isof([expr,]Type)
//	other     case(cond:value, ...) hassubset hassubsequence
//	          geo.distance geo.intersects geo.length
//
// Qualified names followed by parentheses (Ns.Fn(...)) are custom or bound
// functions and become path segments with arguments.
//
// # $apply subset
//
//	filter(expr)
//	groupby((path,...)[, transformations])
//	aggregate($count as A, expr with sum|min|max|average|countdistinct|Ns.fn as A, expr [as A])
//	compute(expr as A, ...)   orderby(...)   top(n)   skip(n)
//
// Not supported: concat, nest, addnested, join, outerjoin, rollup,
// hierarchy transformations, search, topcount-style functions, `from`.
//
// # Known limits
//
// Key predicates on the first segment (Items(1)) are rejected as unknown
// functions. Inside case(), a condition ending in a two-digit number
// directly followed by ':' and two digits lexes as a TimeOfDay (write a
// space). DateTimeOffset printing normalizes to UTC, so the written offset
// survives in Literal.OffsetMinutes but not in String.
package syntax
