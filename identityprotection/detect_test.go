package identityprotection

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func fixedNow() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }

func craftEvent(id, user string, at time.Time) *Event {
	return &Event{ID: id, CorrelationID: "c-" + id, Time: at, UserID: user, UPN: user + "@contoso.com", IP: "73.1.2.3", ASN: 7922,
		City: "Redmond", Country: "US", Lat: 47.68, Lon: -122.12, HasGeo: true, DeviceID: "dev-" + user, OS: "Windows10",
		Browser: "Edge 131.0.0", Interactive: true, TokenIssuerType: "AzureAD"}
}

// history gives user u 12 ordinary sign-ins over 12 days starting at start.
func history(d *Detector, u string, start time.Time) time.Time {
	at := start
	for i := 0; i < 12; i++ {
		e := craftEvent(fmt.Sprintf("%s-h%d", u, i), u, at)
		if dets, _ := d.Observe(e); len(dets) > 0 {
			panic("history raised " + dets[0].RiskEventType)
		}
		at = at.Add(24 * time.Hour)
	}
	return at
}

func types(dets []Detection) string {
	var s []string
	for _, d := range dets {
		s = append(s, d.RiskEventType)
	}
	return strings.Join(s, ",")
}

func TestDetectorsCrafted(t *testing.T) {
	anon, _ := ParseIPList("anon", []byte("185.220.101.0/24\n"))
	threat, _ := ParseIPList("threat", []byte("198.51.100.7\n"))
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		mod  func(e *Event)
		want string
	}{
		{"ordinary", func(e *Event) {}, ""},
		{"tor", func(e *Event) { e.IP = "185.220.101.9" }, TypeAnonymizedIP},
		{"tor but failed password (near miss)", func(e *Event) { e.IP = "185.220.101.9"; e.ErrorCode = 50126 }, ""},
		{"threat list", func(e *Event) { e.IP = "198.51.100.7" }, TypeMaliciousIP},
		{"travel to Sydney in 30 min", func(e *Event) { e.City, e.Country, e.Lat, e.Lon = "Sydney", "AU", -33.87, 151.2 }, TypeUnlikelyTravel + "," + TypeNewCountry},
		{"travel 300 km (near miss)", func(e *Event) { e.City, e.Lat, e.Lon = "Portland", 45.5, -122.7 }, ""},
		{"new country, far in time (slow)", func(e *Event) {
			e.City, e.Country, e.Lat, e.Lon = "Vancouver", "CA", 49.28, -123.12
		}, TypeNewCountry},
		{"unfamiliar everything", func(e *Event) {
			e.IP, e.ASN, e.DeviceID, e.OS, e.Browser = "104.28.1.2", 13335, "", "ChromeOS", "Opera 100"
		}, TypeUnfamiliarFeatures},
		{"new browser only (near miss)", func(e *Event) { e.Browser = "Firefox 133.0" }, ""},
		{"fraud reported", func(e *Event) { e.ErrorCode = 500121; e.FraudReported = true }, TypeUserReported},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewDetector("t", Thresholds{}, anon, threat)
			d.Now = fixedNow
			at := history(d, "u1", start)
			e := craftEvent("x", "u1", at.Add(-24*time.Hour+30*time.Minute))
			c.mod(e)
			dets, _ := d.Observe(e)
			if got := types(dets); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestSprayAndMaliciousCrafted(t *testing.T) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	run := func(accounts int, window time.Duration, successAfter time.Duration) string {
		d := NewDetector("t", Thresholds{}, nil, nil)
		d.Now = fixedNow
		at := start
		for i := 0; i < accounts; i++ {
			e := craftEvent(fmt.Sprintf("f%d", i), fmt.Sprintf("victim%d", i), at.Add(time.Duration(i)*window/time.Duration(accounts)))
			e.IP, e.ErrorCode = fmt.Sprintf("5.188.10.%d", 10+i%5), 50126
			d.Observe(e)
		}
		e := craftEvent("s", "lucky", at.Add(window+successAfter))
		e.IP = "5.188.10.12"
		dets, _ := d.Observe(e)
		return types(dets)
	}
	if got := run(12, 40*time.Minute, 30*time.Minute); got != TypePasswordSpray {
		t.Errorf("spray: %q", got)
	}
	if got := run(8, 40*time.Minute, 30*time.Minute); got != "" {
		t.Errorf("8 accounts (near miss): %q", got)
	}
	if got := run(12, 10*time.Hour, 30*time.Minute); got != "" {
		t.Errorf("12 accounts over 10 h (near miss): %q", got)
	}
	if got := run(12, 40*time.Minute, 48*time.Hour); got != "" {
		t.Errorf("success two days later (near miss): %q", got)
	}
	// brute force from one address: 24 failures over 12 users, slowly
	d := NewDetector("t", Thresholds{}, nil, nil)
	for i := 0; i < 24; i++ {
		e := craftEvent(fmt.Sprintf("b%d", i), fmt.Sprintf("user%d", i%12), start.Add(time.Duration(i)*2*time.Hour))
		e.IP, e.ErrorCode = "45.9.9.9", 50053
		d.Observe(e)
	}
	e := craftEvent("ok", "lucky", start.Add(50*time.Hour))
	e.IP = "45.9.9.9"
	if dets, _ := d.Observe(e); types(dets) != TypeMaliciousIP {
		t.Errorf("brute force: %q", types(dets))
	}
}

func TestListErrors(t *testing.T) {
	_, err := ParseIPList("tor.txt", []byte("# exits\n185.220.101.1\n  10.0.0.300\n"))
	if err == nil || err.Error() != `tor.txt:3:3: invalid IP address or CIDR "10.0.0.300"` {
		t.Errorf("ip list: %v", err)
	}
	_, err = ParseLeakList("leaks.csv", []byte("550a137b-1117-422b-90dc-fd1a01e07294\n550a137b-1117-422b-90dc-fd1a01e07294, 2026-13-01\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "leaks.csv:2:39: invalid leak time") {
		t.Errorf("leak list: %v", err)
	}
	_, err = ParseLeakList("leaks.csv", []byte("bob\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "leaks.csv:1:1: invalid user id") {
		t.Errorf("leak list: %v", err)
	}
	// a malformed list leaves the installed one in place
	st, _ := Open(t.TempDir(), Options{NoSync: true})
	defer st.Close()
	if _, err := st.ImportIPList("threat", "ok.txt", []byte("198.51.100.7\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ImportIPList("threat", "bad.txt", []byte("198.51.100.8\nnope\n")); err == nil {
		t.Fatal("bad list accepted")
	}
	if _, th := st.Lists(); !th.Contains("198.51.100.7") || th.Contains("198.51.100.8") {
		t.Error("bad import changed the installed list")
	}
	if n, _, err := st.ImportLeaks("t", "bad.csv", []byte("zzz\n"), nil); err == nil || n != 0 || len(st.Detections("t")) != 0 {
		t.Error("bad leak list stored something")
	}
}
