package engine

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestRemoveRefusesAnOpenDatabase: Remove deletes a closed database, but not one a writer holds
// (its files stay), and a missing directory is not an error.
func TestRemoveRefusesAnOpenDatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db, err := Open(dir, Options{DisableBackground: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := Remove(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("Remove of an open database: %v, want ErrLocked", err)
	}
	if _, err := os.Stat(filepath.Join(dir, lockName)); err != nil {
		t.Fatalf("the refused Remove took the lock file: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := Remove(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after Remove: %v, want no directory", err)
	}
	if err := Remove(dir); err != nil {
		t.Fatalf("Remove of a missing directory: %v", err)
	}
}
