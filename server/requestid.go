package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"
)

// ids identify a request; at is its arrival on the server's clock (error bodies date with it).
type ids struct {
	request, client string
	at              time.Time
}

type ctxKey int

const (
	keyIDs ctxKey = iota
	keyPrincipal
)

// withRequestIDs gives every request a request-id GUID and echoes the client's
// client-request-id (or the request id when absent) on every response, as Graph does, so a
// client can quote them when reporting a problem.
func withRequestIDs(now func() time.Time, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := newGUID()
		client := r.Header.Get("client-request-id")
		if client == "" || len(client) > 128 {
			client = id
		}
		w.Header().Set("request-id", id)
		w.Header().Set("client-request-id", client)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyIDs, ids{id, client, now()})))
	})
}

func requestIDs(r *http.Request) ids {
	if v, ok := r.Context().Value(keyIDs).(ids); ok {
		return v
	}
	return ids{at: time.Now()}
}

func newGUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
