package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/authlake/authlake/engine"
)

// retentionFlag is --retention on ingest and serve: "400d" (for --tenant on ingest, else the
// database's default) or "TENANT=400d", repeatable; 0 keeps every event. The database remembers
// it (in its manifest), so later commands and restarts keep it without the flag.
type retentionFlag struct{ values []string }

func (r *retentionFlag) register(f *pflag.FlagSet) {
	f.StringSliceVar(&r.values, "retention", nil,
		"how long events are kept, remembered by the database: 400d, 8w, 2y or 0 (forever); TENANT=400d for one tenant (repeatable)")
}

// apply persists the settings; tenant is the command's --tenant (the target of a bare value).
func (r *retentionFlag) apply(db *engine.DB, tenant string) error {
	for _, v := range r.values {
		t, spec := tenant, v
		if k, val, ok := strings.Cut(v, "="); ok {
			t, spec = k, val
		}
		days, err := engine.ParseRetention(spec)
		if err != nil {
			return fmt.Errorf("--retention: %w", err)
		}
		if err := db.SetRetention(t, days); err != nil {
			return fmt.Errorf("--retention: %w", err)
		}
		who := "every tenant without its own setting"
		if t != "" {
			who = "tenant " + t
		}
		fmt.Fprintf(os.Stderr, "retention of %s: %s (remembered in %s)\n", who, engine.FormatRetention(days), db.Dir())
	}
	return nil
}
