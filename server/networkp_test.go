package server_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/authlake/authlake/server"
)

// limits.networkP is on unless the config turns it off (cmd/authlake's TestQueryBesideServe
// checks what a serve process then runs with).
func TestNetworkPConfig(t *testing.T) {
	for body, want := range map[string]bool{
		"limits:\n  burst: 10\n":       true,
		"limits:\n  networkP: true\n":  true,
		"limits:\n  networkP: false\n": false,
	} {
		path := filepath.Join(t.TempDir(), "authlake.yaml")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := server.LoadConfig(path)
		if err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		if got := cfg.Limits.ReservesNetworkP(); got != want {
			t.Fatalf("%q: reserves a P for the network %v, want %v", body, got, want)
		}
	}
}
