package server

import (
	"errors"
	"net/http"

	"github.com/authlake/authlake/diagnostic"
)

// The sign-in diagnostic (GET /authlake/v1/diagnostics) is served by the diagnostic package; the
// server authenticates, rate-limits and checks that the caller may read sign-ins (the
// diagnostic shows them).
func (s *Server) diagnosticsHandler() http.HandlerFunc {
	h := diagnostic.NewHandler(s.db, func(r *http.Request) (string, error) {
		p, ok := r.Context().Value(principalKey{}).(*Principal)
		if !ok {
			return "", errors.New("not authenticated")
		}
		return p.Tenant, nil
	}, diagnostic.Options{Now: s.now})
	return s.authed(func(w http.ResponseWriter, r *http.Request, p *Principal) {
		if !p.canRead() {
			writeError(w, r, http.StatusForbidden, codeDenied,
				"Insufficient privileges: the sign-in diagnostic needs "+RoleReadAuditLog+" (or a reader role such as Global Reader).")
			return
		}
		h.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
	})
}
