package clock

import (
	"testing"
	"time"
)

func TestFromEnv(t *testing.T) {
	t.Setenv(EnvNow, "")
	if f, err := FromEnv(); err != nil || f == nil {
		t.Fatalf("unset: %v", err)
	}
	t.Setenv(EnvNow, "2031-02-03T04:05:06Z")
	f, err := FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)
	// The clock advances in real time from the given instant: it never reads before it, and
	// this test does not run for a day.
	if got := f(); got.Before(want) || got.After(want.Add(24*time.Hour)) {
		t.Fatalf("FromEnv clock reads %v, want just after %v", got, want)
	}
	t.Setenv(EnvNow, "yesterday")
	if _, err := FromEnv(); err == nil {
		t.Fatal("a malformed AUTHLAKE_NOW was accepted")
	}
}

func TestManual(t *testing.T) {
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	m := NewManual(at)
	m.Advance(90 * time.Minute)
	if got := m.Now(); !got.Equal(at.Add(90 * time.Minute)) {
		t.Fatalf("after Advance: %v", got)
	}
	m.Set(at)
	if !m.Now().Equal(at) {
		t.Fatal("Set did not move the clock")
	}
}
