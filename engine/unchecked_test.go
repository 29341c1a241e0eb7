package engine

import (
	"strings"
	"testing"
)

// TestUncheckedRecordsAreFramedAgainInPlace: an Unchecked line the decoder takes whole is stored
// as it is; one it does not take is handed to IngestOptions.Reframe, whose records are ingested
// in its place (their rejects indexed after the call's records, in order); a call with an
// Unchecked record and no Reframe fails before storing anything.
func TestUncheckedRecordsAreFramedAgainInPlace(t *testing.T) {
	db := mustOpen(t, t.TempDir(), testOptions())
	defer db.Close()
	good := makeEvents(4, 7, 1)
	if _, err := db.Ingest([]Record{{Raw: []byte(good[0]), Unchecked: true}}, IngestOptions{}); err == nil || !strings.Contains(err.Error(), "Reframe") {
		t.Fatalf("an Unchecked record without Reframe: %v", err)
	}
	page := `{"value":[` + good[1] + `,{"id":"x"}]}`
	recs := []Record{
		{Raw: []byte(good[0]), Unchecked: true},
		{Raw: []byte(page), Unchecked: true},
		{Raw: []byte(good[2] + good[3]), Unchecked: true},
	}
	var asked []int
	reframe := func(i int) ([]Record, error) {
		asked = append(asked, i)
		switch i {
		case 1:
			return []Record{{Raw: []byte(good[1])}, {Raw: []byte(`{"id":"x"}`)}}, nil
		case 2:
			return []Record{{Raw: []byte(good[2])}, {Raw: []byte(good[3])}}, nil
		}
		t.Fatalf("Reframe of record %d, which the decoder takes whole", i)
		return nil, nil
	}
	res, err := db.Ingest(recs, IngestOptions{Reframe: reframe})
	if err != nil {
		t.Fatal(err)
	}
	if len(asked) != 2 || asked[0] != 1 || asked[1] != 2 {
		t.Fatalf("Reframe asked for %v, want [1 2]", asked)
	}
	if res.Accepted != 4 || len(res.Rejected) != 1 || res.Rejected[0].Index != len(recs)+1 {
		t.Fatalf("got %+v, want 4 accepted and the page's second record (index %d) rejected", res, len(recs)+1)
	}
	if n := db.Stats().Events; n != 4 {
		t.Fatalf("%d events stored, want 4", n)
	}
}
