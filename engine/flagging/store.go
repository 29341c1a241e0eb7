package flagging

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/authlake/authlake/internal/fsutil"
)

// fileVersion is written in the windows file so a later format can be told apart.
const fileVersion = 1

type fileContents struct {
	Version int      `json:"version"`
	Windows []Window `json:"windows"`
}

func load(path string) ([]Window, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read flagging windows: %w", err)
	}
	var fc fileContents
	if err := json.Unmarshal(b, &fc); err != nil {
		return nil, fmt.Errorf("flagging windows file %s is corrupt: %w", path, err)
	}
	if fc.Version != fileVersion {
		return nil, fmt.Errorf("flagging windows file %s has version %d; this build reads %d", path, fc.Version, fileVersion)
	}
	return fc.Windows, nil
}

// save replaces the file atomically: write a temporary file, fsync it, rename it over the old
// one and fsync the directory, so a crash leaves either the old or the new windows, never a mix,
// and an acknowledged Start survives power loss.
func save(path string, ws []Window) error {
	if ws == nil {
		ws = []Window{}
	}
	b, err := json.MarshalIndent(fileContents{Version: fileVersion, Windows: ws}, "", "  ")
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(path, b, 0o644, nil, false); err != nil {
		return fmt.Errorf("write flagging windows: %w", err)
	}
	return nil
}
