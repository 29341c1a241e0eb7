package lake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/internal/clocktest"
)

// Every visible sign-in is in the tree exactly once, in its day's file, with its values: ids as
// text, objects as structs, string collections as lists; a superseded version is not.
func TestExportRoundTrip(t *testing.T) {
	now := clocktest.Epoch()
	db, err := engine.Open(t.TempDir(), engine.Options{NoSync: true, Retention: -1, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler), BlockRows: 512})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var buf bytes.Buffer
	if _, _, err := gen.Write(&buf, gen.Config{Events: 4000, Seed: 21, Days: 3, End: now}); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	var recs []engine.Record
	for _, l := range lines {
		recs = append(recs, engine.Record{Raw: l})
	}
	if _, err := db.Ingest(recs[:3000], engine.IngestOptions{Tenant: gen.DefaultTenant}); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(); err != nil { // some days in segments, the rest in the memtable
		t.Fatal(err)
	}
	if _, err := db.Ingest(recs[3000:], engine.IngestOptions{Tenant: gen.DefaultTenant}); err != nil {
		t.Fatal(err)
	}
	// A later version of one sign-in: only it may be exported.
	var first map[string]any
	json.Unmarshal(lines[0], &first)
	first["riskState"] = "atRisk"
	first["correlationId"] = "client-flow-7" // not a GUID: kept verbatim, exported as sent
	v2, _ := json.Marshal(first)
	if res, err := db.Ingest([]engine.Record{{Raw: v2}}, engine.IngestOptions{Tenant: gen.DefaultTenant}); err != nil || res.Updated != 1 {
		t.Fatalf("%+v %v", res, err)
	}

	dir := t.TempDir()
	days, err := Export(db, gen.DefaultTenant, dir, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]any{} // id → the engine's view
	if _, err := db.Export(gen.DefaultTenant, func(line []byte) error {
		var m map[string]any
		json.Unmarshal(line, &m)
		want[m["id"].(string)] = m
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	var total int64
	for _, d := range days {
		total += d.Rows
		rows := readParquet(t, filepath.Join(dir, d.File))
		if int64(len(rows)) != d.Rows {
			t.Fatalf("%s: %d rows, manifest says %d", d.File, len(rows), d.Rows)
		}
		for _, r := range rows {
			id := r["id"].(string)
			w := want[id]
			if w == nil || got[id] {
				t.Fatalf("%s: id %s unknown or twice", d.File, id)
			}
			got[id] = true
			if r["riskState"] != w["riskState"] || r["userPrincipalName"] != w["userPrincipalName"] || r["correlationId"] != w["correlationId"] {
				t.Fatalf("%s: %s differs: %v/%v/%v vs %v/%v/%v", d.File, id, r["riskState"], r["userPrincipalName"], r["correlationId"], w["riskState"], w["userPrincipalName"], w["correlationId"])
			}
			ws, _ := w["status"].(map[string]any)
			rs, _ := r["status"].(map[string]any)
			if ws["errorCode"] != rs["errorCode"] {
				t.Fatalf("%s: status/errorCode %v vs %v", id, rs["errorCode"], ws["errorCode"])
			}
			if !sameStrings(r["signInEventTypes"], w["signInEventTypes"]) {
				t.Fatalf("%s: signInEventTypes %v vs %v", id, r["signInEventTypes"], w["signInEventTypes"])
			}
			sameNested(t, id, "appliedConditionalAccessPolicies", r, w, "id", "displayName", "result", "enforcedGrantControls")
			sameNested(t, id, "authenticationDetails", r, w, "authenticationMethod", "succeeded", "authenticationStepDateTime")
		}
	}
	if total != int64(len(want)) || len(got) != len(want) {
		t.Fatalf("exported %d rows (%d ids), the engine shows %d", total, len(got), len(want))
	}
	if got := readParquetRisk(t, dir, days, first["id"].(string)); got != "atRisk" {
		t.Fatalf("the re-emitted sign-in is exported as %q, want its newest version", got)
	}
	var m Manifest
	b, _ := os.ReadFile(filepath.Join(dir, ManifestName))
	if json.Unmarshal(b, &m) != nil || len(m.Days) != len(days) {
		t.Fatalf("manifest %s", b)
	}
}

// sameNested: a collection of objects is a list of structs in Parquet holding the members the
// engine's JSON has (the struct adds the type's other members as nulls).
func sameNested(t *testing.T, id, prop string, got, want map[string]any, members ...string) {
	t.Helper()
	g, _ := got[prop].([]any)
	w, _ := want[prop].([]any)
	if len(g) != len(w) {
		t.Fatalf("%s: %s has %d elements, the engine %d", id, prop, len(g), len(w))
	}
	for i := range w {
		ge, we := g[i].(map[string]any), w[i].(map[string]any)
		for _, m := range members {
			gv, wv := ge[m], we[m]
			if ts, ok := wv.(string); ok && m == "authenticationStepDateTime" {
				wt, _ := time.Parse(time.RFC3339Nano, ts)
				gt, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(gv))
				if !wt.Equal(gt) {
					t.Fatalf("%s: %s[%d].%s = %v, the engine %v", id, prop, i, m, gv, wv)
				}
				continue
			}
			if gj, wj := fmt.Sprint(gv), fmt.Sprint(wv); wv != nil && gj != wj {
				t.Fatalf("%s: %s[%d].%s = %v, the engine %v", id, prop, i, m, gv, wv)
			}
		}
	}
}

func sameStrings(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	if string(x) == "null" {
		x = []byte("[]")
	}
	if string(y) == "null" {
		y = []byte("[]")
	}
	return string(x) == string(y)
}

func readParquetRisk(t *testing.T, dir string, days []Day, id string) any {
	for _, d := range days {
		for _, r := range readParquet(t, filepath.Join(dir, d.File)) {
			if r["id"] == id {
				return r["riskState"]
			}
		}
	}
	return nil
}

// readParquet reads a file back through arrow's own reader, as rows of JSON values.
func readParquet(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pf, err := file.NewParquetReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1024}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := fr.GetRecordReader(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Release()
	var out []map[string]any
	for rr.Next() {
		b, err := rr.RecordBatch().MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var rows []map[string]any
		if err := json.Unmarshal(b, &rows); err != nil {
			t.Fatal(err)
		}
		out = append(out, rows...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["id"].(string) < out[j]["id"].(string) })
	return out
}
