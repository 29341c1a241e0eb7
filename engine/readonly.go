package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Readers beside the writer. A read-only Open never takes the directory's lock, so a reader
// never keeps a writer from starting (a `stats` in a monitoring loop once made a restarting
// consumer fail with "locked"). Whether a writer runs (a server, an ingest) or starts meanwhile,
// the reader opens on a snapshot: the manifest is replaced atomically, segment files are immutable and
// only deleted after a newer manifest no longer names them, and WAL files are removed only after
// a manifest naming their flushed events is durable. The reader reads the manifest, opens its
// segments, replays the WAL (read-only; events already in its segments are skipped as
// duplicates), then reads the manifest again: if it changed, a flush or compaction ran meanwhile
// and the reader starts over. A partial record at the end of the writer's active file is a torn
// tail to a reader and is skipped: those events were not acknowledged when the reader looked.

// snapshotAttempts bounds the retries of a reader beside a busy writer.
const snapshotAttempts = 20

func openReadOnly(dir string, opts Options, trust trustSet) (*DB, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	var last error
	for attempt := 0; attempt < snapshotAttempts; attempt++ {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 10 * time.Millisecond) // let the writer finish its flush
		}
		path := filepath.Join(dir, manifestName)
		before, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			// No manifest: a database never flushed (a WAL only), or one whose manifest is gone;
			// open says which, and refuses the second without touching anything.
			return open(dir, opts, trust, nil)
		}
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		db, err := open(dir, opts, trust, nil)
		if err != nil {
			// Maybe the writer's doing (a WAL file sealed or removed under the reader), maybe
			// damage: try again, and say the last error if it persists.
			last = err
			continue
		}
		after, err := os.ReadFile(path)
		if err == nil && bytes.Equal(before, after) {
			return db, nil
		}
		db.closeFiles()
		last = errors.New("the writer changed the manifest while the reader opened it")
	}
	return nil, fmt.Errorf("open a snapshot of %s beside its writer: %d attempts failed, the last with: %w", dir, snapshotAttempts, last)
}
