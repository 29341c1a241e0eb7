package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/authlake/authlake/server"
)

func init() { extraCommands = append(extraCommands, tokenCmd) }

func tokenCmd() *cobra.Command {
	var (
		dataDir, tenant, roles, scp, upn, oid, aud string
		ttl                                        time.Duration
		v1                                         bool
	)
	cmd := &cobra.Command{
		Use:   "token --tenant T --roles R[,R...] [--data DIR] [--ttl 1h]",
		Short: "Print a development access token signed with the data directory's local key",
		Long: `token mints a bearer token that "authlake serve" over the same data directory accepts: it is
signed with DIR/dev-signing-key.pem (created on first use). Roles are application permissions:
AuditLog.Read.All (read sign-ins), AuthLake.Ingest or AuditLog.ReadWrite.All (ingest),
AuthLake.Flag (flag any user's sign-ins). --upn/--oid make a user (delegated) token, which may
flag its own sign-ins. Anyone who can read DIR can mint tokens: keep it private.`,
		Example: `  authlake token --data ./data --tenant 3b7f0c2e-5a1d-4e8b-9c6f-2d4a8e1b7c90 --roles AuditLog.Read.All
  authlake token --data ./data --tenant T --upn avery@contoso.com --scp AuditLog.Read.All --ttl 8h`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dataDir == "" {
				dataDir = os.Getenv("AUTHLAKE_DATA")
			}
			if dataDir == "" {
				return errors.New("--data is required: the directory whose development key signs the token")
			}
			if tenant == "" {
				tenant = os.Getenv(envTenant)
			}
			if tenant == "" {
				return errors.New("--tenant (or $" + envTenant + ") is required: the token's tid, which selects the tenant")
			}
			if ttl <= 0 || ttl > 30*24*time.Hour {
				return fmt.Errorf("--ttl %s: must be positive and at most 720h", ttl)
			}
			key, err := server.LoadOrCreateDevKey(dataDir)
			if err != nil {
				return err
			}
			c := server.TokenClaims{TID: tenant, Scp: scp, UPN: upn, OID: oid, AppID: "authlake-cli", Ver: "2.0"}
			for _, r := range strings.Split(roles, ",") {
				if r = strings.TrimSpace(r); r != "" {
					c.Roles = append(c.Roles, r)
				}
			}
			c.Issuer = server.IssuerV2(tenant)
			if v1 {
				c.Issuer, c.Ver = server.IssuerV1(tenant), "1.0"
			}
			c.Audience = []string{aud}
			c.Subject = "authlake-cli"
			if upn != "" {
				c.Subject = upn
			}
			tok, err := key.Mint(c, ttl, now())
			if err != nil {
				return err
			}
			fmt.Println(tok)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data", "", "database directory holding dev-signing-key.pem (env AUTHLAKE_DATA)")
	f.StringVar(&tenant, "tenant", "", "tenant id, the tid claim (default $"+envTenant+")")
	f.StringVar(&roles, "roles", "", "comma-separated application roles")
	f.StringVar(&scp, "scp", "", "space-separated delegated scopes")
	f.StringVar(&upn, "upn", "", "user principal name (delegated token)")
	f.StringVar(&oid, "oid", "", "user object id (delegated token)")
	f.StringVar(&aud, "audience", "https://graph.microsoft.com", "aud claim")
	f.DurationVar(&ttl, "ttl", time.Hour, "lifetime")
	f.BoolVar(&v1, "v1", false, "use the v1 issuer form https://sts.windows.net/{tid}/")
	return cmd
}
