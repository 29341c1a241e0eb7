package input

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/columnar"
)

// readLines frames r with Options.Lines and frames every Unchecked record again (Reframe), as
// a caller whose decoder took none of them must: what it returns must be what a Reader without
// Options.Lines returns. unchecked counts the records that came back Unchecked.
func readLines(r io.Reader, opts Options) (out []got, unchecked int, err error) {
	opts.Lines = true
	rd, err := NewReaderOptions(r, "t.json", opts)
	if err != nil {
		return nil, 0, err
	}
	defer rd.Close()
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return out, unchecked, nil
		}
		if err != nil {
			return out, unchecked, err
		}
		if !rec.Unchecked {
			out = append(out, snapshot(rec))
			continue
		}
		unchecked++
		if rec.Err != nil || rec.Category != "" {
			return out, unchecked, fmt.Errorf("an Unchecked record with an error or a category: %v", snapshot(rec))
		}
		raw := bytes.Clone(rec.Raw)
		again, err := Reframe(raw, rec.Source, Position{Line: rec.Line, Column: rec.Column, Offset: rec.Offset}, opts)
		if err != nil {
			return out, unchecked, err
		}
		for {
			sub, err := again.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return out, unchecked, err
			}
			if sub.Unchecked {
				return out, unchecked, fmt.Errorf("Reframe gave an Unchecked record")
			}
			out = append(out, snapshot(sub))
		}
		again.Close()
		if string(raw) != string(rec.Raw) {
			return out, unchecked, fmt.Errorf("Reframe changed the bytes it read in place: %q, was %q", raw, rec.Raw)
		}
	}
}

// linesCases are inputs whose lines are framed by their line and then again, or not.
var linesCases = map[string]string{
	"ndjson":            ndjson,
	"crlf and blanks":   "{\"id\":\"a\"}\r\n\n   {\"id\":\"b\"}  \t\r\n{\"id\":\"c\"}",
	"two on a line":     "{\"id\":\"a\"}{\"id\":\"b\"} {\"id\":\"c\"}\n{\"id\":\"d\"}\n",
	"page on a line":    "{\"@odata.context\":\"x\",\"value\":[{\"id\":\"a\"},{\"id\":\"b\"}],\"@odata.nextLink\":\"y\"}\n{\"id\":\"c\"}\n",
	"diagnostic record": "{\"time\":\"t\",\"category\":\"SignInLogs\",\"properties\":{\"id\":\"a\"}}\n{\"records\":[{\"category\":\"NonInteractiveUserSignInLogs\",\"properties\":{\"id\":\"b\"}}]}\n",
	"log analytics row": "{\"TimeGenerated\":\"2026-11-01T00:00:00Z\",\"ResultType\":\"0\",\"UserPrincipalName\":\"a@b.c\",\"Id\":\"x\",\"CreatedDateTime\":\"2026-11-01T00:00:00Z\"}\n",
	"pretty":            "{\n  \"id\": \"a\",\n  \"n\": {\"k\": 1}\n}\n{\"id\":\"b\"}\n",
	"bad json":          "{\"id\":\"a\",}\n{\"id\" \"b\"}\n{\"id\":tru}\n{\"id\":\"c\"}\n",
	"garbage after":     "{\"id\":\"a\"} x}\n{\"id\":\"b\"}\n",
	"not objects":       "{\"id\":\"a\"}\n42\n[{\"id\":\"b\"}]\n\"s\"\n{\"id\":\"c\"}\n",
	"braces in strings": "{\"a\":\"{\",\"b\":{}}\n{\"a\":\"}}\",\"b\":{\"c\":\"{{\"}}\n",
	"deep":              strings.Repeat("{\"a\":", MaxDepth) + "1" + strings.Repeat("}", MaxDepth) + "\n{\"id\":\"b\"}\n",
	"escapes":           "{\"id\":\"a\\\"}\\\\\",\"u\":\"\\u00e9\\n\"}\n",
	"no final newline":  "{\"id\":\"a\"}\n{\"id\":\"b\"}",
	"bom":               "\xef\xbb\xbf{\"id\":\"a\"}\n{\"id\":\"b\"}\n",
	"after an array":    "[{\"id\":\"a\"}]\n{\"id\":\"b\"}\n",
}

