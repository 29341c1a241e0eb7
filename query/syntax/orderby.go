package syntax

import (
	"strings"
)

// OrderItem is one key of $orderby.
type OrderItem struct {
	Expr Expr
	Desc bool
}

// ParseOrderBy parses a $orderby value: comma-separated expressions, each
// optionally followed by asc or desc (case-insensitive).
func ParseOrderBy(s string) ([]OrderItem, error) {
	var items []OrderItem
	err := run(s, func(p *parser) {
		items = p.orderItems()
		p.expectEOF()
	})
	if err != nil {
		return nil, err
	}
	return items, nil
}

// orderItems parses `expr [asc|desc] (, ...)*`.
func (p *parser) orderItems() []OrderItem {
	var items []OrderItem
	for {
		if t := p.peek(); t.EOF() || isPunct(t, ")") {
			p.fail(posOf(t), "expected an ordering expression, found %s", describe(t))
		}
		it := OrderItem{Expr: p.expr(PrecOr)}
		if t := p.peek(); isWord(t, "desc") {
			p.next()
			it.Desc = true
		} else if isWord(t, "asc") {
			p.next()
		}
		items = append(items, it)
		if !isPunct(p.peek(), ",") {
			return items
		}
		p.next()
	}
}

// OrderByString prints items in normalized form (`a desc,b`).
func OrderByString(items []OrderItem) string {
	var b strings.Builder
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		printExpr(&b, it.Expr)
		if it.Desc {
			b.WriteString(" desc")
		}
	}
	return b.String()
}
