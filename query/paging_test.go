package query_test

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/query"
)

// refSorted returns the reference ids in the default order: createdDateTime desc, then
// id desc.
func refSorted(t *testing.T, f *fixture, filter string) []string {
	ids := refIDs(t, f, filter)
	at := map[string]time.Time{}
	for _, ev := range f.events {
		tm, _ := time.Parse(time.RFC3339Nano, ev["createdDateTime"].(string))
		at[ev["id"].(string)] = tm
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := at[ids[i]], at[ids[j]]
		if !a.Equal(b) {
			return a.After(b)
		}
		return strings.ToLower(ids[i]) > strings.ToLower(ids[j])
	})
	return ids
}

func walkPages(t *testing.T, src query.Source, req query.Request) []string {
	var all []string
	for page := 0; ; page++ {
		res, err := query.Run(context.Background(), columnar.SignIns, src, req)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) > req.Top {
			t.Fatalf("page of %d rows, $top %d", len(res.Rows), req.Top)
		}
		all = append(all, idsOf(res.Rows)...)
		if res.SkipToken == "" {
			return all
		}
		if page > 10000 {
			t.Fatal("paging does not end")
		}
		req.SkipToken = res.SkipToken
	}
}

func TestPagingMatchesReferenceOrder(t *testing.T) {
	f := getFixture(t, 2000, 256, 1)
	for _, filter := range []string{"", "status/errorCode ne 0", "flaggedForReview eq true", "startswith(appDisplayName,'Microsoft') or riskState eq 'atRisk'"} {
		for _, noIdx := range []bool{false, true} {
			req := query.Request{Filter: filter, Top: 37, Select: []string{"id"}}
			if noIdx {
				query.WithoutIndexes(&req)
			}
			got := walkPages(t, f.src, req)
			want := refSorted(t, f, filter)
			if !slices.Equal(got, want) {
				t.Fatalf("filter %q (no index %v): paged %d rows, want %d in order; %s", filter, noIdx, len(got), len(want), firstDiff(want, got))
			}
		}
	}
}

func TestOrderByOtherColumns(t *testing.T) {
	f := getFixture(t, 2000, 256, 1)
	for _, ob := range []string{"createdDateTime", "appDisplayName desc,createdDateTime", "status/errorCode,location/geoCoordinates/latitude desc", "userPrincipalName"} {
		all, err := query.Run(context.Background(), columnar.SignIns, f.src, query.Request{OrderBy: ob, Top: 5000, Select: []string{"id"}})
		if err != nil {
			t.Fatal(err)
		}
		paged := walkPages(t, f.src, query.Request{OrderBy: ob, Top: 101, Select: []string{"id"}})
		if !slices.Equal(idsOf(all.Rows), paged) || len(paged) != len(f.events) {
			t.Fatalf("$orderby=%s: paging (%d rows) differs from one page (%d rows)", ob, len(paged), len(all.Rows))
		}
	}
}

func TestSkipTokenOfAnotherQueryIsRejected(t *testing.T) {
	f := getFixture(t, 2000, 256, 1)
	res, err := query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Filter: "status/errorCode eq 0", Top: 10})
	if err != nil || res.SkipToken == "" {
		t.Fatalf("first page: %v, token %q", err, res.SkipToken)
	}
	_, err = query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Filter: "status/errorCode ne 0", Top: 10, SkipToken: res.SkipToken})
	if !errors.Is(err, query.ErrBadSkipToken) {
		t.Fatalf("token reused with another filter: err = %v", err)
	}
	_, err = query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Top: 10, SkipToken: "garbage!"})
	if !errors.Is(err, query.ErrBadSkipToken) {
		t.Fatalf("garbage token: err = %v", err)
	}
}

func TestSelectAndExplain(t *testing.T) {
	f := getFixture(t, 2000, 256, 1)
	res, err := query.Run(context.Background(), columnar.SignIns, f.src, query.Request{
		Filter: "flaggedForReview eq true and status/errorCode ne 0", Top: 3, Select: []string{"ID", "status", "createdDateTime"}, Explain: true, Count: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 3 || !strings.HasPrefix(string(res.Rows[0]), `{"id":`) || !strings.Contains(string(res.Rows[0]), `"status":{"errorCode":`) || strings.Contains(string(res.Rows[0]), "appDisplayName") {
		t.Fatalf("projected rows: %s", res.Rows)
	}
	ex := res.Explain
	if ex == nil || ex.Segments < 2 || len(ex.Probes) == 0 || ex.MemChunks == 0 || !strings.Contains(ex.String(), "probes:") {
		t.Fatalf("explain: %+v", ex)
	}
	want := int64(len(refIDs(t, f, "flaggedForReview eq true and status/errorCode ne 0")))
	if res.Count != want {
		t.Fatalf("$count %d, want %d", res.Count, want)
	}
	if _, err := query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Select: []string{"appDisplayNam"}}); err == nil || !strings.Contains(err.Error(), "did you mean 'appDisplayName'") {
		t.Fatalf("bad $select: %v", err)
	}
}

