package identityprotection

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/query"
)

// Caller is who makes a request, as the server's authentication established it.
type Caller struct {
	Tenant string
	Roles  []string // application roles or delegated scopes, e.g. IdentityRiskEvent.Read.All
	ID     string   // the caller's object id: recorded as initiatedBy in users' history
	// BaseURL is the server's base for absolute links (its public URL, else the request's
	// scheme and host), so @odata.context and @odata.nextLink are built as on the sign-in
	// routes. "" falls back to the request's scheme and host.
	BaseURL string
}

// base is the base URL of the caller's links.
func (c Caller) base(r *http.Request) string {
	if c.BaseURL != "" {
		return strings.TrimSuffix(c.BaseURL, "/")
	}
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	return scheme + "://" + r.Host
}

// Authenticate turns a request into a Caller; an error answers 401.
type Authenticate func(*http.Request) (Caller, error)

// Permissions.
const (
	PermRiskEventRead        = "IdentityRiskEvent.Read.All"
	PermRiskEventReadWrite   = "IdentityRiskEvent.ReadWrite.All"
	PermRiskyUserRead        = "IdentityRiskyUser.Read.All"
	PermRiskyUserReadWrite   = "IdentityRiskyUser.ReadWrite.All"
	maxActionIDs             = 60
	preferIncludeUnknownEnum = "include-unknown-enum-members"
)

// NewHandler serves the Graph Identity Protection routes:
//
//	GET  /{v1.0|beta}/identityProtection/riskDetections[/{id}]
//	GET  /{v1.0|beta}/identityProtection/riskyUsers[/{id}[/history]]
//	POST /{v1.0|beta}/identityProtection/riskyUsers/confirmCompromised|dismiss|confirmSafe
//	POST /{v1.0|beta}/auditLogs/signIns/confirmCompromised|confirmSafe|dismiss
//
// Mount it for those prefixes, e.g.
//
//	h := identityprotection.NewHandler(store, db, auth)
//	mux.Handle("/v1.0/identityProtection/", h)
//	mux.Handle("/beta/identityProtection/", h)
//	for _, a := range []string{"confirmCompromised", "confirmSafe", "dismiss"} {
//		mux.Handle("POST /v1.0/auditLogs/signIns/"+a, h)
//		mux.Handle("POST /beta/auditLogs/signIns/"+a, h)
//	}
//
// It writes Graph-shaped JSON and errors itself.
func NewHandler(s *Store, db *engine.DB, auth Authenticate) http.Handler {
	return &handler{s: s, db: db, auth: auth}
}

type handler struct {
	s    *Store
	db   *engine.DB
	auth Authenticate
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 3 || (parts[0] != "v1.0" && parts[0] != "beta") {
		graphError(w, r, http.StatusNotFound, "itemNotFound", "Resource not found for the segment '"+r.URL.Path+"'.")
		return
	}
	ver, route := parts[0], parts[1:]
	c, err := h.auth(r)
	if err != nil {
		graphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", err.Error())
		return
	}
	if h.s.TenantConfig(c.Tenant).Licence == LicenceFree {
		graphError(w, r, http.StatusForbidden, "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
			"Neither tenant is B2C or tenant doesn't have premium license")
		return
	}
	switch {
	case route[0] == "auditLogs" && len(route) == 3 && route[1] == "signIns":
		h.signinAction(w, r, c, route[2])
	case route[0] == "identityProtection" && route[1] == "riskDetections":
		h.detections(w, r, c, ver, route[2:])
	case route[0] == "identityProtection" && route[1] == "riskyUsers":
		h.users(w, r, c, ver, route[2:])
	default:
		graphError(w, r, http.StatusNotFound, "itemNotFound", "Resource not found for the segment '"+strings.Join(route, "/")+"'.")
	}
}

func has(c Caller, perms ...string) bool {
	for _, p := range perms {
		if slices.ContainsFunc(c.Roles, func(x string) bool { return strings.EqualFold(x, p) }) {
			return true
		}
	}
	return false
}

