package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/authlake/authlake/engine"
)

// TestIngestFailureMapping checks the statuses of ingest failures that a loopback test cannot
// provoke on demand (engine backpressure depends on flush timing).
func TestIngestFailureMapping(t *testing.T) {
	s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	s.cfg.Defaults()
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("batch 3: %w", engine.ErrBackpressure), 429, codeTooMany},
		{engine.ErrClosed, 503, codeUnavailable},
		{&http.MaxBytesError{Limit: 10}, 413, codeTooLarge},
		{&bodyError{errDecompressedTooLarge}, 413, codeTooLarge},
		{&bodyError{errors.New("unexpected EOF")}, 400, codeBadRequest},
		{errors.New("write-ahead log: disk full"), 500, codeInternal},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		s.ingestFailed(w, httptest.NewRequest(http.MethodPost, "/authlake/v1/ingest", nil), c.err)
		var body graphError
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != c.status || body.Error.Code != c.code {
			t.Errorf("%v: %d %s", c.err, w.Code, w.Body)
		}
		if c.status == 429 && w.Header().Get("Retry-After") != "1" {
			t.Errorf("backpressure Retry-After %q", w.Header().Get("Retry-After"))
		}
	}
}
