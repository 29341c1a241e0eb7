package gen

import (
	"math/rand/v2"
	"time"
)

// Generator emits one event per Next call. It is not safe for concurrent
// use; run several generators with different seeds for parallel streams.
type Generator struct {
	cfg Config
	r   *rand.Rand

	domain       string
	guestTenants []string
	passTenant   string // foreign tenant targeted by passthrough sign-ins
	tenantFrag   []byte // `"resourceTenantId":"…"` for the home tenant

	users, guests        []*user
	userZipf, guestZipf  *rand.Zipf
	offices              []uint16 // city indexes with a corporate office
	officeIPs            [][]ipAddr
	apps                 []clientApp
	appFrag              [][]byte // `"appId":…,"appDisplayName":…` per app
	appOwner             []string
	userApps, silentApps []int // app indexes by popularity rank
	userAppZipf          *rand.Zipf
	silentAppZipf        *rand.Zipf
	resFrag              [][]byte // resource members per firstPartyResources index
	sps, mis             []workload
	spZipf, miZipf       *rand.Zipf
	policies             []policy
	policyKinds          []policyKind
	hasSIF               bool

	kindCum [numKinds]float64 // cumulative flow-kind probabilities

	sched     schedule
	nextFlowT int64
	heap      pendingHeap
	freeList  []*pending
	seq       uint64
	emitted   int
	tf        timeFormatter

	stats   counters
	windows []FlagWindow
}

// New prepares a generator. It builds the tenant (apps, workloads, policies)
// eagerly and users lazily, so construction is cheap for any size.
func New(cfg Config) *Generator {
	cfg = cfg.withDefaults()
	g := &Generator{cfg: cfg, domain: "contoso.com"}
	g.r = rand.New(rand.NewPCG(cfg.Seed, 0x5eed0f5e9a11))
	tr := entityRand(cfg.Seed, classTenant, 0)

	for range guestDomains {
		g.guestTenants = append(g.guestTenants, newGUID(tr).String())
	}
	g.passTenant = newGUID(tr).String()
	g.tenantFrag = append(append([]byte(`"resourceTenantId":"`), cfg.Tenant...), '"')

	// Offices: a few cities with trusted corporate egress addresses.
	perm := tr.Perm(len(cities))
	for _, ci := range perm[:4] {
		g.offices = append(g.offices, uint16(ci))
		ips := []ipAddr{randomIP(tr, cities[ci].country, uint16(ci)), randomIP(tr, cities[ci].country, uint16(ci))}
		for k := range ips {
			ips[k].trusted = true
		}
		g.officeIPs = append(g.officeIPs, ips)
	}

	// Apps: first-party in popularity order, then line-of-business apps,
	// which double as service principals.
	g.apps = append(g.apps, firstPartyApps...)
	nFirst := len(g.apps)
	g.buildWorkloads(tr, cfg.Apps-nFirst)
	for i, a := range g.apps {
		b := append([]byte(`"appId":"`), a.id...)
		b = append(b, `","appDisplayName":`...)
		b = appendStr(b, a.name)
		g.appFrag = append(g.appFrag, b)
		owner := microsoftTenant
		if i >= nFirst {
			owner = cfg.Tenant
		}
		g.appOwner = append(g.appOwner, owner)
		if a.browser || a.richOnly {
			g.userApps = append(g.userApps, i)
		}
		if a.nonInterOK {
			g.silentApps = append(g.silentApps, i)
		}
	}
	for _, res := range firstPartyResources {
		b := append([]byte(`"resourceDisplayName":`), appendStr(nil, res.name)...)
		b = append(b, `,"resourceId":"`...)
		b = append(b, res.id...)
		b = append(b, `","resourceServicePrincipalId":"`...)
		b = appendGUID(b, newGUID(tr))
		b = append(b, '"')
		g.resFrag = append(g.resFrag, b)
	}

	// Conditional Access: four baseline policies plus 0–2 optional ones.
	g.policyKinds = []policyKind{polMFAAdmins, polBlockLegacy, polMFAAll, polBlockCountries}
	optional := []policyKind{polCompliant, polSignInFrequency, polMFAGuests, polAzureMgmt, polAppProtection}
	tr.Shuffle(len(optional), func(i, j int) { optional[i], optional[j] = optional[j], optional[i] })
	g.policyKinds = append(g.policyKinds, optional[:tr.IntN(3)]...)
	for _, k := range g.policyKinds {
		g.policies = append(g.policies, buildPolicy(k, newGUID(tr)))
		if k == polSignInFrequency {
			g.hasSIF = true
		}
	}

	g.users = make([]*user, cfg.Users)
	g.guests = make([]*user, max(10, cfg.Users/30))
	g.userZipf = rand.NewZipf(g.r, 1.1, float64(max(1, cfg.Users/50)), uint64(cfg.Users-1))
	g.guestZipf = rand.NewZipf(g.r, 1.1, 2, uint64(len(g.guests)-1))
	g.userAppZipf = rand.NewZipf(g.r, 1.3, 2, uint64(len(g.userApps)-1))
	g.silentAppZipf = rand.NewZipf(g.r, 1.3, 2, uint64(len(g.silentApps)-1))
	g.spZipf = rand.NewZipf(g.r, 1.2, 1, uint64(len(g.sps)-1))
	g.miZipf = rand.NewZipf(g.r, 1.2, 1, uint64(len(g.mis)-1))

	meanLen := g.initKinds()
	flows := float64(cfg.Events) / meanLen
	g.sched = newSchedule(cfg.Start.Unix(), scheduleEnd(cfg.Start.Unix(), cfg.End.Unix(), flows), flows)
	if cfg.Events > 0 { // with no events the arrival rate is 0 and next would never return
		g.nextFlowT = g.sched.next(g.r)
	}
	return g
}

