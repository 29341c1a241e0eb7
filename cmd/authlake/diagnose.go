package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/authlake/authlake/diagnostic"
	"github.com/authlake/authlake/engine"
)

func init() { extraCommands = append(extraCommands, diagnoseCmd) }

func diagnoseCmd() *cobra.Command {
	var (
		dataDir, tenant, format, at, columns, skip string
		in                                         diagnostic.Input
		trust                                      trustFlag
	)
	cmd := &cobra.Command{
		Use:   "diagnose --data DIR [--tenant T] [--user U] [--app A] [--correlation-id ID|--request-id ID] [--at TIME] [--event ID] [--flagged]",
		Short: "Find the sign-ins behind a problem and explain what happened (sign-in diagnostic)",
		Long: `diagnose is the sign-in diagnostic: give what you know (a user by name, UPN or object id; an
application by name or id; a correlation or request id; a time) and it lists the matching
sign-ins (newest first, with each one's correlated flow) and explains which problem scenarios
apply: blocked by Conditional Access, MFA proof-up, smart lockout, password spray, application
configuration errors, … with the evidence, a recommended action and documentation links.

Events within ±48 hours of --at (default now) are searched; correlation and request ids are
searched over the whole retention unless --at is given. --event launches the diagnostic from
one sign-in (its user, application and correlation). --flagged alone lists the tenant's
flagged sign-ins grouped by user and client; with other inputs it restricts the diagnosis to
flagged events. --explain prints the plan of every query the diagnosis ran.

Exit status 1 when the input finds nothing or is ambiguous: the message says what was
searched and what to try.`,
		Example: `  authlake diagnose --data ./data --user "avery" --at 2026-11-20T14:00:00Z
  authlake diagnose --data ./data --user avery.smith@contoso.com --app "SharePoint"
  authlake diagnose --data ./data --correlation-id 5672cbcd-f8b9-48bd-8280-697a270821f8
  authlake diagnose --data ./data --event 5dcf627e-e1bd-4a15-bb73-9ab14ff41ee1 --explain
  authlake diagnose --data ./data --flagged --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return &exitError{code: 1, msg: "--format must be text or json"}
			}
			if at != "" {
				t, err := diagnostic.ParseTime(at)
				if err != nil {
					return &exitError{code: 1, msg: "--at: " + err.Error()}
				}
				in.At = t
			}
			if columns != "" {
				in.Columns = strings.Split(columns, ",")
			}
			in.SkipToken = skip
			opts := diagnostic.Options{Now: now}
			tr, err := trust.resolve(cmd.Flags())
			if err != nil {
				return err
			}
			db, err := openDB(dataDir, openReadOnly, engine.Options{DisableBackground: true, Retention: -1, Trust: tr})
			if err != nil {
				return err
			}
			defer db.Close()
			t, err := pickTenant(db, tenant)
			if err != nil {
				return err
			}
			rep, err := diagnostic.New(db, opts).Diagnose(context.Background(), t, in)
			if err != nil {
				var ie *diagnostic.InputError
				if errors.As(err, &ie) {
					if format == "json" {
						b, _ := json.MarshalIndent(map[string]any{"error": ie}, "", "  ")
						fmt.Println(string(b))
						return &exitError{code: 1}
					}
					return &exitError{code: 1, msg: ie.Error()}
				}
				return err
			}
			out := bufio.NewWriter(os.Stdout)
			defer out.Flush()
			if format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			return rep.WriteText(out, "authlake diagnose --data "+shellQuote(dataDir)+" --tenant "+shellQuote(t))
		},
	}
	f := cmd.Flags()
	trust.register(f)
	f.StringVar(&dataDir, "data", "", "database directory")
	f.StringVar(&tenant, "tenant", "", tenantHelp)
	f.StringVar(&in.User, "user", "", "user: display name (or part of it), userPrincipalName or object id")
	f.StringVar(&in.App, "app", "", "application: display name (or part of it) or application id")
	f.StringVar(&in.CorrelationID, "correlation-id", "", "correlation id of the sign-in flow")
	f.StringVar(&in.RequestID, "request-id", "", "request id (the sign-in's id): diagnoses its flow")
	f.StringVar(&at, "at", "", "date and time of the problem (RFC 3339; default now): events within ±48 hours are searched")
	f.StringVar(&in.EventID, "event", "", "launch from one sign-in event by id")
	f.BoolVar(&in.Flagged, "flagged", false, "review flagged sign-ins (alone), or diagnose only flagged ones")
	f.StringVar(&format, "format", "text", "output: text or json")
	f.BoolVar(&in.Explain, "explain", false, "show the plan of every query")
	f.StringVar(&columns, "columns", "", "authentication summary columns, comma-separated (e.g. createdDateTime,status/errorCode,deviceDetail/browser)")
	f.IntVar(&in.Top, "top", 0, "authentication summary page size (default 50)")
	f.StringVar(&skip, "skip-token", "", "next summary page (printed at the end of a page)")
	return cmd
}
