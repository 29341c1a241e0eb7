package server

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// tenantLimiter is one token bucket per tenant: a noisy tenant is throttled without slowing the
// others, as Graph throttles per app and tenant.
type tenantLimiter struct {
	rps   rate.Limit
	burst int
	now   func() time.Time
	mu    sync.Mutex
	m     map[string]*rate.Limiter
}

func newTenantLimiter(rps float64, burst int, now func() time.Time) *tenantLimiter {
	return &tenantLimiter{rps: rate.Limit(rps), burst: burst, now: now, m: map[string]*rate.Limiter{}}
}

// allow takes a token for tenant, or says how long until one is available. Refused requests
// consume nothing, so a client honouring Retry-After gets through.
func (t *tenantLimiter) allow(tenant string) (bool, time.Duration) {
	if t.rps <= 0 {
		return true, 0
	}
	t.mu.Lock()
	l := t.m[tenant]
	if l == nil {
		// Bounded by the number of distinct tenants with valid tokens, which only trusted
		// issuers can mint.
		l = rate.NewLimiter(t.rps, t.burst)
		t.m[tenant] = l
	}
	t.mu.Unlock()
	now := t.now()
	res := l.ReserveN(now, 1)
	if !res.OK() {
		return false, time.Second
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}
