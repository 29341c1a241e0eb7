package engine

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
)

// Retention settings chosen by the operator (`--retention` on ingest and serve, SetRetention)
// are kept in the manifest, so a database remembers them: the setting a past incident was
// loaded with still holds when the server restarts. They win over Options.TenantRetention and
// Options.Retention, which are the defaults of one process.

// retentionSettings is the persisted choice: per tenant, and a database default ("" key).
// Days; Forever (negative) keeps everything.
type retentionSettings map[string]int

// Forever is the retention that keeps every event.
const Forever = -1

// defaultRetentionKey is the settings key of the database-wide default.
const defaultRetentionKey = ""

// SetRetention sets and persists how many days of events tenant keeps ("" sets the database's
// default for every tenant without a setting of its own); days < 0 (Forever) keeps every event.
// Events already outside the new retention are dropped by the next retention pass; events that
// were rejected under an older setting are not brought back.
func (db *DB) SetRetention(tenant string, days int) error {
	if db.opts.ReadOnly {
		return ErrReadOnly
	}
	if tenant != defaultRetentionKey && !validTenant(tenant) {
		return fmt.Errorf("invalid tenant %q", tenant)
	}
	if days < 0 {
		days = Forever
	}
	db.manMu.Lock()
	defer db.manMu.Unlock()
	next := maps.Clone(db.man.Retention)
	if next == nil {
		next = retentionSettings{}
	}
	if old, ok := next[tenant]; ok && old == days {
		return nil
	}
	next[tenant] = days
	prev := db.man.Retention
	db.man.Retention = next
	if err := db.saveManifest(); err != nil {
		db.man.Retention = prev
		return err
	}
	db.retention.Store(&next)
	return nil
}

// RetentionOf is the retention in days that applies to tenant (Forever: none), and where it
// comes from, for messages.
func (db *DB) RetentionOf(tenant string) (days int, source string) {
	tenant = namespaceOwner(tenant) // copies and later versions are part of the tenant's log
	if s := db.retention.Load(); s != nil {
		if d, ok := (*s)[tenant]; ok {
			return d, "set for the tenant"
		}
	}
	if d, ok := db.opts.TenantRetention[tenant]; ok {
		return d, "Options.TenantRetention"
	}
	if s := db.retention.Load(); s != nil {
		if d, ok := (*s)[defaultRetentionKey]; ok {
			return d, "the database's default"
		}
	}
	return db.opts.Retention, "the default"
}

// ParseRetention reads a retention as people write it: "400d", "8w", "2y" (365 days each),
// "30" (days) or "0" (keep forever).
func ParseRetention(s string) (days int, err error) {
	t := strings.TrimSpace(strings.ToLower(s))
	mult := 1
	switch {
	case strings.HasSuffix(t, "d"):
		t = strings.TrimSuffix(t, "d")
	case strings.HasSuffix(t, "w"):
		t, mult = strings.TrimSuffix(t, "w"), 7
	case strings.HasSuffix(t, "y"):
		t, mult = strings.TrimSuffix(t, "y"), 365
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 || n > 100*365 {
		return 0, fmt.Errorf("retention %q: want days such as 400d, 8w or 2y, or 0 to keep every event", s)
	}
	if n == 0 {
		return Forever, nil
	}
	return n * mult, nil
}

// FormatRetention is the inverse of ParseRetention, for messages.
func FormatRetention(days int) string {
	if days < 0 {
		return "forever"
	}
	return strconv.Itoa(days) + " days"
}
