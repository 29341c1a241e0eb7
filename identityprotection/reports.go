package identityprotection

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/query"
)

// Page sizes and export caps (the portal's download limits).
const (
	DetectionsDefaultTop = 20
	DetectionsMaxTop     = 500
	UsersDefaultTop      = 20
	UsersMaxTop          = 500
	SigninsDefaultTop    = 50
	SigninsMaxTop        = 1000
	ExportUsersCap       = 2500
	ExportSigninsCap     = 2500
	ExportDetectionsCap  = 5000
)

// ListDetections is the risk detections report: the last 90 days, newest first.
func (s *Store) ListDetections(tenant string, req ListRequest) (ListResult, error) {
	c, err := compileList(detectionEntity, req)
	if err != nil {
		return ListResult{}, err
	}
	since := s.now().UTC().Add(-DetectionReportWindow)
	var in []Detection
	for _, d := range s.Detections(tenant) {
		if !d.ActivityDateTime.Before(since) {
			in = append(in, d)
		}
	}
	return c.run(toMaps(in), req.Top, DetectionsDefaultTop, DetectionsMaxTop, req.SkipToken)
}

// ListRiskyUsers is the risky users report, most recently updated first.
func (s *Store) ListRiskyUsers(tenant string, req ListRequest) (ListResult, error) {
	c, err := compileList(userEntity, req)
	if err != nil {
		return ListResult{}, err
	}
	return c.run(toMaps(s.RiskyUsers(tenant)), req.Top, UsersDefaultTop, UsersMaxTop, req.SkipToken)
}

// ListHistory pages one user's history (newest first, as the portal shows it).
func (s *Store) ListHistory(tenant, userID string, req ListRequest) (ListResult, bool, error) {
	h, ok := s.History(tenant, userID)
	if !ok {
		return ListResult{}, false, nil
	}
	c, err := compileList(historyEntity, req)
	if err != nil {
		return ListResult{}, true, err
	}
	r, err := c.run(historyMaps(userID, h), req.Top, UsersDefaultTop, UsersMaxTop, req.SkipToken)
	return r, true, err
}

// HistoryItemByID is one item of a user's history, by its id (see historyMaps).
func (s *Store) HistoryItemByID(tenant, userID, itemID string) (map[string]any, bool) {
	h, ok := s.History(tenant, userID)
	if !ok {
		return nil, false
	}
	for _, m := range historyMaps(userID, h) {
		if m["id"] == itemID {
			return m, true
		}
	}
	return nil, false
}

// historyMaps is a user's history newest first, with item ids as Graph gives them: the current
// (newest) item has the user's id, each older one the user's id followed by the .NET ticks of
// its riskLastUpdatedDateTime (every item once carried the user's id, so no older item could be
// fetched on its own).
func historyMaps(userID string, h []HistoryItem) []map[string]any {
	rev := make([]HistoryItem, len(h))
	for i := range h {
		rev[len(h)-1-i] = h[i]
	}
	out := toMaps(rev)
	for i, m := range out {
		if i == 0 {
			m["id"] = userID
			continue
		}
		m["id"] = userID + strconv.FormatInt(dotNetTicks(rev[i].RiskLastUpdatedDateTime), 10)
	}
	return out
}

// dotNetTicks counts 100-ns intervals since 0001-01-01 UTC, as .NET's DateTime.Ticks does.
func dotNetTicks(t time.Time) int64 {
	const unixEpochTicks = 621355968000000000
	return unixEpochTicks + t.UnixNano()/100
}

// ListRiskySignins is the risky sign-ins report: the last 30 days of sign-ins that have
// an overlay entry, read from the database and merged with the overlay, newest first.
// The filter is evaluated on the merged rows, since the stored risk fields are stale.
func (s *Store) ListRiskySignins(ctx context.Context, db *engine.DB, tenant string, req ListRequest) (ListResult, error) {
	c, err := compileList(signinEntity, req)
	if err != nil {
		return ListResult{}, err
	}
	entries := s.RiskySignins(tenant, s.now().UTC().Add(-SigninReportWindow))
	rows := make([]map[string]any, 0, len(entries))
	risk := s.RiskLookup(tenant)
	const batch = 50
	for i := 0; i < len(entries); i += batch {
		ids := make([]any, 0, batch)
		for _, e := range entries[i:min(i+batch, len(entries))] {
			ids = append(ids, e.RequestID)
		}
		// The encoder writes the tenant's overlay as it writes each row (no parse and re-marshal).
		r, err := db.Query(ctx, tenant, query.Request{Where: query.And(query.In("id", ids...), allTypes), Top: batch, Risk: risk})
		if err != nil {
			return ListResult{}, err
		}
		for _, row := range r.Rows {
			var m map[string]any
			if err := json.Unmarshal(row, &m); err != nil {
				return ListResult{}, err
			}
			rows = append(rows, m)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, _ := rows[i]["createdDateTime"].(string)
		b, _ := rows[j]["createdDateTime"].(string)
		return a > b
	})
	return c.run(rows, req.Top, SigninsDefaultTop, SigninsMaxTop, req.SkipToken)
}

// signinEntity binds report filters on sign-ins: any top-level property name is accepted
// (the engine validated the stored shape).
var signinEntity = entity{"signIn", []string{"id", "createdDateTime", "userDisplayName", "userPrincipalName", "userId",
	"appId", "appDisplayName", "ipAddress", "clientAppUsed", "userAgent", "correlationId", "conditionalAccessStatus",
	"isInteractive", "riskDetail", "riskLevelAggregated", "riskLevelDuringSignIn", "riskState", "riskEventTypes_v2",
	"resourceDisplayName", "status", "deviceDetail", "location", "mfaDetail", "tokenIssuerType", "signInEventTypes",
	"authenticationRequirement", "appliedConditionalAccessPolicies", "authenticationDetails", "networkLocationDetails"}}

// Export writes up to limit rows (the newest, in report order) as "csv" or "json".
// CSV columns are the selected properties (or every property of the first row); nested
// values are JSON text.
func Export(w io.Writer, format string, rows []map[string]any, columns []string, limit int) (int, error) {
	if len(rows) > limit {
		rows = rows[:limit]
	}
	switch format {
	case "json", "":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if rows == nil {
			rows = []map[string]any{}
		}
		return len(rows), enc.Encode(rows)
	case "csv":
		if len(columns) == 0 && len(rows) > 0 {
			for k := range rows[0] {
				columns = append(columns, k)
			}
			sort.Strings(columns)
		}
		cw := csv.NewWriter(w)
		if err := cw.Write(columns); err != nil {
			return 0, err
		}
		for _, r := range rows {
			rec := make([]string, len(columns))
			for i, c := range columns {
				switch v := r[c].(type) {
				case nil:
				case string:
					rec[i] = v
				default:
					b, _ := json.Marshal(v)
					rec[i] = string(b)
				}
			}
			if err := cw.Write(rec); err != nil {
				return 0, err
			}
		}
		cw.Flush()
		return len(rows), cw.Error()
	}
	return 0, fmt.Errorf("export format %q: want csv or json", format)
}

// ExportAll runs a report with no paging (up to its cap) for download.
func ExportAll(list func(ListRequest) (ListResult, error), req ListRequest, limit int) ([]map[string]any, error) {
	var out []map[string]any
	req.SkipToken = ""
	req.Top = 500
	for len(out) < limit {
		r, err := list(req)
		if err != nil {
			return nil, err
		}
		out = append(out, r.Rows...)
		if r.SkipToken == "" {
			break
		}
		req.SkipToken = r.SkipToken
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
