package attacks

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/valyala/fastjson"
)

// Config chooses how many scenarios of each kind to inject.
type Config struct {
	Seed        uint64
	PerScenario int // scenarios per detection type (default 6)
}

// Label is one expected detection: sign-in-linked ones name the request, user-level ones
// (leakedCredentials) only the user.
type Label struct {
	Type      string `json:"riskEventType"`
	RequestID string `json:"requestId,omitempty"`
	UserID    string `json:"userId"`
	Scenario  string `json:"scenario"`
}

// Output is the injected attack traffic with its ground truth and the lists an admin
// would import alongside it.
type Output struct {
	Events       [][]byte // Graph beta sign-ins, one JSON object each
	Labels       []Label
	AnonymousIPs []string // anonymizer / Tor exit list (one address per line)
	ThreatIPs    []string // threat-intelligence list
	LeakedUsers  []string // leaked-credentials list (user object ids)
}

type bgEvent struct {
	raw      []byte
	id, user string
	t        time.Time
	ok       bool // status.errorCode 0
	inter    bool
	city     string
	country  string
	lat, lon float64
	guest    bool
}

type victim struct {
	id     string
	evs    []*bgEvent // successful interactive sign-ins, in time order
	cities map[string]bool
}

type injector struct {
	r         *rand.Rand
	out       *Output
	victims   []*victim
	used      map[string]bool
	all       map[string]*victim // every user with an interactive sign-in
	countries map[string]bool    // every country of a background sign-in
	seq       int
	end       time.Time
	start     time.Time
	usedCity  map[string]bool
}

// Inject builds attack scenarios against users of background (one Graph sign-in per
// element, e.g. bench/gen lines).
func Inject(background [][]byte, cfg Config) (*Output, error) {
	if cfg.PerScenario <= 0 {
		cfg.PerScenario = 6
	}
	in := &injector{r: rand.New(rand.NewPCG(cfg.Seed, 0x1d9e7)), out: &Output{}, used: map[string]bool{},
		all: map[string]*victim{}, countries: map[string]bool{}, usedCity: map[string]bool{}}
	var p fastjson.Parser
	for _, raw := range background {
		v, err := p.ParseBytes(raw)
		if err != nil {
			return nil, fmt.Errorf("background event: %w", err)
		}
		t, err := time.Parse(time.RFC3339Nano, string(v.GetStringBytes("createdDateTime")))
		if err != nil {
			return nil, fmt.Errorf("background event: createdDateTime: %w", err)
		}
		e := &bgEvent{raw: raw, id: string(v.GetStringBytes("id")), user: string(v.GetStringBytes("userId")), t: t.UTC(),
			ok: v.GetInt64("status", "errorCode") == 0, city: string(v.GetStringBytes("location", "city")),
			country: string(v.GetStringBytes("location", "countryOrRegion")),
			lat:     v.GetFloat64("location", "geoCoordinates", "latitude"), lon: v.GetFloat64("location", "geoCoordinates", "longitude"),
			guest: string(v.GetStringBytes("userType")) == "guest"}
		for _, s := range v.GetArray("signInEventTypes") {
			if string(s.GetStringBytes()) == "interactiveUser" {
				e.inter = true
			}
		}
		if e.t.After(in.end) {
			in.end = e.t
		}
		if in.start.IsZero() || e.t.Before(in.start) {
			in.start = e.t
		}
		if e.country != "" {
			in.countries[e.country] = true
		}
		if e.user == "" || !e.inter {
			continue
		}
		vi := in.all[e.user]
		if vi == nil {
			vi = &victim{id: e.user, cities: map[string]bool{}}
			in.all[e.user] = vi
		}
		vi.cities[e.country+"|"+e.city] = true
		if e.ok && !e.guest && e.city != "" {
			vi.evs = append(vi.evs, e)
		}
	}
	for _, vi := range in.all {
		sort.Slice(vi.evs, func(i, j int) bool { return vi.evs[i].t.Before(vi.evs[j].t) })
		if len(vi.evs) >= 16 {
			in.victims = append(in.victims, vi)
		}
	}
	sort.Slice(in.victims, func(i, j int) bool { return in.victims[i].id < in.victims[j].id })
	in.r.Shuffle(len(in.victims), func(i, j int) { in.victims[i], in.victims[j] = in.victims[j], in.victims[i] })

	scenarios := []func(int) error{in.anonymous, in.travel, in.unfamiliar, in.newCountry, in.threat, in.bruteForce, in.spray, in.fraud, in.leaked}
	for _, sc := range scenarios {
		for k := 0; k < cfg.PerScenario; k++ {
			if err := sc(k); err != nil {
				return nil, err
			}
		}
	}
	return in.out, nil
}

