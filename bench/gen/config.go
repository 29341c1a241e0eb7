package gen

import "time"

// Config fully determines the generated stream.
type Config struct {
	Events int    // number of events to emit
	Seed   uint64 // all randomness derives from it
	// Tenant is the resource tenant GUID; default DefaultTenant.
	Tenant string
	// End is the generator's "now": no event is created after it. Default
	// Start+Days when Start is set, else the wall clock when the generator
	// is built (callers that want a reproducible stream, tests above all,
	// set End or Start).
	End time.Time
	// Start is the earliest createdDateTime; default End minus Days.
	Start time.Time
	// Days is the span over which events are spread; default 30. Arrivals
	// are Poisson with the expected count equal to Events, scheduled to
	// end a little before End so the last events land near it; the rare
	// straggler past End is dated End.
	Days int
	// Users and Apps size the population; 0 picks defaults scaled to Events.
	Users, Apps int
}

// DefaultTenant is the demo resource tenant used when Config.Tenant is "".
const DefaultTenant = "3b7f0c2e-5a1d-4e8b-9c6f-2d4a8e1b7c90"

// BenchEnd is the End of benchmark streams. Benchmark results are compared across revisions
// and generated files are cached by seed and size, so their events must not move with the
// calendar; benchmarks open their databases without retention. (The 30 days before it are
// the window the published results were generated over.)
var BenchEnd = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

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
	if c.Days <= 0 {
		c.Days = 30
	}
	switch {
	case !c.End.IsZero() && c.Start.IsZero():
		c.Start = c.End.AddDate(0, 0, -c.Days)
	case c.End.IsZero() && !c.Start.IsZero():
		c.End = c.Start.AddDate(0, 0, c.Days)
	case c.End.IsZero():
		c.End = time.Now()
		c.Start = c.End.AddDate(0, 0, -c.Days)
	}
	c.Start = c.Start.UTC().Truncate(time.Second)
	c.End = c.End.UTC().Truncate(time.Second)
	if c.Users <= 0 {
		c.Users = clamp(c.Events/200, 50, 200000)
	}
	if c.Apps <= 0 {
		c.Apps = clamp(c.Events/20000, 24, 400)
	}
	c.Apps = max(c.Apps, len(firstPartyApps)+4)
	return c
}
