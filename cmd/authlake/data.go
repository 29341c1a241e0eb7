package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/authlake/authlake/engine"
)

// openDB opens the database in dir. Read-only commands pass mustExist so that a mistyped
// --data names the problem instead of creating an empty database.
func openDB(dir string, mustExist bool, opts engine.Options) (*engine.DB, error) {
	if dir == "" {
		return nil, errors.New("--data is required: the database directory")
	}
	if mustExist {
		if _, err := os.Stat(filepath.Join(dir, "MANIFEST")); err != nil {
			if _, werr := os.Stat(filepath.Join(dir, "wal")); werr != nil {
				return nil, fmt.Errorf("no authlake database in %s (create one with: authlake ingest --data %s FILE)", dir, dir)
			}
		}
	}
	if opts.Now == nil {
		opts.Now = now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	db, err := engine.Open(dir, opts)
	if err != nil {
		return nil, err
	}
	return db, nil
}

// pickTenant returns tenant, or the only tenant of db when tenant is "".
func pickTenant(db *engine.DB, tenant string) (string, error) {
	if tenant != "" {
		return tenant, nil
	}
	ts := db.Tenants()
	switch len(ts) {
	case 0:
		return "", errors.New("the database has no events yet")
	case 1:
		return ts[0], nil
	}
	return "", fmt.Errorf("the database has %d tenants; choose one with --tenant (%v)", len(ts), ts)
}
