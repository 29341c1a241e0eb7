package query_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/query"
	"github.com/authlake/authlake/query/syntax"
)

// wherePairs are typed predicates and the filter text each stands for, over the fixture's
// values (including the application "o'brien tool", whose name needs quoting in text).
func wherePairs(f *fixture) []struct {
	filter string
	where  query.Pred
} {
	ev := f.events[7]
	ids := []string{f.events[1]["id"].(string), f.events[2]["id"].(string), f.events[3]["id"].(string)}
	corr := f.events[5]["correlationId"].(string)
	from, to := fixedNow.Add(-30*time.Hour), fixedNow.Add(-6*time.Hour)
	upn := ev["userPrincipalName"].(string)
	return []struct {
		filter string
		where  query.Pred
	}{
		{"userPrincipalName eq " + quote(upn), query.Eq("userPrincipalName", upn)},
		{"appDisplayName eq 'o''brien tool'", query.Eq("appDisplayName", "o'brien tool")},
		{"status/errorCode eq 50126", query.Eq("status/errorCode", 50126)},
		{"status/errorCode ne 0", query.Ne("status/errorCode", int32(0))},
		{"status/errorCode in (50126,53003,70043)", query.In("status/errorCode", query.Ints(50126, 53003, 70043)...)},
		{"not status/errorCode in (50140,50074)", query.Not(query.In("status/errorCode", 50140, 50074))},
		{"createdDateTime ge " + from.Format(time.RFC3339) + " and createdDateTime le " + to.Format(time.RFC3339),
			query.And(query.Ge("createdDateTime", from), query.Le("createdDateTime", to))},
		{"createdDateTime gt 2026-11-22T01:02:03.5Z", query.Gt("createdDateTime", time.Date(2026, 11, 22, 2, 2, 3, 5e8, time.FixedZone("CET", 3600)))},
		{"createdDateTime lt 2026-11-21T00:00:00Z", query.Lt("createdDateTime", time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC))},
		{"processingTimeInMilliseconds gt 1000", query.Gt("processingTimeInMilliseconds", uint16(1000))},
		{"location/geoCoordinates/latitude ge 5e+01", query.Ge("location/geoCoordinates/latitude", 50.0)},
		{"flaggedForReview eq true", query.Eq("flaggedForReview", true)},
		{"flaggedForReview eq null", query.Eq("flaggedForReview", nil)},
		{"id in (" + quote(ids[0]) + "," + quote(ids[1]) + "," + quote(strings.ToUpper(ids[2])) + ")",
			query.In("id", query.Strings(ids[0], ids[1], strings.ToUpper(ids[2]))...)},
		{"correlationId eq " + quote(strings.ToLower(corr)), query.Eq("correlationId", strings.ToLower(corr))},
		{"startswith(tolower(userPrincipalName),'user0')", query.StartsWith(query.ToLower(query.Prop("userPrincipalName")), "user0")},
		{"contains(tolower(appDisplayName),'microsoft')", query.Contains(query.ToLower(query.Prop("appDisplayName")), "microsoft")},
		{"endswith(deviceDetail/browser,'.0')", query.EndsWith(query.Prop("deviceDetail/browser"), ".0")},
		{"location/city eq 'Zürich' or riskLevelDuringSignIn eq 'high' and isInteractive eq false",
			query.Or(query.Eq("location/city", "Zürich"), query.And(query.Eq("riskLevelDuringSignIn", "high"), query.Eq("isInteractive", false)))},
		{"(location/city eq 'Paris' or location/city eq 'London') and status/errorCode eq 0",
			query.And(query.Or(query.Eq("location/city", "Paris"), query.Eq("location/city", "London")), query.Eq("status/errorCode", 0))},
		{"signInEventTypes/any(t:t eq 'nonInteractiveUser')", query.Any("signInEventTypes", "t", query.Eq("t", "nonInteractiveUser"))},
		{"appliedConditionalAccessPolicies/any(p:p/result eq 'failure')", query.Any("appliedConditionalAccessPolicies", "p", query.Eq("p/result", "failure"))},
		{"userId eq '00000000-0000-4000-8000-000000000003' and appId eq 'aaaaaaaa-0000-4000-8000-000000000002' and createdDateTime ge " + from.Format(time.RFC3339),
			query.And(query.Eq("userId", "00000000-0000-4000-8000-000000000003"), query.And(query.Eq("appId", "aaaaaaaa-0000-4000-8000-000000000002"), query.Ge("createdDateTime", from)), query.Pred{})},
	}
}

