package input

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

// timingInputs builds about 32 MB of each shape from the sample sign-in.
func timingInputs(b *testing.B) map[string][]byte {
	const n = 8000
	rec := string(sampleSignIn)
	var nd, pages, diag, pretty strings.Builder
	for i := range n {
		nd.WriteString(rec + "\n")
		if i%1000 == 0 {
			if i > 0 {
				pages.WriteString("],\"@odata.nextLink\":\"https://graph.microsoft.com/beta/auditLogs/signIns?$skiptoken=x\"}\n")
			}
			pages.WriteString(`{"@odata.context":"https://graph.microsoft.com/beta/$metadata#auditLogs/signIns","value":[`)
		} else {
			pages.WriteString(",")
		}
		pages.WriteString(rec)
		diag.WriteString(`{"time":"2025-03-04T08:15:27Z","resourceId":"/tenants/t/providers/Microsoft.aadiam","operationName":"Sign-in activity","category":"SignInLogs","tenantId":"t","properties":` + rec + "}\n")
	}
	pages.WriteString("]}\n")
	// Pretty-printed page: indent the compact record by hand (2 spaces per level).
	pretty.WriteString("{\n  \"value\": [\n")
	for i := range n / 4 {
		if i > 0 {
			pretty.WriteString(",\n")
		}
		pretty.WriteString(indent(rec))
	}
	pretty.WriteString("\n  ]\n}\n")
	plain := map[string][]byte{
		"ndjson":      []byte(nd.String()),
		"graph-pages": []byte(pages.String()),
		"diag-ndjson": []byte(diag.String()),
		"pretty-page": []byte(pretty.String()),
	}
	plain["ndjson.gz"] = gzipped(b, plain["ndjson"])
	plain["ndjson.zst"] = zstded(b, plain["ndjson"])
	return plain
}

// indent pretty-prints compact JSON well enough for timing (strings in the
// sample hold no brackets or commas that would be mangled).
func indent(s string) string {
	var out strings.Builder
	depth := 2
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '{', '[':
			depth++
			out.WriteByte(c)
			out.WriteString("\n" + strings.Repeat("  ", depth))
		case '}', ']':
			depth--
			out.WriteString("\n" + strings.Repeat("  ", depth))
			out.WriteByte(c)
		case ',':
			out.WriteString(",\n" + strings.Repeat("  ", depth))
		default:
			out.WriteByte(c)
		}
	}
	return out.String()
}

// BenchmarkReader reports MB/s of decompressed input for each format.
func BenchmarkReader(b *testing.B) {
	inputs := timingInputs(b)
	for _, name := range []string{"ndjson", "graph-pages", "diag-ndjson", "pretty-page", "ndjson.gz", "ndjson.zst"} {
		data := inputs[name]
		raw := len(inputs[strings.TrimSuffix(strings.TrimSuffix(name, ".gz"), ".zst")])
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(raw))
			b.ReportAllocs()
			for b.Loop() {
				rd, err := NewReader(bytes.NewReader(data), name)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					rec, err := rd.Next()
					if err == io.EOF {
						break
					}
					if err != nil || rec.Err != nil {
						b.Fatalf("record %d: %v %v", n, err, rec.Err)
					}
					n++
				}
				rd.Close()
				if n == 0 {
					b.Fatal("no records")
				}
			}
		})
	}
}

// BenchmarkLineValidate is the alternative considered for NDJSON: split on
// newlines and validate each line with fastjson. Kept to justify the choice
// of the own scanner.
func BenchmarkLineValidate(b *testing.B) {
	data := timingInputs(b)["ndjson"]
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rest := data
		for len(rest) > 0 {
			i := bytes.IndexByte(rest, '\n')
			if i < 0 {
				i = len(rest)
			}
			if err := fastjson.ValidateBytes(rest[:i]); err != nil {
				b.Fatal(err)
			}
			rest = rest[min(i+1, len(rest)):]
		}
	}
}
