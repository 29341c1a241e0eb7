package diagnostic

import "strings"

// The diagnosis builds its conditions as query.Pred values; tests that check its counts
// with the public $filter API write the same conditions as text with these helpers.

// filter is the window as $filter text.
func (w window) filter() string { return w.pred().String() }

// and joins non-empty filter terms.
func and(terms ...string) string {
	var out []string
	for _, t := range terms {
		if t != "" {
			out = append(out, t)
		}
	}
	if len(out) == 1 {
		return out[0]
	}
	for i, t := range out {
		if strings.Contains(strings.ToLower(t), " or ") {
			out[i] = "(" + t + ")"
		}
	}
	return strings.Join(out, " and ")
}
