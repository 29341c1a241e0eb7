// Package flagging implements Entra's "flagged sign-ins" on top of the engine: a user (or an
// admin for them) enables flagging for one client, and for the next 20 minutes every sign-in of
// that user from that client is stored with flaggedForReview=true. The decision is taken at
// ingest through engine.DB.SetFlagger, so it is WAL-logged with the event and a replay never
// re-decides it; the windows themselves live in a small checksummed log so a restart keeps them.
package flagging

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authlake/authlake/columnar"
	"github.com/authlake/authlake/engine/wal"
	"github.com/authlake/authlake/internal/vfs"
)

// WindowLength is how long a flagging window lasts. Entra fixes it at 20 minutes and so do we:
// only the clock is injectable (for tests), never the length.
const WindowLength = 20 * time.Minute

// DefaultLateArrival is how long after a window ends events of it may still arrive and be
// flagged. Sign-in logs reach the store minutes after the sign-in happened ("events may take
// several minutes to appear"), so a window must outlive its own end for its events to be caught.
const DefaultLateArrival = 30 * time.Minute

// Client identifies the browser and device a window applies to. DeviceID wins when set (a
// registered device); otherwise Browser and OperatingSystem (and UserAgent when given) must
// all match, since an unregistered device has nothing better to identify it.
type Client struct {
	DeviceID        string `json:"deviceId,omitempty"`
	Browser         string `json:"browser,omitempty"`
	OperatingSystem string `json:"operatingSystem,omitempty"`
	UserAgent       string `json:"userAgent,omitempty"`
}

// Window is one flagging window.
type Window struct {
	ID                string    `json:"id"`
	Tenant            string    `json:"tenant"`
	UserPrincipalName string    `json:"userPrincipalName,omitempty"` // lower-case, as Graph stores UPNs
	UserID            string    `json:"userId,omitempty"`
	Client            Client    `json:"client"`
	Start             time.Time `json:"start"`
	End               time.Time `json:"end"` // Start+WindowLength, or the time it was stopped
	Stopped           bool      `json:"stopped,omitempty"`
	CreatedBy         string    `json:"createdBy,omitempty"`
}

// Active reports whether the window still catches new sign-ins at now.
func (w *Window) Active(now time.Time) bool { return !w.Stopped && now.Before(w.End) }

// StartRequest asks for a window.
type StartRequest struct {
	UserPrincipalName string
	UserID            string
	Client            Client
	CreatedBy         string
}

// Options configure a Manager.
type Options struct {
	// Now is the clock (default time.Now). Tests inject a controlled clock here.
	Now func() time.Time
	// LateArrival is how long after its end a window keeps flagging late-arriving events whose
	// createdDateTime lies inside it (default DefaultLateArrival; negative means none).
	LateArrival time.Duration
	// MaxPerTenant bounds the windows a tenant may hold at once (default 10,000), so a client
	// looping on the endpoint cannot grow the file without limit.
	MaxPerTenant int
	// FS is the file system the log lives on (nil: the operating system's); the engine's
	// power-loss tests give a crashable one.
	FS vfs.FS
}

// Errors callers map to HTTP statuses.
var (
	ErrNotFound = errors.New("no such flagging window")
	ErrInvalid  = errors.New("invalid flagging request")
	ErrTooMany  = errors.New("too many flagging windows for this tenant")
)

// Manager holds the windows of every tenant. It is safe for concurrent use; Flag, which the
// engine calls for every ingested event, takes no lock.
type Manager struct {
	opts Options

	mu       sync.Mutex // serializes changes and log appends
	log      *wal.Log
	appended int      // records appended since the last snapshot
	windows  []Window // all kept windows, in start order

	// byTenant is an immutable snapshot of windows per tenant for the hot path.
	byTenant atomic.Pointer[map[string][]Window]
}

var (
	colUPN, _       = columnar.SignIns.Lookup("userPrincipalName")
	colUserID, _    = columnar.SignIns.Lookup("userId")
	colDeviceID, _  = columnar.SignIns.Lookup("deviceDetail/deviceId")
	colBrowser, _   = columnar.SignIns.Lookup("deviceDetail/browser")
	colOS, _        = columnar.SignIns.Lookup("deviceDetail/operatingSystem")
	colUserAgent, _ = columnar.SignIns.Lookup("userAgent")
)

func (o *Options) fill() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LateArrival == 0 {
		o.LateArrival = DefaultLateArrival
	}
	if o.LateArrival < 0 {
		o.LateArrival = 0
	}
	if o.MaxPerTenant <= 0 {
		o.MaxPerTenant = 10_000
	}
	if o.FS == nil {
		o.FS = vfs.Default
	}
}

// Open opens the windows' log in dir (DATA/flagging; created if missing), importing an earlier
// version's windows file beside it, and drops the windows too old to flag anything. One process
// holds the log (it is locked); Close releases it.
func Open(dir string, opts Options) (*Manager, error) {
	opts.fill()
	l, ws, hadLegacy, err := openLog(opts.FS, dir)
	if err != nil {
		return nil, err
	}
	m := &Manager{opts: opts, log: l, windows: ws}
	m.mu.Lock()
	defer m.mu.Unlock()
	// Always: each open starts a new log file, and the log is small (a snapshot of the windows
	// kept), so the log is one file after every open.
	m.pruneLocked()
	if err := m.compactLocked(); err != nil {
		l.Close()
		return nil, err
	}
	if hadLegacy {
		if err := removeLegacy(opts.FS, dir); err != nil {
			l.Close()
			return nil, err
		}
	}
	m.publishLocked()
	return m, nil
}

// Close closes the log.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.log == nil {
		return nil
	}
	err := m.log.Close()
	m.log = nil
	return err
}

