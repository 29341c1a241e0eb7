package server

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/authlake/authlake/diagnostic"
	"github.com/authlake/authlake/engine/flagging"
)

// Flagged for review: the tenant's flagged sign-ins grouped as the diagnostic reviews them (one
// group per user and client, with the sign-in to troubleshoot), the active flagging windows,
// and "flag my sign-ins": a 20-minute window for the session's user on this browser, or, with
// the AuthLake.Flag role, for any user.

type flaggedView struct {
	Groups      []diagnostic.FlaggedGroup
	Windows     []flagging.Window
	CanFlagSelf bool
	Form        flaggedForm
	ListLink    string
}

type flaggedForm struct {
	UPN, Browser, OS, DeviceID string
}

func (s *Server) consoleFlagged(w http.ResponseWriter, r *http.Request, sess *consoleSession) {
	s.renderFlagged(w, r, sess, http.StatusOK, "", "")
}

func (s *Server) renderFlagged(w http.ResponseWriter, r *http.Request, sess *consoleSession, status int, notice, errMsg string) {
	p := sess.p
	v := &flaggedView{CanFlagSelf: p.UPN != "" || p.Has(RoleFlag), ListLink: "/console/signins?flagged=true&range=30d"}
	v.Form = flaggedForm{UPN: p.UPN}
	v.Form.Browser, v.Form.OS = clientOf(r.UserAgent())
	view := consoleView{Title: "Flagged for review", Nav: "flagged", Data: v, Notice: notice, Error: errMsg}
	if p.canRead() {
		rep, err := diagnostic.New(s.db, diagnostic.Options{Now: s.now}).Diagnose(r.Context(), p.Tenant, diagnostic.Input{Flagged: true})
		if err != nil {
			view.Error = "The flagged review failed: " + err.Error()
			status = http.StatusInternalServerError
		} else {
			v.Groups = rep.Flagged
		}
	}
	for _, win := range s.flags.Active(p.Tenant) {
		if p.canRead() || p.Has(RoleFlag) || isSelf(p, win.UserPrincipalName, "") || isSelf(p, "", win.UserID) {
			v.Windows = append(v.Windows, win)
		}
	}
	s.renderPage(w, r, sess, status, "flagged", view)
}

// clientOf names the browser family and operating system of a User-Agent the way sign-ins
// record them (deviceDetail.browser's family, deviceDetail.operatingSystem), which is what a
// flagging window without a device id matches.
func clientOf(ua string) (browser, os string) {
	switch {
	case strings.Contains(ua, "Edg/"):
		browser = "Edge"
	case strings.Contains(ua, "Firefox/"):
		browser = "Firefox"
	case strings.Contains(ua, "Chrome/"):
		browser = "Chrome"
	case strings.Contains(ua, "Safari/"):
		browser = "Safari"
	}
	switch {
	case strings.Contains(ua, "Windows NT 10"):
		os = "Windows10"
	case strings.Contains(ua, "Windows"):
		os = "Windows"
	case strings.Contains(ua, "iPhone"), strings.Contains(ua, "iPad"):
		os = "Ios"
	case strings.Contains(ua, "Mac OS X"):
		os = "MacOs"
	case strings.Contains(ua, "Android"):
		os = "Android"
	case strings.Contains(ua, "Linux"):
		os = "Linux"
	}
	return browser, os
}

func (s *Server) consoleFlagStart(w http.ResponseWriter, r *http.Request, sess *consoleSession) {
	p := sess.p
	upn := strings.TrimSpace(r.PostFormValue("upn"))
	if upn == "" {
		upn = p.UPN
	}
	if !p.Has(RoleFlag) && !isSelf(p, upn, "") {
		s.renderFlagged(w, r, sess, http.StatusForbidden, "", "Flagging another user's sign-ins needs the "+RoleFlag+" role; you can flag your own.")
		return
	}
	req := flagging.StartRequest{UserPrincipalName: upn, CreatedBy: p.UPN, Client: flagging.Client{
		Browser: strings.TrimSpace(r.PostFormValue("browser")), OperatingSystem: strings.TrimSpace(r.PostFormValue("os")),
		DeviceID: strings.TrimSpace(r.PostFormValue("deviceId")),
	}}
	if req.CreatedBy == "" {
		req.CreatedBy = "console"
	}
	win, err := s.flags.Start(p.Tenant, req)
	switch {
	case errors.Is(err, flagging.ErrInvalid), errors.Is(err, flagging.ErrTooMany):
		s.renderFlagged(w, r, sess, http.StatusBadRequest, "", err.Error())
		return
	case err != nil:
		s.log.Error("console: start flagging window", "err", err)
		s.renderFlagged(w, r, sess, http.StatusInternalServerError, "", "The flagging window could not be stored.")
		return
	}
	s.renderFlagged(w, r, sess, http.StatusOK, "Sign-ins of "+win.UserPrincipalName+" from this client are flagged until "+
		win.End.UTC().Format("15:04:05")+" UTC. Reproduce the problem now.", "")
}

