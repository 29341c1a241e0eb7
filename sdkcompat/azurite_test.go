package sdkcompat

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/appendblob"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/consume/kafkatest"
	"github.com/authlake/authlake/engine/load"
)

// azuriteKey is Azurite's documented development account key (public, not a secret).
const azuriteKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

// startAzurite runs Microsoft's storage emulator (npm azurite) on a free loopback port and
// returns its connection string; it is stopped when the test ends.
func startAzurite(t *testing.T) string {
	t.Helper()
	bin := filepath.Join("node", "node_modules", ".bin", "azurite-blob")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("Azurite is not installed: run `npm ci --prefix sdkcompat/node` (.ci/run does): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", fmt.Sprint(port), "--location", t.TempDir(), "--silent", "--skipApiVersionCheck", "--loose")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	deadline := time.Now().Add(time.Minute)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Azurite did not listen within a minute:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=%s;BlobEndpoint=http://127.0.0.1:%d/devstoreaccount1;", azuriteKey, port)
}

// TestStorageAccountArchiveOnAzurite: diagnostic settings archive sign-ins to append blobs, one per
// hour, growing while the hour lasts. load.AzureStore reads the container with the Azure SDK,
// only what was appended since the last run and up to the last complete line; every sign-in is
// stored once.
func TestStorageAccountArchiveOnAzurite(t *testing.T) {
	conn := startAzurite(t)
	ctx := context.Background()
	const cont = "insights-logs-signinlogs"
	client, err := azblob.NewClientFromConnectionString(conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateContainer(ctx, cont, nil); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, _, err := gen.Write(&buf, gen.Config{Events: 600, Seed: 4, Days: 1, End: end}); err != nil {
		t.Fatal(err)
	}
	// One record per line, as the archive blobs hold them.
	var lines [][]byte
	for _, m := range kafkatest.Messages(bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")), 1, "SignInLogs") {
		lines = append(lines, append(bytes.TrimSuffix(bytes.TrimPrefix(m, []byte(`{"records":[`)), []byte(`]}`)), '\n'))
	}
	blobName := func(h int) string {
		return fmt.Sprintf("resourceId=/tenants/%s/providers/Microsoft.aadiam/y=2026/m=11/d=20/h=%02d/m=00/PT1H.json", tenant, h)
	}
	appendTo := func(name string, data []byte) {
		t.Helper()
		ab := client.ServiceClient().NewContainerClient(cont).NewAppendBlobClient(name)
		if _, err := ab.GetProperties(ctx, nil); err != nil {
			if _, err := ab.Create(ctx, nil); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := ab.AppendBlock(ctx, nopSeeker{bytes.NewReader(data)}, &appendblob.AppendBlockOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	db, err := engine.Open(filepath.Join(dir, "data"), engine.Options{NoSync: true, Retention: -1, Now: func() time.Time { return end }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	run := func() load.Summary {
		t.Helper()
		store, err := load.NewAzureStore(conn, cont, "resourceId=")
		if err != nil {
			t.Fatal(err)
		}
		ar := &load.Archive{Store: store, State: filepath.Join(dir, "state.json"), NoSync: true}
		defer ar.Close()
		srcs, err := ar.Sources(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := load.Load(ctx, db, srcs, load.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := ar.Commit(); err != nil {
			t.Fatal(err)
		}
		return sum
	}
	joined := func(ls [][]byte) []byte { return bytes.Join(ls, nil) }
	appendTo(blobName(9), joined(lines[:200]))
	half := lines[300][:len(lines[300])/2]
	appendTo(blobName(10), append(joined(lines[200:300]), half...))
	if s := run(); s.Records != 300 || s.Accepted+s.Updated+s.Duplicates != 300 || s.Rejected != 0 {
		t.Fatalf("first run: %+v", s)
	}
	if s := run(); s.Records != 0 {
		t.Fatalf("a run with nothing appended read %d records", s.Records)
	}
	appendTo(blobName(10), append(lines[300][len(lines[300])/2:], joined(lines[301:450])...))
	appendTo(blobName(11), joined(lines[450:]))
	if s := run(); s.Records != 300 || s.Rejected != 0 || s.Duplicates != 0 {
		t.Fatalf("second run: %+v", s)
	}
	n := 0
	for _, ts := range db.Stats().Tenants {
		n += int(ts.Events)
	}
	if n != 600 {
		t.Fatalf("stored %d sign-ins of 600", n)
	}
}

// nopSeeker gives AppendBlock the ReadSeekCloser it takes.
type nopSeeker struct{ *bytes.Reader }

func (nopSeeker) Close() error { return nil }