// commitLocked logs r durably, then applies it; every compactEvery records a snapshot replaces
// the log.
func (m *Manager) commitLocked(r *record) error {
	if m.log == nil {
		return errors.New("flagging windows: closed")
	}
	if err := m.append(r); err != nil {
		return err
	}
	m.windows = apply(slices.Clone(m.windows), r)
	m.publishLocked()
	if m.appended >= compactEvery {
		m.pruneLocked()
		return m.compactLocked()
	}
	return nil
}

// Start opens a window for the user and client, starting now.
func (m *Manager) Start(tenant string, req StartRequest) (Window, error) {
	c := req.Client
	c.DeviceID = strings.TrimSpace(c.DeviceID)
	if tenant == "" {
		return Window{}, fmt.Errorf("%w: no tenant", ErrInvalid)
	}
	if req.UserPrincipalName == "" && req.UserID == "" {
		return Window{}, fmt.Errorf("%w: userPrincipalName or userId is required", ErrInvalid)
	}
	if c.DeviceID == "" && (c.Browser == "" || c.OperatingSystem == "") {
		return Window{}, fmt.Errorf("%w: client needs a deviceId, or both browser and operatingSystem", ErrInvalid)
	}
	for _, s := range []string{req.UserPrincipalName, req.UserID, c.DeviceID, c.Browser, c.OperatingSystem, c.UserAgent} {
		if len(s) > 2048 {
			return Window{}, fmt.Errorf("%w: a value is longer than 2048 bytes", ErrInvalid)
		}
	}
	now := m.opts.Now().UTC()
	w := Window{
		ID: newID(), Tenant: tenant,
		UserPrincipalName: strings.ToLower(req.UserPrincipalName), UserID: strings.ToLower(req.UserID),
		Client: c, Start: now, End: now.Add(WindowLength), CreatedBy: req.CreatedBy,
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pruneLocked()
	n := 0
	for i := range m.windows {
		if m.windows[i].Tenant == tenant {
			n++
		}
	}
	if n >= m.opts.MaxPerTenant {
		return Window{}, fmt.Errorf("%w (%d)", ErrTooMany, n)
	}
	if err := m.commitLocked(&record{Op: opStart, Window: &w}); err != nil {
		return Window{}, err
	}
	return w, nil
}

// Stop ends a window of tenant early. Events that happened before the stop and arrive late are
// still flagged; nothing after it is.
func (m *Manager) Stop(tenant, id string) (Window, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.opts.Now().UTC()
	i := slices.IndexFunc(m.windows, func(w Window) bool { return w.Tenant == tenant && w.ID == id })
	if i < 0 || !m.windows[i].Active(now) {
		return Window{}, ErrNotFound
	}
	stopped := m.windows[i]
	stopped.Stopped, stopped.End = true, now
	if err := m.commitLocked(&record{Op: opStop, Tenant: tenant, ID: id, At: now}); err != nil {
		return Window{}, err
	}
	return stopped, nil
}

// Get returns an active window of tenant.
func (m *Manager) Get(tenant, id string) (Window, error) {
	for _, w := range m.Active(tenant) {
		if w.ID == id {
			return w, nil
		}
	}
	return Window{}, ErrNotFound
}

// Active lists tenant's windows that still catch new sign-ins, oldest first.
func (m *Manager) Active(tenant string) []Window {
	now := m.opts.Now()
	var out []Window
	for _, w := range (*m.byTenant.Load())[tenant] {
		if w.Active(now) {
			out = append(out, w)
		}
	}
	return out
}

// Flag is the engine.Flagger: it reports whether row, ingested now for tenant, falls inside one
// of tenant's windows. It is called for every ingested event, so the common case (a tenant
// without windows) is one map lookup.
func (m *Manager) Flag(tenant string, row *columnar.Row) bool {
	ws := (*m.byTenant.Load())[tenant]
	if len(ws) == 0 {
		return false
	}
	now := m.opts.Now()
	created := row.CreatedUnixNano()
	var upn, uid string
	loaded := false
	for i := range ws {
		w := &ws[i]
		if !now.Before(w.End.Add(m.opts.LateArrival)) {
			continue
		}
		if created < w.Start.UnixNano() || created >= w.End.UnixNano() {
			continue
		}
		if !loaded {
			upn, uid, loaded = row.String(colUPN), row.String(colUserID), true
		}
		if !w.matchesUser(upn, uid) || !w.Client.matches(row) {
			continue
		}
		return true
	}
	return false
}

func (w *Window) matchesUser(upn, uid string) bool {
	if w.UserPrincipalName != "" && strings.EqualFold(upn, w.UserPrincipalName) {
		return true
	}
	return w.UserID != "" && strings.EqualFold(uid, w.UserID)
}

func (c *Client) matches(row *columnar.Row) bool {
	if c.DeviceID != "" {
		return strings.EqualFold(row.String(colDeviceID), c.DeviceID)
	}
	if row.String(colBrowser) != c.Browser || row.String(colOS) != c.OperatingSystem {
		return false
	}
	return c.UserAgent == "" || row.String(colUserAgent) == c.UserAgent
}

// pruneLocked drops windows that can no longer flag anything and reports whether it did.
func (m *Manager) pruneLocked() bool {
	now := m.opts.Now()
	n := len(m.windows)
	m.windows = slices.DeleteFunc(slices.Clone(m.windows), func(w Window) bool {
		return !now.Before(w.End.Add(m.opts.LateArrival))
	})
	return len(m.windows) != n
}

func (m *Manager) publishLocked() {
	by := map[string][]Window{}
	for _, w := range m.windows {
		by[w.Tenant] = append(by[w.Tenant], w)
	}
	m.byTenant.Store(&by)
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
