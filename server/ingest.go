package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/engine/load"
)

// ingestResponse is the body of a successful ingest: every record is counted exactly once in
// accepted, updated (a later version of a stored sign-in), duplicates or rejected.
type ingestResponse struct {
	Records    int64          `json:"records"`
	Accepted   int64          `json:"accepted"`
	Updated    int64          `json:"updated"`
	Duplicates int64          `json:"duplicates"`
	Rejected   int64          `json:"rejected"`
	Rejects    []ingestReject `json:"rejects"`
}

type ingestReject struct {
	Line   int    `json:"line"`
	Column int    `json:"column"`
	Reason string `json:"reason"`
}

// rejectCollector keeps the first few rejects for the response.
type rejectCollector struct {
	mu    sync.Mutex
	max   int
	items []ingestReject
}

func (c *rejectCollector) Reject(_ string, line, column int, reason string, _ []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.items) < c.max {
		c.items = append(c.items, ingestReject{Line: line, Column: column, Reason: reason})
	}
	return nil
}

// bodyError marks a failure reading the request body, as opposed to storing it.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

type bodyReader struct{ r io.Reader }

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = &bodyError{err}
	}
	return n, err
}

var errDecompressedTooLarge = errors.New("decompressed body too large")

// capReader fails once more than n bytes were read, bounding what a small compressed body may
// expand to.
type capReader struct {
	r io.Reader
	n int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n < 0 {
		return 0, errDecompressedTooLarge
	}
	if int64(len(p)) > c.n+1 {
		p = p[:c.n+1]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	if c.n < 0 {
		return n, errDecompressedTooLarge
	}
	return n, err
}

// ingest is POST /authlake/v1/ingest: NDJSON, Graph pages or diagnostic-settings records, plain
// or gzip/zstd (by Content-Encoding or detected). A 200 means every accepted record is durable.
func (s *Server) ingest(w http.ResponseWriter, r *http.Request, p *Principal) {
	if !p.canIngest() {
		writeError(w, r, http.StatusForbidden, codeDenied, "Insufficient privileges to complete the operation: ingest needs the "+RoleIngest+" or "+RoleReadWriteAuditLog+" role.")
		return
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && mt != "application/x-ndjson") {
		writeError(w, r, http.StatusUnsupportedMediaType, codeUnsupportedType,
			fmt.Sprintf("Content-Type %q is not supported; send application/json or application/x-ndjson.", truncate(r.Header.Get("Content-Type"), 64)))
		return
	}
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	switch enc {
	case "", "identity", "gzip", "x-gzip", "zstd":
	default:
		writeError(w, r, http.StatusUnsupportedMediaType, codeUnsupportedType,
			fmt.Sprintf("Content-Encoding %q is not supported; use gzip or zstd, or none.", truncate(enc, 32)))
		return
	}
	if r.ContentLength > s.cfg.Limits.MaxBodyBytes {
		writeError(w, r, http.StatusRequestEntityTooLarge, codeTooLarge, s.tooLargeMsg())
		return
	}
	body, closeBody, err := s.decodeBody(w, r)
	if err != nil {
		s.ingestFailed(w, r, err)
		return
	}
	defer closeBody()
	rejects := &rejectCollector{max: s.cfg.Limits.MaxRejectsReported}
	sum, err := load.Load(r.Context(), s.db, []load.Source{{Name: "body", R: body}}, load.Options{
		Tenant: p.Tenant, NoWait: true, Rejects: rejects,
	})
	s.metrics.ingested.Add(float64(sum.Accepted))
	s.metrics.rejected.Add(float64(sum.Rejected))
	if err != nil {
		s.ingestFailed(w, r, err)
		return
	}
	resp := ingestResponse{Records: sum.Records, Accepted: sum.Accepted, Updated: sum.Updated, Duplicates: sum.Duplicates, Rejected: sum.Rejected, Rejects: rejects.items}
	if resp.Rejects == nil {
		resp.Rejects = []ingestReject{}
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) tooLargeMsg() string {
	return fmt.Sprintf("The request body is larger than %d bytes (%d after decompression); split it into several requests.",
		s.cfg.Limits.MaxBodyBytes, s.cfg.Limits.MaxDecompressedBytes)
}

// decodeBody limits the body, and decompresses it here (rather than leaving detection to the
// loader) so that the decompressed size is bounded too.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request) (io.Reader, func(), error) {
	raw := bufio.NewReaderSize(&bodyReader{http.MaxBytesReader(w, r.Body, s.cfg.Limits.MaxBodyBytes)}, 64<<10)
	magic, _ := raw.Peek(4)
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	isGzip := len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b
	isZstd := len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd
	limit := s.cfg.Limits.MaxDecompressedBytes
	switch {
	case enc == "gzip" || enc == "x-gzip" || (enc == "" && isGzip):
		zr, err := gzip.NewReader(raw)
		if err != nil {
			return nil, nil, &bodyError{fmt.Errorf("gzip body: %w", err)}
		}
		return &bodyReader{&capReader{r: zr, n: limit}}, func() { zr.Close() }, nil
	case enc == "zstd" || (enc == "" && isZstd):
		zr, err := zstd.NewReader(raw, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(min(limit, 1<<30))), zstd.WithDecoderMaxWindow(128<<20))
		if err != nil {
			return nil, nil, &bodyError{fmt.Errorf("zstd body: %w", err)}
		}
		return &bodyReader{&capReader{r: zr, n: limit}}, zr.Close, nil
	}
	return raw, func() {}, nil
}

func (s *Server) ingestFailed(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	var be *bodyError
	switch {
	case errors.As(err, &mbe) || errors.Is(err, errDecompressedTooLarge):
		writeError(w, r, http.StatusRequestEntityTooLarge, codeTooLarge, s.tooLargeMsg()+" Records before the limit may have been stored; re-sending them is harmless (duplicates are skipped).")
	case errors.Is(err, engine.ErrNotDurable):
		// 507 with Retry-After: nothing of the failed batch was acknowledged, reads still
		// work, and the server resumes by itself once the disk has room.
		w.Header().Set("Retry-After", "10")
		writeError(w, r, http.StatusInsufficientStorage, codeInsufficientStorage, "Ingest cannot be made durable: "+err.Error()+". Retry later; records already stored are skipped as duplicates.")
	case errors.Is(err, load.ErrMostlyRejected):
		writeError(w, r, http.StatusBadRequest, codeBadRequest, "Ingest stopped: "+err.Error()+".")
	case errors.Is(err, engine.ErrBackpressure):
		writeRetryAfter(w, r, 0, "Ingest is ahead of flushing; retry after the time given in Retry-After. Records already stored are skipped as duplicates on retry.")
	case errors.Is(err, engine.ErrClosed):
		writeError(w, r, http.StatusServiceUnavailable, codeUnavailable, "The database is closing.")
	case errors.Is(err, errBodyStalled):
		writeError(w, r, http.StatusRequestTimeout, codeTimeout, "Could not read the request body: "+err.Error()+"; records before the stall may have been stored (re-sending them is harmless).")
	case errors.As(err, &be):
		writeError(w, r, http.StatusBadRequest, codeBadRequest, "Could not read the request body: "+be.err.Error())
	case r.Context().Err() != nil:
		writeError(w, r, http.StatusBadRequest, codeBadRequest, "The request was cancelled by the client.")
	default:
		s.log.Error("ingest failed", "err", err, "request-id", requestIDs(r).request)
		writeError(w, r, http.StatusInternalServerError, codeInternal, "Ingest failed: "+err.Error())
	}
}
