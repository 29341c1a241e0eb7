package query_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/query"
	"github.com/authlake/authlake/query/syntax"
)

// TestGroupCountsMatchReference: counts grouped by one property, against counting the
// fixture's events, over two segments of 256-row blocks and the memtable. Dictionary keys take
// the code-counting path, which remembers each segment's codes' groups across its blocks;
// GUID keys read the extras column for a GUID property's non-GUID text; the others do not.
// riskState is missing from some events (the null group), riskEventTypes_v2 is a JSON
// dictionary (its groups are parsed values).
func TestGroupCountsMatchReference(t *testing.T) {
	f := getFixture(t, 2000, 256, 1)
	for _, key := range []string{"appDisplayName", "userPrincipalName", "location/countryOrRegion", "riskLevelDuringSignIn", "userId", "appId", "deviceDetail/deviceId", "originalRequestId", "status/errorCode", "riskEventTypes_v2", "riskState"} {
		for _, filter := range []string{"", "status/errorCode ne 0", "flaggedForReview eq true"} {
			groups, err := query.Aggregate(context.Background(), columnar.SignIns, f.src, filter, []string{key}, []query.Agg{{Op: query.AggCount, Alias: "n"}})
			if err != nil {
				t.Fatalf("%s by %s: %v", filter, key, err)
			}
			want := map[string]int64{}
			var e syntax.Expr
			if filter != "" {
				e = mustParse(t, filter)
			}
			for i, ev := range f.lower {
				if filter == "" || refMatch(e, ev) {
					want[groupKeyText(pathValue(f.events[i], key))]++
				}
			}
			got := map[string]int64{}
			for _, g := range groups {
				got[groupKeyText(g.Keys[key])] += g.Values["n"].(int64)
			}
			if len(got) != len(groups) || len(got) != len(want) || len(want) == 0 {
				t.Fatalf("%q by %s: %d groups (%d distinct keys), want %d", filter, key, len(groups), len(got), len(want))
			}
			for k, n := range want {
				if got[k] != n {
					t.Fatalf("%q by %s: group %s has %d rows, want %d", filter, key, k, got[k], n)
				}
			}
		}
	}
}

func pathValue(ev map[string]any, path string) any {
	var v any = ev
	for _, name := range strings.Split(path, "/") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[name]
	}
	return v
}

// groupKeyText spells a key the same whether it came from an event or a group: strings
// quoted, numbers as integers.
func groupKeyText(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("%q", x)
	case float64:
		return fmt.Sprint(int64(x))
	}
	return fmt.Sprint(v)
}