// TestWhereMatchesFilter: a predicate built by the constructors is the tree the parser
// builds for its text, and selects exactly the rows that text selects (with and without
// indexes, through the page, $count and count-only paths).
func TestWhereMatchesFilter(t *testing.T) {
	f := getFixture(t, 2000, 256, 1)
	nonEmpty := 0
	for _, c := range wherePairs(f) {
		if err := c.where.Err(); err != nil {
			t.Fatalf("%s: %v", c.filter, err)
		}
		if !sameTree(c.where.Expr(), mustParse(t, c.filter)) {
			t.Errorf("%s: constructed tree %s differs from the parsed one", c.filter, c.where)
		}
		want := sortedCopy(refIDs(t, f, c.filter))
		for _, noIndex := range []bool{false, true} {
			byText := query.Request{Filter: c.filter, Count: true}
			byWhere := query.Request{Where: c.where, Count: true}
			if noIndex {
				query.WithoutIndexes(&byText)
				query.WithoutIndexes(&byWhere)
			}
			resT, gotT := runAll(t, f.src, byText)
			resW, gotW := runAll(t, f.src, byWhere)
			if !slices.Equal(gotT, gotW) || resT.Count != resW.Count {
				t.Fatalf("%s (noIndex %v): Where gives %d rows (count %d), Filter %d (count %d)", c.filter, noIndex, len(gotW), resW.Count, len(gotT), resT.Count)
			}
			if !slices.Equal(sortedCopy(gotW), want) {
				t.Fatalf("%s: %d rows, reference %d", c.filter, len(gotW), len(want))
			}
		}
		co, err := query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Where: c.where, CountOnly: true})
		if err != nil || co.Count != int64(len(want)) {
			t.Fatalf("%s: CountOnly %v (%v), want %d", c.filter, co, err, len(want))
		}
		if len(want) > 0 {
			nonEmpty++
		}
	}
	if nonEmpty < 15 {
		t.Fatalf("only %d predicates matched anything", nonEmpty)
	}
}

// TestWhereAndFilter: both set are ANDed, and the plan prints as the joined text.
func TestWhereAndFilter(t *testing.T) {
	f := getFixture(t, 2000, 256, 1)
	from := fixedNow.Add(-40 * time.Hour)
	where := query.And(query.Ne("status/errorCode", 0), query.Ge("createdDateTime", from))
	text := "isInteractive eq true and status/errorCode ne 0 and createdDateTime ge " + from.Format(time.RFC3339)
	resW, gotW := runAll(t, f.src, query.Request{Filter: "isInteractive eq true", Where: where, Explain: true})
	_, gotT := runAll(t, f.src, query.Request{Filter: text})
	if len(gotT) == 0 || !slices.Equal(gotW, gotT) {
		t.Fatalf("Filter+Where %d rows, joined text %d", len(gotW), len(gotT))
	}
	if resW.Explain.Filter != text {
		t.Fatalf("explain filter %q, want %q", resW.Explain.Filter, text)
	}
	// An or in the text keeps its own parentheses.
	_, gotO := runAll(t, f.src, query.Request{Filter: "isInteractive eq true or flaggedForReview eq true", Where: where})
	_, gotOT := runAll(t, f.src, query.Request{Filter: "(isInteractive eq true or flaggedForReview eq true) and status/errorCode ne 0 and createdDateTime ge " + from.Format(time.RFC3339)})
	if !slices.Equal(gotO, gotOT) {
		t.Fatalf("or filter with Where: %d rows, want %d", len(gotO), len(gotOT))
	}
	// Graph's interactive-only default joins a Where-only request too.
	_, gotI := runAll(t, f.src, query.Request{Where: where, DefaultInteractiveOnly: true})
	_, gotIT := runAll(t, f.src, query.Request{Filter: "status/errorCode ne 0 and createdDateTime ge " + from.Format(time.RFC3339) + " and signInEventTypes/any(t: t eq 'interactiveUser')"})
	if len(gotI) == 0 || !slices.Equal(gotI, gotIT) {
		t.Fatalf("interactive default with Where: %d rows, want %d", len(gotI), len(gotIT))
	}
}

