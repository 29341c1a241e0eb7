package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/authlake/authlake/internal/vfs"
)

// Readers beside the writer. A read-only Open never takes the directory's lock, so a reader
// never keeps a writer from starting (a `stats` in a monitoring loop once made a restarting
// consumer fail with "locked"). Whether a writer runs (a server, an ingest) or starts meanwhile,
// the reader opens on a snapshot: each manifest edit is appended to its log and fsync'd whole,
// segment files are immutable and only deleted after an edit no longer names them, and WAL
// files are removed only after an edit naming their flushed events is durable. The reader
// replays the manifest's log, opens its segments, replays the WAL (read-only; events already in
// its segments are skipped as duplicates), then replays the manifest's log again: if the
// manifest changed, a flush or compaction ran meanwhile and the reader starts over. A partial
// record at the end of a log the writer is appending to is a torn tail to a reader and is
// skipped: it was not acknowledged when the reader looked.

// snapshotAttempts bounds the retries of a reader beside a busy writer.
const snapshotAttempts = 20

func openReadOnly(dir string, opts Options, trust trustSet) (*DB, error) {
	if _, err := opts.FS.Stat(dir); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	var last error
	for attempt := 0; attempt < snapshotAttempts; attempt++ {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 10 * time.Millisecond) // let the writer finish its flush
		}
		db, err := open(dir, opts, trust, nil)
		if err != nil {
			if _, merr := loadManifest(opts.FS, dir); merr != nil {
				// No manifest (a database that lost it) or a damaged one: not the writer's
				// doing, and open said which, changing nothing.
				return nil, err
			}
			// Maybe the writer's doing (a WAL file sealed or removed under the reader), maybe
			// damage: try again, and say the last error if it persists.
			last = err
			continue
		}
		// The manifest the open used against the one a replay sees now.
		used, _ := json.Marshal(db.man)
		after, err := manifestFingerprint(opts.FS, dir)
		if err == nil && bytes.Equal(used, after) {
			return db, nil
		}
		db.closeFiles()
		last = errors.New("the writer changed the manifest while the reader opened it")
	}
	return nil, fmt.Errorf("open a snapshot of %s beside its writer: %d attempts failed, the last with: %w", dir, snapshotAttempts, last)
}

// manifestFingerprint is the manifest as a read-only replay sees it now, for a reader to tell
// whether the writer changed it while the reader opened.
func manifestFingerprint(fsys vfs.FS, dir string) ([]byte, error) {
	m, err := loadManifest(fsys, dir)
	if err != nil {
		return nil, err
	}
	return json.Marshal(m)
}
