package diagnostic

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/authlake/authlake/engine"
)

// Path is where NewHandler serves.
const Path = "/authlake/v1/diagnostics"

// NewHandler serves GET Path?user=&app=&correlationId=&requestId=&at=&eventId=&flagged=
// &select=&top=&skiptoken=&explain= as JSON (a Report, or {"error": InputError}). The
// caller authenticates the request and checks a reader role such as AuditLog.Read.All
// before the handler runs; tenantOf maps the request to its tenant.
func NewHandler(db *engine.DB, tenantOf func(*http.Request) (string, error), opts Options) http.Handler {
	d := New(db, opts)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, &InputError{Kind: ErrInvalid, Message: "only GET is supported"})
			return
		}
		tenant, err := tenantOf(r)
		if err != nil {
			writeError(w, http.StatusForbidden, &InputError{Kind: ErrInvalid, Message: err.Error()})
			return
		}
		in, ierr := parseQuery(r)
		if ierr != nil {
			writeError(w, http.StatusBadRequest, ierr)
			return
		}
		rep, err := d.Diagnose(r.Context(), tenant, in)
		if err != nil {
			var ie *InputError
			if errors.As(err, &ie) {
				writeError(w, statusOf(ie), ie)
				return
			}
			if r.Context().Err() != nil {
				return // the client went away
			}
			writeError(w, http.StatusInternalServerError, &InputError{Kind: "internal", Message: err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, rep)
	})
}

func parseQuery(r *http.Request) (Input, *InputError) {
	q := r.URL.Query()
	for k := range q {
		switch strings.ToLower(k) {
		case "user", "app", "correlationid", "requestid", "at", "eventid", "flagged", "select", "top", "skiptoken", "explain":
		default:
			return Input{}, inputErr(ErrInvalid, "", "unknown parameter "+quote(k),
				"use user, app, correlationId, requestId, at, eventId, flagged, select, top, skiptoken, explain")
		}
	}
	get := func(name string) string {
		for k, v := range q {
			if strings.EqualFold(k, name) && len(v) > 0 {
				return v[0]
			}
		}
		return ""
	}
	in := Input{User: get("user"), App: get("app"), CorrelationID: get("correlationId"), RequestID: get("requestId"),
		EventID: get("eventId"), SkipToken: get("skiptoken")}
	if v := get("at"); v != "" {
		t, err := ParseTime(v)
		if err != nil {
			return in, inputErr(ErrInvalid, "", err.Error())
		}
		in.At = t
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"flagged", &in.Flagged}, {"explain", &in.Explain}} {
		if v := get(b.name); v != "" {
			x, err := strconv.ParseBool(v)
			if err != nil {
				return in, inputErr(ErrInvalid, "", b.name+" must be true or false")
			}
			*b.dst = x
		}
	}
	if v := get("top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return in, inputErr(ErrInvalid, "", "top must be a positive integer")
		}
		in.Top = n
	}
	if v := get("select"); v != "" {
		in.Columns = strings.Split(v, ",")
	}
	return in, nil
}

// ParseTime accepts RFC 3339 (with or without seconds or zone; UTC assumed) or a date.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("cannot read time " + quote(s) + ": use RFC 3339, e.g. 2026-11-20T14:30:00Z")
}

func statusOf(e *InputError) int {
	switch e.Kind {
	case ErrNotFound:
		return http.StatusNotFound
	case ErrAmbiguous, ErrConflict:
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

func writeError(w http.ResponseWriter, status int, e *InputError) {
	writeJSON(w, status, map[string]*InputError{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
