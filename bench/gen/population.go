package gen

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// Operating systems and browsers. A device's user agents are derived from
// these so that deviceDetail and userAgent always agree.
type osKind uint8

const (
	osWindows osKind = iota
	osMacOS
	osIOS
	osAndroid
	osLinux
)

var osNames = [...]string{"Windows10", "MacOs", "Ios", "Android", "Linux"}

var uaPlatform = [...]string{
	"Windows NT 10.0; Win64; x64",
	"Macintosh; Intel Mac OS X 10_15_7",
	"iPhone; CPU iPhone OS 18_1 like Mac OS X",
	"Linux; Android 14; SM-S918B",
	"X11; Linux x86_64",
}

type device struct {
	id          string // "" for unregistered personal devices
	displayName string
	os          osKind
	browser     string // deviceDetail.browser for browser sign-ins
	rich        string // deviceDetail.browser for rich-client sign-ins
	trustType   string
	compliant   bool
	managed     bool
	ua          string // browser user agent
	richUA      string // native client user agent

	detailBrowser, detailRich []byte // pre-rendered deviceDetail members
	uaFrag, richUAFrag        []byte // pre-rendered `,"userAgent":…` members
}

func (d *device) render() {
	d.detailBrowser = renderDeviceDetail(d, d.browser)
	d.detailRich = renderDeviceDetail(d, d.rich)
	d.uaFrag = appendStr([]byte(`,"userAgent":`), d.ua)
	d.richUAFrag = appendStr([]byte(`,"userAgent":`), d.richUA)
}

// ipAddr is one source address with the network facts Graph reports for it.
type ipAddr struct {
	s       string
	asn     int32
	city    uint16
	trusted bool // corporate egress, inside the trusted named location
}

type user struct {
	id, upn, display string
	guest            bool
	admin            bool
	homeTenant       string
	mfa              uint8 // preferred second factor, index into mfaMethods
	cities           []uint16
	devices          []device
	home             []ipAddr
	frag             []byte // pre-rendered user identity members

	// mutable per-run state
	session    guid
	sessionEnd int64
	windows    []window // open flagging windows, oldest first
}

// mfaMethods pairs the authenticationDetails method name with the name used
// in authenticationMethodsUsed.
var mfaMethods = []struct{ detail, used string }{
	{"Mobile app notification", "Authenticator App"},
	{"Mobile app notification", "Authenticator App"},
	{"Text message", "SMS"},
	{"OATH verification code", "App Verification code"},
	{"FIDO2 security key", "FIDO"},
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func newGUID(r *rand.Rand) guid { return guidFrom(r.Uint64(), r.Uint64()) }

// entityRand derives an independent PCG stream for entity i of a class, so
// an entity is the same whichever event first needs it.
func entityRand(seed uint64, class, i uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed^0x9e3779b97f4a7c15*(class+1), i*0xbf58476d1ce4e5b9+class))
}

const (
	classUser = iota + 1
	classGuest
	classTenant
	classLOB
)

func (g *Generator) makeUser(i int, guest bool) *user {
	class := uint64(classUser)
	if guest {
		class = classGuest
	}
	r := entityRand(g.cfg.Seed, class, uint64(i))
	first, last := pick(r, firstNames), pick(r, lastNames)
	u := &user{id: newGUID(r).String(), guest: guest}
	local := strings.ToLower(strings.ReplaceAll(first+"."+last, "'", ""))
	if i >= len(firstNames)*len(lastNames)/4 || r.IntN(8) == 0 {
		local += strconv.Itoa(i % 1000)
	}
	if guest {
		d := guestDomains[i%len(guestDomains)]
		u.upn = local + "@" + d
		u.homeTenant = g.guestTenants[i%len(guestDomains)]
	} else {
		u.upn = local + "@" + g.domain
		u.homeTenant = g.cfg.Tenant
		u.admin = r.IntN(25) == 0
	}
	u.display = first + " " + last
	u.mfa = uint8(r.IntN(len(mfaMethods)))

	nc := 1 + r.IntN(3)
	if r.IntN(2) == 0 {
		nc = 1
	}
	base := r.IntN(len(cities))
	if guest {
		base = (i*7 + 3) % len(cities)
	}
	for c := 0; c < nc; c++ {
		ci := base
		if c > 0 {
			ci = r.IntN(len(cities))
		}
		u.cities = append(u.cities, uint16(ci))
	}
	nd := 1 + r.IntN(3)
	for d := 0; d < nd; d++ {
		u.devices = append(u.devices, makeDevice(r, first, d, guest))
	}
	// Two unregistered devices with the same browser would be one "client"
	// for flagging purposes; make the pair unique per user.
	for a := 1; a < len(u.devices); a++ {
		for b := 0; b < a; b++ {
			if u.devices[a].id == u.devices[b].id && u.devices[a].browser == u.devices[b].browser {
				u.devices[a].browser += ".1"
				u.devices[a].ua += " OPR/115.0.0.0"
				u.devices[a].render()
			}
		}
	}
	for _, ci := range u.cities {
		n := 1 + r.IntN(2)
		for k := 0; k < n; k++ {
			u.home = append(u.home, randomIP(r, cities[ci].country, uint16(ci)))
		}
	}

	b := append([]byte(nil), `"userDisplayName":`...)
	b = appendStr(b, u.display)
	b = append(b, `,"userPrincipalName":`...)
	b = appendStr(b, u.upn)
	b = append(b, `,"userId":"`...)
	b = append(b, u.id...)
	b = append(b, '"')
	u.frag = b
	return u
}

