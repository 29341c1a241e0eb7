package sdkcompat

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/lake"
)

// TestPublishParquetToAzurite: `export --format parquet -o azblob://CONTAINER/PREFIX` writes the
// Hive-partitioned tree into a storage account's container through gocloud.dev/blob, with the
// connection string of `ingest --blob-container`: every day's file under the prefix, and the
// manifest naming each with its size. A second publish of unchanged data uploads nothing.
func TestPublishParquetToAzurite(t *testing.T) {
	conn := startAzurite(t)
	ctx := context.Background()
	client, err := azblob.NewClientFromConnectionString(conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateContainer(ctx, "lake", nil); err != nil {
		t.Fatal(err)
	}
	t.Setenv(lake.EnvStorageConnectionString, conn)

	db, err := engine.Open(filepath.Join(t.TempDir(), "data"), engine.Options{NoSync: true, Retention: -1, Now: func() time.Time { return end }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var buf bytes.Buffer
	n, _, err := gen.Write(&buf, gen.Config{Events: 2000, Seed: 8, Days: 3, End: end})
	if err != nil {
		t.Fatal(err)
	}
	var recs []engine.Record
	for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		recs = append(recs, engine.Record{Raw: l})
	}
	if _, err := db.Ingest(recs, engine.IngestOptions{Tenant: tenant}); err != nil {
		t.Fatal(err)
	}
	days, err := lake.Export(db, tenant, "azblob://lake/signins", lake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(days) == 0 {
		t.Fatal("nothing published")
	}

	sizes := map[string]int64{}
	pager := client.NewListBlobsFlatPager("lake", nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range page.Segment.BlobItems {
			sizes[*b.Name] = *b.Properties.ContentLength
		}
	}
	resp, err := client.DownloadStream(ctx, "lake", "signins/"+lake.ManifestName, nil)
	if err != nil {
		t.Fatalf("manifest: %v (blobs: %v)", err, sizes)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var m lake.Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	var rows int64
	for _, d := range m.Days {
		name := "signins/" + d.File
		if !strings.HasPrefix(d.File, "tenant="+tenant+"/date=") || sizes[name] != d.Bytes {
			t.Fatalf("%s: %d bytes in the container, the manifest says %d (blobs: %v)", name, sizes[name], d.Bytes, sizes)
		}
		rows += d.Rows
	}
	if len(sizes) != len(m.Days)+1 {
		t.Fatalf("the container holds %d blobs, the manifest names %d days: %v", len(sizes), len(m.Days), sizes)
	}
	if rows != n {
		t.Fatalf("published %d rows of %d sign-ins", rows, n)
	}
	again, err := lake.Export(db, tenant, "azblob://lake/signins", lake.Options{})
	if err != nil || len(again) != 0 {
		t.Fatalf("publishing unchanged data again wrote %d days, %v", len(again), err)
	}
}
