package clocktest

import (
	"testing"
	"time"
)

func TestShift(t *testing.T) {
	at := time.Date(2026, 2, 28, 12, 0, 0, 0, time.UTC)
	for spec, want := range map[string]time.Time{
		"":     at,
		"1y":   time.Date(2027, 2, 28, 12, 0, 0, 0, time.UTC),
		"-2y":  time.Date(2024, 2, 28, 12, 0, 0, 0, time.UTC),
		"3d":   time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC),
		"-90m": time.Date(2026, 2, 28, 10, 30, 0, 0, time.UTC),
	} {
		got, err := Shift(at, spec)
		if err != nil || !got.Equal(want) {
			t.Errorf("Shift(%q) = %v, %v; want %v", spec, got, err, want)
		}
	}
	if _, err := Shift(at, "a year"); err == nil {
		t.Error("a malformed shift was accepted")
	}
}

func TestEpochFollowsShift(t *testing.T) {
	t.Setenv(EnvShift, "")
	e := Epoch()
	t.Setenv(EnvShift, "1y")
	if got := Epoch(); !got.Equal(e.AddDate(1, 0, 0)) {
		t.Fatalf("shifted Epoch %v, want %v", got, e.AddDate(1, 0, 0))
	}
}
