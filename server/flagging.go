package server

import (
	"encoding/json"
	"errors"
	"fmt"

	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/authlake/authlake/engine/flagging"
)

// flaggingRequest is the body of POST /authlake/v1/flagging.
type flaggingRequest struct {
	UserPrincipalName string          `json:"userPrincipalName"`
	UserID            string          `json:"userId"`
	Client            flagging.Client `json:"client"`
}

// flaggingWindow is a window as the API shows it.
type flaggingWindow struct {
	ID                string          `json:"id"`
	UserPrincipalName string          `json:"userPrincipalName,omitempty"`
	UserID            string          `json:"userId,omitempty"`
	Client            flagging.Client `json:"client"`
	StartDateTime     string          `json:"startDateTime"`
	EndDateTime       string          `json:"endDateTime"`
	CreatedBy         string          `json:"createdBy,omitempty"`
}

func windowJSON(w flagging.Window) flaggingWindow {
	return flaggingWindow{
		ID: w.ID, UserPrincipalName: w.UserPrincipalName, UserID: w.UserID, Client: w.Client, CreatedBy: w.CreatedBy,
		StartDateTime: w.Start.UTC().Format(time.RFC3339), EndDateTime: w.End.UTC().Format(time.RFC3339),
	}
}

// isSelf reports whether the window's user is the caller.
func isSelf(p *Principal, upn, userID string) bool {
	if upn == "" && userID == "" {
		return false
	}
	if upn != "" && (p.UPN == "" || !strings.EqualFold(upn, p.UPN)) {
		return false
	}
	if userID != "" && (p.OID == "" || !strings.EqualFold(userID, p.OID)) {
		return false
	}
	return true
}

// startFlagging is POST /authlake/v1/flagging. A user may flag their own sign-ins (as on
// Entra's error page, no extra permission); flagging for someone else needs AuthLake.Flag.
func (s *Server) startFlagging(w http.ResponseWriter, r *http.Request, p *Principal) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		writeError(w, r, http.StatusUnsupportedMediaType, codeUnsupportedType, "Send the flagging request as application/json.")
		return
	}
	var req flaggingRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, r, http.StatusRequestEntityTooLarge, codeTooLarge, "The flagging request is larger than 64 KiB.")
			return
		}
		writeError(w, r, http.StatusBadRequest, codeBadRequest, "Invalid flagging request body: "+err.Error())
		return
	}
	if dec.More() {
		writeError(w, r, http.StatusBadRequest, codeBadRequest, "Invalid flagging request body: more than one JSON value.")
		return
	}
	if !p.Has(RoleFlag) {
		if req.UserPrincipalName == "" && req.UserID == "" {
			// A user flagging for themself need not repeat who they are.
			req.UserPrincipalName, req.UserID = p.UPN, p.OID
		}
		if !isSelf(p, req.UserPrincipalName, req.UserID) {
			writeError(w, r, http.StatusForbidden, codeDenied, "Insufficient privileges to complete the operation: flagging another user's sign-ins needs the "+RoleFlag+" role.")
			return
		}
	}
	who := p.UPN
	if who == "" {
		who = p.AppID
	}
	win, err := s.flags.Start(p.Tenant, flagging.StartRequest{UserPrincipalName: req.UserPrincipalName, UserID: req.UserID, Client: req.Client, CreatedBy: who})
	switch {
	case errors.Is(err, flagging.ErrInvalid):
		writeError(w, r, http.StatusBadRequest, codeBadRequest, err.Error())
		return
	case errors.Is(err, flagging.ErrTooMany):
		writeError(w, r, http.StatusTooManyRequests, codeTooMany, err.Error())
		return
	case err != nil:
		s.log.Error("start flagging window", "err", err)
		writeError(w, r, http.StatusInternalServerError, codeInternal, "Could not store the flagging window.")
		return
	}
	w.Header().Set("Location", s.baseURL(r)+"/authlake/v1/flagging/"+win.ID)
	writeJSON(w, http.StatusCreated, windowJSON(win))
}

// listFlagging is GET /authlake/v1/flagging: the tenant's active windows for admins (flag or
// read right), the caller's own windows otherwise.
func (s *Server) listFlagging(w http.ResponseWriter, r *http.Request, p *Principal) {
	admin := p.Has(RoleFlag) || p.canRead()
	out := []flaggingWindow{}
	for _, win := range s.flags.Active(p.Tenant) {
		if admin || isSelf(p, win.UserPrincipalName, "") || isSelf(p, "", win.UserID) {
			out = append(out, windowJSON(win))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": out})
}

// stopFlagging is DELETE /authlake/v1/flagging/{id}.
func (s *Server) stopFlagging(w http.ResponseWriter, r *http.Request, p *Principal) {
	id := r.PathValue("id")
	win, err := s.flags.Get(p.Tenant, id)
	if err != nil {
		writeError(w, r, http.StatusNotFound, codeNotFound, fmt.Sprintf("Flagging window '%s' does not exist or has ended.", truncate(id, 64)))
		return
	}
	if !p.Has(RoleFlag) && !isSelf(p, win.UserPrincipalName, "") && !isSelf(p, "", win.UserID) {
		writeError(w, r, http.StatusForbidden, codeDenied, "Insufficient privileges to complete the operation: stopping another user's flagging needs the "+RoleFlag+" role.")
		return
	}
	if _, err := s.flags.Stop(p.Tenant, id); err != nil {
		if errors.Is(err, flagging.ErrNotFound) {
			writeError(w, r, http.StatusNotFound, codeNotFound, fmt.Sprintf("Flagging window '%s' does not exist or has ended.", truncate(id, 64)))
			return
		}
		s.log.Error("stop flagging window", "err", err)
		writeError(w, r, http.StatusInternalServerError, codeInternal, "Could not store the flagging window.")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
