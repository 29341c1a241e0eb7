package server

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authlake/authlake/identityprotection"
)

// The web console: the sign-in logs blade, flagged sign-ins, the troubleshooter and the
// Identity Protection reports, as pages the server renders with html/template from files
// embedded in the binary (server/console/). It needs no JavaScript: filters are GET forms
// (so every view is a URL that can be bookmarked and shared), actions are POST forms with a
// confirmation page and a CSRF token, and the details pane is part of the page. That keeps it
// usable by keyboard and screen reader, with nothing to vendor, build or fetch from the network.
// It reads through the same snapshot, query and overlay paths as the Graph API, with a
// session's Principal standing for the bearer token's.

//go:embed console
var consoleFiles embed.FS

// consolePages are the page templates, each parsed with the layout.
var consolePages = parseConsolePages()

func parseConsolePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"time":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
		"join":   strings.Join,
		"lower":  strings.ToLower,
		"list":   func(s ...string) []string { return s },
		"signin": signInLink,
	}
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(consoleFiles, "console/layout.html"))
	pages := map[string]*template.Template{}
	names, err := fs.Glob(consoleFiles, "console/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		base := strings.TrimPrefix(n, "console/")
		if base == "layout.html" {
			continue
		}
		pages[strings.TrimSuffix(base, ".html")] = template.Must(template.Must(layout.Clone()).ParseFS(consoleFiles, n))
	}
	return pages
}

// consoleView is what every page template gets.
type consoleView struct {
	Title  string
	Nav    string // the section highlighted in the navigation
	Tenant string
	User   string
	CSRF   string
	Can    consoleRights
	Error  string
	Notice string
	Data   any
}

// consoleRights decide which pages and actions a session sees; the handlers check them again.
type consoleRights struct {
	Read, Flag, RiskRead, RiskWrite, DetectionsRead bool
}

func rightsOf(p *Principal) consoleRights {
	return consoleRights{
		Read: p.canRead(), Flag: p.Has(RoleFlag),
		RiskRead:       p.Has(identityprotection.PermRiskyUserRead) || p.Has(identityprotection.PermRiskyUserReadWrite),
		RiskWrite:      p.Has(identityprotection.PermRiskyUserReadWrite),
		DetectionsRead: p.Has(identityprotection.PermRiskEventRead) || p.Has(identityprotection.PermRiskEventReadWrite),
	}
}

// consoleHandler is a console page handler for a signed-in session.
type consoleHandler func(w http.ResponseWriter, r *http.Request, sess *consoleSession)

func (s *Server) mountConsole(mux *http.ServeMux) {
	page := func(pattern, route string, h consoleHandler) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if rec, ok := w.(*statusRecorder); ok {
				rec.route = route
			}
			consoleHeaders(w)
			sess, ok := s.console.lookup(r)
			if !ok {
				s.consoleSignedOut(w, r)
				return
			}
			if rec, ok := w.(*statusRecorder); ok {
				rec.tenant = sess.p.Tenant
			}
			if ok, wait := s.limiter.allow(sess.p.Tenant); !ok {
				setRetryAfter(w, wait)
				s.consoleError(w, r, sess, http.StatusTooManyRequests, "Too many requests for this tenant; try again in a moment.")
				return
			}
			if r.Method == http.MethodPost {
				if err := r.ParseForm(); err != nil || !sess.checkCSRF(r) {
					s.consoleError(w, r, sess, http.StatusForbidden, "This form was not sent from this console session (CSRF check failed). Reload the page and try again.")
					return
				}
			}
			h(w, r, sess)
		})
	}
	mux.HandleFunc("GET /console/static/", func(w http.ResponseWriter, r *http.Request) {
		consoleHeaders(w)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		http.StripPrefix("/console/static/", http.FileServerFS(mustSub(consoleFiles, "console/static"))).ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /console/login", s.consoleLogin)
	mux.HandleFunc("GET /console/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/signins", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /console", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/signins", http.StatusSeeOther)
	})
	page("POST /console/logout", "console.logout", func(w http.ResponseWriter, r *http.Request, sess *consoleSession) {
		s.console.end(sess.id)
		setSessionCookie(w, r, "", -1)
		s.renderConsole(w, r, http.StatusOK, "signedout", consoleView{Title: "Signed out"})
	})
	page("GET /console/signins", "console.signins", s.consoleSignIns)
	page("GET /console/signins/download", "console.signins.download", s.consoleSignInsDownload)
	page("GET /console/flagged", "console.flagged", s.consoleFlagged)
	page("POST /console/flagged", "console.flagged.start", s.consoleFlagStart)
	page("POST /console/flagged/stop", "console.flagged.stop", s.consoleFlagStop)
	page("GET /console/troubleshoot", "console.troubleshoot", s.consoleTroubleshoot)
	page("GET /console/risk/users", "console.risk.users", s.consoleRiskyUsers)
	page("GET /console/risk/users/{id}", "console.risk.user", s.consoleRiskyUser)
	page("POST /console/risk/users/{id}", "console.risk.user.action", s.consoleRiskyUserAction)
	page("GET /console/risk/signins", "console.risk.signins", s.consoleRiskySignIns)
	page("GET /console/risk/detections", "console.risk.detections", s.consoleDetections)
	page("GET /console/risk/download/{report}", "console.risk.download", s.consoleRiskDownload)
}

