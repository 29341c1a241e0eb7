package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/internal/cpu"
	"github.com/authlake/authlake/query"
)

const interactiveOnlyFilter = "signInEventTypes/any(t: t eq 'interactiveUser')"

// signInPrelude is what list and get share: version, the caller's rights, and how rows are
// written for it (query.Request's Version, HideEvolvedEnums and Risk, which the encoder
// applies as it writes each row: the rows are then written out without being parsed again).
func (s *Server) signInPrelude(w http.ResponseWriter, r *http.Request, p *Principal) (query.Request, bool) {
	ver, ok := apiVersion(r.PathValue("ver"))
	if !ok {
		writeError(w, r, http.StatusNotFound, codeNotFound, fmt.Sprintf("Resource not found for the segment '%s'; use v1.0 or beta.", truncate(r.PathValue("ver"), 64)))
		return query.Request{}, false
	}
	if !p.canRead() {
		writeError(w, r, http.StatusForbidden, codeDenied, "Insufficient privileges to complete the operation: reading sign-ins needs the "+RoleReadAuditLog+" permission.")
		return query.Request{}, false
	}
	req := query.Request{Version: ver, HideEvolvedEnums: true, Risk: s.riskLookup(p.Tenant)}
	if preferUnknownEnums(r.Header.Values("Prefer")) {
		req.HideEvolvedEnums = false
		w.Header().Set("Preference-Applied", "include-unknown-enum-members")
	}
	return req, true
}

// listSignIns is GET /{ver}/auditLogs/signIns.
func (s *Server) listSignIns(w http.ResponseWriter, r *http.Request, p *Principal) {
	req, ok := s.signInPrelude(w, r, p)
	if !ok {
		return
	}
	opts, err := parseListOptions(r.URL.RawQuery, req.Version)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, codeBadRequest, err.Error())
		return
	}
	scope := p.Tenant + "\x00" + r.PathValue("ver") + "\x00" + opts.Filter + "\x00" + opts.OrderBy
	if opts.SkipToken != "" {
		inner, err := openSkipToken(s.skipKey, scope, opts.SkipToken)
		if err != nil {
			writeError(w, r, http.StatusBadRequest, codeBadRequest, err.Error())
			return
		}
		opts.SkipToken = inner
	}
	if opts.Apply != "" {
		if opts.SkipToken != "" || opts.OrderBy != "" || opts.Select != nil || opts.Count || opts.topGiven {
			writeError(w, r, http.StatusBadRequest, codeBadRequest, "With $apply, use its own orderby(...) and top(...) transformations; $top, $orderby, $select, $count and $skiptoken are not supported alongside it.")
			return
		}
		// The query layer's interactive-only default covers lists; aggregates follow the same
		// rule so that counts agree with what the list shows.
		if !strings.Contains(strings.ToLower(opts.Filter+opts.Apply), "signineventtypes") {
			if opts.Filter == "" {
				opts.Filter = interactiveOnlyFilter
			} else {
				opts.Filter = interactiveOnlyFilter + " and (" + opts.Filter + ")"
			}
		}
	}
	req.Filter, req.OrderBy, req.Top, req.SkipToken, req.Select = opts.Filter, opts.OrderBy, opts.Top, opts.SkipToken, opts.Select
	req.Count, req.Apply, req.DefaultInteractiveOnly, req.MaxGroups = opts.Count, opts.Apply, true, s.cfg.Limits.MaxGroups
	op := "list"
	if opts.Apply != "" {
		op = "apply"
	}
	res, ok := s.run(w, r, p, req, op)
	if !ok {
		return
	}
	base := s.baseURL(r)
	ctxURL := base + "/" + r.PathValue("ver") + "/$metadata#auditLogs/signIns" + selectSuffix(opts.Select)
	var buf bytes.Buffer
	buf.WriteString(`{"@odata.context":`)
	writeJSONString(&buf, ctxURL)
	if opts.Count {
		buf.WriteString(`,"@odata.count":`)
		buf.WriteString(strconv.FormatInt(res.Count, 10))
	}
	if opts.Apply != "" {
		buf.WriteString(`,"value":`)
		if err := writeGroups(&buf, res.Groups); err != nil {
			s.internal(w, r, err)
			return
		}
		buf.WriteByte('}')
		writeRaw(w, http.StatusOK, buf.Bytes())
		return
	}
	if res.SkipToken != "" {
		buf.WriteString(`,"@odata.nextLink":`)
		writeJSONString(&buf, nextLink(base, r.URL.Path, opts.raw, sealSkipToken(s.skipKey, scope, res.SkipToken)))
	}
	buf.WriteString(`,"value":[`)
	writeRows(w, buf.Bytes(), res.Rows, "]}")
}

