package query

// Constant folding: subexpressions without column or lambda-variable references are
// evaluated once at compile time, so that `createdDateTime ge now() sub duration'P7D'`
// or `status/errorCode eq 50000 add 126` lower to a plain column-versus-constant kernel
// (and its index probe). now() is therefore read when the filter is compiled; filters
// that use it are not cached, so Run compiles them, and reads the clock, per call.

func isConst(n node) bool {
	switch n := n.(type) {
	case *litNode, *nowNode:
		return true
	case *colNode, *jsonPathNode, *varNode, *lambdaNode:
		return false
	case *cmpNode:
		return isConst(n.l) && isConst(n.r)
	case *logicNode:
		return isConst(n.l) && isConst(n.r)
	case *notNode:
		return isConst(n.x)
	case *arithNode:
		return isConst(n.l) && isConst(n.r)
	case *negNode:
		return isConst(n.x)
	case *inNode:
		return isConst(n.x)
	case *callNode:
		for _, a := range n.args {
			if !isConst(a) {
				return false
			}
		}
		return true
	}
	return false
}

func fold(n node, now int64) node {
	if _, ok := n.(*litNode); ok {
		return n
	}
	if isConst(n) {
		return &litNode{v: eval(n, &evalCtx{now: now}), at: n.pos()}
	}
	switch n := n.(type) {
	case *cmpNode:
		n.l, n.r = fold(n.l, now), fold(n.r, now)
	case *logicNode:
		n.l, n.r = fold(n.l, now), fold(n.r, now)
	case *notNode:
		n.x = fold(n.x, now)
	case *arithNode:
		n.l, n.r = fold(n.l, now), fold(n.r, now)
	case *negNode:
		n.x = fold(n.x, now)
	case *inNode:
		n.x = fold(n.x, now)
	case *callNode:
		for i := range n.args {
			// The pattern of matchesPattern stays a literal either way.
			n.args[i] = fold(n.args[i], now)
		}
	case *lambdaNode:
		if n.body != nil {
			n.body = fold(n.body, now)
		}
	}
	return n
}
