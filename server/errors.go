package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Graph error codes used by this API (reference §2.6).
const (
	codeBadRequest          = "BadRequest"
	codeInvalidToken        = "InvalidAuthenticationToken"
	codeDenied              = "Authorization_RequestDenied"
	codeNotFound            = "Request_ResourceNotFound"
	codeTooMany             = "TooManyRequests"
	codeTooLarge            = "RequestEntityTooLarge"
	codeTimeout             = "RequestTimeout"
	codeInsufficientStorage = "InsufficientStorage"
	codeUnsupportedType     = "UnsupportedMediaType"
	codeNotAllowed          = "MethodNotAllowed"
	codeNotImplemented      = "NotImplemented"
	codeUnavailable         = "ServiceUnavailable"
	codeInternal            = "InternalServerError"
)

type graphError struct {
	Error graphErrorBody `json:"error"`
}

type graphErrorBody struct {
	Code       string     `json:"code"`
	Message    string     `json:"message"`
	InnerError innerError `json:"innerError"`
}

type innerError struct {
	Date            string `json:"date"`
	RequestID       string `json:"request-id"`
	ClientRequestID string `json:"client-request-id"`
}

// writeError writes a Graph-shaped error. innerError.date has second precision and no zone
// suffix, as Graph writes it.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	ids := requestIDs(r)
	body := graphError{Error: graphErrorBody{Code: code, Message: msg, InnerError: innerError{
		Date: ids.at.UTC().Format("2006-01-02T15:04:05"), RequestID: ids.request, ClientRequestID: ids.client,
	}}}
	if rec, ok := w.(*statusRecorder); ok {
		rec.errCode = code
	}
	writeJSON(w, status, body)
}

// writeRetryAfter writes a 429 with Retry-After in whole seconds (at least 1).
func writeRetryAfter(w http.ResponseWriter, r *http.Request, wait time.Duration, msg string) {
	setRetryAfter(w, wait)
	writeError(w, r, http.StatusTooManyRequests, codeTooMany, msg)
}

// setRetryAfter sets Retry-After to wait rounded up to whole seconds, at least 1, so a client
// that waits that long finds the reason gone.
func setRetryAfter(w http.ResponseWriter, wait time.Duration) {
	secs := int((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(max(1, secs)))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "BUG: response not encodable: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
