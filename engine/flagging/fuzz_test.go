package flagging

import (
	"encoding/json"
	"testing"
)

// FuzzRecord: any payload in the windows' log either passes check and applies, or is refused
// (corruption); applying a checked record never panics, and a start adds exactly one window.
func FuzzRecord(f *testing.F) {
	f.Add(`{"op":"start","window":{"id":"w","tenant":"t","userPrincipalName":"a@b","start":"2026-11-20T10:00:00Z","end":"2026-11-20T10:20:00Z"}}`)
	f.Add(`{"op":"stop","tenant":"t","id":"w","at":"2026-11-20T10:05:00Z"}`)
	f.Add(`{"op":"snapshot","windows":[{"id":"w","tenant":"t"}]}`)
	f.Add(`{"op":"start"}`)
	f.Fuzz(func(t *testing.T, payload string) {
		var r record
		if json.Unmarshal([]byte(payload), &r) != nil || r.check() != nil {
			return
		}
		before := []Window{{ID: "w", Tenant: "t"}}
		after := apply(before, &r)
		if r.Op == opStart && len(after) != 2 {
			t.Fatalf("a start left %d windows from 1", len(after))
		}
	})
}
