package flagging

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("write flagging windows: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write flagging windows: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("sync flagging windows directory: %w", err)
		}
	}
	return nil
}
