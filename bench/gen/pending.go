package gen

// eventKind is the signInEventTypes value of an event.
type eventKind uint8

const (
	kindInteractive eventKind = iota
	kindNonInteractive
	kindServicePrincipal
	kindManagedIdentity
	numKinds
)

var kindNames = [numKinds]string{"interactiveUser", "nonInteractiveUser", "servicePrincipal", "managedIdentity"}

// kindShares is the target share of events per kind.
var kindShares = [numKinds]float64{0.35, 0.55, 0.07, 0.03}

type clientKind uint8

const (
	clientBrowser clientKind = iota
	clientRich
	clientIMAP
	clientEAS
	clientSMTP
)

var clientAppNames = [...]string{"Browser", "Mobile Apps and Desktop clients", "IMAP", "Exchange ActiveSync", "SMTP"}

type crossType uint8

const (
	crossNone crossType = iota
	crossB2B
	crossPassthrough
)

// authPattern selects the authenticationDetails / methods rendering.
type authPattern uint8

const (
	apNone           authPattern = iota // no user authentication step recorded
	apPwFail                            // wrong password
	apPwOK                              // password, single factor
	apPwOKMFAPending                    // password accepted, MFA still required
	apMFADone                           // first factor by claim, MFA completed now
	apMFAFail                           // first factor by claim, MFA not completed
	apSSO                               // first factor satisfied by token claim
	apSSOMFA                            // first factor and MFA satisfied by claim
)

// pending is an event whose content is decided but not yet rendered. The
// flagged bit is decided at emission time from the user's open windows.
type pending struct {
	t        int64
	seq      uint64
	kind     eventKind
	outcome  uint8
	auth     authPattern
	client   clientKind
	cross    crossType
	dev      uint8
	res      uint8
	risk     uint8 // 0 none, 1 low, 2 medium, 3 high
	riskType uint8
	proto    uint8 // 0 none, 1 deviceCode
	mfaReq   bool
	kmsi     bool
	foreign  bool // location from foreignCities
	app      uint16
	procMs   int32
	u        *user
	wl       *workload
	ip       *ipAddr
	ca       caContext
	id       guid
	corr     guid
	orig     guid
	sess     guid
}

// pendingHeap is a binary min-heap on (t, seq); seq makes order total and
// therefore deterministic for events in the same second.
type pendingHeap struct{ a []*pending }

func (h *pendingHeap) len() int      { return len(h.a) }
func (h *pendingHeap) top() *pending { return h.a[0] }
func less(x, y *pending) bool        { return x.t < y.t || x.t == y.t && x.seq < y.seq }
func (h *pendingHeap) push(p *pending) {
	h.a = append(h.a, p)
	i := len(h.a) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !less(h.a[i], h.a[parent]) {
			break
		}
		h.a[i], h.a[parent] = h.a[parent], h.a[i]
		i = parent
	}
}

func (h *pendingHeap) pop() *pending {
	top := h.a[0]
	n := len(h.a) - 1
	h.a[0] = h.a[n]
	h.a[n] = nil
	h.a = h.a[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && less(h.a[r], h.a[l]) {
			m = r
		}
		if !less(h.a[m], h.a[i]) {
			break
		}
		h.a[i], h.a[m] = h.a[m], h.a[i]
		i = m
	}
	return top
}

func (g *Generator) alloc() *pending {
	var p *pending
	if n := len(g.freeList); n > 0 {
		p = g.freeList[n-1]
		g.freeList = g.freeList[:n-1]
		*p = pending{}
	} else {
		p = new(pending)
	}
	g.seq++
	p.seq = g.seq
	return p
}

func (g *Generator) release(p *pending) { g.freeList = append(g.freeList, p) }