// Config returns the effective configuration after defaults.
func (g *Generator) Config() Config { return g.cfg }

// Next appends the next event and a '\n' to dst and returns the extended
// slice. ok is false once Config.Events events have been produced.
func (g *Generator) Next(dst []byte) (line []byte, ok bool) {
	if g.emitted >= g.cfg.Events {
		return dst, false
	}
	// A pending event may be emitted only when no flow that starts at or
	// before its time is still ungenerated; flows never produce events
	// before their own start, so this keeps output sorted and guarantees
	// every flagging window covering the event is already registered.
	for g.heap.len() == 0 || g.heap.top().t >= g.nextFlowT {
		g.genFlow(g.nextFlowT)
		g.nextFlowT = g.sched.next(g.r)
	}
	p := g.heap.pop()
	if end := g.cfg.End.Unix(); p.t > end {
		p.t = end // a straggler past the schedule's margin: never an event in the future
	}
	n := len(dst)
	dst = g.render(dst, p)
	dst = append(dst, '\n')
	g.stats.bytes += int64(len(dst) - n)
	g.release(p)
	g.emitted++
	return dst, true
}

func (g *Generator) user(i int) *user {
	if g.users[i] == nil {
		g.users[i] = g.makeUser(i, false)
		u := g.users[i]
		// Most members work near one of the offices.
		r := entityRand(g.cfg.Seed, classUser+100, uint64(i))
		if r.IntN(4) != 0 {
			u.cities[0] = g.offices[r.IntN(len(g.offices))]
			u.home[0] = randomIP(r, cities[u.cities[0]].country, u.cities[0])
		}
	}
	return g.users[i]
}

func (g *Generator) guest(i int) *user {
	if g.guests[i] == nil {
		g.guests[i] = g.makeUser(i, true)
	}
	return g.guests[i]
}

// FlagWindow is one "flag for review" period: every sign-in of the user from
// the same device and browser with Start <= createdDateTime < End is
// flagged, and no other sign-in is.
type FlagWindow struct {
	UserID            string
	UserPrincipalName string
	DeviceID          string // "" for unregistered devices
	Browser           string // deviceDetail.browser
	Start, End        time.Time
}

// Windows returns the flagging windows opened so far (all of them once the
// generator is exhausted), in the order they were opened.
func (g *Generator) Windows() []FlagWindow { return append([]FlagWindow(nil), g.windows...) }

// window is the per-user, hot-path form of FlagWindow.
type window struct {
	dev        uint8
	start, end int64
}
