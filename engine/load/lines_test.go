package load_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine/load"
)

// TestLineFramingStoresWhatScanningStores: a load that frames NDJSON records by their lines
// stores the same events, counts the same and quarantines the same records at the same
// positions as one that frames every record with the JSON scanner, over input that mixes
// plain lines with everything a line may hold instead: two records, a Graph page, a
// diagnostic-settings record, a record with escapes, a pretty-printed record, a member named
// like a page's, and records that are bad for the scanner or for the engine.
func TestLineFramingStoresWhatScanningStores(t *testing.T) {
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	gen.Write(&buf, gen.Config{Events: 400, Seed: 11, Start: now.Add(-48 * time.Hour), Days: 2})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, []byte(lines[50]), "", "  "); err != nil {
		t.Fatal(err)
	}
	edit := map[int]string{
		10: lines[10] + lines[11] + " " + lines[12],
		11: "", 12: "",
		20:  `{"@odata.context":"https://graph.microsoft.com/beta/$metadata#auditLogs/signIns","value":[` + lines[20] + "," + lines[21] + `],"@odata.nextLink":"x"}`,
		21:  "",
		30:  `{"time":"2026-11-22T00:00:00Z","category":"NonInteractiveUserSignInLogs","properties":` + lines[30] + `}`,
		40:  strings.Replace(lines[40], `"userDisplayName":"`, `"userDisplayName":"\u00c9mile \"q\" `, 1),
		50:  pretty.String(),
		60:  strings.Replace(lines[60], `{`, `{"value":"a member named like a page's",`, 1),
		70:  "   " + lines[70] + " \t\r",
		80:  `{"id":"x",}`,
		90:  strings.Replace(lines[90], `"createdDateTime":"`, `"createdDateTime":"not a time `, 1),
		100: `{"id":"y","n":{"a":tru}}`,
	}
	for i, s := range edit {
		lines[i] = s
	}
	in := strings.Join(lines, "\n") + "\n"

	opts := load.Options{Threads: 3, BatchSize: 37}
	byLines, byScanner := loadFramed(t, in, true, opts), loadFramed(t, in, false, opts)
	if byLines.err != nil || byScanner.err != nil {
		t.Fatal(byLines.err, byScanner.err)
	}
	reframed := byLines.reframed
	if reframed < 7 {
		t.Errorf("%d lines were framed again; the input has 7 the engine cannot take whole", reframed)
	}
	if byLines.sum != byScanner.sum {
		t.Errorf("summary by lines %+v, by the scanner %+v", byLines.sum, byScanner.sum)
	}
	if want := int64(len(lines) - 3 + 2 + 1); byScanner.sum.Records != want || byScanner.sum.Rejected != 3 {
		t.Errorf("by the scanner: %+v, want %d records of which 3 rejected", byScanner.sum, want)
	}
	if !slices.Equal(byLines.rejects, byScanner.rejects) {
		t.Errorf("rejects by lines\n %q\nby the scanner\n %q", byLines.rejects, byScanner.rejects)
	}
	if !slices.Equal(byLines.events, byScanner.events) {
		t.Errorf("%d events stored by lines, %d by the scanner, or their contents differ", len(byLines.events), len(byScanner.events))
	}
}

// positionSink keeps each reject's position, reason and bytes.
type positionSink struct {
	mu  sync.Mutex
	got []string
}

func (s *positionSink) Reject(source string, line, column int, reason string, raw []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, fmt.Sprintf("%s:%d:%d %s | %s", source, line, column, reason, raw))
	return nil
}

func (s *positionSink) sorted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(slices.Values(s.got))
}
