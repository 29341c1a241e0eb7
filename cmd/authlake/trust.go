package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// trustFlag is --trust: the cross-tenant trust a command opens the database with
// (engine.Options.Trust). Trust decides which copies of cross-tenant sign-ins are written for
// a home tenant and which it reads, so every command that writes or reads a tenant's events
// takes it; a command run without it sees each tenant's own log only.
type trustFlag struct{ specs []string }

func (t *trustFlag) register(f *pflag.FlagSet) {
	f.StringArrayVar(&t.specs, "trust", nil, "HOME=TENANT[,TENANT...]: HOME's log accepts those tenants' reports of HOME's users' sign-ins into them, "+
		"marked and never in place of HOME's own events (repeatable; env AUTHLAKE_TRUST, entries separated by ';'; see docs/server.md)")
}

// given reports whether the flag or AUTHLAKE_TRUST was set.
func (t *trustFlag) given(f *pflag.FlagSet) bool {
	_, env := os.LookupEnv("AUTHLAKE_TRUST")
	return f.Changed("trust") || env
}

// resolve returns the trust from the flag, else from AUTHLAKE_TRUST; nil when neither is set.
func (t *trustFlag) resolve(f *pflag.FlagSet) (map[string][]string, error) {
	specs := t.specs
	if v, ok := os.LookupEnv("AUTHLAKE_TRUST"); ok && !f.Changed("trust") {
		specs = strings.Split(v, ";")
	}
	return parseTrust(specs)
}

// parseTrust reads HOME=TENANT[,TENANT...] entries; the engine checks the names.
func parseTrust(specs []string) (map[string][]string, error) {
	var out map[string][]string
	for _, s := range specs {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		home, list, ok := strings.Cut(s, "=")
		if home = strings.TrimSpace(home); !ok || home == "" || strings.TrimSpace(list) == "" {
			return nil, fmt.Errorf("--trust %q: want HOME=TENANT[,TENANT...]", s)
		}
		if out == nil {
			out = map[string][]string{}
		}
		for _, src := range strings.Split(list, ",") {
			if src = strings.TrimSpace(src); src != "" {
				out[home] = append(out[home], src)
			}
		}
	}
	return out, nil
}