// TestWhereValuesAreLiteral: a value holding quotes and OData syntax is one string literal;
// it cannot widen the query.
func TestWhereValuesAreLiteral(t *testing.T) {
	f := getFixture(t, 2000, 256, 1)
	for _, v := range []string{
		"x' or 1 eq 1 or userPrincipalName eq 'y",
		"' or true or '",
		"user01@contoso.com') or (true",
		"user01@contoso.com' or userPrincipalName ne '",
		`\'; drop`, "''", "'",
	} {
		_, got := runAll(t, f.src, query.Request{Where: query.Eq("userPrincipalName", v)})
		if len(got) != 0 {
			t.Errorf("value %q matched %d rows", v, len(got))
		}
		_, got = runAll(t, f.src, query.Request{Where: query.Or(query.Eq("userPrincipalName", v), query.StartsWith(query.Prop("appDisplayName"), v))})
		if len(got) != 0 {
			t.Errorf("value %q in or/startswith matched %d rows", v, len(got))
		}
	}
	// The quoted name matches exactly the rows of that application.
	_, got := runAll(t, f.src, query.Request{Where: query.Eq("appDisplayName", "o'brien tool")})
	want := 0
	for _, ev := range f.events {
		if ev["appDisplayName"] == "o'brien tool" {
			want++
		}
	}
	if want == 0 || len(got) != want {
		t.Fatalf("o'brien tool: %d rows, want %d", len(got), want)
	}
	// Paths are identifiers: text smuggled into a path is refused, not parsed.
	for _, path := range []string{"userPrincipalName eq 'a' or id", "status/errorCode)", "", "a//b", "and", "x'", "$it"} {
		_, err := query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Where: query.Eq(path, "a")})
		var qe *query.Error
		if !errors.As(err, &qe) {
			t.Errorf("path %q: err %v, want *query.Error", path, err)
		}
	}
}

// TestWhereErrors: a wrong path or type gives the parsed filter's message (without a
// position: the predicate has no text).
func TestWhereErrors(t *testing.T) {
	f := getFixture(t, 300, 64, 11)
	for _, c := range []struct {
		filter string
		where  query.Pred
	}{
		{"userPrincipalNme eq 'x'", query.Eq("userPrincipalNme", "x")},
		{"status/errorCode eq 'abc'", query.Eq("status/errorCode", "abc")},
		{"createdDateTime ge 5", query.Ge("createdDateTime", 5)},
		{"startswith(status/errorCode,'5')", query.StartsWith(query.Prop("status/errorCode"), "5")},
		{"createdDateTime ge 1500-01-01T00:00:00Z", query.Ge("createdDateTime", time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC))},
	} {
		_, errT := query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Filter: c.filter})
		_, errW := query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Where: c.where})
		var et, ew *query.Error
		if !errors.As(errT, &et) || !errors.As(errW, &ew) {
			t.Fatalf("%s: errors %v / %v", c.filter, errT, errW)
		}
		if et.Msg != ew.Msg || et.Hint != ew.Hint {
			t.Errorf("%s: Where error %q (%q), Filter error %q (%q)", c.filter, ew.Msg, ew.Hint, et.Msg, et.Hint)
		}
		if !strings.Contains(ew.Error(), "in the Where predicate") {
			t.Errorf("%s: %q does not say where", c.filter, ew.Error())
		}
	}
	for _, p := range []query.Pred{query.Eq("x", struct{}{}), query.Eq("x", time.Second), query.Eq("x", "\xc6"), query.Or(), query.Not(query.Pred{}), query.Any("signInEventTypes", "t t", query.Eq("t", "a")),
		query.And(query.Eq("isInteractive", true), query.In("status/errorCode", []int{1})), query.Eq("createdDateTime", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))} {
		if p.Err() == nil {
			t.Errorf("%s: no construction error", p)
		}
		_, err := query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Where: p})
		var qe *query.Error
		if !errors.As(err, &qe) {
			t.Errorf("%s: err %v, want *query.Error", p, err)
		}
	}
}