// pick returns an unused victim and a successful sign-in of theirs after the learning
// period that satisfies ok; it marks the victim used.
func (in *injector) pick(ok func(v *victim, i int) bool) (*victim, int, error) {
	for _, v := range in.victims {
		if in.used[v.id] {
			continue
		}
		for i := 12; i < len(v.evs)-1; i++ {
			// after the tenant's detectors warmed up (a week) and the user's learning period
			if v.evs[i].t.Sub(in.start) > 8*24*time.Hour && ok(v, i) {
				in.used[v.id] = true
				return v, i, nil
			}
		}
	}
	return nil, 0, fmt.Errorf("attacks: background has too few users with enough sign-ins for another scenario (need more events)")
}

func anyVictim(v *victim, i int) bool {
	// leave room before the next sign-in so the attack is the latest thing the user did
	return v.evs[i+1].t.Sub(v.evs[i].t) > 40*time.Minute
}

// event copies template and writes attacker properties over it.
func (in *injector) event(template []byte, at time.Time, ip string, mod func(m map[string]any)) (map[string]any, string) {
	var m map[string]any
	if err := json.Unmarshal(template, &m); err != nil {
		panic("BUG: background event does not decode: " + err.Error())
	}
	in.seq++
	id := guid(in.r)
	m["id"] = id
	m["originalRequestId"] = id
	m["correlationId"] = guid(in.r)
	m["sessionId"] = guid(in.r)
	m["uniqueTokenIdentifier"] = fmt.Sprintf("atk%08dAAAAAAAAAAAAAA", in.seq)
	m["createdDateTime"] = at.UTC().Format(time.RFC3339)
	m["ipAddress"] = ip
	m["networkLocationDetails"] = []any{}
	m["flaggedForReview"] = false
	m["riskDetail"], m["riskLevelAggregated"], m["riskLevelDuringSignIn"], m["riskState"] = "none", "none", "none", "none"
	m["riskEventTypes_v2"] = []any{}
	m["isInteractive"] = true
	m["signInEventTypes"] = []any{"interactiveUser"}
	m["status"] = map[string]any{"errorCode": 0, "failureReason": "Other.", "additionalDetails": nil}
	m["authenticationDetails"] = []any{map[string]any{"authenticationStepDateTime": at.UTC().Format(time.RFC3339),
		"authenticationMethod": "Password", "authenticationMethodDetail": "Password in the cloud", "succeeded": true,
		"authenticationStepResultDetail": "Correct password", "authenticationStepRequirement": "Primary authentication"}}
	if mod != nil {
		mod(m)
	}
	return m, id
}

func (in *injector) emit(m map[string]any) {
	b, err := json.Marshal(m)
	if err != nil {
		panic("BUG: attack event does not encode: " + err.Error())
	}
	in.out.Events = append(in.out.Events, b)
}

func (in *injector) label(typ, req, user, scenario string) {
	in.out.Labels = append(in.out.Labels, Label{Type: typ, RequestID: req, UserID: user, Scenario: scenario})
}

func setLocation(m map[string]any, c city) {
	m["location"] = map[string]any{"city": c.name, "state": c.state, "countryOrRegion": c.country,
		"geoCoordinates": map[string]any{"altitude": nil, "latitude": c.lat, "longitude": c.lon}}
}

func failWith(code int, reason string) func(m map[string]any) {
	return func(m map[string]any) {
		m["status"] = map[string]any{"errorCode": code, "failureReason": reason, "additionalDetails": nil}
		m["authenticationDetails"] = []any{map[string]any{"authenticationStepDateTime": m["createdDateTime"],
			"authenticationMethod": "Password", "authenticationMethodDetail": "Password in the cloud", "succeeded": false,
			"authenticationStepResultDetail": "Invalid username or password or Invalid on-premise username or password.",
			"authenticationStepRequirement":  "Primary authentication"}}
		m["conditionalAccessStatus"] = "notApplied"
	}
}

// after returns a time between the victim's i-th sign-in and the next one.
func (in *injector) after(v *victim, i int, min time.Duration) time.Time {
	gap := v.evs[i+1].t.Sub(v.evs[i].t) - min - time.Minute
	return v.evs[i].t.Add(min + time.Duration(in.r.Int64N(int64(gap)+1)))
}

