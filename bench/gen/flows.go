package gen

import "math/rand/v2"

// okAuto marks a success step whose outcome and authentication pattern are
// resolved from the session state and Conditional Access context.
const okAuto = 255

type step struct {
	out      uint8
	auth     authPattern
	gap      [2]int32 // seconds after the previous step: [min, max)
	authAuto bool     // 50140 interrupts take the auth pattern of a success
}

// variant is one interactive sign-in flow shape.
type variant struct {
	weight  float64
	steps   []step
	needMFA bool // forces an off-network context so CA demands MFA
	foreign bool
	legacy  bool
	pass    bool // passthrough sign-in to a foreign tenant
}

var variants = []variant{
	{weight: 100, steps: []step{{out: okAuto}}},
	{weight: 8, needMFA: true, steps: []step{{out: e50074, auth: apPwOKMFAPending}, {out: okMFADone, auth: apMFADone, gap: [2]int32{8, 45}}}},
	{weight: 3, needMFA: true, steps: []step{{out: e50074, auth: apPwOKMFAPending}, {out: e50140, auth: apMFADone, gap: [2]int32{8, 45}}, {out: okMFADone, auth: apMFADone, gap: [2]int32{2, 8}}}},
	{weight: 6, steps: []step{{out: e50140, authAuto: true}, {out: okAuto, gap: [2]int32{2, 10}}}},
	{weight: 10, steps: []step{{out: e50126, auth: apPwFail}, {out: okAuto, gap: [2]int32{10, 90}}}},
	{weight: 5, steps: []step{{out: e50126, auth: apPwFail}}},
	{weight: 0.6, steps: []step{{out: e50126, auth: apPwFail}, {out: e50126, auth: apPwFail, gap: [2]int32{3, 20}}, {out: e50126, auth: apPwFail, gap: [2]int32{3, 20}}, {out: e50053, auth: apPwFail, gap: [2]int32{3, 20}}}},
	{weight: 2, needMFA: true, steps: []step{{out: e50074, auth: apPwOKMFAPending}, {out: e500121, auth: apMFAFail, gap: [2]int32{30, 120}}}},
	{weight: 1.5, needMFA: true, steps: []step{{out: e50076, auth: apPwOKMFAPending}}},
	{weight: 1.2, foreign: true, steps: []step{{out: e53003, auth: apPwOK}}},
	{weight: 0.8, legacy: true, steps: []step{{out: e53003, auth: apPwOK}}},
	{weight: 0.8, needMFA: true, steps: []step{{out: e50072, auth: apPwOKMFAPending}, {out: okMFADone, auth: apMFADone, gap: [2]int32{60, 300}}}},
	{weight: 0.5, steps: []step{{out: e50097, auth: apPwOK}}},
	{weight: 0.5, steps: []step{{out: e50105, auth: apPwOK}}},
	{weight: 0.4, steps: []step{{out: e65001, auth: apPwOK}}},
	{weight: 1.5, steps: []step{{out: e50058, auth: apNone}, {out: okAuto, gap: [2]int32{1, 6}}}},
	{weight: 0.5, steps: []step{{out: e81010, auth: apNone}, {out: okAuto, gap: [2]int32{1, 6}}}},
	{weight: 0.3, legacy: true, steps: []step{{out: e530035, auth: apPwOK}}},
	{weight: 0.2, steps: []step{{out: e700016, auth: apNone}}},
	{weight: 0.4, pass: true, steps: []step{{out: e16003, auth: apSSO}}},
}

var variantCum = func() []float64 {
	var total float64
	for _, v := range variants {
		total += v.weight
	}
	cum := make([]float64, len(variants))
	acc := 0.0
	for i, v := range variants {
		acc += v.weight / total
		cum[i] = acc
	}
	return cum
}()

// burstCum is the distribution of non-interactive burst lengths 1..6.
var burstCum = [...]float64{0.40, 0.65, 0.80, 0.90, 0.96, 1.0}

// Silent (non-interactive) failures: outcome and cumulative probability
// per event. About 4.5% of silent refreshes fail.
var silentFailures = [...]struct {
	out uint8
	cum float64
}{{e70044, 0.012}, {e50058, 0.022}, {e50076, 0.030}, {e700082, 0.036}, {e50173, 0.040}, {e50097, 0.045}}

// Tuning constants, measured against the target mix (see tests).
const (
	guestShare     = 0.031 // share of user flows by B2B guests
	flagProb       = 0.013 // chance a failed browser flow leads to flagging
	riskProb       = 0.011 // share of user events with sign-in risk
	spFailProb     = 0.05
	miFailProb     = 0.004
	sessionLength  = 10 * 3600
	officeIPChance = 0.5
)

