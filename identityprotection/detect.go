package identityprotection

import (
	"math"
	"time"
)

// Thresholds tune the detectors. The zero value means the defaults below.
type Thresholds struct {
	LearningSignIns int           // sign-ins after which a user's profile is learned (10)
	LearningPeriod  time.Duration // or time since the first sign-in (14 days)
	TravelMinKm     float64       // ignore hops shorter than this (500 km)
	TravelMaxKmh    float64       // faster than this is unlikely (900 km/h, a jet)
	SprayAccounts   int           // distinct accounts failing 50126 from one source (10)
	SprayWindow     time.Duration // within this window (1 h)
	SprayFollow     time.Duration // a source stays "spraying" this long (24 h)
	MaliciousFails  int           // failed sign-ins from one IP (20)
	MaliciousUsers  int           // across this many distinct users (10)
	MaliciousRatio  float64       // with at least this failure ratio (0.9)
	OrgPlaceUsers   int           // a city this many users sign in from is not "travel" (2)
	TenantWarmup    time.Duration // history the tenant needs before profile detectors fire (7 days)
}

func (t Thresholds) withDefaults() Thresholds {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defF := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&t.LearningSignIns, 10)
	defD(&t.LearningPeriod, 14*24*time.Hour)
	defF(&t.TravelMinKm, 500)
	defF(&t.TravelMaxKmh, 900)
	def(&t.SprayAccounts, 10)
	defD(&t.SprayWindow, time.Hour)
	defD(&t.SprayFollow, 24*time.Hour)
	def(&t.MaliciousFails, 20)
	def(&t.MaliciousUsers, 10)
	defF(&t.MaliciousRatio, 0.9)
	def(&t.OrgPlaceUsers, 2)
	defD(&t.TenantWarmup, 7*24*time.Hour)
	return t
}

// Observation is something a later sign-in shows about existing risk: self-remediation
// (MFA under a risk policy, secure password change or reset) or a system judgement that
// an earlier detection was a false positive.
type Observation struct {
	ID        string // content hash: replaying a window observes nothing new
	Kind      string // one of the Obs* constants
	UserID    string
	RequestID string
	IPRange   string
	At        time.Time
}

// Observation kinds.
const (
	ObsRiskPolicyMFA  = "riskPolicyMFA"
	ObsPasswordChange = "passwordChange"
	ObsPasswordReset  = "passwordReset"
	ObsFamiliarMFA    = "familiarMFA" // MFA passed from the range a detection came from
)

// profile is what the detectors know about one user's normal sign-ins.
type profile struct {
	first     time.Time
	count     int
	ranges    map[string]bool
	asns      map[int64]bool
	countries map[string]bool
	cities    map[string]bool
	devices   map[string]bool
	browsers  map[string]bool
	last      *Event          // last successful sign-in with coordinates
	risky     map[string]bool // IP ranges that raised a sign-in detection
}

func (p *profile) learned(t time.Time, th *Thresholds) bool {
	return p.count >= th.LearningSignIns || t.Sub(p.first) >= th.LearningPeriod
}

type sprayHit struct {
	at   time.Time
	user string
}

type ipStats struct {
	fails, succ int
	users       map[string]bool
}

// Detector is the stateful detection pass over one tenant's sign-ins in time order.
// Its state is a pure function of the events it observed, which is what lets an
// interrupted job rebuild it by re-reading the window.
type Detector struct {
	tenant    string
	th        Thresholds
	anon      *IPList
	threat    *IPList
	users     map[string]*profile
	countries map[string]bool            // countries of the tenant's successful sign-ins
	cityUsers map[string]map[string]bool // users seen per city so far, up to OrgPlaceUsers
	asnUsers  map[int64]map[string]bool  // users seen per network so far
	// orgCities, when set by the job, counts the users with successful sign-ins (of any
	// kind) per city over the whole window: offline detectors may know the whole window.
	orgCities map[string]int
	spray     map[string][]sprayHit
	sprayTill map[string]time.Time
	sprayDone map[string]bool // source+user already raised
	ips       map[string]*ipStats
	malDone   map[string]bool
	// candidates, when set, restricts per-IP failure counting to addresses that the
	// aggregate pre-pass found with enough failing users (memory bound for big windows).
	candidates map[string]bool
	first      time.Time // the first event observed: start of the tenant's warm-up
	// Now is the detection time stamped on offline detections.
	Now func() time.Time
}

// NewDetector prepares a detector for tenant. anon and threat may be nil.
func NewDetector(tenant string, th Thresholds, anon, threat *IPList) *Detector {
	return &Detector{
		tenant: tenant, th: th.withDefaults(), anon: anon, threat: threat,
		users: map[string]*profile{}, countries: map[string]bool{}, cityUsers: map[string]map[string]bool{}, asnUsers: map[int64]map[string]bool{},
		spray: map[string][]sprayHit{}, sprayTill: map[string]time.Time{}, sprayDone: map[string]bool{},
		ips: map[string]*ipStats{}, malDone: map[string]bool{},
		Now: time.Now,
	}
}