func (in *injector) anonymous(k int) error {
	v, i, err := in.pick(anyVictim)
	if err != nil {
		return err
	}
	ip := fmt.Sprintf("185.220.101.%d", 10+k)
	in.out.AnonymousIPs = append(in.out.AnonymousIPs, ip)
	m, id := in.event(v.evs[i].raw, in.after(v, i, 5*time.Minute), ip, func(m map[string]any) {
		m["autonomousSystemNumber"] = 208294
	})
	in.emit(m)
	in.label("anonymizedIPAddress", id, v.id, "tor")
	return nil
}

func (in *injector) threat(k int) error {
	v, i, err := in.pick(anyVictim)
	if err != nil {
		return err
	}
	ip := fmt.Sprintf("198.51.100.%d", 20+k)
	in.out.ThreatIPs = append(in.out.ThreatIPs, ip)
	m, id := in.event(v.evs[i].raw, in.after(v, i, 5*time.Minute), ip, func(m map[string]any) { m["autonomousSystemNumber"] = 64500 })
	in.emit(m)
	in.label("maliciousIPAddress", id, v.id, "threatList")
	return nil
}

func (in *injector) travel(k int) error {
	var dest city
	v, i, err := in.pick(func(v *victim, i int) bool {
		if v.evs[i+1].t.Sub(v.evs[i].t) < 90*time.Minute {
			return false
		}
		for _, c := range knownCities {
			if in.countries[c.country] && !v.cities[c.country+"|"+c.name] && !in.usedCity[c.name] &&
				km(v.evs[i].lat, v.evs[i].lon, c.lat, c.lon) > 3000 {
				dest = c
				return true
			}
		}
		return false
	})
	if err != nil {
		return err
	}
	in.usedCity[dest.name] = true // one victim per city: a second would make it a place the organization uses
	at := v.evs[i].t.Add(time.Duration(20+in.r.IntN(40)) * time.Minute)
	m, id := in.event(v.evs[i].raw, at, fmt.Sprintf("45.%d.%d.%d", 60+k, in.r.IntN(256), 1+in.r.IntN(250)), func(m map[string]any) {
		setLocation(m, dest)
	})
	in.emit(m)
	in.label("unlikelyTravel", id, v.id, "impossibleTravel")
	return nil
}

func (in *injector) unfamiliar(k int) error {
	v, i, err := in.pick(anyVictim)
	if err != nil {
		return err
	}
	m, id := in.event(v.evs[i].raw, in.after(v, i, 5*time.Minute), fmt.Sprintf("104.28.%d.%d", 100+k, 1+in.r.IntN(250)), func(m map[string]any) {
		m["autonomousSystemNumber"] = hostingASNs[k%len(hostingASNs)]
		m["userAgent"] = "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 OPR/100.0.0.0"
		m["deviceDetail"] = map[string]any{"deviceId": "", "displayName": "", "operatingSystem": "ChromeOS", "browser": "Opera 100.0.0",
			"browserId": "", "isCompliant": false, "isManaged": false, "trustType": ""}
		m["clientAppUsed"] = "Browser"
	})
	in.emit(m)
	in.label("unfamiliarFeatures", id, v.id, "unfamiliarProperties")
	return nil
}

func (in *injector) newCountry(k int) error {
	var dest city
	var at time.Time
	v, i, err := in.pick(func(v *victim, i int) bool {
		for _, c := range newCities {
			if in.countries[c.country] {
				continue
			}
			// slow enough to be a real trip: no unlikelyTravel
			need := time.Duration(km(v.evs[i].lat, v.evs[i].lon, c.lat, c.lon)/400*float64(time.Hour)) + time.Hour
			if v.evs[i+1].t.Sub(v.evs[i].t) > need+10*time.Minute {
				dest, at = c, v.evs[i].t.Add(need)
				return true
			}
		}
		return false
	})
	if err != nil {
		return err
	}
	in.countries[dest.country] = true // one scenario per country: after it the tenant knows it
	m, id := in.event(v.evs[i].raw, at, fmt.Sprintf("41.%d.%d.%d", 200+k, in.r.IntN(256), 1+in.r.IntN(250)), func(m map[string]any) {
		setLocation(m, dest)
	})
	in.emit(m)
	in.label("newCountry", id, v.id, "newCountry")
	return nil
}