// sameFraming says how framing by lines (then Reframe) may differ from framing by the scanner:
// every record the scanner frames, good or bad, comes back at its offset (a good one as it is,
// a bad one with the same reason and position), and a record the scanner does not give is one
// it skipped while resynchronising after a bad record (the lines after a bad line framed by its
// line are framed on their own, not taken as the rest of it).
func sameFraming(lines, scanner []got) error {
	key := func(g got) string {
		if g.Err != "" {
			return fmt.Sprintf("%d %s", g.Off, g.Err)
		}
		return g.String()
	}
	have := map[string]bool{}
	for _, g := range lines {
		have[key(g)] = true
	}
	want := map[string]bool{}
	for _, g := range scanner {
		want[key(g)] = true
		if !have[key(g)] {
			return fmt.Errorf("the scanner's %v is not framed by lines", g)
		}
	}
	for _, g := range lines {
		if want[key(g)] {
			continue
		}
		var last *got // the scanner's last record starting at or before g
		for i := range scanner {
			if scanner[i].Off <= g.Off {
				last = &scanner[i]
			}
		}
		if last == nil || last.Err == "" || last.Off == g.Off {
			return fmt.Errorf("%v, framed by lines, is not in the scanner's framing, nor after a bad record", g)
		}
	}
	return nil
}

