package engine

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authlake/authlake/index"
)

// A block larger than an index sidecar can describe is refused when the database opens, before
// anything is written, not when its first flush fails.
func TestOpenRefusesBlocksTheIndexCannotDescribe(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	opts := testOptions()
	opts.BlockRows = index.MaxBlockRows + 1
	db, err := Open(dir, opts)
	if err == nil {
		db.Close()
		t.Fatal("opened with blocks of 2^24 rows")
	}
	if !strings.Contains(err.Error(), "blocks of 16777216 rows: at most 16777215") {
		t.Fatalf("error %q does not say the bound", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the refused open left %s behind (%v)", dir, err)
	}
	opts.BlockRows = index.MaxBlockRows
	db = mustOpen(t, dir, opts)
	db.Close()
}
