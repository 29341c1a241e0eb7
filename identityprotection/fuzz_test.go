package identityprotection

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzRiskLogLegacy: whatever an earlier version's risk.log holds, Open either applies it or
// fails with an error naming the line; it never panics (a record with an unknown op, an
// unknown action or no payload used to panic in apply).
func FuzzRiskLogLegacy(f *testing.F) {
	f.Add([]byte(`{"op":"expire","tenant":"t","at":"2026-11-20T12:00:00Z"}` + "\n"))
	f.Add([]byte(`{"op":"detect","tenant":"t","at":"2026-11-20T12:00:00Z"}` + "\n"))
	f.Add([]byte(`{"op":"action","tenant":"t","act":{"kind":"explode","users":[{"id":"u"}]}}` + "\n"))
	f.Add([]byte(`{"op":"action","tenant":"t","act":{"kind":"closeDetection","how":"x","detections":["d"]}}` + "\n"))
	f.Add([]byte(`{"op":"action","tenant":"t","act":{"kind":"confirmCompromised","users":[{"id":"u","upn":"u@x"}]}}` + "\n" + `{"op":"snap`))
	f.Add([]byte(`{"op":"whatever"}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, legacyLog), data, 0o644); err != nil {
			t.Fatal(err)
		}
		st, err := Open(dir, Options{NoSync: true, Now: fixedNow, ReadOnly: true})
		if err == nil {
			st.Close()
		}
	})
}
