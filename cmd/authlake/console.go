package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/server"
)

// consoleFlags choose what the one-time console link that serve and demo print grants.
type consoleFlags struct {
	tenant, user string
	roles        []string
	none         bool
}

func (c *consoleFlags) register(f *pflag.FlagSet) {
	f.StringVar(&c.tenant, "console-tenant", "", "tenant of the printed console sign-in link (default: as --tenant picks it for other commands)")
	f.StringSliceVar(&c.roles, "console-roles", server.ConsoleAdminRoles, "roles of the printed console sign-in link")
	f.StringVar(&c.user, "console-user", "", "the console user's userPrincipalName (whose sign-ins \"flag my sign-ins\" flags)")
	f.BoolVar(&c.none, "no-console-link", false, "do not print a console sign-in link")
}

// printLink prints a one-time sign-in link to the console on stdout (not in the log, which
// may be shipped elsewhere: the link is a credential until it is used).
func (c *consoleFlags) printLink(srv *server.Server, db *engine.DB, base string) error {
	if c == nil || c.none {
		return nil
	}
	tenant, err := pickTenant(db, c.tenant)
	if err != nil {
		return err
	}
	link, err := srv.ConsoleLoginLink(base, server.ConsoleGrant{Tenant: tenant, Roles: c.roles, UPN: c.user})
	if err != nil {
		return err
	}
	fmt.Printf("\nConsole (tenant %s; roles %s; the link works once, for 24 hours):\n  %s\n", tenant, strings.Join(c.roles, ","), link)
	return nil
}
