package identityprotection

import (
	"testing"
	"time"
)

func TestGraphTimesSevenDigits(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 123456789, time.UTC)
	m := toMaps([]RiskyUser{{ID: "u", RiskLastUpdatedDateTime: at}})[0]
	if got := m["riskLastUpdatedDateTime"]; got != "2026-11-20T10:00:00.1234567Z" {
		t.Fatalf("riskLastUpdatedDateTime %v, want 7 fractional digits", got)
	}
	for in, want := range map[string]string{
		"2026-11-20T10:00:00Z":               "2026-11-20T10:00:00Z",
		"2026-11-20T10:00:00.5Z":             "2026-11-20T10:00:00.5Z",
		"2026-11-20T10:00:00.123456789Z":     "2026-11-20T10:00:00.1234567Z",
		"not a time at all, but long enough": "not a time at all, but long enough",
	} {
		if got := graphTime(in); got != want {
			t.Errorf("graphTime(%q) = %q, want %q", in, got, want)
		}
	}
}
