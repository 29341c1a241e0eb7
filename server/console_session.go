package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/authlake/authlake/identityprotection"
)

// Console sign-in. There is no password store: `authlake serve` (or the demo) prints a one-time
// login link for a tenant and a set of roles, as Jupyter prints its token URL. Opening the link
// exchanges it for a session: a random id in an HttpOnly, SameSite=Strict cookie (Secure over
// https), held in memory and bound to that one tenant, so a restart signs everyone out. The
// session becomes the same Principal a bearer token does, so every right the console checks is
// the API's check. State-changing requests also carry the session's CSRF token in the form.

const (
	consoleCookie = "authlake_console"
	// loginLinkTTL bounds how long a printed link can be used (once).
	loginLinkTTL = 24 * time.Hour
	// sessionIdle and sessionMax end a session after an hour without a request, and after 12
	// hours whatever happens: the console is an operator's tool, not a kiosk.
	sessionIdle = time.Hour
	sessionMax  = 12 * time.Hour
	// maxSessions bounds the memory sessions can take; the oldest is ended past it.
	maxSessions = 1000
	// maxLinks bounds the unused links; past it no new one is made until some are used or expire.
	maxLinks = 1000
)

// ConsoleGrant is what a login link grants: a tenant, roles (application roles or delegated
// scopes, as in tokens) and optionally the signed-in user, whose sign-ins "flag my sign-ins"
// applies to.
type ConsoleGrant struct {
	Tenant string
	Roles  []string
	UPN    string
	UserID string
}

// ErrTooManyLinks: 1,000 login links wait to be used; no more are made until some are used or
// expire (a token holder cannot grow the server's memory without bound).
var ErrTooManyLinks = errors.New("console: too many unused login links; use or let expire the ones made")

// ConsoleAdminRoles are the roles of a link that can do everything the console offers.
var ConsoleAdminRoles = []string{RoleReadAuditLog, RoleFlag, identityprotection.PermRiskyUserReadWrite, identityprotection.PermRiskEventReadWrite}

type consoleSession struct {
	id       string
	csrf     string
	p        *Principal
	created  time.Time
	lastSeen time.Time
}

type pendingLink struct {
	grant   ConsoleGrant
	expires time.Time
}

type consoleSessions struct {
	now func() time.Time

	mu       sync.Mutex
	links    map[string]pendingLink
	sessions map[string]*consoleSession
}

func newConsoleSessions(now func() time.Time) *consoleSessions {
	return &consoleSessions{now: now, links: map[string]pendingLink{}, sessions: map[string]*consoleSession{}}
}

func randomToken() string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// ConsoleLoginLink makes a one-time link to the console for g, under base (the server's public
// URL, e.g. https://127.0.0.1:8443). It is valid once, for 24 hours of the server's clock.
func (s *Server) ConsoleLoginLink(base string, g ConsoleGrant) (string, error) {
	if g.Tenant == "" {
		return "", errors.New("console: a login link needs a tenant")
	}
	if len(g.Roles) == 0 {
		return "", errors.New("console: a login link needs at least one role")
	}
	tok := randomToken()
	c := s.console
	c.mu.Lock()
	now := c.now()
	for k, l := range c.links {
		if !now.Before(l.expires) {
			delete(c.links, k)
		}
	}
	if len(c.links) >= maxLinks {
		c.mu.Unlock()
		return "", ErrTooManyLinks
	}
	c.links[tok] = pendingLink{grant: g, expires: now.Add(loginLinkTTL)}
	c.mu.Unlock()
	return strings.TrimSuffix(base, "/") + "/console/login?token=" + url.QueryEscape(tok), nil
}

// redeem exchanges a link's token for a new session.
func (c *consoleSessions) redeem(tok string) (*consoleSession, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.links[tok]
	delete(c.links, tok) // once, whatever happens next
	now := c.now()
	if !ok || !now.Before(l.expires) {
		return nil, false
	}
	p := &Principal{Tenant: l.grant.Tenant, UPN: strings.ToLower(l.grant.UPN), OID: strings.ToLower(l.grant.UserID), Subject: "console"}
	p.grant(l.grant.Roles...)
	if len(c.sessions) >= maxSessions {
		var oldest *consoleSession
		for _, s := range c.sessions {
			if oldest == nil || s.lastSeen.Before(oldest.lastSeen) {
				oldest = s
			}
		}
		delete(c.sessions, oldest.id)
	}
	sess := &consoleSession{id: randomToken(), csrf: randomToken(), p: p, created: now, lastSeen: now}
	c.sessions[sess.id] = sess
	return sess, true
}

// lookup finds the request's live session and marks it seen.
func (c *consoleSessions) lookup(r *http.Request) (*consoleSession, bool) {
	ck, err := r.Cookie(consoleCookie)
	if err != nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	sess, ok := c.sessions[ck.Value]
	if !ok {
		return nil, false
	}
	now := c.now()
	if now.Sub(sess.lastSeen) >= sessionIdle || now.Sub(sess.created) >= sessionMax {
		delete(c.sessions, sess.id)
		return nil, false
	}
	sess.lastSeen = now
	return sess, true
}

func (c *consoleSessions) end(id string) {
	c.mu.Lock()
	delete(c.sessions, id)
	c.mu.Unlock()
}

// checkCSRF accepts a state-changing request only with the session's token in its form and,
// when the browser says where the request came from, only from this origin.
func (sess *consoleSession) checkCSRF(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && !slices.Contains([]string{"same-origin", "none"}, site) {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	got := r.PostFormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(sess.csrf)) == 1
}

func setSessionCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: consoleCookie, Value: value, Path: "/console/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: maxAge,
	})
}

// consoleLinkForToken is POST /authlake/v1/console/links: a one-time console link for the
// caller's own tenant, roles and user, so that an admin with a token signs in to a running
// server without a restart. A link never grants more than the token that asked for it.
func (s *Server) consoleLinkForToken(w http.ResponseWriter, r *http.Request, p *Principal) {
	roles := p.Roles()
	if len(roles) == 0 {
		writeError(w, r, http.StatusForbidden, codeDenied, "The token grants no role, so a console session would show nothing.")
		return
	}
	link, err := s.ConsoleLoginLink(s.baseURL(r), ConsoleGrant{Tenant: p.Tenant, Roles: roles, UPN: p.UPN, UserID: p.OID})
	if errors.Is(err, ErrTooManyLinks) {
		writeRetryAfter(w, r, time.Hour, err.Error())
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"link": link, "expiresInSeconds": int(loginLinkTTL.Seconds())})
}