// targets returns n users (not the victim, not used as victims) to attack with failures.
func (in *injector) targets(n int, not string) []*victim {
	var out []*victim
	ids := make([]string, 0, len(in.all))
	for id := range in.all {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	in.r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	for _, id := range ids {
		u := in.all[id]
		if id != not && len(u.evs) > 0 && len(out) < n {
			out = append(out, u)
		}
	}
	return out
}

func (in *injector) bruteForce(k int) error {
	v, i, err := in.pick(func(v *victim, i int) bool {
		return anyVictim(v, i) && v.evs[i].t.Sub(v.evs[0].t) > 3*24*time.Hour
	})
	if err != nil {
		return err
	}
	ip := fmt.Sprintf("5.45.%d.%d", 70+k, 1+in.r.IntN(250))
	succAt := in.after(v, i, 5*time.Minute)
	ts := in.targets(12, v.id)
	// 24 failures over 12 users, 2.5 h apart: a reputation problem, never a 1-hour spray burst.
	for f := 0; f < 24; f++ {
		u := ts[f%len(ts)]
		at := succAt.Add(-time.Duration(24-f) * 150 * time.Minute)
		code, reason := 50126, "Error validating credentials due to invalid username or password."
		if f%3 == 2 {
			code, reason = 50053, "Account is locked because user tried to sign in too many times with an incorrect user ID or password."
		}
		m, _ := in.event(u.evs[0].raw, at, ip, failWith(code, reason))
		in.emit(m)
	}
	m, id := in.event(v.evs[i].raw, succAt, ip, nil)
	in.emit(m)
	in.label("maliciousIPAddress", id, v.id, "bruteForce")
	return nil
}

func (in *injector) spray(k int) error {
	v, i, err := in.pick(func(v *victim, i int) bool { return v.evs[i+1].t.Sub(v.evs[i].t) > 4*time.Hour })
	if err != nil {
		return err
	}
	prefix := fmt.Sprintf("5.188.%d.", 10+k)
	start := v.evs[i].t.Add(10 * time.Minute)
	for n, u := range in.targets(25, v.id) {
		at := start.Add(time.Duration(n) * 90 * time.Second)
		m, _ := in.event(u.evs[0].raw, at, prefix+fmt.Sprint(10+n%8), failWith(50126, "Error validating credentials due to invalid username or password."))
		in.emit(m)
	}
	m, id := in.event(v.evs[i].raw, start.Add(time.Duration(60+in.r.IntN(60))*time.Minute), prefix+fmt.Sprint(10+in.r.IntN(8)), nil)
	in.emit(m)
	in.label("passwordSpray", id, v.id, "passwordSpray")
	return nil
}

func (in *injector) fraud(k int) error {
	v, i, err := in.pick(anyVictim)
	if err != nil {
		return err
	}
	tmpl := v.evs[i]
	var ip string
	if pv, err := fastjson.ParseBytes(tmpl.raw); err == nil {
		ip = string(pv.GetStringBytes("ipAddress"))
	}
	at := in.after(v, i, 2*time.Minute)
	m, id := in.event(tmpl.raw, at, ip, func(m map[string]any) {
		m["status"] = map[string]any{"errorCode": 500121, "failureReason": "Authentication failed during strong authentication request.", "additionalDetails": "The user reported the MFA prompt as fraud."}
		m["authenticationDetails"] = []any{
			map[string]any{"authenticationStepDateTime": at.Format(time.RFC3339), "authenticationMethod": "Password",
				"authenticationMethodDetail": "Password in the cloud", "succeeded": true, "authenticationStepResultDetail": "Correct password",
				"authenticationStepRequirement": "Primary authentication"},
			map[string]any{"authenticationStepDateTime": at.Add(20 * time.Second).Format(time.RFC3339), "authenticationMethod": "Mobile app notification",
				"authenticationMethodDetail": nil, "succeeded": false, "authenticationStepResultDetail": "MFA denied; user reported fraud",
				"authenticationStepRequirement": "Multifactor authentication"}}
	})
	in.emit(m)
	in.label("userReportedSuspiciousActivity", id, v.id, "mfaFraud")
	return nil
}

func (in *injector) leaked(k int) error {
	v, _, err := in.pick(func(*victim, int) bool { return true })
	if err != nil {
		return err
	}
	in.out.LeakedUsers = append(in.out.LeakedUsers, v.id)
	in.label("leakedCredentials", "", v.id, "leak")
	return nil
}

// WriteNDJSON writes the attack events one per line.
func (o *Output) WriteNDJSON(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, e := range o.Events {
		bw.Write(e)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// WriteLabels writes the labels one JSON object per line.
func (o *Output) WriteLabels(w io.Writer) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, l := range o.Labels {
		if err := enc.Encode(l); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func guid(r *rand.Rand) string {
	a, b := r.Uint64(), r.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xfff, 0x8000|(b>>48)&0x3fff, b&0xffffffffffff)
}

func km(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	dlat, dlon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * 6371 * math.Asin(math.Sqrt(a))
}
