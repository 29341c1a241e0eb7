package query

import (
	"fmt"
	"strings"
)

// Plan describes how a compiled filter will run: the lowered predicates, one per line,
// with the kernel each uses (for tests and `authlake query --explain`).
func (f *Filter) Plan() string {
	var b strings.Builder
	describePred(&b, f.pred, 0)
	return b.String()
}

func describePred(b *strings.Builder, p pred, depth int) {
	ind := strings.Repeat("  ", depth)
	switch p := p.(type) {
	case *pLogic:
		op := "or"
		if p.and {
			op = "and"
		}
		fmt.Fprintf(b, "%s%s\n", ind, op)
		for _, k := range p.kids {
			describePred(b, k, depth+1)
		}
	case *pNot:
		fmt.Fprintf(b, "%snot\n", ind)
		describePred(b, p.x, depth+1)
	case *pConst:
		fmt.Fprintf(b, "%sconst %s\n", ind, [...]string{"false", "true", "null"}[p.t])
	case *pDict:
		kind := "per-entry table"
		if p.eq != nil {
			kind = "code lookup"
			if p.eqFold {
				kind = "case-insensitive match"
			}
		}
		fmt.Fprintf(b, "%sdict %s (%s)\n", ind, p.col.Name, kind)
	case *pCmp:
		fmt.Fprintf(b, "%scompare %s %s\n", ind, p.col.Name, p.op)
	case *pBare:
		fmt.Fprintf(b, "%sbool %s\n", ind, p.col.Name)
	case *pGeneric:
		names := make([]string, len(p.cols))
		for i, c := range p.cols {
			names[i] = c.Name
		}
		fmt.Fprintf(b, "%sgeneric [%s]\n", ind, strings.Join(names, " "))
	}
}