// consoleNotFound answers a /console/ path no page has (the root handler sends them here: a
// catch-all /console/ pattern would be ambiguous with /{ver}/… routes).
func (s *Server) consoleNotFound(w http.ResponseWriter, r *http.Request) {
	consoleHeaders(w)
	sess, _ := s.console.lookup(r)
	s.consoleError(w, r, sess, http.StatusNotFound, "There is no console page at "+r.URL.Path+".")
}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// consoleHeaders keep pages from being framed, fetching from elsewhere, running inline script
// or leaking the login token in a Referer.
func consoleHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
}

// consoleLogin redeems a one-time link.
func (s *Server) consoleLogin(w http.ResponseWriter, r *http.Request) {
	if rec, ok := w.(*statusRecorder); ok {
		rec.route = "console.login"
	}
	consoleHeaders(w)
	sess, ok := s.console.redeem(r.URL.Query().Get("token"))
	if !ok {
		s.renderConsole(w, r, http.StatusUnauthorized, "signedout", consoleView{Title: "Sign-in link not valid",
			Error: "This sign-in link is not valid: it was already used, it expired, or the server restarted since it was printed. `authlake serve` prints a new link when it starts."})
		return
	}
	setSessionCookie(w, r, sess.id, int(sessionMax.Seconds()))
	http.Redirect(w, r, "/console/signins", http.StatusSeeOther)
}

func (s *Server) consoleSignedOut(w http.ResponseWriter, r *http.Request) {
	s.renderConsole(w, r, http.StatusUnauthorized, "signedout", consoleView{Title: "Sign in",
		Error: "You are not signed in to the console, or your session ended. Open the sign-in link that `authlake serve` printed."})
}

// consoleError renders an error page (inside the layout when there is a session).
func (s *Server) consoleError(w http.ResponseWriter, r *http.Request, sess *consoleSession, status int, msg string) {
	v := consoleView{Title: http.StatusText(status), Error: msg}
	if sess == nil {
		s.renderConsole(w, r, status, "signedout", v)
		return
	}
	s.renderPage(w, r, sess, status, "error", v)
}

// renderPage fills the session's part of the view and renders a page.
func (s *Server) renderPage(w http.ResponseWriter, r *http.Request, sess *consoleSession, status int, name string, v consoleView) {
	v.Tenant, v.CSRF, v.Can = sess.p.Tenant, sess.csrf, rightsOf(sess.p)
	v.User = sess.p.UPN
	s.renderConsole(w, r, status, name, v)
}

func (s *Server) renderConsole(w http.ResponseWriter, r *http.Request, status int, name string, v consoleView) {
	t, ok := consolePages[name]
	if !ok {
		s.log.Error("BUG: no console template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		s.log.Error("console template", "name", name, "err", err, "request-id", requestIDs(r).request)
		http.Error(w, "internal error; quote the request-id when reporting it", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// withParams is a console URL with some query parameters replaced (empty values removed).
func withParams(path string, q url.Values, kv ...string) string {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			out.Del(kv[i])
		} else {
			out.Set(kv[i], kv[i+1])
		}
	}
	for k, v := range out {
		if len(v) == 1 && v[0] == "" {
			out.Del(k)
		}
	}
	if len(out) == 0 {
		return path
	}
	return path + "?" + out.Encode()
}