// TestWhereSkipTokens: pages of a Where query walk the rows of the same text filter, and a
// token of one predicate is refused by another.
func TestWhereSkipTokens(t *testing.T) {
	f := getFixture(t, 2000, 256, 1)
	where := query.And(query.Eq("status/errorCode", 0), query.Eq("isInteractive", true))
	got := walkPages(t, f.src, query.Request{Where: where, Top: 37})
	want := refSorted(t, f, "status/errorCode eq 0 and isInteractive eq true")
	if !slices.Equal(got, want) {
		t.Fatalf("paged Where: %d rows, want %d", len(got), len(want))
	}
	res, err := query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Where: where, Top: 10})
	if err != nil || res.SkipToken == "" {
		t.Fatalf("first page: %v", err)
	}
	other := query.And(query.Eq("status/errorCode", 0), query.Eq("isInteractive", false))
	_, err = query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Where: other, Top: 10, SkipToken: res.SkipToken})
	if !errors.Is(err, query.ErrBadSkipToken) {
		t.Fatalf("token reused with another Where: err = %v", err)
	}
	// The same conditions as text are the same query: its token continues the pages.
	next, err := query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Filter: "status/errorCode eq 0", Where: query.Eq("isInteractive", true), Top: 10, SkipToken: res.SkipToken})
	if err != nil || !slices.Equal(idsOf(next.Rows), want[10:20]) {
		t.Fatalf("token of the Where query with the same terms split between Filter and Where: %v", err)
	}
	_, err = query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Filter: "isInteractive eq true", Where: query.Eq("status/errorCode", 0), Top: 10, SkipToken: res.SkipToken})
	if !errors.Is(err, query.ErrBadSkipToken) {
		t.Fatalf("token reused with the terms in another order: err = %v", err)
	}
}

func TestAggregateWhere(t *testing.T) {
	f := getFixture(t, 2000, 256, 1)
	aggs := []query.Agg{{Op: query.AggCount, Alias: "n"}}
	gw, err := query.AggregateWhere(context.Background(), columnar.SignIns, f.src, query.Ne("status/errorCode", 0), []string{"appDisplayName"}, aggs)
	if err != nil {
		t.Fatal(err)
	}
	gt, err := query.Aggregate(context.Background(), columnar.SignIns, f.src, "status/errorCode ne 0", []string{"appDisplayName"}, aggs)
	if err != nil {
		t.Fatal(err)
	}
	if len(gw) == 0 || !reflect.DeepEqual(gw, gt) {
		t.Fatalf("AggregateWhere %v, Aggregate %v", gw, gt)
	}
}

// TestWhereRoundTrip: printing a constructed predicate and parsing the text gives back the
// same tree, so the printed text is a faithful plan-cache key and skip-token hash.
func TestWhereRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	checked := 0
	for range 3000 {
		if checkRoundTrip(t, randPred(r, 3)) {
			checked++
		}
	}
	if checked < 1500 {
		t.Fatalf("only %d of 3000 random predicates were valid and non-empty", checked)
	}
}

// FuzzWhereRoundTrip is the round trip with fuzzed values.
func FuzzWhereRoundTrip(f *testing.F) {
	f.Add("o'brien", int64(-5), 1.5, int64(0))
	f.Add("' or 1 eq 1 or x eq '", int64(math.MinInt64), math.Inf(-1), int64(1e18))
	f.Add("", int64(0), math.Copysign(0, -1), int64(-9e18))
	f.Add("\xc6", int64(0), 0.0, int64(0)) // not UTF-8: refused, as by the parser
	f.Fuzz(func(t *testing.T, s string, i int64, x float64, ns int64) {
		tm := time.Unix(0, ns)
		for _, p := range []query.Pred{
			query.Eq("userPrincipalName", s), query.In("a/b", s, i, x, tm, nil, true),
			query.And(query.StartsWith(query.ToLower(query.Prop("x")), s), query.Not(query.Le("n", i))),
			query.Or(query.Ge("t", tm), query.Any("c", "v", query.Contains(query.Prop("v"), s)), query.Eq("d", i)),
		} {
			if p.Err() != nil {
				continue
			}
			checkRoundTrip(t, p)
		}
	})
}

func checkRoundTrip(t testing.TB, p query.Pred) bool {
	t.Helper()
	if p.Err() != nil || p.IsZero() {
		return false
	}
	text := p.String()
	e, err := syntax.ParseFilter(text)
	if err != nil {
		t.Fatalf("printed predicate %q does not parse: %v", text, err)
	}
	if !sameTree(p.Expr(), e) {
		t.Fatalf("printed predicate %q parses to another tree", text)
	}
	return true
}

var randWords = []string{"", "a", "o'brien", "''", "x' or 1 eq 1 or y eq '", "Zürich", "tab\there", "line\nbreak", "emoji 🙂", "(", ")", "\"q\"", "%27", "@p", "$it"}

func randValue(r *rand.Rand) any {
	switch r.IntN(9) {
	case 0:
		return randWords[r.IntN(len(randWords))]
	case 1:
		return r.Int64() - r.Int64()
	case 2:
		return int32(r.IntN(100000) - 50000)
	case 3:
		return []float64{0, math.Copysign(0, -1), 1.5, -2.25e-300, 1e308, math.Inf(1), math.Inf(-1), 0.1}[r.IntN(8)]
	case 4:
		return r.IntN(2) == 0
	case 5:
		return nil
	case 6:
		return time.Unix(r.Int64N(253402300799), r.Int64N(1e9)).In(time.FixedZone("x", r.IntN(20)*1800-9*3600))
	case 7:
		return uint8(r.IntN(256))
	}
	var g [16]byte
	for i := range g {
		g[i] = byte(r.Uint32())
	}
	return g
}

