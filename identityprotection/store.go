package identityprotection

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Store is the durable Identity Protection state of every tenant: detections, the risky
// users with their history, and the per-sign-in risk overlay. Every change is one JSON
// line appended (and fsync'd) to DIR/risk.log before it is applied in memory; Open
// replays the log, so the state after a restart is exactly the state before it.
// A single mutex serializes changes, which is what makes conflicting concurrent admin
// actions on one user apply one after the other, each against the other's result.
type Store struct {
	dir string
	now func() time.Time

	mu      sync.Mutex
	log     *os.File
	cfg     Config
	anon    *IPList
	threat  *IPList
	tenants map[string]*tenantState
	noSync  bool
}

// Options configure a Store.
type Options struct {
	Now    func() time.Time // clock for actions and retention (default time.Now)
	NoSync bool             // skip fsync (tests only)
}

const (
	logName    = "risk.log"
	configName = "config.json"
	anonName   = "anonymous-ips.txt"
	threatName = "threat-ips.txt"
)

// Dir is where a database keeps its Identity Protection state.
func Dir(dbDir string) string { return filepath.Join(dbDir, "identityprotection") }

// Open opens (creating if needed) the store in dir and replays its log.
func Open(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "jobs"), 0o755); err != nil {
		return nil, err
	}
	s := &Store{dir: dir, now: opts.Now, tenants: map[string]*tenantState{}, noSync: opts.NoSync}
	if s.now == nil {
		s.now = time.Now
	}
	if _, err := readJSON(filepath.Join(dir, configName), &s.cfg); err != nil {
		return nil, err
	}
	var err error
	if s.anon, err = loadListIfExists(filepath.Join(dir, anonName)); err != nil {
		return nil, err
	}
	if s.threat, err = loadListIfExists(filepath.Join(dir, threatName)); err != nil {
		return nil, err
	}
	if err := s.replay(); err != nil {
		return nil, err
	}
	return s, nil
}

func loadListIfExists(path string) (*IPList, error) {
	l, err := LoadIPList(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	return l, err
}

// Close closes the log.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.log == nil {
		return nil
	}
	err := s.log.Close()
	s.log = nil
	return err
}

// record is one log line. Exactly one of the payloads is set.
type record struct {
	Op     string       `json:"op"`
	Tenant string       `json:"tenant"`
	At     time.Time    `json:"at"`
	Det    *Detection   `json:"det,omitempty"`
	Obs    *Observation `json:"obs,omitempty"`
	Act    *Action      `json:"act,omitempty"`
	State  *tenantState `json:"state,omitempty"` // op "snapshot" (written by Compact)
}

const (
	opDetect   = "detect"
	opObserve  = "observe"
	opAction   = "action"
	opExpire   = "expire"
	opSnapshot = "snapshot"
)

// replay applies every complete line of the log. A torn last line (a crash in the middle
// of an append) is cut off; a bad line anywhere else is corruption and fails Open.
func (s *Store) replay() error {
	path := filepath.Join(s.dir, logName)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	r := bufio.NewReaderSize(f, 1<<20)
	var good int64
	line := 0
	for {
		b, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			if len(bytes.TrimSpace(b)) > 0 {
				// torn tail: keep what was acknowledged, drop the partial append
				if terr := f.Truncate(good); terr != nil {
					f.Close()
					return terr
				}
			}
			break
		}
		if err != nil {
			f.Close()
			return err
		}
		line++
		var rec record
		if err := json.Unmarshal(b, &rec); err != nil {
			f.Close()
			return fmt.Errorf("%s:%d: corrupt record: %w", path, line, err)
		}
		s.apply(&rec)
		good += int64(len(b))
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return err
	}
	s.log = f
	return nil
}

// commit appends records durably, then applies them. Callers hold s.mu and have
// validated the records: apply cannot fail.
func (s *Store) commit(recs ...*record) error {
	if s.log == nil {
		return errors.New("identity protection store is closed")
	}
	var buf bytes.Buffer
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			panic("BUG: record does not marshal: " + err.Error())
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	if _, err := s.log.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("identity protection log: %w", err)
	}
	if !s.noSync {
		if err := s.log.Sync(); err != nil {
			return fmt.Errorf("identity protection log: %w", err)
		}
	}
	for _, r := range recs {
		s.apply(r)
	}
	return nil
}

func (s *Store) state(tenant string) *tenantState {
	ts := s.tenants[tenant]
	if ts == nil {
		ts = newTenantState()
		s.tenants[tenant] = ts
	}
	return ts
}

func (s *Store) apply(r *record) {
	switch r.Op {
	case opSnapshot:
		s.tenants[r.Tenant] = r.State.fix()
	case opDetect:
		s.state(r.Tenant).addDetection(r.Det, r.At)
	case opObserve:
		s.state(r.Tenant).observe(r.Obs)
	case opAction:
		s.state(r.Tenant).act(r.Act, r.At)
	case opExpire:
		s.state(r.Tenant).expire(r.At)
	default:
		panic("BUG: unknown record op " + r.Op)
	}
}

// AddDetections stores detections that are not stored yet (by id) and applies them to
// users and sign-ins. It returns how many were new.
func (s *Store) AddDetections(tenant string, dets []Detection) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.state(tenant)
	var recs []*record
	seen := map[string]bool{}
	for i := range dets {
		d := dets[i]
		if ts.Dets[d.ID] != nil || seen[d.ID] {
			continue
		}
		seen[d.ID] = true
		recs = append(recs, &record{Op: opDetect, Tenant: tenant, At: d.DetectedDateTime, Det: &d})
	}
	if len(recs) == 0 {
		return 0, nil
	}
	return len(recs), s.commit(recs...)
}

// AddObservations stores observations not stored yet and applies them.
func (s *Store) AddObservations(tenant string, obs []Observation) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.state(tenant)
	var recs []*record
	for i := range obs {
		o := obs[i]
		if ts.Obs[o.ID] {
			continue
		}
		ts.Obs[o.ID] = true // also dedupes within the batch; apply sets it again
		recs = append(recs, &record{Op: opObserve, Tenant: tenant, At: o.At, Obs: &o})
	}
	if len(recs) == 0 {
		return 0, nil
	}
	return len(recs), s.commit(recs...)
}

// Compact rewrites the log as one snapshot record per tenant (through a synced temporary
// file and a rename), after expiring aged-out state.
func (s *Store) Compact() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UTC()
	var buf bytes.Buffer
	for t, ts := range s.tenants {
		ts.expire(now)
		b, err := json.Marshal(&record{Op: opSnapshot, Tenant: t, At: now, State: ts})
		if err != nil {
			panic("BUG: state does not marshal: " + err.Error())
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	path := filepath.Join(s.dir, logName)
	if err := writeFileAtomic(path, buf.Bytes()); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	s.log.Close()
	s.log = f
	return nil
}

// Expire applies retention now: low-risk detections and users older than six months go,
// closed sign-in overlays older than 90 days go. The decision is logged so that replay
// reproduces it.
func (s *Store) Expire() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var recs []*record
	for t := range s.tenants {
		recs = append(recs, &record{Op: opExpire, Tenant: t, At: s.now().UTC()})
	}
	return s.commit(recs...)
}
