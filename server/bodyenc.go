package server

import (
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// decodeBodies honours Content-Encoding on every request body (the ingest route does its own,
// with zstd and detection from the bytes): gzip and deflate are decoded, bounded by
// limits.maxDecompressedBytes, and anything else is 415. Microsoft's Go SDK compresses POST
// bodies by default; without this, its risk actions were answered 400 "invalid character '\x1f'".
func (s *Server) decodeBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &idleBody{ReadCloser: r.Body, rc: http.NewResponseController(w), idle: s.cfg.Limits.BodyIdleTimeout}
		}
		enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
		if enc == "" || enc == "identity" || r.URL.Path == "/authlake/v1/ingest" {
			next.ServeHTTP(w, r)
			return
		}
		var dec io.ReadCloser
		var err error
		switch enc {
		case "gzip", "x-gzip":
			dec, err = gzip.NewReader(r.Body)
		case "deflate": // HTTP's "deflate" is the zlib format (RFC 9110 §8.4.1.2)
			dec, err = zlib.NewReader(r.Body)
		default:
			writeError(w, r, http.StatusUnsupportedMediaType, codeUnsupportedType,
				fmt.Sprintf("Content-Encoding %q is not supported; use gzip or deflate, or none.", truncate(enc, 32)))
			return
		}
		if err != nil {
			writeError(w, r, http.StatusBadRequest, codeBadRequest, "The request body is not valid "+enc+": "+err.Error())
			return
		}
		defer dec.Close()
		r.Body = http.MaxBytesReader(w, io.NopCloser(dec), s.cfg.Limits.MaxDecompressedBytes)
		r.Header.Del("Content-Encoding")
		r.ContentLength = -1
		next.ServeHTTP(w, r)
	})
}

// idleBody moves the connection's read deadline forward before each read of the body, so a body
// that stalls for longer than idle fails the read (errBodyStalled, answered 408) while one that
// keeps arriving may take as long as its size needs. The deadline is network time: the wall
// clock, not the server's clock.
type idleBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
}

// errBodyStalled is a body read that timed out.
var errBodyStalled = errors.New("the request body stalled")

func (b *idleBody) Read(p []byte) (int, error) {
	_ = b.rc.SetReadDeadline(time.Now().Add(b.idle)) // not supported (HTTP/2 on some paths): the server's ReadTimeout still bounds it
	n, err := b.ReadCloser.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		err = fmt.Errorf("%w: nothing arrived for %s", errBodyStalled, b.idle)
	}
	return n, err
}
