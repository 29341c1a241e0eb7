package diagnostic

import "testing"

// TestInputIsNotFilterText: what the caller types is compared as a value; text that would
// widen a concatenated $filter finds nobody instead of everybody.
func TestInputIsNotFilterText(t *testing.T) {
	db := fixtureDB(t)
	for _, in := range []Input{
		{User: "nobody@contoso.com' or userPrincipalName ne 'x"},
		{User: "x') or (true"},
		{User: "Avery Smith", App: "x' or appId ne '"},
	} {
		rep, err := diagnose(t, db, in)
		if rep != nil {
			t.Fatalf("%+v: a report of %d events", in, rep.Search.Matched)
		}
		wantInputErr(t, err, ErrNotFound)
	}
}
