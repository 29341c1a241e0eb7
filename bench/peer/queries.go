package main

import (
	"fmt"
	"time"

	"github.com/authlake/authlake/bench"
)

// The query suite is bench.Suite: one table holds each query's Graph $filter, which authlake
// runs, and its SQL, which the peer runs, with the semantics both follow.

// params are the data-dependent inputs shared by both engines (the --params file).
type params bench.Params

// windows derived from Now; exact multiples of 24 h in UTC.
func (p params) since(d time.Duration) time.Time { return p.Now.Add(-d).UTC() }

func (p params) args(names []string) []any {
	out := make([]any, len(names))
	for i, n := range names {
		switch n {
		case "upn":
			out[i] = p.UPN
		case "cid":
			out[i] = p.CorrelationID
		case "now-7d":
			out[i] = p.since(7 * 24 * time.Hour)
		case "now-48h":
			out[i] = p.since(48 * time.Hour)
		case "now-30d":
			out[i] = p.since(30 * 24 * time.Hour)
		default:
			panic("BUG: unknown query parameter " + n)
		}
	}
	return out
}

// graphFilter is q's Graph $filter with its placeholders resolved, as authlake runs it.
func (p params) graphFilter(q bench.Query) string { return bench.Params(p).Filter(q) }

func (p params) validate() error {
	if p.UPN == "" || p.CorrelationID == "" || p.Now.IsZero() {
		return fmt.Errorf("params need upn, correlationId and now (got %+v)", p)
	}
	return nil
}

// pickParamsSQL chooses the params from the loaded data deterministically:
//   - upn: the (lower-cased) UPN with the most flagged sign-ins in the last 7 days before now,
//     then the most flagged sign-ins overall, so that Q2, Q3 and Q4 all select rows when the
//     data allows it;
//   - correlationId: the one shared by the most events (a multi-step flow);
//   - now: the newest createdDateTime.
//
// Ties go to the smallest value.
const (
	pickUPNSQL = "SELECT lower(userPrincipalName) AS u FROM signins\n" +
		"WHERE flaggedForReview AND userPrincipalName IS NOT NULL\n" +
		"GROUP BY u ORDER BY\n" +
		"  count(*) FILTER (WHERE createdDateTime >= (SELECT max(createdDateTime) FROM signins) - INTERVAL 168 HOUR) DESC,\n" +
		"  count(*) DESC, u ASC\n" +
		"LIMIT 1"
	pickCIDSQL = "SELECT correlationId FROM signins\n" +
		"WHERE correlationId IS NOT NULL AND correlationId <> ''\n" +
		"GROUP BY correlationId HAVING count(*) > 1 ORDER BY count(*) DESC, correlationId ASC LIMIT 1"
	pickNowSQL = "SELECT max(createdDateTime) FROM signins"
)