// writeRows writes a 200 response of head, the rows separated by commas, and tail, streamed
// from where the rows are: copied into one buffer first, a page of 1,000 full rows (5.6 MB)
// was allocated and zeroed for every request, 6% of a loaded server's CPU.
func writeRows(w http.ResponseWriter, head []byte, rows [][]byte, tail string) {
	n := len(head) + len(tail) + max(len(rows)-1, 0)
	for _, row := range rows {
		n += len(row)
	}
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(http.StatusOK)
	bw := rowWriters.Get().(*bufio.Writer)
	bw.Reset(w)
	defer func() {
		bw.Reset(nil)
		rowWriters.Put(bw)
	}()
	bw.Write(head)
	for i, row := range rows {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.Write(row)
	}
	bw.WriteString(tail)
	bw.Flush() // a failed write is the client gone: nothing to tell it
}

// rowWriters buffer the writes of writeRows: 64 KiB, a dozen rows of every property at a time.
var rowWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

// getSignIn is GET /{ver}/auditLogs/signIns/{id}. Any event type is found by id (the
// interactive-only default applies to lists, not to addressing one entry).
func (s *Server) getSignIn(w http.ResponseWriter, r *http.Request, p *Principal) {
	req, ok := s.signInPrelude(w, r, p)
	if !ok {
		return
	}
	// Only $select applies to a single entity.
	opts, err := parseListOptions(r.URL.RawQuery, req.Version)
	if err == nil {
		for _, o := range opts.raw {
			if k := strings.ToLower(strings.TrimPrefix(o.key, "$")); k != "select" {
				err = badOption("Query option '%s' is not allowed when getting one sign-in; only $select is.", truncate(o.key, 64))
				break
			}
		}
		if opts.SkipToken != "" {
			err = badOption("Query option '$skiptoken' is not allowed when getting one sign-in; only $select is.")
		}
	}
	if err != nil {
		writeError(w, r, http.StatusBadRequest, codeBadRequest, err.Error())
		return
	}
	id, ok := canonicalGUID(r.PathValue("id"))
	if !ok {
		writeError(w, r, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("Invalid object identifier '%s': a sign-in id is a GUID.", truncate(r.PathValue("id"), 64)))
		return
	}
	req.Where, req.Top, req.Select = query.Eq("id", id), 1, opts.Select
	res, ok := s.run(w, r, p, req, "get")
	if !ok {
		return
	}
	if len(res.Rows) == 0 {
		writeError(w, r, http.StatusNotFound, codeNotFound, fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id))
		return
	}
	row := res.Rows[0]
	var buf bytes.Buffer
	buf.WriteString(`{"@odata.context":`)
	writeJSONString(&buf, s.baseURL(r)+"/"+r.PathValue("ver")+"/$metadata#auditLogs/signIns"+selectSuffix(opts.Select)+"/$entity")
	if len(row) > 2 {
		buf.WriteByte(',')
		buf.Write(row[1:])
	} else {
		buf.WriteByte('}')
	}
	writeRaw(w, http.StatusOK, buf.Bytes())
}

// selectSuffix is the context URL's projection, "(id,createdDateTime)", as OData writes it.
func selectSuffix(sel []string) string {
	if len(sel) == 0 {
		return ""
	}
	return "(" + strings.Join(sel, ",") + ")"
}

// run executes a query for the caller's tenant and answers its errors.
func (s *Server) run(w http.ResponseWriter, r *http.Request, p *Principal, req query.Request, op string) (*query.Result, bool) {
	start := time.Now()
	ctx := r.Context()
	if op != "get" { // a sign-in by id is one probe and one block: it never queues
		admitted, release, err := s.admission.acquire(ctx, queryClass(p.Tenant, op, req))
		if err != nil {
			writeError(w, r, http.StatusServiceUnavailable, codeUnavailable, "The request ended while it waited for a query slot; try again.")
			return nil, false
		}
		defer release()
		cpu.EndInteractive(ctx) // admitted: a list query is heavy work from here on
		ctx = admitted
	}
	res, err := s.query(ctx, p.Tenant, req)
	s.metrics.query.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if err != nil {
		status, code, msg := queryErrorStatus(err)
		if status == http.StatusInternalServerError {
			s.internal(w, r, err)
		} else {
			writeError(w, r, status, code, msg)
		}
		return nil, false
	}
	return res, true
}