// initKinds sets flow-kind probabilities so that event shares (not flow
// shares) match kindShares, and returns the mean events per flow.
func (g *Generator) initKinds() float64 {
	var lens [numKinds]float64
	for i, v := range variants {
		w := variants[i].weight
		lens[kindInteractive] += w * float64(len(v.steps))
	}
	var total float64
	for _, v := range variants {
		total += v.weight
	}
	lens[kindInteractive] /= total
	prev := 0.0
	for i, c := range burstCum {
		lens[kindNonInteractive] += float64(i+1) * (c - prev)
		prev = c
	}
	lens[kindServicePrincipal], lens[kindManagedIdentity] = 1, 1
	var sum float64
	for k := range lens {
		sum += kindShares[k] / lens[k]
	}
	acc := 0.0
	for k := range lens {
		acc += kindShares[k] / lens[k] / sum
		g.kindCum[k] = acc
	}
	return 1 / sum
}

func pickCum(r *rand.Rand, cum []float64) int {
	x := r.Float64()
	for i, c := range cum {
		if x < c {
			return i
		}
	}
	return len(cum) - 1
}

func gapIn(r *rand.Rand, g [2]int32) int64 {
	if g[1] <= g[0] {
		return int64(g[0])
	}
	return int64(g[0] + r.Int32N(g[1]-g[0]))
}

func (g *Generator) genFlow(t int64) {
	g.stats.flows++
	switch pickCum(g.r, g.kindCum[:]) {
	case int(kindInteractive):
		g.interactiveFlow(t)
	case int(kindNonInteractive):
		g.silentFlow(t)
	case int(kindServicePrincipal):
		g.workloadFlow(t, false)
	default:
		g.workloadFlow(t, true)
	}
}

// pickUser returns a member or, with guestShare, a B2B guest.
func (g *Generator) pickUser() *user {
	if g.r.Float64() < guestShare {
		return g.guest(int(g.guestZipf.Uint64()))
	}
	return g.user(int(g.userZipf.Uint64()))
}

// pickIP chooses office (trusted) or home egress for a user flow.
func (g *Generator) pickIP(u *user, allowOffice bool) *ipAddr {
	if allowOffice && !u.guest {
		for oi, c := range g.offices {
			if c == u.cities[0] && g.r.Float64() < officeIPChance {
				return &g.officeIPs[oi][g.r.IntN(len(g.officeIPs[oi]))]
			}
		}
	}
	if g.r.IntN(10) == 0 && len(u.home) > 1 {
		return &u.home[g.r.IntN(len(u.home))]
	}
	return &u.home[0]
}

// session returns the user's SSO session id at t, starting a new session
// when the previous one expired; alive reports whether it already existed.
func (g *Generator) session(u *user, t int64) (id guid, alive bool) {
	if u.sessionEnd > t && !u.session.isZero() {
		return u.session, true
	}
	u.session = newGUID(g.r)
	u.sessionEnd = t + sessionLength + int64(g.r.IntN(sessionLength))
	return u.session, false
}

func (g *Generator) pickDevice(u *user) uint8 {
	// The first device is the primary one.
	if len(u.devices) == 1 || g.r.IntN(10) < 6 {
		return 0
	}
	return uint8(g.r.IntN(len(u.devices)))
}

func (g *Generator) baseCA(u *user, ip *ipAddr, dev *device, res int) caContext {
	return caContext{
		admin:     u.admin,
		guest:     u.guest,
		trusted:   ip.trusted,
		azureMgmt: firstPartyResources[res].azureMgmt,
		mobile:    dev.os == osIOS || dev.os == osAndroid,
		compliant: dev.compliant,
	}
}

