// Package clocktest gives tests their "now". No test reads the wall clock to decide what is
// recent: each takes Epoch (or a Manual clock started at it). CI runs the suite a second time
// (under the race detector) with AUTHLAKE_TEST_CLOCK_SHIFT set (a year), which moves Epoch, so a test or a code path that
// still depends on the calendar fails there instead of on some future day.
package clocktest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/authlake/authlake/internal/clock"
)

// EnvShift names the environment variable that shifts Epoch: a Go duration ("-36h", "90m") or a
// whole number of years or days ("1y", "-2y", "400d").
const EnvShift = "AUTHLAKE_TEST_CLOCK_SHIFT"

// base is an ordinary weekday afternoon; nothing depends on which one.
var base = time.Date(2026, 11, 20, 14, 30, 0, 0, time.UTC)

// Epoch is the tests' "now": base moved by AUTHLAKE_TEST_CLOCK_SHIFT. A malformed shift
// panics: a CI run that meant to shift the clock and silently did not would prove nothing.
func Epoch() time.Time {
	t, err := Shift(base, os.Getenv(EnvShift))
	if err != nil {
		panic(err)
	}
	return t
}

// Shift moves t by spec (see EnvShift); "" leaves it.
func Shift(t time.Time, spec string) (time.Time, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return t, nil
	}
	if n, ok := strings.CutSuffix(spec, "y"); ok {
		if y, err := strconv.Atoi(n); err == nil {
			return t.AddDate(y, 0, 0), nil
		}
	}
	if n, ok := strings.CutSuffix(spec, "d"); ok {
		if d, err := strconv.Atoi(n); err == nil {
			return t.AddDate(0, 0, d), nil
		}
	}
	d, err := time.ParseDuration(spec)
	if err != nil {
		return t, fmt.Errorf("%s=%q: want a Go duration or a whole number of years or days (1y, -3d)", EnvShift, spec)
	}
	return t.Add(d), nil
}

// Manual returns a Manual clock reading Epoch.
func Manual() *clock.Manual { return clock.NewManual(Epoch()) }

// Env returns "AUTHLAKE_NOW=<Epoch>", for a child process's environment.
func Env() string { return clock.EnvNow + "=" + Epoch().Format(time.RFC3339Nano) }
