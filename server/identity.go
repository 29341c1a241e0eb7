package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/identityprotection"
)

// Identity Protection routes are served by the identityprotection package's handler; the server
// authenticates, rate-limits and records metrics for them like every other route, and merges the
// risk overlay into sign-ins it lists (events stay immutable; admin actions change what is read).

type principalKey struct{}

// withPrincipal passes the authenticated caller to handlers of other packages.
func withPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

func (s *Server) mountIdentityProtection(mux *http.ServeMux) {
	if s.risk == nil {
		return
	}
	h := identityprotection.NewHandler(s.risk, s.db, func(r *http.Request) (identityprotection.Caller, error) {
		p, ok := r.Context().Value(principalKey{}).(*Principal)
		if !ok {
			return identityprotection.Caller{}, errors.New("not authenticated")
		}
		id := p.OID
		if id == "" {
			id = p.AppID
		}
		if id == "" {
			id = p.Subject
		}
		return identityprotection.Caller{Tenant: p.Tenant, Roles: p.Roles(), ID: id, BaseURL: s.baseURL(r)}, nil
	})
	wrap := func(route string) http.Handler {
		return s.authed(func(w http.ResponseWriter, r *http.Request, p *Principal) {
			if rec, ok := w.(*statusRecorder); ok {
				rec.route = route
			}
			h.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
		})
	}
	for _, ver := range []string{"v1.0", "beta"} {
		mux.Handle("/"+ver+"/identityProtection/", wrap("identityProtection"))
		for _, a := range []string{"confirmCompromised", "confirmSafe", "dismiss"} {
			mux.Handle("POST /"+ver+"/auditLogs/signIns/"+a, wrap("signIns."+a))
			mux.Handle("POST /"+ver+"/auditLogs/signins/"+a, wrap("signIns."+a))
		}
	}
}

// mergeRisk applies tenant's risk overlay to one of its sign-ins' JSON. Pages (Graph's and the
// console's) have the encoder write the overlay instead (riskLookup); this remains for the
// snapshot of a query that filters or sorts on risk (its rows must carry the values shown).
func (s *Server) mergeRisk(tenant string, row []byte) []byte {
	if s.risk == nil {
		return row
	}
	return s.risk.MergeSignIn(tenant, row)
}

// riskLookup is tenant's risk overlay for the encoder to write into the rows of a page (nil:
// nothing to overlay). It is bound to tenant here, from the authenticated principal: a query
// never sees another tenant's overlay.
func (s *Server) riskLookup(tenant string) columnar.RiskLookup {
	if s.risk == nil {
		return nil
	}
	return s.risk.RiskLookup(tenant)
}

// Close releases what the server opened itself (the Identity Protection store). Call it after
// Serve returns, before closing the database.
func (s *Server) Close() error {
	var errs []error
	if s.risk != nil && s.ownsRisk {
		errs = append(errs, s.risk.Close())
	}
	if s.flags != nil && s.ownsFlags {
		errs = append(errs, s.flags.Close())
	}
	return errors.Join(errs...)
}
