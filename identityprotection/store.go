package identityprotection

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/authlake/authlake/engine/wal"
	"github.com/authlake/authlake/internal/fsutil"
	"github.com/authlake/authlake/internal/vfs"
)

// Store is the durable Identity Protection state of every tenant: detections, the risky
// users with their history, and the per-sign-in risk overlay. Every change is one JSON
// record appended (and fsync'd) to the risk log before it is applied in memory; Open
// replays the log, so the state after a restart is exactly the state before it. The log is
// the engine's write-ahead log format (engine/wal: checksummed frames, group commit, a torn
// tail cut off, damage anywhere else refused) in DIR/log; docs/format/risk-log.md.
// A single mutex serializes changes, which is what makes conflicting concurrent admin
// actions on one user apply one after the other, each against the other's result.
type Store struct {
	dir string
	now func() time.Time

	mu       sync.Mutex
	log      *wal.Log
	readOnly bool
	cfg      Config
	anon     *IPList
	threat   *IPList
	tenants  map[string]*tenantState
	noSync   bool
}

// Options configure a Store.
type Options struct {
	Now    func() time.Time // clock for actions and retention (default time.Now)
	NoSync bool             // skip fsync (tests only)
	// ReadOnly replays the log without changing anything on disk and without taking its
	// lock, so that list commands work beside a server that holds it; every change then
	// fails with ErrReadOnly.
	ReadOnly bool
}

// ErrReadOnly is the error of a change to a store opened read-only.
var ErrReadOnly = errors.New("identity protection store is open read-only")

const (
	logDir     = "log"      // the risk log (engine/wal files)
	legacyLog  = "risk.log" // the JSON-lines log of earlier versions, imported once
	configName = "config.json"
	anonName   = "anonymous-ips.txt"
	threatName = "threat-ips.txt"
)

// Dir is where a database keeps its Identity Protection state.
func Dir(dbDir string) string { return filepath.Join(dbDir, "identityprotection") }

// Open opens (creating if needed) the store in dir and replays its log.
func Open(dir string, opts Options) (*Store, error) {
	if !opts.ReadOnly {
		if err := os.MkdirAll(filepath.Join(dir, "jobs"), 0o755); err != nil {
			return nil, err
		}
	}
	s := &Store{dir: dir, now: opts.Now, tenants: map[string]*tenantState{}, noSync: opts.NoSync, readOnly: opts.ReadOnly}
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
	// Each read-write open starts a new log file; without a compaction now and then, every
	// restart would leave one more for every later open to replay.
	if files, _ := filepath.Glob(filepath.Join(dir, logDir, "*.wal")); !s.readOnly && len(files) > maxLogFilesAtOpen {
		if err := s.Compact(); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// maxLogFilesAtOpen: an Open that finds more log files compacts the log into one.
const maxLogFilesAtOpen = 8

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
	if errors.Is(err, wal.ErrReadOnly) {
		err = nil
	}
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

// check refuses a record apply could not apply: an unknown op or action, or a missing payload
// (a log written by something else, or damaged in a way its checksum did not catch).
func (r *record) check() error {
	ok := false
	switch r.Op {
	case opDetect:
		ok = r.Det != nil
	case opObserve:
		ok = r.Obs != nil
	case opExpire:
		ok = true
	case opSnapshot:
		ok = r.State != nil
	case opAction:
		if r.Act == nil {
			break
		}
		switch r.Act.Kind {
		case ActSigninConfirmCompromised, ActSigninConfirmSafe, ActSigninDismiss:
			ok = true
		case ActCloseDetection:
			ok = slices.Contains([]string{EvDismiss, EvConfirmSafe, EvConfirmCompromised}, r.Act.How)
		default:
			ok = slices.Contains(UserEvents, r.Act.Kind)
		}
	}
	if !ok {
		return fmt.Errorf("op %q without what it needs, or with an unknown action", r.Op)
	}
	return nil
}

// replay opens the risk log and applies every record. A log of an earlier version
// (risk.log, JSON lines) is applied first and, unless read-only, carried over as one snapshot
// record per tenant, then removed.
func (s *Store) replay() error {
	legacy := filepath.Join(s.dir, legacyLog)
	hasLegacy, err := s.replayLegacy(legacy)
	if err != nil {
		return err
	}
	dir := filepath.Join(s.dir, logDir)
	if s.readOnly {
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			return nil // nothing logged yet; a read-only open creates nothing
		}
	}
	l, err := wal.Open(dir, wal.Options{NoSync: s.noSync, ReadOnly: s.readOnly, NoLock: s.readOnly, SegmentSize: 64 << 20,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("identity protection log: %w", err)
	}
	if _, err := wal.ReplayJSON(l, "risk", func(rec *record) error {
		if err := rec.check(); err != nil {
			return err
		}
		s.apply(rec)
		return nil
	}); err != nil {
		l.Close()
		return fmt.Errorf("identity protection log %s: %w", dir, err)
	}
	s.log = l
	if hasLegacy && !s.readOnly {
		if err := s.writeSnapshots(); err != nil {
			return err
		}
		if err := os.Remove(legacy); err != nil {
			return err
		}
		return fsutil.SyncDir(vfs.Default, s.dir)
	}
	return nil
}

// replayLegacy applies the JSON-lines log of earlier versions, if there is one. A torn last
// line is ignored (the snapshot that replaces the file leaves it out); a bad line elsewhere
// fails Open.
func (s *Store) replayLegacy(path string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	for line := 1; ; line++ {
		b, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return true, nil // a last line without its newline is a torn append
		}
		if err != nil {
			return false, err
		}
		var rec record
		if err = json.Unmarshal(b, &rec); err == nil {
			err = rec.check()
		}
		if err != nil {
			return false, fmt.Errorf("%s:%d: %w: %v", path, line, wal.ErrCorrupt, err)
		}
		s.apply(&rec)
	}
}

// writeSnapshots appends one snapshot record per tenant (after expiring aged-out state).
func (s *Store) writeSnapshots() error {
	now := s.now().UTC()
	var recs []*record
	for t, ts := range s.tenants {
		ts.expire(now)
		recs = append(recs, &record{Op: opSnapshot, Tenant: t, At: now, State: ts})
	}
	if len(recs) == 0 {
		return nil
	}
	if _, err := wal.AppendJSON(s.log, recs...); err != nil {
		return fmt.Errorf("identity protection log: %w", err)
	}
	return nil
}

// commit appends records durably, then applies them. Callers hold s.mu and have
// validated the records: apply cannot fail.
func (s *Store) commit(recs ...*record) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if s.log == nil {
		return errors.New("identity protection store is closed")
	}
	if len(recs) > 0 {
		if _, err := wal.AppendJSON(s.log, recs...); err != nil {
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

// Compact replaces the log by one snapshot record per tenant, after expiring aged-out state:
// the snapshots go to a new log file, then the older files are removed (a crash in between
// replays the old records and then the snapshots, which replace each tenant's state).
func (s *Store) Compact() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.readOnly {
		return ErrReadOnly
	}
	seq, err := s.log.Rotate()
	if err != nil {
		return fmt.Errorf("identity protection log: %w", err)
	}
	if err := s.writeSnapshots(); err != nil {
		return err
	}
	return s.log.RemoveBefore(seq)
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