func denied(w http.ResponseWriter, r *http.Request, need string) {
	graphError(w, r, http.StatusForbidden, "Authorization_RequestDenied",
		"Insufficient privileges to complete the operation. Requires "+need+".")
}

func listRequest(r *http.Request) (ListRequest, error) {
	q := r.URL.Query()
	req := ListRequest{Filter: q.Get("$filter"), OrderBy: q.Get("$orderby"), SkipToken: q.Get("$skiptoken")}
	if s := q.Get("$select"); s != "" {
		req.Select = strings.Split(s, ",")
	}
	if t := q.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 {
			return req, errors.New("Invalid value '" + t + "' for $top")
		}
		req.Top = n
	}
	return req, nil
}

func (h *handler) detections(w http.ResponseWriter, r *http.Request, c Caller, ver string, rest []string) {
	if r.Method != http.MethodGet {
		graphError(w, r, http.StatusMethodNotAllowed, "notAllowed", "The requested method is not allowed.")
		return
	}
	if !has(c, PermRiskEventRead, PermRiskEventReadWrite) {
		denied(w, r, PermRiskEventRead)
		return
	}
	ctxURL := c.base(r) + "/" + ver + "/$metadata#identityProtection/riskDetections"
	if len(rest) == 1 {
		d, ok := h.s.Detection(c.Tenant, rest[0])
		if !ok {
			graphError(w, r, http.StatusNotFound, "itemNotFound", "The riskDetection '"+rest[0]+"' was not found.")
			return
		}
		m := toMaps([]Detection{d})[0]
		publicEnums(r, m)
		m["@odata.context"] = ctxURL + "/$entity"
		writeJSON(w, http.StatusOK, m)
		return
	}
	req, err := listRequest(r)
	if err != nil {
		graphError(w, r, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	res, err := h.s.ListDetections(c.Tenant, req)
	h.page(w, r, c, ctxURL, res, err)
}

func (h *handler) users(w http.ResponseWriter, r *http.Request, c Caller, ver string, rest []string) {
	ctxURL := c.base(r) + "/" + ver + "/$metadata#identityProtection/riskyUsers"
	if r.Method == http.MethodPost && len(rest) == 1 {
		h.userAction(w, r, c, rest[0])
		return
	}
	if r.Method != http.MethodGet {
		graphError(w, r, http.StatusMethodNotAllowed, "notAllowed", "The requested method is not allowed.")
		return
	}
	if !has(c, PermRiskyUserRead, PermRiskyUserReadWrite) {
		denied(w, r, PermRiskyUserRead)
		return
	}
	req, err := listRequest(r)
	if err != nil {
		graphError(w, r, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	switch len(rest) {
	case 0:
		res, err := h.s.ListRiskyUsers(c.Tenant, req)
		h.page(w, r, c, ctxURL, res, err)
	case 1:
		u, ok := h.s.RiskyUser(c.Tenant, rest[0])
		if !ok {
			graphError(w, r, http.StatusNotFound, "itemNotFound", "The riskyUser '"+rest[0]+"' was not found.")
			return
		}
		m := toMaps([]RiskyUser{u})[0]
		publicEnums(r, m)
		m["@odata.context"] = ctxURL + "/$entity"
		writeJSON(w, http.StatusOK, m)
	case 2:
		if rest[1] != "history" {
			graphError(w, r, http.StatusNotFound, "itemNotFound", "Resource not found for the segment '"+rest[1]+"'.")
			return
		}
		res, ok, err := h.s.ListHistory(c.Tenant, rest[0], req)
		if !ok {
			graphError(w, r, http.StatusNotFound, "itemNotFound", "The riskyUser '"+rest[0]+"' was not found.")
			return
		}
		h.page(w, r, c, ctxURL+"('"+rest[0]+"')/history", res, err)
	case 3:
		if rest[1] != "history" {
			graphError(w, r, http.StatusNotFound, "itemNotFound", "Resource not found for the segment '"+rest[1]+"'.")
			return
		}
		m, ok := h.s.HistoryItemByID(c.Tenant, rest[0], rest[2])
		if !ok {
			graphError(w, r, http.StatusNotFound, "itemNotFound", "The riskyUserHistoryItem '"+rest[2]+"' was not found.")
			return
		}
		publicEnums(r, m)
		m["@odata.context"] = ctxURL + "('" + rest[0] + "')/history/$entity"
		writeJSON(w, http.StatusOK, m)
	default:
		graphError(w, r, http.StatusNotFound, "itemNotFound", "Resource not found.")
	}
}

func (h *handler) page(w http.ResponseWriter, r *http.Request, c Caller, ctxURL string, res ListResult, err error) {
	if err != nil {
		var fe *FilterError
		if errors.As(err, &fe) || errors.Is(err, ErrBadSkipToken) {
			graphError(w, r, http.StatusBadRequest, "BadRequest", err.Error())
			return
		}
		graphError(w, r, http.StatusInternalServerError, "generalException", err.Error())
		return
	}
	for _, m := range res.Rows {
		publicEnums(r, m)
	}
	body := map[string]any{"@odata.context": ctxURL, "value": res.Rows}
	if res.Rows == nil {
		body["value"] = []any{}
	}
	if res.SkipToken != "" {
		q := r.URL.Query()
		q.Set("$skiptoken", res.SkipToken)
		body["@odata.nextLink"] = c.base(r) + r.URL.Path + "?" + q.Encode()
	}
	writeJSON(w, http.StatusOK, body)
}

// publicEnums applies the evolvable-enum rule to riskDetail values in a row.
func publicEnums(r *http.Request, m map[string]any) {
	inc := strings.Contains(r.Header.Get("Prefer"), preferIncludeUnknownEnum)
	if d, ok := m["riskDetail"].(string); ok {
		m["riskDetail"] = PublicDetail(d, inc)
	}
	if a, ok := m["activity"].(map[string]any); ok {
		if d, ok := a["detail"].(string); ok {
			a["detail"] = PublicDetail(d, inc)
		}
	}
}

type idsBody struct {
	UserIDs    []string `json:"userIds"`
	RequestIDs []string `json:"requestIds"`
}

func readIDs(w http.ResponseWriter, r *http.Request, users bool) ([]string, bool) {
	var b idsBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	if err := dec.Decode(&b); err != nil {
		graphError(w, r, http.StatusBadRequest, "BadRequest", "Invalid request body: "+err.Error())
		return nil, false
	}
	ids, name := b.RequestIDs, "requestIds"
	if users {
		ids, name = b.UserIDs, "userIds"
	}
	if len(ids) == 0 || len(ids) > maxActionIDs {
		graphError(w, r, http.StatusBadRequest, "BadRequest", fmt.Sprintf("%s must list 1 to %d ids", name, maxActionIDs))
		return nil, false
	}
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		id = strings.ToLower(strings.TrimSpace(id))
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, true
}

func (h *handler) userAction(w http.ResponseWriter, r *http.Request, c Caller, action string) {
	kind := map[string]string{"confirmCompromised": EvConfirmCompromised, "dismiss": EvDismiss, "confirmSafe": EvConfirmSafe}[action]
	if kind == "" {
		graphError(w, r, http.StatusNotFound, "itemNotFound", "Resource not found for the segment '"+action+"'.")
		return
	}
	if !has(c, PermRiskyUserReadWrite) {
		denied(w, r, PermRiskyUserReadWrite)
		return
	}
	ids, ok := readIDs(w, r, true)
	if !ok {
		return
	}
	refs, unknown, err := ResolveUsers(r.Context(), h.s, h.db, c.Tenant, ids)
	if err != nil {
		graphError(w, r, http.StatusInternalServerError, "generalException", err.Error())
		return
	}
	if len(unknown) > 0 {
		graphError(w, r, http.StatusNotFound, "itemNotFound", "Unknown user id(s): "+strings.Join(unknown, ", "))
		return
	}
	if err := h.s.UserAction(c.Tenant, kind, c.ID, refs); err != nil {
		graphError(w, r, http.StatusInternalServerError, "generalException", err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) signinAction(w http.ResponseWriter, r *http.Request, c Caller, action string) {
	kind := map[string]string{"confirmCompromised": ActSigninConfirmCompromised, "confirmSafe": ActSigninConfirmSafe, "dismiss": ActSigninDismiss}[action]
	if kind == "" || r.Method != http.MethodPost {
		graphError(w, r, http.StatusNotFound, "itemNotFound", "Resource not found for the segment '"+action+"'.")
		return
	}
	if !has(c, PermRiskyUserReadWrite, PermRiskEventReadWrite) {
		denied(w, r, PermRiskyUserReadWrite+" or "+PermRiskEventReadWrite)
		return
	}
	ids, ok := readIDs(w, r, false)
	if !ok {
		return
	}
	refs, unknown, err := ResolveSignins(r.Context(), h.db, c.Tenant, ids)
	if err != nil {
		graphError(w, r, http.StatusInternalServerError, "generalException", err.Error())
		return
	}
	if len(unknown) > 0 {
		graphError(w, r, http.StatusNotFound, "itemNotFound", "Unknown sign-in request id(s): "+strings.Join(unknown, ", "))
		return
	}
	if err := h.s.SigninAction(c.Tenant, kind, c.ID, refs); err != nil {
		graphError(w, r, http.StatusInternalServerError, "generalException", err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// ResolveUsers names users by id from the store or, for users without risk yet, from
// their newest sign-in. Ids found nowhere are returned as unknown.
func ResolveUsers(ctx context.Context, s *Store, db *engine.DB, tenant string, ids []string) ([]UserRef, []string, error) {
	var refs []UserRef
	var unknown []string
	for _, id := range ids {
		if u, ok := s.RiskyUser(tenant, id); ok && u.UserPrincipalName != "" {
			refs = append(refs, UserRef{ID: id, UPN: u.UserPrincipalName, DisplayName: u.UserDisplayName})
			continue
		}
		if !guidRe.MatchString(id) {
			unknown = append(unknown, id)
			continue
		}
		var ref *UserRef
		_, err := db.Query(ctx, tenant, query.Request{Where: query.And(query.Eq("userId", id), allTypes), Top: 1,
			Select: []string{"userId", "userPrincipalName", "userDisplayName"},
			Visit: func(_ int, b *columnar.Batch, row int) error {
				var v columnar.RowView
				v.Reset(b, row)
				ref = &UserRef{ID: id, UPN: v.Str("userPrincipalName"), DisplayName: v.Str("userDisplayName")}
				return v.Err()
			}})
		if err != nil {
			return nil, nil, err
		}
		if ref == nil {
			unknown = append(unknown, id)
			continue
		}
		refs = append(refs, *ref)
	}
	return refs, unknown, nil
}

// ResolveSignins finds sign-ins by request id; ids that name no sign-in are unknown.
func ResolveSignins(ctx context.Context, db *engine.DB, tenant string, ids []string) ([]SigninRef, []string, error) {
	var refs []SigninRef
	var unknown []string
	for _, id := range ids {
		if !guidRe.MatchString(id) {
			unknown = append(unknown, id)
			continue
		}
		evs, _, err := queryEvents(ctx, db, tenant, query.Request{Where: query.And(query.Eq("id", id), allTypes), Top: 1, Select: jobFields})
		if err != nil {
			return nil, nil, err
		}
		if len(evs) == 0 {
			unknown = append(unknown, id)
			continue
		}
		e := evs[0]
		refs = append(refs, SigninRef{RequestID: e.ID, User: UserRef{ID: e.UserID, UPN: e.UPN, DisplayName: e.UserDisplayName}, At: e.Time})
	}
	return refs, unknown, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal; odata.streaming=true")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func graphError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	rid := r.Header.Get("request-id")
	if rid == "" {
		rid = newGUID()
	}
	crid := r.Header.Get("client-request-id")
	if crid == "" {
		crid = rid
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg,
		"innerError": map[string]any{"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": rid, "client-request-id": crid}}})
}

func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

var _ = url.Values{}
