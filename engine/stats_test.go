package engine

import (
	"context"
	"testing"

	"github.com/authlake/authlake/query"
)

// Stats.DictionaryBytes shows what segment dictionaries hold, which no budget bounds: none
// after ingest and merges, some once a query has read dictionary columns, none again after a
// restart.
func TestStatsReportDictionaries(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions()
	db := mustOpen(t, dir, opts)
	ingestSegments(t, db, makeEvents(2400, 4, 2), 4)
	if err := db.CompactAll(); err != nil {
		t.Fatal(err)
	}
	if st := db.Stats(); st.DictionaryBytes != 0 {
		t.Fatalf("after ingest and merges the segments hold %d bytes of dictionaries", st.DictionaryBytes)
	}
	res, err := db.Query(context.Background(), tenantA, query.Request{Filter: "userPrincipalName ne 'nobody@example.com'", Top: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) == 0 {
		t.Fatal("the query found no rows")
	}
	if st := db.Stats(); st.DictionaryBytes <= 0 {
		t.Fatalf("after a page of full rows the segments hold %d bytes of dictionaries", st.DictionaryBytes)
	}
	db.Close()
	db = mustOpen(t, dir, opts)
	defer db.Close()
	if st := db.Stats(); st.DictionaryBytes != 0 {
		t.Fatalf("a fresh open holds %d bytes of dictionaries", st.DictionaryBytes)
	}
}