// Observe feeds one interactive sign-in (in createdDateTime order) and returns the
// detections and observations it raises.
func (d *Detector) Observe(e *Event) ([]Detection, []Observation) {
	if e.UserID == "" {
		return nil, nil
	}
	var dets []Detection
	var obs []Observation
	now := d.Now().UTC()
	rng := IPRange(e.IP)
	p := d.users[e.UserID]
	if p == nil {
		p = &profile{first: e.Time, ranges: map[string]bool{}, asns: map[int64]bool{}, countries: map[string]bool{},
			cities: map[string]bool{}, devices: map[string]bool{}, browsers: map[string]bool{}, risky: map[string]bool{}}
		d.users[e.UserID] = p
	}
	trusted := e.Trusted // corporate egress is never counted for spray or failure reputation
	validated := e.CredentialsValidated()

	// Real-time: anonymous proxy or Tor exit.
	if validated && d.anon.Contains(e.IP) {
		dets = append(dets, signinDetection(d.tenant, TypeAnonymizedIP, LevelMedium, TimingRealtime, e, e.Time))
	}
	// Offline: malicious IP from threat intelligence or failure reputation.
	if d.threat.Contains(e.IP) {
		dets = append(dets, signinDetection(d.tenant, TypeMaliciousIP, LevelMedium, TimingOffline, e, now,
			kv{"riskReasons", "threatIntelligence"}))
	} else if validated && !trusted {
		if s := d.ips[e.IP]; s != nil && s.fails >= d.th.MaliciousFails && len(s.users) >= d.th.MaliciousUsers &&
			float64(s.fails) >= d.th.MaliciousRatio*float64(s.fails+s.succ) && !d.malDone[e.IP+"|"+e.UserID] {
			d.malDone[e.IP+"|"+e.UserID] = true
			dets = append(dets, signinDetection(d.tenant, TypeMaliciousIP, LevelMedium, TimingOffline, e, now,
				kv{"riskReasons", "highFailureRate"}, kv{"failedSignIns", s.fails}, kv{"failedUsers", len(s.users)}))
		}
	}
	// Offline: password spray, raised only on a later validated credential from the source.
	if validated {
		for _, src := range [2]string{e.IP, rng} {
			if till, ok := d.sprayTill[src]; ok && !e.Time.After(till) && !d.sprayDone[src+"|"+e.UserID] {
				d.sprayDone[src+"|"+e.UserID] = true
				dets = append(dets, signinDetection(d.tenant, TypePasswordSpray, LevelHigh, TimingOffline, e, now,
					kv{"riskReasons", "passwordSpray"}, kv{"spraySource", src}))
				break
			}
		}
	}
	// Offline: the user reported the MFA prompt as fraud.
	if e.FraudReported {
		dets = append(dets, signinDetection(d.tenant, TypeUserReported, LevelHigh, TimingOffline, e, now,
			kv{"riskReasons", "mfaFraudReported"}))
	}

	if d.first.IsZero() {
		d.first = e.Time
	}
	if e.Succeeded() {
		// Profile detectors need both the user's learning period and the tenant's warm-up
		// (which cities and countries the organization uses).
		learned := p.count > 0 && p.learned(e.Time, &d.th) && e.Time.Sub(d.first) >= d.th.TenantWarmup
		cityKey := e.Country + "|" + e.City
		// Offline: travel too fast between the last sign-in and this one, to a place neither
		// the user nor other users of the organization use (hops between places people of
		// the tenant work from are VPNs and multi-site users, not travel).
		if learned && e.HasGeo && p.last != nil && !p.cities[cityKey] && !d.orgCity(cityKey) {
			km := haversineKm(p.last.Lat, p.last.Lon, e.Lat, e.Lon)
			hours := math.Max(e.Time.Sub(p.last.Time).Hours(), 1.0/60)
			if km >= d.th.TravelMinKm && km/hours > d.th.TravelMaxKmh {
				dets = append(dets, signinDetection(d.tenant, TypeUnlikelyTravel, LevelMedium, TimingOffline, e, now,
					kv{"relatedEventTimeInUtc", p.last.Time.Format(time.RFC3339)},
					kv{"relatedUserAgent", p.last.UserAgent},
					kv{"relatedLocation", map[string]any{"clientCity": p.last.City, "clientCountry": p.last.Country,
						"latitude": p.last.Lat, "longitude": p.last.Lon}},
					kv{"distanceKm", math.Round(km)}, kv{"speedKmh", math.Round(km / hours)}))
			}
		}
		// Offline: a country neither the user nor anyone in the tenant signed in from.
		if learned && e.Country != "" && !p.countries[e.Country] && !d.countries[e.Country] {
			dets = append(dets, signinDetection(d.tenant, TypeNewCountry, LevelLow, TimingOffline, e, now,
				kv{"clientLocation", e.Country}))
		}
		// Real-time: IP range, network (or country), device and browser all new for the user,
		// from a network (ASN) other users of the organization do not sign in from.
		if learned && !p.ranges[rng] && (!p.asns[e.ASN] || !p.countries[e.Country]) && len(d.asnUsers[e.ASN]) < d.th.OrgPlaceUsers &&
			!p.devices[e.DeviceKey()] && !p.browsers[e.BrowserFamily()] {
			dets = append(dets, signinDetection(d.tenant, TypeUnfamiliarFeatures, LevelMedium, TimingRealtime, e, e.Time,
				kv{"riskReasons", "unfamiliarIP,unfamiliarASN,unfamiliarDevice,unfamiliarBrowser"}))
		}
		obsID := func(kind string) string { return detectionID(d.tenant, "obs:"+kind, e.ID) }
		if e.RiskPolicy && e.MFASucceeded {
			obs = append(obs, Observation{obsID(ObsRiskPolicyMFA), ObsRiskPolicyMFA, e.UserID, e.ID, rng, e.Time})
		} else if e.MFASucceeded && p.risky[rng] {
			obs = append(obs, Observation{obsID(ObsFamiliarMFA), ObsFamiliarMFA, e.UserID, e.ID, rng, e.Time})
		}
		if e.PasswordReset {
			obs = append(obs, Observation{obsID(ObsPasswordReset), ObsPasswordReset, e.UserID, e.ID, rng, e.Time})
		} else if e.PasswordChanged {
			obs = append(obs, Observation{obsID(ObsPasswordChange), ObsPasswordChange, e.UserID, e.ID, rng, e.Time})
		}
		// Every completed sign-in teaches the profile (as Entra's does): a detection is
		// raised once per novelty, not on every later sign-in of a multi-site user.
		{
			p.count++
			p.ranges[rng] = true
			p.asns[e.ASN] = true
			if e.Country != "" {
				p.countries[e.Country] = true
				d.countries[e.Country] = true
			}
			p.cities[cityKey] = true
			cu := d.cityUsers[cityKey]
			if cu == nil {
				cu = map[string]bool{}
				d.cityUsers[cityKey] = cu
			}
			if len(cu) < d.th.OrgPlaceUsers {
				cu[e.UserID] = true
			}
			au := d.asnUsers[e.ASN]
			if au == nil {
				au = map[string]bool{}
				d.asnUsers[e.ASN] = au
			}
			if len(au) < d.th.OrgPlaceUsers+1 && !au[e.UserID] {
				au[e.UserID] = true
			}
			p.devices[e.DeviceKey()] = true
			p.browsers[e.BrowserFamily()] = true
		}
		if len(dets) > 0 {
			p.risky[rng] = true
		}
		if e.HasGeo {
			p.last = e
		}
	}

	// Failure bookkeeping comes last so that a sign-in never counts against itself.
	if !trusted && !validated {
		if d.candidates == nil || d.candidates[e.IP] {
			s := d.ips[e.IP]
			if s == nil {
				s = &ipStats{users: map[string]bool{}}
				d.ips[e.IP] = s
			}
			s.fails++
			if len(s.users) < 4*d.th.MaliciousUsers {
				s.users[e.UserID] = true
			}
		}
		if e.ErrorCode == 50126 {
			for _, src := range [2]string{e.IP, rng} {
				d.noteSprayFailure(src, e)
			}
		}
	} else if s := d.ips[e.IP]; s != nil {
		s.succ++
	}
	return dets, obs
}

// orgCity reports a city other users of the organization sign in from.
func (d *Detector) orgCity(key string) bool {
	if d.orgCities != nil {
		return d.orgCities[key] >= d.th.OrgPlaceUsers
	}
	return len(d.cityUsers[key]) >= d.th.OrgPlaceUsers
}

func (d *Detector) noteSprayFailure(src string, e *Event) {
	hits := append(d.spray[src], sprayHit{e.Time, e.UserID})
	cut := 0
	for cut < len(hits) && e.Time.Sub(hits[cut].at) > d.th.SprayWindow {
		cut++
	}
	hits = hits[cut:]
	d.spray[src] = hits
	distinct := map[string]bool{}
	for _, h := range hits {
		distinct[h.user] = true
	}
	if len(distinct) >= d.th.SprayAccounts {
		d.sprayTill[src] = e.Time.Add(d.th.SprayFollow)
	}
}

// haversineKm is the great-circle distance between two coordinates.
func haversineKm(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0
	rad := math.Pi / 180
	dlat, dlon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}