// TestLineFramingMatchesScanner: framing by lines and then again gives the records, rejects
// and positions of framing by the JSON scanner (sameFraming), read whole or a byte at a time,
// and exactly them where no record is bad; the lines of NDJSON come back Unchecked.
func TestLineFramingMatchesScanner(t *testing.T) {
	for name, in := range linesCases {
		t.Run(name, func(t *testing.T) {
			for _, opts := range []Options{{}, {MaxRecordSize: 24}, {Format: FormatGraph}, {Format: FormatPortal}} {
				want := readAllFrom(t, strings.NewReader(in), opts)
				bad := false
				for _, g := range want {
					bad = bad || g.Err != ""
				}
				for _, r := range []io.Reader{strings.NewReader(in), &oneByte{data: []byte(in)}} {
					have, _, err := readLines(r, opts)
					if err != nil {
						t.Fatal(err)
					}
					if err := sameFraming(have, want); err != nil || (!bad && fmt.Sprint(have) != fmt.Sprint(want)) {
						t.Fatalf("options %+v: %v; by lines\n %v\nby the scanner\n %v", opts, err, have, want)
					}
				}
			}
		})
	}
	// Every line but the last, which has no newline.
	_, unchecked, err := readLines(strings.NewReader(linesCases["crlf and blanks"]), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if unchecked != 2 {
		t.Errorf("%d of the NDJSON's lines came back Unchecked, want 2 (all but the last)", unchecked)
	}
}

// TestLineFramingAfterABadLine: the scanner takes the lines after a bad record that start
// with a blank or a closing bracket as its rest (pretty-printed input); a bad line framed by
// its line is that line alone, and a good record on the next line is stored.
func TestLineFramingAfterABadLine(t *testing.T) {
	in := "{\"id\":\"a\",\"x\":tru}\n  {\"id\":\"b\"}\n{\"id\":\"c\"}\n"
	have, _, err := readLines(strings.NewReader(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(have) != 3 || have[0].Err == "" || have[1].Raw != `{"id":"b"}` || have[1].Err != "" || have[1].Line != 2 || have[1].Col != 3 || have[2].Err != "" {
		t.Fatalf("got %v", have)
	}
	if want := readAllFrom(t, strings.NewReader(in), Options{}); len(want) != 2 || !strings.Contains(want[0].Raw, `"b"`) {
		t.Fatalf("the scanner: got %v", want)
	}
}

// TestLineFramingOfLogAnalyticsFormat: with FormatLogAnalytics every record is converted, so
// nothing is framed by its line.
func TestLineFramingOfLogAnalyticsFormat(t *testing.T) {
	in := linesCases["log analytics row"] + linesCases["log analytics row"]
	_, unchecked, err := readLines(strings.NewReader(in), Options{Format: FormatLogAnalytics})
	if err != nil {
		t.Fatal(err)
	}
	if unchecked != 0 {
		t.Fatalf("%d Unchecked records from a Log Analytics input", unchecked)
	}
}

// TestLineFramingMisframesOnlyWhatItDocuments: the one input lines.go says is framed
// otherwise is rejected, line and continuation, verbatim: no byte is lost.
func TestLineFramingMisframesOnlyWhatItDocuments(t *testing.T) {
	in := "{\"a\":\"}\",\"b\":{}\n}\n{\"id\":\"c\"}\n"
	have, _, err := readLines(strings.NewReader(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`{"a":"}","b":{}`, `}`, `{"id":"c"}`}
	if len(have) != len(want) {
		t.Fatalf("got %v", have)
	}
	for i, g := range have {
		if g.Raw != want[i] || (g.Err != "") != (i < 2) {
			t.Fatalf("record %d: got %v, want %q rejected=%v", i, g, want[i], i < 2)
		}
	}
}

// FuzzLineFraming holds line framing followed by Reframe to the scanner's framing
// (sameFraming), but for the documented misframing.
func FuzzLineFraming(f *testing.F) {
	for _, in := range linesCases {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if misframed(data) {
			return
		}
		for _, opts := range []Options{{}, {MaxRecordSize: 64}} {
			want, err := readAllErr(bytes.NewReader(data), opts)
			if err != nil {
				t.Fatalf("fatal error on plain input: %v", err)
			}
			for _, r := range []io.Reader{bytes.NewReader(data), &oneByte{data: data}} {
				have, _, err := readLines(r, opts)
				if err != nil {
					t.Fatal(err)
				}
				if err := sameFraming(have, want); err != nil {
					t.Fatalf("options %+v: %v; by lines\n %v\nby the scanner\n %v", opts, err, have, want)
				}
			}
		}
	})
}

// misframed says whether data holds the documented case: from a '{' to the end of its line, a
// stretch that ends with '}' (trailing blanks aside), whose braces balance, and which the
// scanner does not end within it (a record framed by its line that goes on past the line).
func misframed(data []byte) bool {
	for _, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimRight(line, " \t\r")
		for i, c := range line {
			if c != '{' {
				continue
			}
			s := line[i:]
			if len(s) < 2 || s[len(s)-1] != '}' || bytes.Count(s, openBrace) != bytes.Count(s, closeBrace) {
				continue
			}
			if !wholeValues(s) {
				return true
			}
		}
	}
	return false
}

// wholeValues says whether the line's JSON scanner ends every value it starts within it.
func wholeValues(line []byte) bool {
	recs, err := readAllErr(bytes.NewReader(line), Options{})
	if err != nil {
		return false
	}
	for _, g := range recs {
		if strings.Contains(g.Err, "end of input") {
			return false
		}
	}
	return true
}

// TestFramingMembersAreNotSignInProperties: the engine asks FramesMember only about members
// that are not sign-in properties (columnar.Decoder.DecodeLine), so none of them may be one.
func TestFramingMembersAreNotSignInProperties(t *testing.T) {
	for _, name := range []string{"value", "records", "category", "properties", "TimeGenerated"} {
		if !FramesMember([]byte(name)) {
			t.Errorf("FramesMember(%q) is false", name)
		}
		_, col := columnar.SignIns.Lookup(name)
		_, obj := columnar.SignIns.LookupObject(name)
		if col || obj {
			t.Errorf("%q frames a record and is a sign-in property", name)
		}
	}
	if FramesMember([]byte("id")) || FramesMember([]byte("Value")) {
		t.Error("FramesMember claims a sign-in property or a name that differs in case")
	}
}

// FuzzDecodeLine: a record the decoder takes whole by its line (columnar.Decoder.DecodeLine,
// which the engine uses for Unchecked records) is one the scanner frames as a single good
// record, the same bytes, with no category: storing it unframed stores what framing stores.
func FuzzDecodeLine(f *testing.F) {
	var buf bytes.Buffer
	gen.Write(&buf, gen.Config{Events: 20, Seed: 3, Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Days: 1})
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		f.Add([]byte(line))
	}
	for _, in := range linesCases {
		f.Add([]byte(in))
	}
	dec, row := columnar.NewDecoder(columnar.SignIns), columnar.NewRow(columnar.SignIns)
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !dec.DecodeLine(raw, row, FramesMember) {
			return
		}
		recs, err := readAllErr(bytes.NewReader(raw), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 || recs[0].Err != "" || recs[0].Cat != "" || recs[0].Raw != string(bytes.TrimSpace(raw)) {
			t.Fatalf("DecodeLine took %q, which the scanner frames as %v", raw, recs)
		}
	})
}

// TestDecodeLineTakesGeneratedLines: generated sign-ins, the shape of Graph's NDJSON, are taken
// whole by their lines; a page, a diagnostic-settings record and two records on a line are not.
func TestDecodeLineTakesGeneratedLines(t *testing.T) {
	var buf bytes.Buffer
	gen.Write(&buf, gen.Config{Events: 200, Seed: 3, Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Days: 1})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	dec, row := columnar.NewDecoder(columnar.SignIns), columnar.NewRow(columnar.SignIns)
	for _, l := range lines {
		if !dec.DecodeLine([]byte(l), row, FramesMember) {
			t.Fatalf("a generated line is not taken whole: %.300s", l)
		}
	}
	for _, l := range []string{
		`{"value":[` + lines[0] + `]}`,
		`{"category":"SignInLogs","properties":` + lines[0] + `}`,
		lines[0] + lines[1],
		strings.Replace(lines[0], "{", `{"TimeGenerated":"2026-11-01T00:00:00Z",`, 1),
	} {
		if dec.DecodeLine([]byte(l), row, FramesMember) {
			t.Fatalf("taken whole: %.200s", l)
		}
	}
}