var mobileModel = [...]string{osIOS: "iPhone", osAndroid: "Galaxy S23", osLinux: "Ubuntu"}

var browserVersions = []struct{ name, ver, token string }{
	{"Edge", "131.0.0", "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"},
	{"Chrome", "131.0.0", "Chrome/131.0.0.0 Safari/537.36"},
	{"Chrome", "130.0.0", "Chrome/130.0.0.0 Safari/537.36"},
	{"Firefox", "133.0", "Gecko/20100101 Firefox/133.0"},
	{"Safari", "18.1", "Version/18.1 Safari/605.1.15"},
	{"Mobile Safari", "18.1", "Version/18.1 Mobile/15E148 Safari/604.1"},
}

func makeDevice(r *rand.Rand, owner string, n int, guest bool) device {
	var d device
	switch x := r.IntN(100); {
	case n == 0 && x < 70 || n > 0 && x < 30:
		d.os = osWindows
	case x < 80:
		d.os = osMacOS
	case x < 90:
		d.os = osIOS
	case x < 98:
		d.os = osAndroid
	default:
		d.os = osLinux
	}
	var bv int
	switch d.os {
	case osWindows:
		bv = []int{0, 0, 0, 1, 2, 3}[r.IntN(6)]
	case osMacOS:
		bv = []int{4, 4, 1, 0, 3}[r.IntN(5)]
	case osIOS:
		bv = 5
	case osAndroid:
		bv = 1
	default:
		bv = []int{1, 3}[r.IntN(2)]
	}
	b := browserVersions[bv]
	d.browser = b.name + " " + b.ver
	plat := uaPlatform[d.os]
	if b.name == "Firefox" {
		d.ua = "Mozilla/5.0 (" + plat + "; rv:133.0) " + b.token
	} else if b.name == "Safari" || b.name == "Mobile Safari" {
		d.ua = "Mozilla/5.0 (" + plat + ") AppleWebKit/605.1.15 (KHTML, like Gecko) " + b.token
	} else {
		d.ua = "Mozilla/5.0 (" + plat + ") AppleWebKit/537.36 (KHTML, like Gecko) " + b.token
	}
	switch d.os {
	case osWindows:
		d.rich = "Rich Client 5.2.6.0"
		d.richUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; WebView/3.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.26100"
	case osMacOS:
		d.rich = "Rich Client 1.1.26"
		d.richUA = "Microsoft Office/16.0 (Macintosh; Mac OS X 15.1; Microsoft Outlook 16.91.24111020; Pro)"
	case osIOS:
		d.rich = "Rich Client 1.7.10"
		d.richUA = "com.microsoft.skype.teams/6.24.1 (iOS 18.1; iPhone15,3)"
	case osAndroid:
		d.rich = "Rich Client 5.0.2"
		d.richUA = "Dalvik/2.1.0 (Linux; U; Android 14; SM-S918B Build/UP1A.231005.007)"
	default:
		d.rich = "Rich Client 1.61.0"
		d.richUA = "azsdk-python-identity/1.19.0 Python/3.12.7 (Linux-6.8.0-x86_64-with-glibc2.39)"
	}
	registered := !guest && (n == 0 || r.IntN(2) == 0)
	if registered {
		d.id = newGUID(r).String()
		switch d.os {
		case osWindows:
			d.displayName = "CONTOSO-" + strings.ToUpper(owner[:min(4, len(owner))]) + strconv.Itoa(100+r.IntN(900))
			if r.IntN(3) == 0 {
				d.trustType = "Hybrid Azure AD joined"
			} else {
				d.trustType = "Azure AD joined"
			}
			d.managed = true
			d.compliant = r.IntN(10) != 0
		case osMacOS:
			d.displayName = owner + "'s MacBook Pro"
			d.trustType = "Azure AD registered"
			d.managed = r.IntN(2) == 0
			d.compliant = d.managed
		default:
			d.displayName = owner + "'s " + mobileModel[d.os]
			d.trustType = "Azure AD registered"
			d.managed = r.IntN(3) == 0
			d.compliant = d.managed
		}
	}
	d.render()
	return d
}

