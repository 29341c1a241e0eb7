// Package clock is authlake's one answer to "what time is it". Every component that makes a
// decision from the current time (retention, flush age, flagging windows, learning periods,
// token expiry, rate limits, default query times) takes a Func, so tests and replays pick the
// time instead of inheriting the calendar. Measuring how long something took (logs, metrics,
// benchmarks) is a stopwatch, not a clock, and uses time.Now and time.Since directly.
package clock

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// Func returns the current time.
type Func func() time.Time

// EnvNow names the environment variable that sets a process's clock: an RFC 3339 instant at
// which the clock starts when the process starts, advancing in real time from there. It lets a
// test, a README script or an investigator run any command "as of" another time.
const EnvNow = "AUTHLAKE_NOW"

// Real is the wall clock.
func Real() time.Time { return time.Now() }

// FromEnv returns the process clock: Real, or an Offset clock when AUTHLAKE_NOW is set.
func FromEnv() (Func, error) {
	v := strings.TrimSpace(os.Getenv(EnvNow))
	if v == "" {
		return Real, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return nil, fmt.Errorf("%s=%q: want an RFC 3339 time such as 2026-11-20T12:00:00Z", EnvNow, v)
	}
	return Offset(t), nil
}

// Offset returns a clock that reads base now and advances in real time (monotonic).
func Offset(base time.Time) Func {
	began := time.Now()
	return func() time.Time { return base.Add(time.Since(began)) }
}

// Manual is a clock that moves only when told to. Safe for concurrent use.
type Manual struct {
	mu sync.Mutex
	t  time.Time
}

// NewManual returns a Manual clock reading t.
func NewManual(t time.Time) *Manual { return &Manual{t: t} }

// Now reads the clock.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.t
}

// Advance moves the clock forward by d.
func (m *Manual) Advance(d time.Duration) {
	m.mu.Lock()
	m.t = m.t.Add(d)
	m.mu.Unlock()
}

// Set moves the clock to t.
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	m.t = t
	m.mu.Unlock()
}