var randPaths = []string{"userPrincipalName", "status/errorCode", "a", "a/b/c", "Zürich_1", "_x"}

func randPred(r *rand.Rand, depth int) query.Pred {
	path := randPaths[r.IntN(len(randPaths))]
	if depth == 0 || r.IntN(3) == 0 {
		switch r.IntN(10) {
		case 0:
			return query.Eq(path, randValue(r))
		case 1:
			return query.Ne(path, randValue(r))
		case 2:
			return query.Gt(path, randValue(r))
		case 3:
			return query.Lt(path, randValue(r))
		case 4:
			vs := make([]any, r.IntN(4))
			for i := range vs {
				vs[i] = randValue(r)
			}
			return query.In(path, vs...)
		case 5:
			return query.StartsWith(query.ToLower(query.Prop(path)), randWords[r.IntN(len(randWords))])
		case 6:
			return query.Contains(query.Prop(path), randWords[r.IntN(len(randWords))])
		case 7:
			return query.Any(path, "v", query.Eq("v", randValue(r)))
		case 8:
			return query.Pred{}
		}
		return query.Ge(path, randValue(r))
	}
	n := 1 + r.IntN(3)
	ps := make([]query.Pred, n)
	for i := range ps {
		ps[i] = randPred(r, depth-1)
	}
	switch r.IntN(3) {
	case 0:
		return query.And(ps...)
	case 1:
		return query.Or(ps...)
	}
	if ps[0].IsZero() {
		return ps[0]
	}
	return query.Not(ps[0])
}

// sameTree compares syntax trees ignoring positions (a constructed tree has none).
func sameTree(a, b syntax.Expr) bool {
	return reflect.DeepEqual(withoutPos(reflect.ValueOf(a)), withoutPos(reflect.ValueOf(b)))
}

// withoutPos renders a tree as nested maps and slices without the At fields.
func withoutPos(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return withoutPos(v.Elem())
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return v.Bytes()
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = withoutPos(v.Index(i))
		}
		return out
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			tm := v.Interface().(time.Time)
			return tm.Format(time.RFC3339Nano) + "|" + tm.Location().String()
		}
		m := map[string]any{"type": v.Type().String()}
		for i := 0; i < v.NumField(); i++ {
			if name := v.Type().Field(i).Name; name != "At" {
				m[name] = withoutPos(v.Field(i))
			}
		}
		return m
	case reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) {
			return "NaN"
		}
		return f
	}
	return v.Interface()
}

// TestWhereWithApply: an $apply groups the rows of Filter and Where together.
func TestWhereWithApply(t *testing.T) {
	f := getFixture(t, 2000, 256, 1)
	apply := "groupby((userId),aggregate($count as n))"
	upn := f.events[7]["userPrincipalName"].(string)
	rw, err := query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Filter: "isInteractive eq true", Where: query.Eq("userPrincipalName", upn), Apply: apply})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := query.Run(context.Background(), columnar.SignIns, f.src, query.Request{Filter: "isInteractive eq true and userPrincipalName eq " + quote(upn), Apply: apply})
	if err != nil {
		t.Fatal(err)
	}
	if len(rw.Groups) == 0 || !reflect.DeepEqual(rw.Groups, rt.Groups) {
		t.Fatalf("apply with Where %v, with the text %v", rw.Groups, rt.Groups)
	}
}

// TestWhereShared: one Pred serves concurrent queries (binding does not touch the tree; run
// with -race).
func TestWhereShared(t *testing.T) {
	f := getFixture(t, 300, 64, 11)
	where := query.And(query.Ne("status/errorCode", 0), query.Any("signInEventTypes", "t", query.Eq("t", "interactiveUser")))
	want := sortedCopy(refIDs(t, f, where.String()))
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			req := query.Request{Where: where, Top: 100000, Select: []string{"id"}, Count: i%2 == 0}
			res, err := query.Run(context.Background(), columnar.SignIns, f.src, req)
			if err == nil && !slices.Equal(sortedCopy(idsOf(res.Rows)), want) {
				err = errors.New("rows differ")
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
