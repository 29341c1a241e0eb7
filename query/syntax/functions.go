package syntax

import (
	"fmt"
	"sort"
	"strings"
)

// arity is the accepted argument count range of a built-in function;
// max < 0 means unbounded.
type arity struct{ min, max int }

// builtins lists the OData 4.01 canonical functions by lower-case name.
// Unqualified names that are not here are rejected (with a suggestion) so a
// typo such as `startwith` fails at parse time instead of deep in binding.
var builtins = map[string]arity{
	"contains": {2, 2}, "startswith": {2, 2}, "endswith": {2, 2}, "indexof": {2, 2},
	"length": {1, 1}, "substring": {2, 3}, "tolower": {1, 1}, "toupper": {1, 1},
	"trim": {1, 1}, "concat": {2, 2}, "matchespattern": {2, 2},
	"year": {1, 1}, "month": {1, 1}, "day": {1, 1}, "hour": {1, 1}, "minute": {1, 1},
	"second": {1, 1}, "fractionalseconds": {1, 1}, "totalseconds": {1, 1},
	"date": {1, 1}, "time": {1, 1}, "totaloffsetminutes": {1, 1},
	"now": {0, 0}, "mindatetime": {0, 0}, "maxdatetime": {0, 0},
	"round": {1, 1}, "floor": {1, 1}, "ceiling": {1, 1},
	"cast": {1, 2}, "isof": {1, 2}, "case": {2, -1},
	"hassubset": {2, 2}, "hassubsequence": {2, 2},
	"geo.distance": {2, 2}, "geo.intersects": {2, 2}, "geo.length": {1, 1},
}

func arityMsg(name string, a arity, got int) string {
	var want string
	switch {
	case a.max < 0:
		want = fmt.Sprintf("at least %d arguments", a.min)
	case a.min == a.max && a.min == 1:
		want = "1 argument"
	case a.min == a.max:
		want = fmt.Sprintf("%d arguments", a.min)
	default:
		want = fmt.Sprintf("%d or %d arguments", a.min, a.max)
	}
	return fmt.Sprintf("wrong number of arguments for '%s' (expects %s, got %d)", name, want, got)
}

// unknownFunctionMsg builds "unknown function 'x'" with the closest built-in
// names (edit distance at most 2) as a suggestion.
func unknownFunctionMsg(name string) string {
	lower := strings.ToLower(name)
	var near []string
	for b := range builtins {
		if EditDistance(lower, b) <= 2 {
			near = append(near, b)
		}
	}
	msg := fmt.Sprintf("unknown function '%s'", name)
	if len(near) == 0 {
		return msg
	}
	sort.Strings(near)
	return msg + " (did you mean '" + strings.Join(near, "' or '") + "'?)"
}

// EditDistance is the Levenshtein distance, bounded work for short names (inputs over 64
// bytes count as far apart). The binder uses it for its own did-you-mean hints.
func EditDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
