package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/authlake/authlake/engine"
	ip "github.com/authlake/authlake/identityprotection"
	"github.com/authlake/authlake/query"
)

var objectIDRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// resolveUserArgs turns each --user value into an object id: ids pass through; a
// userPrincipalName is looked up among the tenant's sign-ins (case-insensitively), and must name
// exactly one user.
func resolveUserArgs(ctx context.Context, db *engine.DB, tenant string, args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		if objectIDRe.MatchString(a) {
			out = append(out, a)
			continue
		}
		res, err := db.Query(ctx, tenant, query.Request{
			Where: query.Eq("userPrincipalName", a),
			Apply: "groupby((userId),aggregate($count as n))",
		})
		if err != nil {
			return nil, fmt.Errorf("--user %q: %w", a, err)
		}
		var ids []string
		for _, g := range res.Groups {
			if id, ok := g.Keys["userId"].(string); ok && id != "" {
				ids = append(ids, id)
			}
		}
		switch len(ids) {
		case 0:
			return nil, fmt.Errorf("--user %q: no sign-in of that user in tenant %s (give an object id or a userPrincipalName that signed in)", a, tenant)
		case 1:
			out = append(out, ids[0])
		default:
			sort.Strings(ids)
			return nil, fmt.Errorf("--user %q: the name belongs to %d users (%s); give the object id", a, len(ids), strings.Join(ids, ", "))
		}
	}
	return out, nil
}

// printUsers says what a user action left: each user's risk state, level and detail.
func printUsers(s *ip.Store, tenant string, refs []ip.UserRef, action string) {
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s applied to %d user(s)\nUSER\tID\tRISK STATE\tRISK LEVEL\tRISK DETAIL\n", action, len(refs))
	for _, r := range refs {
		u, ok := s.RiskyUser(tenant, r.ID)
		if !ok {
			fmt.Fprintf(tw, "%s\t%s\tnone\tnone\tnone\n", r.UPN, r.ID)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.UserPrincipalName, u.ID, u.RiskState, u.RiskLevel, u.RiskDetail)
	}
	tw.Flush()
}

// writeTable prints report rows as aligned columns: the selected ones, else every column of
// the first row, sorted, with id first.
func writeTable(w *os.File, rows []map[string]any, columns []string, limit int) error {
	if len(rows) > limit {
		rows = rows[:limit]
	}
	if len(columns) == 0 && len(rows) > 0 {
		for k := range rows[0] {
			if k != "id" {
				columns = append(columns, k)
			}
		}
		sort.Strings(columns)
		if _, ok := rows[0]["id"]; ok {
			columns = append([]string{"id"}, columns...)
		}
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(columns, "\t")))
	for _, r := range rows {
		cells := make([]string, len(columns))
		for i, c := range columns {
			cells[i] = cellText(r[c])
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if len(rows) == 0 {
		fmt.Fprintln(tw, "(no rows)")
	}
	return tw.Flush()
}