func TestDifferentBlockSizesAgree(t *testing.T) {
	a := getFixture(t, 2000, 256, 1)
	b := getFixture(t, 2000, 1024, 1)
	for _, filter := range []string{"status/errorCode ne 0 and createdDateTime ge 2026-11-21", "userPrincipalName eq 'USER03@contoso.com'", "signInEventTypes/any(t: t eq 'interactiveUser')"} {
		_, x := runAll(t, a.src, query.Request{Filter: filter})
		_, y := runAll(t, b.src, query.Request{Filter: filter})
		if !slices.Equal(x, y) {
			t.Fatalf("filter %q: %d rows with 256-row blocks, %d with 1024", filter, len(x), len(y))
		}
	}
}

func TestAggregate(t *testing.T) {
	f := getFixture(t, 2000, 256, 1)
	groups, err := query.Aggregate(context.Background(), columnar.SignIns, f.src, "status/errorCode ne 0", []string{"appDisplayName"},
		[]query.Agg{{Op: query.AggCount, Alias: "n"}, {Op: query.AggMax, Property: "processingTimeInMilliseconds", Alias: "slowest"}, {Op: query.AggCountDistinct, Property: "userPrincipalName", Alias: "users"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	e := mustParse(t, "status/errorCode ne 0")
	for i, ev := range f.lower {
		if refMatch(e, ev) {
			want[f.events[i]["appDisplayName"].(string)]++
		}
	}
	if len(groups) != len(want) {
		t.Fatalf("%d groups, want %d", len(groups), len(want))
	}
	for _, g := range groups {
		app := g.Keys["appDisplayName"].(string)
		if g.Values["n"].(int64) != want[app] {
			t.Fatalf("group %q: count %v, want %d", app, g.Values["n"], want[app])
		}
	}
	res, err := query.Run(context.Background(), columnar.SignIns, f.src, query.Request{
		Apply: "filter(status/errorCode ne 0)/groupby((appDisplayName),aggregate($count as count))/orderby(count desc)/top(3)"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Groups) != 3 || res.Groups[0].Values["count"].(int64) < res.Groups[1].Values["count"].(int64) {
		t.Fatalf("$apply groups: %+v", res.Groups)
	}
	total, err := query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Apply: "aggregate(status/errorCode with sum as s, $count as c)"})
	if err != nil || len(total.Groups) != 1 || total.Groups[0].Values["c"].(int64) != int64(len(f.events)) {
		t.Fatalf("aggregate without groupby: %+v %v", total, err)
	}
}

func TestInteractiveOnlyDefault(t *testing.T) {
	f := getFixture(t, 2000, 256, 1)
	_, got := runAll(t, f.src, query.Request{DefaultInteractiveOnly: true})
	want := refIDs(t, f, "signInEventTypes/any(t: t eq 'interactiveUser')")
	if len(got) != len(want) || len(got) == 0 || len(got) == len(f.events) {
		t.Fatalf("interactive default: %d rows, want %d of %d", len(got), len(want), len(f.events))
	}
}

// TestApplyGroupCap: a groupby over a high-cardinality property stops at Request.MaxGroups with
// an error naming the limit (a read token must not be able to grow the server's memory and the
// response without bound); under the cap the same query answers in full.
func TestApplyGroupCap(t *testing.T) {
	f := getFixture(t, 2000, 256, 1)
	apply := "groupby((id),aggregate($count as n))"
	_, err := query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Apply: apply, MaxGroups: 500})
	if !errors.Is(err, query.ErrTooManyGroups) || !strings.Contains(err.Error(), "more than 500 groups") {
		t.Fatalf("2,000 groups under a cap of 500: %v", err)
	}
	// The code-counting fast path (one dictionary key) is capped too.
	_, err = query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Apply: "groupby((userPrincipalName),aggregate($count as n))", MaxGroups: 3})
	if !errors.Is(err, query.ErrTooManyGroups) {
		t.Fatalf("userPrincipalName groups under a cap of 3: %v", err)
	}
	res, err := query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Apply: apply, MaxGroups: 2000})
	if err != nil || len(res.Groups) != 2000 {
		t.Fatalf("2,000 groups under a cap of 2,000: %v groups, %v", len(res.Groups), err)
	}
	// A negative cap is none (in-process callers, e.g. the benchmark picking the most shared
	// correlationId of a million sign-ins).
	res, err = query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Apply: apply, MaxGroups: -1})
	if err != nil || len(res.Groups) != 2000 {
		t.Fatalf("2,000 groups with no cap: %v groups, %v", len(res.Groups), err)
	}
}