// randomIP draws an address from a residential ISP of country.
func randomIP(r *rand.Rand, country string, ci uint16) ipAddr {
	cands := ispsByCountry[country]
	p := isps[cands[r.IntN(len(cands))]]
	if r.IntN(100) < 15 {
		s := p.v6 + strconv.FormatUint(uint64(r.IntN(0x10000)), 16) + ":" + strconv.FormatUint(uint64(r.IntN(0x10000)), 16) +
			":" + strconv.FormatUint(uint64(r.IntN(0x10000)), 16) + ":" + strconv.FormatUint(uint64(1+r.IntN(0xfffe)), 16)
		return ipAddr{s: s, asn: p.asn, city: ci}
	}
	s := strconv.Itoa(int(p.v4[0])) + "." + strconv.Itoa(int(p.v4[1])+r.IntN(32)) + "." + strconv.Itoa(r.IntN(256)) + "." + strconv.Itoa(1+r.IntN(254))
	return ipAddr{s: s, asn: p.asn, city: ci}
}

// Service principals and managed identities (workload identities).
type workload struct {
	name, appID, spID string
	mi                bool
	msiType           string
	azureResourceID   string
	credType          string // clientCredentialType
	keyID, thumbprint string
	ficID             string
	resources         []int
	ip                ipAddr
}

var azureRegions = []struct {
	city uint16
	v4   string
}{{0, "20.190."}, {2, "40.117."}, {10, "51.140."}, {17, "20.61."}, {25, "20.195."}}

func (g *Generator) buildWorkloads(r *rand.Rand, nLOB int) {
	subs := []guid{newGUID(r), newGUID(r)}
	for i := 0; i < nLOB; i++ {
		w1 := lobWords1[(i*5+r.IntN(3))%len(lobWords1)]
		w2 := lobWords2[r.IntN(len(lobWords2))]
		name := "Contoso " + w1 + " " + w2
		if i >= len(lobWords1) {
			name += " " + strconv.Itoa(i/len(lobWords1)+1)
		}
		app := clientApp{name: name, id: newGUID(r).String(), resources: []int{resGraph}, browser: true, nonInterOK: true}
		if r.IntN(3) == 0 {
			app.resources = []int{resGraph, resSharePoint}
		}
		g.apps = append(g.apps, app)

		reg := azureRegions[r.IntN(len(azureRegions))]
		ip := ipAddr{s: reg.v4 + strconv.Itoa(r.IntN(256)) + "." + strconv.Itoa(1+r.IntN(254)), asn: 8075, city: reg.city}
		w := workload{name: name, appID: app.id, spID: newGUID(r).String(), resources: []int{resGraph, resKeyVault, resSharePoint}[:1+r.IntN(3)], ip: ip}
		switch r.IntN(10) {
		case 0, 1, 2, 3, 4:
			w.credType = "clientSecret"
			w.keyID = newGUID(r).String()
		case 5, 6, 7:
			w.credType = "certificate"
			w.keyID = newGUID(r).String()
			tb := newGUID(r)
			w.thumbprint = strings.ToUpper(hexString(tb[:]) + hexString(tb[:4]))
		case 8:
			w.credType = "clientAssertion"
			w.keyID = newGUID(r).String()
		default:
			w.credType = "federatedIdentityCredential"
			w.ficID = newGUID(r).String()
		}
		g.sps = append(g.sps, w)

		// Roughly half as many managed identities as LOB apps.
		if i%2 == 0 {
			k := miKinds[r.IntN(len(miKinds))]
			miName := k.prefix + "contoso-" + strings.ToLower(w1) + "-" + strconv.Itoa(i)
			sub := subs[r.IntN(2)]
			arm := "/subscriptions/" + sub.String() + "/resourceGroups/rg-" + strings.ToLower(w1) + "/providers/" + k.provider + "/" + miName
			mi := workload{name: miName, appID: newGUID(r).String(), spID: newGUID(r).String(), mi: true,
				msiType: "systemAssigned", azureResourceID: arm, credType: "managedIdentity",
				resources: []int{resKeyVault, resGraph, resAzureMgmt}[:1+r.IntN(3)], ip: ipAddr{s: ip.s[:len(reg.v4)] + "0." + strconv.Itoa(1+r.IntN(254)), asn: 8075, city: reg.city}}
			if r.IntN(3) == 0 {
				mi.msiType = "userAssigned"
				mi.name = "id-contoso-" + strings.ToLower(w1) + "-" + strconv.Itoa(i)
				mi.azureResourceID = "/subscriptions/" + sub.String() + "/resourceGroups/rg-identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + mi.name
			}
			g.mis = append(g.mis, mi)
		}
	}
}

func hexString(b []byte) string {
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return string(out)
}