func (s *Server) consoleFlagStop(w http.ResponseWriter, r *http.Request, sess *consoleSession) {
	p := sess.p
	id := r.PostFormValue("id")
	win, err := s.flags.Get(p.Tenant, id)
	if err != nil {
		s.renderFlagged(w, r, sess, http.StatusNotFound, "", "That flagging window does not exist or has ended.")
		return
	}
	if !p.Has(RoleFlag) && !isSelf(p, win.UserPrincipalName, "") {
		s.renderFlagged(w, r, sess, http.StatusForbidden, "", "Stopping another user's flagging needs the "+RoleFlag+" role.")
		return
	}
	if _, err := s.flags.Stop(p.Tenant, id); err != nil {
		s.renderFlagged(w, r, sess, http.StatusInternalServerError, "", err.Error())
		return
	}
	s.renderFlagged(w, r, sess, http.StatusOK, "Flagging stopped for "+win.UserPrincipalName+".", "")
}

// troubleshootView is the troubleshooter's data: the search form and the report.
type troubleshootView struct {
	User, App, CorrelationID, RequestID, At, EventID string
	Report                                           *diagnostic.Report
	Summary                                          [][]string
}

func (s *Server) consoleTroubleshoot(w http.ResponseWriter, r *http.Request, sess *consoleSession) {
	p := sess.p
	if !p.canRead() {
		s.consoleError(w, r, sess, http.StatusForbidden, "The troubleshooter reads sign-ins: it needs the "+RoleReadAuditLog+" role.")
		return
	}
	q := r.URL.Query()
	v := &troubleshootView{User: q.Get("user"), App: q.Get("app"), CorrelationID: q.Get("correlationId"),
		RequestID: q.Get("requestId"), At: q.Get("at"), EventID: q.Get("eventId")}
	view := consoleView{Title: "Troubleshoot sign-in problems", Nav: "troubleshoot", Data: v}
	in := diagnostic.Input{User: v.User, App: v.App, CorrelationID: v.CorrelationID, RequestID: v.RequestID, EventID: v.EventID}
	if in.User == "" && in.App == "" && in.CorrelationID == "" && in.RequestID == "" && in.EventID == "" {
		s.renderPage(w, r, sess, http.StatusOK, "troubleshoot", view)
		return
	}
	if v.At != "" {
		t, err := consoleTime(v.At)
		if err != nil {
			view.Error = "time: " + err.Error()
			s.renderPage(w, r, sess, http.StatusBadRequest, "troubleshoot", view)
			return
		}
		in.At = t
	}
	rep, err := diagnostic.New(s.db, diagnostic.Options{Now: s.now}).Diagnose(r.Context(), p.Tenant, in)
	var ie *diagnostic.InputError
	switch {
	case errors.As(err, &ie):
		view.Error = ie.Error()
		s.renderPage(w, r, sess, http.StatusBadRequest, "troubleshoot", view)
		return
	case err != nil:
		s.log.Error("console troubleshoot", "err", err)
		view.Error = "The diagnosis failed; see the server log."
		s.renderPage(w, r, sess, http.StatusInternalServerError, "troubleshoot", view)
		return
	}
	v.Report = rep
	s.renderPage(w, r, sess, http.StatusOK, "troubleshoot", view)
}

// signInLink is the console URL of one sign-in's details.
func signInLink(id string) string {
	return "/console/signins?range=all&tab=interactive&requestId=" + url.QueryEscape(id) + "&sel=" + url.QueryEscape(id)
}
