package query_test

import (
	"context"
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/query"
)

// TestVisitSeesThePageTheJSONHas: a page read typed through Request.Visit has exactly the rows
// of the same page written as JSON, at the same places, with the same values, over segments
// and the memtable, pages after the first included.
func TestVisitSeesThePageTheJSONHas(t *testing.T) {
	f := getFixture(t, 2000, 256, 1)
	cols := []string{"id", "createdDateTime", "userPrincipalName", "status"}
	for _, req := range []query.Request{
		{Top: 300},
		{Filter: "status/errorCode ne 0", OrderBy: "userPrincipalName asc", Top: 50, Select: cols},
		{Filter: "flaggedForReview eq true", Top: 1000},
	} {
		for page := 0; page < 3; page++ {
			asJSON, err := query.Run(context.Background(), columnar.SignIns, f.src, req)
			if err != nil {
				t.Fatal(err)
			}
			typed := req
			seen := make([]bool, len(asJSON.Rows))
			typed.Visit = func(i int, b *columnar.Batch, row int) error {
				if i < 0 || i >= len(seen) || seen[i] {
					t.Fatalf("%+v: row %d visited out of the page or twice", req, i)
				}
				seen[i] = true
				j, err := fastjson.ParseBytes(asJSON.Rows[i])
				if err != nil {
					t.Fatal(err)
				}
				var v columnar.RowView
				v.Reset(b, row)
				for _, name := range []string{"id", "createdDateTime", "userPrincipalName", "status/failureReason"} {
					if got, want := v.Str(name), string(j.GetStringBytes(strings.Split(name, "/")...)); got != want {
						t.Fatalf("row %d %s: visited %q, JSON %q", i, name, got, want)
					}
				}
				if got, want := v.Int("status/errorCode"), j.GetInt64("status", "errorCode"); got != want {
					t.Fatalf("row %d status/errorCode: visited %d, JSON %d", i, got, want)
				}
				return nil
			}
			res, err := query.Run(context.Background(), columnar.SignIns, f.src, typed)
			if err != nil {
				t.Fatal(err)
			}
			if res.Rows != nil || res.PageRows != len(asJSON.Rows) || asJSON.PageRows != len(asJSON.Rows) || res.SkipToken != asJSON.SkipToken {
				t.Fatalf("%+v: typed page has %d rows (Rows %d), token %q; JSON page %d, token %q",
					req, res.PageRows, len(res.Rows), res.SkipToken, len(asJSON.Rows), asJSON.SkipToken)
			}
			for i, ok := range seen {
				if !ok {
					t.Fatalf("%+v: row %d of %d never visited", req, i, len(seen))
				}
			}
			if len(seen) == 0 {
				t.Fatalf("%+v: an empty page tests nothing", req)
			}
			if asJSON.SkipToken == "" {
				break
			}
			req.SkipToken = asJSON.SkipToken
		}
	}
}
