package diagnostic

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/ golden files")

const fixturePath = "testdata/fixture.ndjson"

// Fixture users.
const (
	userB     = "bbbbbbbb-0000-4000-8000-000000000002" // Avery Smithson: makes "avery" ambiguous
	userGuest = "eeeeeeee-0000-4000-8000-000000000003"
	sprayIP   = "198.51.100.66"
)

// fixtureEvents is a small tenant with a story per scenario family, at fixed times before
// testNow (the golden CLI and HTTP outputs run over it):
//   - Avery Smith is blocked by Conditional Access from abroad (flagged in the same browser),
//     completes MFA required by CA on another flow, and her old phone replays a stale
//     password six times;
//   - Avery Smithson only signs in successfully;
//   - a guest is blocked by a device policy of this tenant;
//   - sprayIP fails passwords for six users.
func fixtureEvents() []map[string]any {
	craftedSeq = 0
	t0 := testNow.Add(-3 * time.Hour)
	var out []map[string]any
	add := func(off time.Duration, mods ...mod) map[string]any {
		m := craft(append(mods, at(t0.Add(off)))...)
		out = append(out, m)
		return m
	}
	// MFA from CA: 50074 then success, one correlation.
	m1 := add(0, code(50074), mfa(), providers("multiConditionalAccess"), set("conditionalAccessStatus", "failure"),
		policy("Require MFA for all users", "failure", "Mfa"))
	add(40*time.Second, mfa(), providers("multiConditionalAccess"), policy("Require MFA for all users", "success", "Mfa"),
		set("correlationId", m1["correlationId"]), set("originalRequestId", m1["id"]))
	// Blocked abroad, flagged, reproduced in the same browser.
	foreign := []mod{code(53003), set("conditionalAccessStatus", "failure"), set("ipAddress", "185.220.101.4"),
		set("location", map[string]any{"city": "Lagos", "countryOrRegion": "NG"}),
		policy("Block access outside allowed countries", "failure", "Block")}
	b1 := add(30*time.Minute, foreign...)
	add(33*time.Minute, append(foreign, set("flaggedForReview", true))...)
	add(36*time.Minute, append(foreign, set("flaggedForReview", true), set("correlationId", b1["correlationId"]))...)
	// The old phone.
	for i := range 6 {
		add(time.Hour+time.Duration(i)*7*time.Minute, code(50126), set("clientAppUsed", "Mobile Apps and Desktop clients"),
			device("OLD-PHONE", "Outlook Mobile"), set("ipAddress", "192.0.2.44"), set("appDisplayName", "Microsoft Outlook"),
			set("appId", "27922004-5251-4030-b22d-91ecd9a37ea4"), set("conditionalAccessStatus", "notApplied"))
	}
	// Avery Smithson.
	for i := range 3 {
		add(time.Duration(i)*time.Hour, user(userB, "avery.smithson@contoso.com", "Avery Smithson"))
	}
	// The guest.
	add(2*time.Hour, user(userGuest, "sam@fabrikam.com", "Sam Guest"), guest(), code(53000),
		set("conditionalAccessStatus", "failure"), policy("Require compliant device", "failure", "RequireCompliantDevice"))
	// The spray: six users, two failures each, from one address, within an hour.
	for i := range 12 {
		u := i % 6
		add(150*time.Minute+time.Duration(i)*3*time.Minute, code(50126), set("ipAddress", sprayIP), set("clientAppUsed", "Other clients"),
			user(fmt.Sprintf("ffffffff-0000-4000-8000-%012d", u), fmt.Sprintf("user%d@contoso.com", u), fmt.Sprintf("Sprayed User %d", u)))
	}
	return out
}

func fixtureLines() [][]byte {
	var out [][]byte
	for _, m := range fixtureEvents() {
		out = append(out, line(m))
	}
	return out
}

// TestFixtureFile keeps testdata/fixture.ndjson (read by the CLI tests) equal to
// fixtureEvents.
func TestFixtureFile(t *testing.T) {
	want := append(bytes.Join(fixtureLines(), []byte("\n")), '\n')
	if *update {
		if err := os.WriteFile(fixturePath, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("testdata/fixture.ndjson is stale: go test ./diagnostic -run TestFixtureFile -update")
	}
}