func (g *Generator) interactiveFlow(t int64) {
	r := g.r
	v := &variants[pickCum(r, variantCum)]
	u := g.pickUser()
	if v.pass && u.guest {
		u = g.user(int(g.userZipf.Uint64()))
	}
	devIdx := g.pickDevice(u)
	dev := &u.devices[devIdx]
	appIdx := g.userApps[g.userAppZipf.Uint64()]
	app := &g.apps[appIdx]
	client := clientRich
	if app.browser && (!app.richOnly) {
		client = clientBrowser
	}
	if v.legacy {
		client = clientKind(int(clientIMAP) + r.IntN(3))
		appIdx = 1 // Office 365 Exchange Online
		app = &g.apps[appIdx]
	}
	res := app.resources[r.IntN(len(app.resources))]
	ip := g.pickIP(u, !v.needMFA && !v.foreign)
	if v.foreign {
		fc := r.IntN(len(foreignCities))
		fip := randomIP(r, foreignCities[fc].country, uint16(fc))
		ip = &fip
	}
	ca := g.baseCA(u, ip, dev, res)
	ca.legacy = client >= clientIMAP
	ca.foreign = v.foreign
	mfaReq := mfaRequired(g.policyKinds, &ca)
	sess, alive := g.session(u, t)
	corr := newGUID(r)
	var first guid
	cross := crossNone
	if u.guest {
		cross = crossB2B
	} else if v.pass {
		cross = crossPassthrough
	}
	proto := uint8(0)
	if client == clientRich && r.IntN(50) == 0 {
		proto = 1 // device code flow
	}

	firstFail := int64(-1)
	var failStep *step
	tt := t
	for i := range v.steps {
		s := &v.steps[i]
		if i > 0 {
			tt += gapIn(r, s.gap)
		}
		p := g.alloc()
		p.t, p.kind, p.client, p.cross, p.dev, p.res, p.app = tt, kindInteractive, client, cross, devIdx, uint8(res), uint16(appIdx)
		p.u, p.ip, p.sess, p.corr, p.proto = u, ip, sess, corr, proto
		p.foreign = v.foreign
		p.id = newGUID(r)
		if i == 0 {
			first = p.id
		}
		p.orig = first
		p.outcome, p.auth = s.out, s.auth
		if s.out == okAuto || s.authAuto {
			o, a := resolveSuccess(mfaReq, alive && i == 0)
			if s.out == okAuto {
				p.outcome = o
			}
			p.auth = a
		}
		p.mfaReq = mfaReq && p.auth != apPwFail
		p.kmsi = i > 0 && v.steps[i-1].out == e50140
		p.ca = ca
		o := &outcomes[p.outcome]
		p.ca.evaluated = o.code == 0 || p.outcome == e50140 || o.mfaFailure || o.caBlock
		p.ca.mfaFailed = o.mfaFailure
		p.ca.blocked = o.caBlock
		p.procMs = int32(60 + r.ExpFloat64()*180)
		g.maybeRisk(p)
		if o.code != 0 && o.code != 50140 && firstFail < 0 {
			firstFail = tt
			failStep = s
		}
		g.heap.push(p)
	}

	if firstFail >= 0 && client == clientBrowser && r.Float64() < flagProb {
		g.openWindow(u, devIdx, appIdx, res, ip, firstFail, failStep, mfaReq, cross, v.foreign)
	}
}

// resolveSuccess picks the success outcome and authentication pattern that
// match whether MFA is required and whether an SSO session already exists.
func resolveSuccess(mfaReq, sso bool) (uint8, authPattern) {
	switch {
	case mfaReq && sso:
		return okMFAClaim, apSSOMFA
	case mfaReq:
		return okMFADone, apMFADone
	case sso:
		return okPlain, apSSO
	default:
		return okPlain, apPwOK
	}
}

// openWindow models a user enabling "flag for review" on the error page a
// few seconds after the failure, then reproducing the error in a new window
// of the same browser, and often succeeding afterwards.
func (g *Generator) openWindow(u *user, devIdx uint8, appIdx, res int, ip *ipAddr, failT int64, fail *step, mfaReq bool, cross crossType, foreign bool) {
	r := g.r
	start := failT + 5 + int64(r.IntN(40))
	end := start + 20*60
	u.windows = append(u.windows, window{dev: devIdx, start: start, end: end})
	dev := &u.devices[devIdx]
	g.windows = append(g.windows, FlagWindow{
		UserID: u.id, UserPrincipalName: u.upn, DeviceID: dev.id, Browser: dev.browser,
		Start: unixTime(start), End: unixTime(end),
	})

	corr := newGUID(r)
	sess, _ := g.session(u, start)
	ca := g.baseCA(u, ip, dev, res)
	ca.foreign = foreign
	ca.legacy = false
	type rep struct {
		out  uint8
		auth authPattern
	}
	steps := []rep{{fail.out, fail.auth}}
	if r.IntN(3) == 0 {
		steps = append(steps, rep{fail.out, fail.auth})
	}
	if fail.out != e53003 && r.IntN(10) < 6 {
		o, a := resolveSuccess(mfaReq, true)
		steps = append(steps, rep{o, a})
	}
	tt := start + 20 + int64(r.IntN(150))
	var first guid
	for i, s := range steps {
		if i > 0 {
			tt += 15 + int64(r.IntN(240))
		}
		if tt >= end {
			break
		}
		p := g.alloc()
		p.t, p.kind, p.client, p.cross, p.dev, p.res, p.app = tt, kindInteractive, clientBrowser, cross, devIdx, uint8(res), uint16(appIdx)
		p.u, p.ip, p.sess, p.corr = u, ip, sess, corr
		p.foreign = ca.foreign
		p.id = newGUID(r)
		if i == 0 {
			first = p.id
		}
		p.orig = first
		p.outcome, p.auth = s.out, s.auth
		p.mfaReq = mfaReq && p.auth != apPwFail
		p.ca = ca
		o := &outcomes[p.outcome]
		p.ca.evaluated = o.code == 0 || o.mfaFailure || o.caBlock
		p.ca.mfaFailed = o.mfaFailure
		p.ca.blocked = o.caBlock
		p.procMs = int32(60 + r.ExpFloat64()*180)
		g.heap.push(p)
	}
}

