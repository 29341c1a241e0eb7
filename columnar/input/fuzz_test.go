package input

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

func FuzzReader(f *testing.F) {
	for _, s := range []string{
		ndjson, diagWrapped, "", "[]", "{", "[{\"a\":1},", "{\"value\":[{\"a\":1}],\"x\":2}{\"records\":[]}",
		"{\"a\":\"\\\\\\\"\"}\n", "{\"category\":\"SignInLogs\",\"properties\":{\"id\":1}}\n42\n[1]\n",
		"{\n \"value\": [\n  {\"a\": tru},\n  {}\n ]\n}\n{}\n", "\xef\xbb\xbf{}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		small := Options{MaxRecordSize: 64}
		whole, err := readAllErr(bytes.NewReader(data), small)
		if err != nil {
			t.Fatalf("fatal error on plain input: %v", err)
		}
		bytewise, err := readAllErr(&oneByte{data: data}, small)
		if err != nil {
			t.Fatalf("fatal error on plain input: %v", err)
		}
		if fmt.Sprint(whole) != fmt.Sprint(bytewise) {
			t.Fatalf("framing depends on read sizes:\n%v\n%v", whole, bytewise)
		}
		for _, g := range whole {
			if g.Off < 0 || g.Off > int64(len(data)) || g.Line < 1 || g.Col < 1 {
				t.Fatalf("bad position %v", g)
			}
			if g.Err == "" && !bytes.Contains(data, []byte(g.Raw)) {
				t.Fatalf("good record is not verbatim input: %v", g)
			}
		}
		lines, ok := ndjsonObjects(data)
		if !ok {
			return
		}
		recs, err := readAllErr(bytes.NewReader(data), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != len(lines) {
			t.Fatalf("valid NDJSON of %d objects gave %d records: %v", len(lines), len(recs), recs)
		}
		for i, g := range recs {
			if g.Err != "" || g.Raw != lines[i] {
				t.Fatalf("record %d: got %v, want %q", i, g, lines[i])
			}
		}
	})
}

// ndjsonObjects reports the trimmed lines of data if every non-blank line is
// a JSON object, per encoding/json, that is an event (not a wrapper or a
// diagnostic record) and within the depth limit.
func ndjsonObjects(data []byte) ([]string, bool) {
	var out []string
	for _, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.Trim(line, " \t\r")
		if len(line) == 0 {
			continue
		}
		var m map[string]json.RawMessage
		if line[0] != '{' || !json.Valid(line) || json.Unmarshal(line, &m) != nil {
			return nil, false
		}
		if _, ok := m["value"]; ok {
			return nil, false
		}
		if _, ok := m["records"]; ok {
			return nil, false
		}
		if _, ok := m["properties"]; ok {
			return nil, false
		}
		if bytes.Count(line, []byte("{"))+bytes.Count(line, []byte("[")) >= MaxDepth {
			return nil, false
		}
		out = append(out, string(line))
	}
	return out, true
}

func FuzzCompressed(f *testing.F) {
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x00, 0x01, 0x00})
	f.Add(gzipped(f, []byte(ndjson)))
	f.Add(zstded(f, []byte(ndjson)))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Corrupt compressed input may fail, but must never panic or hang.
		_, _ = readAllErr(bytes.NewReader(data), Options{MaxRecordSize: 64})
	})
}
