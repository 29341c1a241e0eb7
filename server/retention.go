package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/authlake/authlake/engine"
)

// The retention API: how long the caller's tenant keeps its events. The database remembers the
// setting (engine.DB.SetRetention), as it does `--retention` on the command line and the
// config file's retention map; all three set the same thing.

// RoleManage lets a caller change its tenant's settings, retention among them: shortening it
// deletes events, so reading or ingesting is not enough.
const RoleManage = "AuthLake.Manage"

type retentionBody struct {
	Tenant    string `json:"tenant"`
	Retention string `json:"retention"` // "400d", or "forever"
	Days      int    `json:"days"`      // -1: forever
	Source    string `json:"source"`    // where the setting comes from
}

func (s *Server) retentionOf(tenant string) retentionBody {
	days, source := s.db.RetentionOf(tenant)
	spec := "forever"
	if days >= 0 {
		spec = strconv.Itoa(days) + "d" // what PUT takes back
	}
	return retentionBody{Tenant: tenant, Retention: spec, Days: days, Source: source}
}

// getRetention is GET /authlake/v1/retention.
func (s *Server) getRetention(w http.ResponseWriter, r *http.Request, p *Principal) {
	if !p.canRead() && !p.Has(RoleManage) {
		writeError(w, r, http.StatusForbidden, codeDenied, "Insufficient privileges to complete the operation: reading the retention needs "+RoleReadAuditLog+" or "+RoleManage+".")
		return
	}
	writeJSON(w, http.StatusOK, s.retentionOf(p.Tenant))
}

// putRetention is PUT /authlake/v1/retention with {"retention": "400d"} ("0" or "forever"
// keeps every event).
func (s *Server) putRetention(w http.ResponseWriter, r *http.Request, p *Principal) {
	if !p.Has(RoleManage) {
		writeError(w, r, http.StatusForbidden, codeDenied, "Insufficient privileges to complete the operation: changing the retention needs the "+RoleManage+" role (a shorter retention deletes events).")
		return
	}
	var req struct {
		Retention string `json:"retention"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.More() {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, r, http.StatusRequestEntityTooLarge, codeTooLarge, "The retention request is larger than 4 KiB.")
			return
		}
		writeError(w, r, http.StatusBadRequest, codeBadRequest, `Send {"retention": "400d"} (days, weeks 8w, years 2y, or "forever").`)
		return
	}
	spec := req.Retention
	if spec == "forever" {
		spec = "0"
	}
	days, err := engine.ParseRetention(spec)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, codeBadRequest, err.Error())
		return
	}
	if err := s.db.SetRetention(p.Tenant, days); err != nil {
		writeError(w, r, http.StatusInternalServerError, codeInternal, "Could not store the retention: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, s.retentionOf(p.Tenant))
}
