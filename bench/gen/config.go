package gen

import "time"

// Config fully determines the generated stream.
type Config struct {
	Events int    // number of events to emit
	Seed   uint64 // all randomness derives from it
	// Tenant is the resource tenant GUID; default DefaultTenant.
	Tenant string
	// Start is the earliest createdDateTime; default DefaultStart.
	Start time.Time
	// Days is the span over which events are spread; default 30. Arrivals
	// are Poisson with the expected count equal to Events, so the last
	// event lands near Start+Days (occasionally slightly after it).
	Days int
	// Users and Apps size the population; 0 picks defaults scaled to Events.
	Users, Apps int
}

// DefaultTenant is the demo resource tenant used when Config.Tenant is "".
const DefaultTenant = "3b7f0c2e-5a1d-4e8b-9c6f-2d4a8e1b7c90"

// DefaultStart is the first event time used when Config.Start is zero.
var DefaultStart = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// microsoftTenant owns first-party apps and resources (appOwnerTenantId).
const microsoftTenant = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"

func clamp(v, lo, hi int) int { return max(lo, min(hi, v)) }

func (c Config) withDefaults() Config {
	if c.Events < 0 {
		c.Events = 0
	}
	if c.Tenant == "" {
		c.Tenant = DefaultTenant
	}
	if c.Start.IsZero() {
		c.Start = DefaultStart
	}
	c.Start = c.Start.UTC().Truncate(time.Second)
	if c.Days <= 0 {
		c.Days = 30
	}
	if c.Users <= 0 {
		c.Users = clamp(c.Events/200, 50, 200000)
	}
	if c.Apps <= 0 {
		c.Apps = clamp(c.Events/20000, 24, 400)
	}
	c.Apps = max(c.Apps, len(firstPartyApps)+4)
	return c
}
