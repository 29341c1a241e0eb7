package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/internal/clocktest"
)

// TestIngestStorageAccountTree: a local copy of the storage-account destination of diagnostic
// settings (hourly PT1H.json blobs, one record per line, appended while the hour lasts) loads
// with a plain `ingest DIR`; a second run reads only what was appended, and a line still being
// written is left for the next run, not rejected.
func TestIngestStorageAccountTree(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	if _, _, err := gen.Write(&buf, gen.Config{Events: 300, Seed: 12, Days: 1, End: clocktest.Epoch(), Tenant: "t-archive"}); err != nil {
		t.Fatal(err)
	}
	var records [][]byte
	for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		r, _ := json.Marshal(map[string]any{"category": "NonInteractiveUserSignInLogs", "operationName": "Sign-in activity", "properties": json.RawMessage(l)})
		records = append(records, append(r, '\n'))
	}
	tree := filepath.Join(dir, "insights-logs-noninteractiveusersigninlogs")
	blob := func(h int) string {
		p := filepath.Join(tree, "resourceId=", "tenants", "t-archive", "providers", "Microsoft.aadiam", "y=2026", "m=11", "d=20", fmt.Sprintf("h=%02d", h), "m=00", "PT1H.json")
		os.MkdirAll(filepath.Dir(p), 0o755)
		return p
	}
	write := func(p string, recs [][]byte, tail []byte) {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(bytes.Join(recs, nil))
		f.Write(tail)
		f.Close()
	}
	data := filepath.Join(dir, "data")
	ingest := func(wants ...string) {
		t.Helper()
		out, err := run(t, "ingest", "--data", data, "--retention", "0", tree)
		for _, want := range wants {
			if err != nil || !strings.Contains(out, want) {
				t.Fatalf("ingest %s: %v\n%s (want %q)", tree, err, out, want)
			}
		}
	}
	// Hour 12 is complete; hour 13 is being written: its last line is half there.
	write(blob(12), records[:100], nil)
	half := records[150][:len(records[150])/2]
	write(blob(13), records[100:150], half)
	ingest("ingested 150 records in", "150 accepted, 0 updated, 0 duplicates, 0 rejected")
	ingest("ingested 0 records in")
	// The writer finishes the line and goes on; hour 14 begins.
	write(blob(13), nil, records[150][len(records[150])/2:])
	write(blob(13), records[151:200], nil)
	write(blob(14), records[200:], nil)
	ingest("ingested 150 records in", "150 accepted, 0 updated, 0 duplicates, 0 rejected")
	out, err := run(t, "stats", "--data", data, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ Events int }
	json.Unmarshal([]byte(out), &st)
	if st.Events != 300 {
		t.Fatalf("stored %d events of 300", st.Events)
	}
}

// TestIngestFollow: `ingest DIR --follow` keeps reading what the storage account appends, pass
// after pass, until Ctrl-C, and exits cleanly. The test waits for each pass's summary line
// (state, not time) and appends between passes.
func TestIngestFollow(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	if _, _, err := gen.Write(&buf, gen.Config{Events: 200, Seed: 13, Days: 1, End: clocktest.Epoch(), Tenant: "t-follow"}); err != nil {
		t.Fatal(err)
	}
	var records [][]byte
	for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		r, _ := json.Marshal(map[string]any{"category": "SignInLogs", "properties": json.RawMessage(l)})
		records = append(records, append(r, '\n'))
	}
	tree := filepath.Join(dir, "insights-logs-signinlogs")
	blob := filepath.Join(tree, "resourceId=", "tenants", "t-follow", "y=2026", "m=11", "d=20", "h=12", "m=00", "PT1H.json")
	os.MkdirAll(filepath.Dir(blob), 0o755)
	appendBlob := func(recs [][]byte) {
		f, err := os.OpenFile(blob, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(bytes.Join(recs, nil))
		f.Close()
	}
	appendBlob(records[:120])
	data := filepath.Join(dir, "data")
	child := exec.Command(os.Args[0], "ingest", "--data", data, "--retention", "0", "--follow", "10ms", tree)
	child.Env = append(os.Environ(), asCLIEnv+"=1")
	var stderr bytes.Buffer
	child.Stderr = &stderr
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	expect := func(want string) {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok || !strings.Contains(l, want) {
				t.Fatalf("want %q, got %q (ok %v)\nstderr: %s", want, l, ok, stderr.String())
			}
		case <-time.After(2 * time.Minute): // against a hang only
			t.Fatalf("no %q within two minutes\nstderr: %s", want, stderr.String())
		}
	}
	expect("120 accepted")
	appendBlob(records[120:])
	// A poll may read the append half written (a loaded machine): it takes the whole records
	// so far and a later poll the rest, so the 80 may come in more than one report.
	for got := 0; got < 80; {
		var l string
		select {
		case l = <-lines:
		case <-time.After(2 * time.Minute): // against a hang only
			t.Fatalf("%d of 80 appended records reported within two minutes\nstderr: %s", got, stderr.String())
		}
		var n int
		if _, err := fmt.Sscanf(l[strings.Index(l, ": ")+2:], "%d accepted, 0 updated, 0 duplicates, 0 rejected", &n); err != nil || n == 0 {
			t.Fatalf("want a report of accepted records, got %q (%v)\nstderr: %s", l, err, stderr.String())
		}
		got += n
		if got > 80 {
			t.Fatalf("%d records reported for 80 appended\nstderr: %s", got, stderr.String())
		}
	}
	child.Process.Signal(os.Interrupt)
	if err := child.Wait(); err != nil {
		t.Fatalf("after Ctrl-C: %v\nstderr: %s", err, stderr.String())
	}
	out, err := run(t, "stats", "--data", data, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ Events int }
	json.Unmarshal([]byte(out), &st)
	if st.Events != 200 {
		t.Fatalf("stored %d events of 200", st.Events)
	}
	if _, err := run(t, "ingest", "--data", data, "--follow", "1s", filepath.Join(dir, "x.ndjson")); err == nil || !strings.Contains(err.Error(), "--follow reads storage-account trees") {
		t.Fatalf("--follow with a plain file: %v", err)
	}
}
