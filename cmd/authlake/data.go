package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/authlake/authlake/engine"
)

// openDB opens the database in dir. Commands that need an existing database (every one but
// ingest, serve, demo and consume) refuse a missing one, so that a mistyped --data names the
// problem instead of creating an empty database; read-only commands open it read-only: nothing
// on disk changes, whatever state the database is in.
// openMode is how a command opens the database.
type openMode int

const (
	openReadOnly openMode = iota // an existing database, changing nothing on disk
	openExisting                 // an existing database, for writing (compact)
	openOrCreate                 // created when missing (ingest, serve, demo, consume)
)

func openDB(dir string, mode openMode, opts engine.Options) (*engine.DB, error) {
	mustExist := mode != openOrCreate
	if mode == openReadOnly {
		opts.ReadOnly = true
	}
	if dir == "" {
		return nil, errors.New("--data is required: the database directory")
	}
	if mustExist {
		if !engine.Exists(dir) {
			return nil, fmt.Errorf("no authlake database in %s (create one with: authlake ingest --data %s FILE)", dir, dir)
		}
	}
	if opts.Now == nil {
		opts.Now = now
	}
	if opts.MemoryLimit == 0 {
		opts.MemoryLimit = int64(memoryLimit)
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

// envTenant names the environment variable that picks the tenant of every command that reads
// one, when --tenant is not given.
const envTenant = "AUTHLAKE_TENANT"

// tenantHelp is the --tenant flag's help on every command that reads one tenant's data.
const tenantHelp = "tenant (default: $" + envTenant + ", else the tenant with the most events, named on stderr)"

// pickTenant decides which tenant a command reads: --tenant, else $AUTHLAKE_TENANT, else the
// database's only tenant, else the one holding the most events (a generated or exported
// database also holds guests' home tenants, each with a few copied sign-ins). The last choice
// is said on stderr with how to make another, so a command never silently reads a tenant the
// user did not expect.
func pickTenant(db *engine.DB, tenant string) (string, error) {
	if tenant == "" {
		tenant = os.Getenv(envTenant)
	}
	if tenant != "" {
		return tenant, nil
	}
	ts := ownTenants(db.Stats().Tenants)
	switch len(ts) {
	case 0:
		return "", errors.New("the database has no events yet")
	case 1:
		return ts[0].Tenant, nil
	}
	main := mainTenant(ts)
	fmt.Fprintf(os.Stderr, "tenant %s (%d events; %d other tenants hold %d): choose another with --tenant or $%s\n",
		main.Tenant, main.Events, len(ts)-1, totalEvents(ts)-main.Events, envTenant)
	return main.Tenant, nil
}

// mainTenant is the tenant holding the most events (ties: the smaller id, so the choice is stable).
func mainTenant(ts []engine.TenantStats) engine.TenantStats {
	best := ts[0]
	for _, t := range ts[1:] {
		if t.Events > best.Events || t.Events == best.Events && t.Tenant < best.Tenant {
			best = t
		}
	}
	return best
}

// ownTenants leaves out the partitions of trusted home-tenant copies (they belong to their
// home tenant, which is listed on its own).
func ownTenants(ts []engine.TenantStats) []engine.TenantStats {
	var own []engine.TenantStats
	for _, t := range ts {
		if t.ReportedBy == "" {
			own = append(own, t)
		}
	}
	return own
}

func totalEvents(ts []engine.TenantStats) int64 {
	var n int64
	for _, t := range ts {
		n += t.Events
	}
	return n
}

// shellQuote quotes s for a POSIX shell when it needs it, so a command the CLI prints can be
// pasted as it stands.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@=+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
