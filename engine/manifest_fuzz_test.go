package engine

import (
	"encoding/json"
	"testing"
)

// FuzzManifestEdit: any payload in the manifest's log either decodes and applies to a manifest
// or is refused (corruption at its position); applying never panics, and an applied edit leaves
// a version 1 manifest.
func FuzzManifestEdit(f *testing.F) {
	f.Add(`{"op":"snapshot","snapshot":{"version":1,"nextSegmentId":3,"segments":[{"id":2,"tenant":"t","day":20412}]}}`)
	f.Add(`{"op":"edit","add":[{"id":4,"tenant":"t","day":1}],"remove":[2],"nextSegmentId":5,"retention":{"":30}}`)
	f.Add(`{"op":"edit","retention":{}}`)
	f.Add(`{"op":"snapshot"}`)
	f.Add(`{"op":"drop"}`)
	f.Fuzz(func(t *testing.T, payload string) {
		m := &manifest{Version: 1, NextID: 1}
		var e manifestEdit
		if json.Unmarshal([]byte(payload), &e) != nil {
			return
		}
		if err := e.apply(m); err == nil && m.Version != 1 {
			t.Fatalf("applied %q and got manifest version %d", payload, m.Version)
		}
	})
}