// query runs one page of a sign-in query for tenant (see snapshot).
func (s *Server) query(ctx context.Context, tenant string, req query.Request) (*query.Result, error) {
	snap, err := s.snapshot(tenant, req)
	if err != nil {
		return nil, err
	}
	defer snap.Release()
	req.Now = s.now
	return query.Run(ctx, columnar.SignIns, snap.Source(), req)
}

// snapshot is a snapshot of tenant for req: tenant isolation is structural, since no other
// tenant's data is in it (only copies of its own users' sign-ins that tenants it trusts
// reported, marked, and never in place of its own events; engine/homecopy.go). Identity
// Protection's risk of a sign-in is merged into the rows shown; a query that reads risk
// properties must see the same values, so the snapshot then carries them too. The caller
// releases it.
func (s *Server) snapshot(tenant string, req query.Request) (*engine.Snapshot, error) {
	snap, err := s.db.Snapshot(tenant)
	if err != nil {
		return nil, err
	}
	if s.risk != nil && readsRisk(req) {
		if err := snap.Overlay(s.risk.SigninIDs(tenant), func(row []byte) []byte { return s.mergeRisk(tenant, row) }); err != nil {
			snap.Release()
			return nil, err
		}
	}
	return snap, nil
}

// queryErrorStatus maps a query's error to an HTTP status, Graph error code and message
// (500 for what is not the caller's doing).
func queryErrorStatus(err error) (int, string, string) {
	var qe *query.Error
	switch {
	case errors.Is(err, engine.ErrClosed):
		return http.StatusServiceUnavailable, codeUnavailable, "The database is closing."
	case errors.As(err, &qe):
		return http.StatusBadRequest, codeBadRequest, qe.Error()
	case errors.Is(err, query.ErrTooManyGroups):
		return http.StatusBadRequest, codeBadRequest, err.Error()
	case errors.Is(err, query.ErrBadSkipToken):
		return http.StatusBadRequest, codeBadRequest, errBadSkipToken.Error()
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, codeUnavailable, "The query was cancelled."
	}
	return http.StatusInternalServerError, codeInternal, "Internal server error."
}

func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("internal error", "err", err, "request-id", requestIDs(r).request)
	writeError(w, r, http.StatusInternalServerError, codeInternal, "Internal server error; quote the request-id when reporting it.")
}

// writeGroups writes $apply groups as OData does: group keys (nested at '/') and aggregate
// aliases as the members of each object.
func writeGroups(buf *bytes.Buffer, groups []query.Group) error {
	out := make([]map[string]any, len(groups))
	for i, g := range groups {
		m := map[string]any{}
		for k, v := range g.Keys {
			setPath(m, strings.Split(k, "/"), v)
		}
		for k, v := range g.Values {
			m[k] = v
		}
		out[i] = m
	}
	b, err := json.Marshal(out)
	buf.Write(b)
	return err
}

func setPath(m map[string]any, path []string, v any) {
	for len(path) > 1 {
		sub, ok := m[path[0]].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[path[0]] = sub
		}
		m, path = sub, path[1:]
	}
	m[path[0]] = v
}

func writeJSONString(buf *bytes.Buffer, s string) {
	buf.Write(columnar.AppendJSONString(nil, s))
}

const jsonContentType = "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8"

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// canonicalGUID accepts a GUID in 8-4-4-4-12 form (optionally in braces) and returns it in
// lower case; anything else is not a sign-in id. Validating it here also means the id can be
// placed in a filter without quoting concerns.
func canonicalGUID(s string) (string, bool) {
	if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		s = s[1:37]
	}
	if len(s) != 36 {
		return "", false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return "", false
			}
		}
	}
	return strings.ToLower(s), true
}

// readsRisk reports whether a query's filter, order or aggregation can read a property that
// Identity Protection's overlay changes (riskState, riskDetail, riskLevelAggregated,
// riskLevelDuringSignIn, riskEventTypes_v2): all of them, and nothing else, start with "risk".
func readsRisk(req query.Request) bool {
	return strings.Contains(strings.ToLower(req.Filter+" "+req.OrderBy+" "+req.Apply), "risk")
}
