package identityprotection

import (
	"path/filepath"
	"testing"
)

// Restarts do not pile up log files: an open that finds more than a few compacts them into one.
func TestRestartsDoNotPileUpLogFiles(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 3*maxLogFilesAtOpen; i++ {
		s, err := Open(dir, Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	files, _ := filepath.Glob(filepath.Join(dir, logDir, "*.wal"))
	if len(files) > maxLogFilesAtOpen+1 {
		t.Fatalf("%d log files after %d opens", len(files), 3*maxLogFilesAtOpen)
	}
}