// silentFlow is a burst of refresh-token redemptions by one client app,
// one per resource, sharing a correlationId.
func (g *Generator) silentFlow(t int64) {
	r := g.r
	u := g.pickUser()
	devIdx := g.pickDevice(u)
	dev := &u.devices[devIdx]
	appIdx := g.silentApps[g.silentAppZipf.Uint64()]
	app := &g.apps[appIdx]
	client := clientRich
	if app.browser && !app.richOnly {
		client = clientBrowser
	}
	ip := g.pickIP(u, true)
	sess, _ := g.session(u, t)
	corr := newGUID(r)
	cross := crossNone
	if u.guest {
		cross = crossB2B
	}
	n := pickCum(r, burstCum[:]) + 1
	res0 := r.IntN(len(app.resources))
	var first guid
	tt := t
	for i := 0; i < n; i++ {
		if i > 0 {
			tt += int64(r.IntN(4))
		}
		res := app.resources[(res0+i)%len(app.resources)]
		ca := g.baseCA(u, ip, dev, res)
		mfaReq := mfaRequired(g.policyKinds, &ca)
		p := g.alloc()
		p.t, p.kind, p.client, p.cross, p.dev, p.res, p.app = tt, kindNonInteractive, client, cross, devIdx, uint8(res), uint16(appIdx)
		p.u, p.ip, p.sess, p.corr = u, ip, sess, corr
		p.id = newGUID(r)
		if i == 0 {
			first = p.id
		}
		p.orig = first
		p.outcome = okPlain
		p.auth = apSSO
		if mfaReq {
			p.outcome, p.auth = okMFAClaim, apSSOMFA
		}
		x := r.Float64()
		for _, f := range silentFailures {
			if x < f.cum {
				p.outcome = f.out
				if f.out == e50076 && !mfaReq {
					p.outcome = e70044
				}
				break
			}
		}
		o := &outcomes[p.outcome]
		p.mfaReq = mfaReq
		p.ca = ca
		p.ca.evaluated = o.code == 0 || o.mfaFailure
		p.ca.mfaFailed = o.mfaFailure
		p.procMs = int32(15 + r.ExpFloat64()*70)
		g.maybeRisk(p)
		g.heap.push(p)
	}
}

func (g *Generator) workloadFlow(t int64, mi bool) {
	r := g.r
	p := g.alloc()
	var w *workload
	if mi {
		w = &g.mis[g.miZipf.Uint64()]
		p.kind = kindManagedIdentity
		p.outcome = okPlain
		if r.Float64() < miFailProb {
			p.outcome = e500011
		}
	} else {
		w = &g.sps[g.spZipf.Uint64()]
		p.kind = kindServicePrincipal
		p.outcome = okPlain
		if r.Float64() < spFailProb {
			switch x := r.IntN(20); {
			case x < 11:
				p.outcome = e7000215
			case x < 15:
				p.outcome = e7000222
			default:
				p.outcome = e700016
			}
		}
	}
	p.t, p.wl, p.ip = t, w, &w.ip
	p.res = uint8(w.resources[r.IntN(len(w.resources))])
	p.id = newGUID(r)
	p.corr = newGUID(r)
	p.orig = p.id
	p.auth = apNone
	p.procMs = int32(8 + r.ExpFloat64()*45)
	g.heap.push(p)
}

var riskTypes = []string{"unfamiliarFeatures", "anonymizedIPAddress", "unlikelyTravel", "maliciousIPAddress", "suspiciousIPAddress"}

func (g *Generator) maybeRisk(p *pending) {
	if g.r.Float64() >= riskProb {
		return
	}
	switch x := g.r.IntN(20); {
	case x < 10:
		p.risk = 1
	case x < 17:
		p.risk = 2
	default:
		p.risk = 3
	}
	p.riskType = uint8(g.r.IntN(len(riskTypes)))
}
